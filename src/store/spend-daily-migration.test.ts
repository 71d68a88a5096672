import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from '../../test/databases.js';
import { migrationProvider } from './migrations.js';
import { MIGRATION_TABLES } from './store.js';
import { openStore, type Database, type Store } from './index.js';

const DAY = Date.UTC(2026, 10, 29);

/** The store as a release before the daily spend table left it: migrated up to 0006. */
async function storeBeforeDailySpend(kind: 'sqlite' | 'postgres', url: string): Promise<Kysely<Database>> {
  const db =
    kind === 'sqlite'
      ? new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(url.slice('sqlite:'.length)) }) })
      : new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url }) }) });
  const { error } = await new Migrator({ db, provider: migrationProvider(kind), ...MIGRATION_TABLES }).migrateTo('0006_replay_guard');
  if (error) throw error;
  return db;
}

describe.each(STORE_KINDS)('the daily spend table on an existing %s store', (kind) => {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    await database?.drop();
  });

  it("is filled from the usage rows already there, per app and team per UTC day, and kept from then on", async () => {
    database = await createTestDatabase(kind);
    const old = await storeBeforeDailySpend(kind, database.url);
    const usage = (at: number, cost: number, app: string | null, team: string | null) => ({
      at, request_id: `r-${at}-${cost}`, app, team, route: 'ai', provider: 'p', model: 'm', input_tokens: 1, output_tokens: 1, cached_tokens: 0, estimated: 0, cost_usd: cost, latency_ms: 1, ttft_ms: null, status: 200, cache_hit: 0,
    });
    await old
      .insertInto('ai_usage')
      .values([usage(DAY - 1, 0.5, 'web', 'shop'), usage(DAY, 1, 'web', 'shop'), usage(DAY + 86_399_999, 2, 'web', null), usage(DAY + 5, 4, null, null), usage(DAY + 6, 0, 'free', 'free')])
      .execute();
    await old.destroy();

    store = await openStore(database.url);
    const daily = () => store!.db.selectFrom('ai_spend_daily').selectAll().orderBy('scope').orderBy('name').orderBy('day').execute();
    expect(await daily()).toEqual([
      { scope: 'app', name: 'web', day: DAY - 86_400_000, cost_usd: 0.5 },
      { scope: 'app', name: 'web', day: DAY, cost_usd: 3 },
      { scope: 'team', name: 'shop', day: DAY - 86_400_000, cost_usd: 0.5 },
      { scope: 'team', name: 'shop', day: DAY, cost_usd: 1 },
    ]);
    await store.appendUsage([usage(DAY + 7, 8, 'web', 'shop')]);
    expect((await daily()).filter((d) => d.day === DAY)).toEqual([
      { scope: 'app', name: 'web', day: DAY, cost_usd: 11 },
      { scope: 'team', name: 'shop', day: DAY, cost_usd: 9 },
    ]);
  });
});
