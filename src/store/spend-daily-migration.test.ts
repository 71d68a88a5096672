import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresAvailable, STORE_KINDS, type TestDatabase } from '../../test/databases.js';
import { eventually } from '../../test/keygate-process.js';
import { migrationProvider } from './migrations.js';
import { MIGRATION_TABLES } from './store.js';
import { openStore, type Database, type Store } from './index.js';

const DAY = Date.UTC(2026, 10, 29);

const usage = (at: number, cost: number, app: string | null, team: string | null) => ({
  at, request_id: `r-${at}-${cost}`, app, team, route: 'ai', provider: 'p', model: 'm', input_tokens: 1, output_tokens: 1, cached_tokens: 0, estimated: 0, cost_usd: cost, latency_ms: 1, ttft_ms: null, status: 200, cache_hit: 0,
});

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

describe.skipIf(!postgresAvailable)('the daily spend migration with another node writing on PostgreSQL', () => {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  let otherNode: pg.Client | undefined;
  afterEach(async () => {
    await otherNode?.end();
    await store?.close();
    await database?.drop();
  });

  it("waits for another node's write in progress, and counts it", async () => {
    database = await createTestDatabase('postgres');
    await (await storeBeforeDailySpend('postgres', database.url)).destroy();
    // A node of the older release, in the middle of its append.
    otherNode = new pg.Client({ connectionString: database.url });
    await otherNode.connect();
    await otherNode.query('begin');
    const row = usage(DAY + 1, 2, 'web', 'shop');
    await otherNode.query(`insert into ai_usage (${Object.keys(row).join(', ')}) values (${Object.keys(row).map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
    const opening = openStore(database.url);
    // The migration waits for it before summing (without the table lock it would sum the rows it could see first,
    // wait only to create the trigger, and the row would be in neither).
    const waiting = eventually(async () => {
      const { rows } = await otherNode!.query("select count(*)::int as waiting from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'ai_usage' and not l.granted");
      return (rows[0] as { waiting: number }).waiting > 0;
    }, 'the migration waiting for the other node');
    expect(await Promise.race([waiting.then(() => 'waiting'), opening.then(() => 'opened')])).toBe('waiting');
    await otherNode.query('commit');
    store = await opening;
    const daily = await store.db.selectFrom('ai_spend_daily').selectAll().orderBy('scope').execute();
    expect(daily).toEqual([
      { scope: 'app', name: 'web', day: DAY, cost_usd: 2 },
      { scope: 'team', name: 'shop', day: DAY, cost_usd: 2 },
    ]);
  });
});
