import type { Insertable } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, postgresAvailable, STORE_KINDS, type TestDatabase } from '../../test/databases.js';
import { openStore, type AiUsageTable, type Store } from './index.js';
import { USAGE_APPEND_LOCK } from './store.js';
import { eventually } from '../../test/keygate-process.js';

type UsageRow = Insertable<AiUsageTable>;

const row = (requestId: string, fields: Partial<UsageRow> = {}): UsageRow => ({
  at: Date.UTC(2026, 10, 29, 12), request_id: requestId, app: 'shop-web', team: 'shop', route: 'ai', provider: 'openai', model: 'gpt-4o-mini',
  input_tokens: 1200, output_tokens: 345, cached_tokens: 1024, estimated: 0, cost_usd: 0.000123456789, latency_ms: 812, ttft_ms: 97, status: 200, cache_hit: 0,
  ...fields,
});

/** Rows with every nullable column null or left out, and costs no binary fraction holds exactly. */
const awkwardRows = (): UsageRow[] => [
  row('r-1'),
  row('r-2', { app: null, team: null, provider: null, ttft_ms: null, cost_usd: 0.1 + 0.2, estimated: 1 }),
  { at: 1_764_417_600_123, request_id: "r-3 'quoted' \"and\" {braced}, \\slashed", route: 'ai', model: 'claude-sonnet-4', input_tokens: 0, output_tokens: 0, cached_tokens: 0, estimated: 1, cost_usd: 1e-9, latency_ms: 0, status: 502, cache_hit: 1 },
  row('r-4', { cost_usd: 1, status: 429, credential: 'cred_4b6f0d1e' }),
  row('r-5', { cost_usd: 12345.678901234567, app: 'ünïcode-app' }),
];

describe.each(STORE_KINDS)('appending AI usage rows to the %s store', (kind) => {
  let database: TestDatabase;
  let store: Store;
  const stored = () => store.db.selectFrom('ai_usage').selectAll().orderBy('id').execute();
  const withoutIds = async () => (await stored()).map(({ id: _id, ...rest }) => rest);

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    store = await openStore(database.url);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  beforeEach(async () => {
    await store.db.deleteFrom('ai_usage').execute();
    await store.db.deleteFrom('ai_spend_daily').execute();
  });
  const daily = async () =>
    (await store.db.selectFrom('ai_spend_daily').selectAll().orderBy('scope').orderBy('name').orderBy('day').execute()).map((d) => ({ ...d, cost_usd: Math.round(d.cost_usd * 1e9) / 1e9 }));

  it('stores every column of every row exactly as given, with nulls for the nullable columns left null or out', async () => {
    // 25 rows: SQLite's store writes them ten to a statement, then the last five one by one.
    const rows = Array.from({ length: 5 }, (_, i) => awkwardRows().map((r) => ({ ...r, request_id: `${r.request_id}#${i}` }))).flat();
    await store.appendUsage(rows);
    const nullable = { app: null, team: null, provider: null, ttft_ms: null, record_key: null, credential: null };
    expect(await withoutIds()).toEqual(rows.map((r) => ({ ...nullable, ...r })));
  });

  it('stores the same values a Kysely insert of the same rows stores', async () => {
    await store.db.insertInto('ai_usage').values(awkwardRows()).execute();
    const byKysely = await withoutIds();
    await store.db.deleteFrom('ai_usage').execute();
    await store.appendUsage(awkwardRows());
    expect(await withoutIds()).toStrictEqual(byKysely);
  });

  it('gives every row an id larger than those of the rows appended before it', async () => {
    await store.appendUsage([row('a'), row('b')]);
    await store.appendUsage([row('c')]);
    await store.appendUsage([row('d'), row('e'), row('f')]);
    const rows = await stored();
    expect(rows.map((r) => r.request_id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const ids = rows.map((r) => Number(r.id));
    for (let i = 1; i < ids.length; i += 1) expect(ids[i]).toBeGreaterThan(ids[i - 1]!);
  });

  it('keeps the spend per app and per team per UTC day, in the same writes as the rows', async () => {
    const midnight = Date.UTC(2026, 10, 30);
    await store.appendUsage([
      row('d-1', { at: midnight - 1, cost_usd: 0.25 }),
      row('d-2', { at: midnight, cost_usd: 0.5 }),
      row('d-3', { at: midnight + 3_600_000, cost_usd: 1, app: 'other-app' }),
      row('d-4', { at: midnight + 7_200_000, cost_usd: 2, app: null, team: null }),
      row('d-5', { at: midnight, cost_usd: 0, team: 'free' }),
    ]);
    await store.appendUsage(Array.from({ length: 12 }, (_, i) => row(`e-${i}`, { at: midnight + i, cost_usd: 0.125 })));
    expect(await daily()).toEqual([
      { scope: 'app', name: 'other-app', day: midnight, cost_usd: 1 },
      { scope: 'app', name: 'shop-web', day: midnight - 86_400_000, cost_usd: 0.25 },
      { scope: 'app', name: 'shop-web', day: midnight, cost_usd: 2 },
      { scope: 'team', name: 'shop', day: midnight - 86_400_000, cost_usd: 0.25 },
      { scope: 'team', name: 'shop', day: midnight, cost_usd: 3 },
    ]);
  });

  // On PostgreSQL a trigger keeps them, so that a node still on an older release, inserting rows its own way, counts too.
  if (kind === 'postgres') it('adds rows any writer inserts to the daily spend', async () => {
    await store.db.insertInto('ai_usage').values([row('old-1', { cost_usd: 0.5 }), row('old-2', { cost_usd: 0.25, team: null })]).execute();
    await store.appendUsage([row('new-1', { cost_usd: 1 })]);
    const day = Date.UTC(2026, 10, 29);
    expect(await daily()).toEqual([
      { scope: 'app', name: 'shop-web', day, cost_usd: 1.75 },
      { scope: 'team', name: 'shop', day, cost_usd: 1.5 },
    ]);
  });

  it('resolves to the largest id it gave the rows', async () => {
    expect(await store.appendUsage([])).toBe(0);
    const last = await store.appendUsage(Array.from({ length: 13 }, (_, i) => row(`z-${i}`)));
    const ids = (await stored()).map((r) => Number(r.id));
    expect(last).toBe(Math.max(...ids));
    expect(await store.appendUsage([row('z-13')])).toBeGreaterThan(last);
  });

  if (kind === 'postgres') it('adds no row twice, nor its spend, when a batch is written again after its commit, and answers its largest id', async () => {
    // What a retry after a lost answer to COMMIT writes: the same records, keyed, with a record since.
    const batch = [row('k-1', { record_key: 'p:1' }), row('k-2', { record_key: 'p:2' })];
    const first = await store.appendUsage(batch);
    expect(await store.appendUsage(batch)).toBe(first);
    const again = await store.appendUsage([...batch, row('k-3', { record_key: 'p:3' })]);
    expect(again).toBeGreaterThan(first);
    expect((await stored()).map((r) => r.request_id)).toEqual(['k-1', 'k-2', 'k-3']);
    const day = Date.UTC(2026, 10, 29);
    expect(await daily()).toEqual([
      { scope: 'app', name: 'shop-web', day, cost_usd: 0.00037037 },
      { scope: 'team', name: 'shop', day, cost_usd: 0.00037037 },
    ]);
  });

  if (kind === 'sqlite') it('refuses a record whose key is stored already, as a row the store refuses', async () => {
    await store.appendUsage([row('k-1', { record_key: 'p:1' })]);
    await expect(store.appendUsage([row('k-1', { record_key: 'p:1' })])).rejects.toThrow();
    expect((await stored()).map((r) => r.request_id)).toEqual(['k-1']);
  });

  it('writes nothing for an empty batch', async () => {
    await store.appendUsage([row('before')]);
    await store.appendUsage([]);
    expect((await stored()).map((r) => r.request_id)).toEqual(['before']);
  });

  it('stores no row of a batch when the store refuses one of them', async () => {
    await store.appendUsage([row('earlier')]);
    const invalid = row('invalid', { request_id: null as unknown as string });
    await expect(store.appendUsage([row('x-1'), row('x-2'), invalid, row('x-3')])).rejects.toThrow();
    // The refused row in a multi-row statement, after another statement's rows went in.
    const many = Array.from({ length: 14 }, (_, i) => row(`y-${i}`));
    await expect(store.appendUsage([...many.slice(0, 10), ...many.slice(10, 12), invalid, ...many.slice(12)])).rejects.toThrow();
    await expect(store.appendUsage([...many.slice(0, 13), invalid])).rejects.toThrow();
    expect((await stored()).map((r) => r.request_id)).toEqual(['earlier']);
    const day = Date.UTC(2026, 10, 29);
    expect(await daily()).toEqual([
      { scope: 'app', name: 'shop-web', day, cost_usd: 0.000123457 },
      { scope: 'team', name: 'shop', day, cost_usd: 0.000123457 },
    ]);
  });

  it('keeps rows appended while a change is open, even when that change rolls back', async () => {
    let appended: Promise<number> | undefined;
    const change = store.change({ actor: 'test', action: 'fail', target: 'nothing' }, Date.now(), async () => {
      appended = store.appendUsage([row('during-change')]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      throw new Error('the change fails');
    });
    await expect(change).rejects.toThrow('the change fails');
    await appended;
    expect((await stored()).map((r) => r.request_id)).toEqual(['during-change']);
  });
});

describe.skipIf(!postgresAvailable)('usage appends of several nodes on one PostgreSQL store', () => {
  let database: TestDatabase;
  let store: Store;
  let otherNode: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    store = await openStore(database.url);
    otherNode = new pg.Client({ connectionString: database.url });
    await otherNode.connect();
  });
  afterAll(async () => {
    await otherNode?.end();
    await store?.close();
    await database?.drop();
  });

  it("wait for another node's append in progress, so that no id becomes visible below one already seen", async () => {
    // Another node's append, as every node makes it: the lock, then its rows, not yet committed.
    await otherNode.query('begin');
    await otherNode.query('select pg_advisory_xact_lock($1)', [USAGE_APPEND_LOCK]);
    await otherNode.query("insert into ai_usage (at, request_id, route, model, input_tokens, output_tokens, cached_tokens, estimated, cost_usd, latency_ms, status, cache_hit) values (1, 'other-node', 'ai', 'm', 0, 0, 0, 0, 1.5, 0, 200, 0)");
    const events: string[] = [];
    const appended = store.appendUsage([row('this-node')]).then(() => events.push('this node appended'));
    // This node's append is queued behind the other's lock (without the lock it would have finished by now).
    await eventually(async () => {
      const { rows } = await otherNode.query("select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted");
      return (rows[0] as { waiting: number }).waiting > 0;
    }, "this node's append waiting for the lock");
    const seenWhileOpen = await store.db.selectFrom('ai_usage').select('request_id').execute();
    await otherNode.query('commit');
    events.push('other node committed');
    await appended;
    expect(seenWhileOpen).toEqual([]);
    expect(events).toEqual(['other node committed', 'this node appended']);
    const ids = await store.db.selectFrom('ai_usage').select(['request_id', 'id']).orderBy('id').execute();
    expect(ids.map((r) => r.request_id)).toEqual(['other-node', 'this-node']);
  });
});
