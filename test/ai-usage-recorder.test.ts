import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { USAGE_STATEMENT_ROWS, UsageRecorder, type UsageRecord } from '../src/ai/usage-recorder.js';
import { openStore, type Store } from '../src/store/index.js';
import { AiGateway } from './ai-fixtures.js';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from './databases.js';
import { eventually } from './keygate-process.js';

const record = (requestId: string): UsageRecord => ({
  at: Date.now(), request_id: requestId, app: 'app', team: 'team', route: 'ai', provider: 'openai', model: 'gpt-4o-mini',
  input_tokens: 10, output_tokens: 5, cached_tokens: 0, estimated: 0, cost_usd: 0.000004, latency_ms: 3, ttft_ms: null, status: 200, cache_hit: 0,
});

describe('the usage recorder', () => {
  let dir: string;
  let store: Store;
  let recorder: UsageRecorder;
  /** Another connection to the same database: what any reader sees at this very moment. */
  let reader: Database.Database;
  const stored = () => (reader.prepare('select request_id from ai_usage order by id').all() as Array<{ request_id: string }>).map((r) => r.request_id);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keygate-usage-'));
    store = await openStore(`sqlite:${join(dir, 'keygate.db')}`);
    reader = new Database(join(dir, 'keygate.db'), { readonly: true });
    recorder = new UsageRecorder(store, (error) => {
      throw error;
    });
  });
  afterEach(async () => {
    await recorder.stop();
    reader.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resolves every flush only once the records buffered before it are in the store, however many run at once', async () => {
    recorder.record(record('first'));
    const writingFirst = recorder.flush();
    recorder.record(record('second'));
    const flushes = [recorder.flush(), recorder.flush(), recorder.flush()];
    // Read the store the moment each flush resolves, before anything else can run.
    const seen = await Promise.all(flushes.map((flush) => flush.then(stored)));
    for (const ids of seen) expect(ids).toEqual(['first', 'second']);
    await writingFirst;
  });

  it('writes what is buffered when it stops', async () => {
    recorder.record(record('last'));
    await recorder.stop();
    expect(stored()).toEqual(['last']);
  });

  it('gives every record a key of its own, unlike another recorder\'s', async () => {
    const other = new UsageRecorder(store, (error) => {
      throw error;
    });
    for (const id of ['a', 'b', 'c']) recorder.record(record(id));
    other.record(record('d'));
    await Promise.all([recorder.flush(), other.flush()]);
    const keys = (reader.prepare('select record_key from ai_usage').all() as Array<{ record_key: string | null }>).map((r) => r.record_key);
    expect(keys).toHaveLength(4);
    expect(keys.every((key) => typeof key === 'string' && key.length > 0)).toBe(true);
    expect(new Set(keys).size).toBe(4);
  });
});

describe.each(STORE_KINDS)('the usage recorder with a %s store', (kind) => {
  let database: TestDatabase;
  let store: Store;
  let recorder: UsageRecorder;
  let errors: Error[];
  let flushed: Array<readonly UsageRecord[]>;
  let lastIds: number[];
  let refused: Array<{ record: UsageRecord; reason: Error }>;
  const stored = async () => (await store.db.selectFrom('ai_usage').select('request_id').orderBy('id').execute()).map((r) => r.request_id);
  /**
   * Makes the store fail to write the record of this request id as a store in trouble would, not for what the record
   * holds: a trigger that fails at run time (SQLite: malformed JSON; PostgreSQL: a serialization failure, SQLSTATE 40001).
   */
  const troubleOn = async (requestId: string) => {
    if (kind === 'sqlite') {
      await sql.raw(`create trigger test_trouble before insert on ai_usage when new.request_id = '${requestId}' begin select json('{'); end`).execute(store.db);
    } else {
      await sql.raw(`create function test_trouble() returns trigger language plpgsql as $$ begin if new.request_id = '${requestId}' then raise exception 'store trouble' using errcode = '40001'; end if; return new; end $$`).execute(store.db);
      await sql.raw('create trigger test_trouble before insert on ai_usage for each row execute function test_trouble()').execute(store.db);
    }
  };
  const troubleOver = async () => {
    await sql.raw(kind === 'sqlite' ? 'drop trigger test_trouble' : 'drop trigger test_trouble on ai_usage').execute(store.db);
  };
  /** A record no store takes: request_id is NOT NULL. */
  const unwritable = (): UsageRecord => ({ ...record('never'), request_id: null as unknown as string });

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    store = await openStore(database.url);
    errors = [];
    flushed = [];
    lastIds = [];
    refused = [];
    // Only the test's own flushes write: none starts as records pile up.
    recorder = new UsageRecorder(store, (error) => errors.push(error), 100_000, Infinity);
    recorder.onFlushed((records, lastId) => {
      flushed.push(records);
      lastIds.push(lastId);
    });
    recorder.onRefused((record, reason) => refused.push({ record, reason }));
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('writes nothing of a batch the store cannot take, and all of it at a later flush once it can', async () => {
    await troubleOn('troubled');
    recorder.record(record('before'));
    recorder.record(record('troubled'));
    recorder.record(record('after'));
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(await stored()).toEqual([]);
    expect(flushed).toEqual([]);

    await troubleOver();
    await recorder.flush();
    expect(await stored()).toEqual(['before', 'troubled', 'after']);
    expect(flushed.map((records) => records.map((r) => r.request_id))).toEqual([['before', 'troubled', 'after']]);
    // With the largest id they were given.
    const ids = await store.db.selectFrom('ai_usage').select('id').execute();
    expect(lastIds).toEqual([Math.max(...ids.map((r) => Number(r.id)))]);
    expect(refused).toEqual([]);
  });

  it('keeps only the records after the statements already written when a later statement of a flush fails', async () => {
    // Two statements' worth and a half, the troubled record in the second: the first statement is in the store.
    const rows = USAGE_STATEMENT_ROWS[kind];
    const ids = Array.from({ length: rows * 2.5 }, (_, i) => `r-${i}`);
    await troubleOn(`r-${rows + 10}`);
    for (const id of ids) recorder.record(record(id));
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(await stored()).toEqual(ids.slice(0, rows));
    expect(flushed.map((records) => records.length)).toEqual([rows]);

    await troubleOver();
    await recorder.flush();
    expect(await stored()).toEqual(ids);
    // Told statement by statement, each with its largest id.
    expect(flushed.map((records) => records.length)).toEqual([rows, rows, rows / 2]);
    const idOf = new Map((await store.db.selectFrom('ai_usage').select(['id', 'request_id']).execute()).map((r) => [r.request_id, Number(r.id)]));
    expect(lastIds).toEqual(flushed.map((records) => Math.max(...records.map((r) => idOf.get(r.request_id)!))));
  });

  it('while the store cannot write, later records do not each start another write: only a flush asked for retries', async () => {
    await troubleOn('r-1');
    const eager = new UsageRecorder(store, (error) => errors.push(error));
    for (let i = 0; i < 500; i++) eager.record(record(`r-${i}`));
    // The 500th record started a write, which fails.
    await eventually(async () => errors.length === 1, 'the first write failed');
    for (let i = 500; i < 700; i++) eager.record(record(`r-${i}`));
    await eager.flush();
    // Then 700 records are buffered, and none of the last 200 started a write: the explicit flush is the second.
    expect(errors).toHaveLength(2);
    expect(await stored()).toEqual([]);
  });

  it('keeps the newest records up to its bound while the store cannot write, and counts every one it drops', async () => {
    await troubleOn('r-0');
    const bounded = new UsageRecorder(store, (error) => errors.push(error), 100, Infinity);
    for (let i = 0; i < 80; i++) bounded.record(record(`r-${i}`));
    await bounded.flush();
    expect(errors).toHaveLength(1);
    // 80 kept for the next try; 300 more go over the bound of 100, the troubled record first among the oldest.
    for (let i = 80; i < 380; i++) bounded.record(record(`r-${i}`));
    expect(bounded.dropped).toBe(280);
    await bounded.flush();
    expect(errors).toHaveLength(1);
    expect(await stored()).toEqual(Array.from({ length: 100 }, (_, i) => `r-${280 + i}`));
  });

  it('counts the records a failed write puts back beyond the bound as dropped', async () => {
    await troubleOn('r-0');
    const bounded = new UsageRecorder(store, (error) => errors.push(error), 100, Infinity);
    for (let i = 0; i < 100; i++) bounded.record(record(`r-${i}`));
    // Records made while the write is under way, which then fails: 100 put back plus 30 newer ones.
    const writing = bounded.flush();
    for (let i = 100; i < 130; i++) bounded.record(record(`r-${i}`));
    await writing;
    expect(errors).toHaveLength(1);
    expect(bounded.dropped).toBe(30);
    await troubleOver();
    await bounded.flush();
    expect(await stored()).toEqual(Array.from({ length: 100 }, (_, i) => `r-${30 + i}`));
  });

  it('sets a record the store refuses aside, and writes the records around it', async () => {
    const never = unwritable();
    recorder.record(record('before'));
    recorder.record(never);
    recorder.record(record('after'));
    await recorder.flush();
    expect(await stored()).toEqual(['before', 'after']);
    expect(errors).toEqual([]);
    expect(recorder.refused).toBe(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.record).toBe(never);
    expect(refused[0]!.reason.message).toMatch(/null|NOT NULL/i);
    // Every written record told once, in order (for the budgets' figures), the refused one not.
    expect(flushed.flat().map((r) => r.request_id)).toEqual(['before', 'after']);
    // Nothing is left to retry: the next flush writes only what came since.
    recorder.record(record('later'));
    await recorder.flush();
    expect(await stored()).toEqual(['before', 'after', 'later']);
    expect(recorder.refused).toBe(1);
  });

  it('sets aside each refused record of a backlog of several statements, and writes every other one in order', async () => {
    const rows = USAGE_STATEMENT_ROWS[kind];
    const ids = Array.from({ length: rows * 2.5 }, (_, i) => `r-${i}`);
    const bad = new Set([0, 7, rows - 1, rows + 3, rows + 4, rows * 2 + 1]);
    // Values neither store takes where an integer goes: null in a NOT NULL column, and a boolean (SQLite cannot bind
    // it; PostgreSQL reads no integer in it).
    ids.forEach((id, i) => recorder.record(bad.has(i) ? { ...record(id), estimated: (i % 2 === 0 ? null : true) as unknown as number } : record(id)));
    await recorder.flush();
    expect(errors).toEqual([]);
    expect(await stored()).toEqual(ids.filter((_, i) => !bad.has(i)));
    expect(refused.map((r) => r.record.request_id)).toEqual([...bad].map((i) => `r-${i}`));
    expect(recorder.refused).toBe(bad.size);
    const idOf = new Map((await store.db.selectFrom('ai_usage').select(['id', 'request_id']).execute()).map((r) => [r.request_id, Number(r.id)]));
    expect(lastIds).toEqual(flushed.map((records) => Math.max(...records.map((r) => idOf.get(r.request_id)!))));
  });

  it('keeps the records not yet written when the store fails for its own reasons while a refused statement is being split', async () => {
    await troubleOn('r-7');
    for (let i = 0; i < 10; i++) recorder.record(i === 3 ? unwritable() : record(`r-${i}`));
    await recorder.flush();
    // r-3 is set aside; r-0 to r-2 and r-4 are written before the half holding r-7 fails for the store's trouble.
    expect(refused).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(await stored()).toEqual(['r-0', 'r-1', 'r-2', 'r-4']);
    await troubleOver();
    await recorder.flush();
    expect(await stored()).toEqual(['r-0', 'r-1', 'r-2', 'r-4', 'r-5', 'r-6', 'r-7', 'r-8', 'r-9']);
    expect(refused).toHaveLength(1);
  });
});

describe('a shutdown with AI calls under way', () => {
  it('records the calls its end of grace cuts off, streamed or not, before the last write', async () => {
    // A host that takes each call and never answers it: only the shutdown ends them.
    const seen: string[] = [];
    const silent = createServer((req) => {
      seen.push(req.url ?? '');
      req.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const gateway = await AiGateway.start({ env: { KEYGATE_SHUTDOWN_GRACE: '200ms' } });
    try {
      await gateway.configure({ providers: [{ name: 'silent', type: 'openai-compatible', baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` }] });
      await gateway.addProviderKey('silent', 'sk-silent-0123456789');
      const apiKey = await gateway.createApp({ name: 'cut-app', team: 'cut-team' });
      const calls = [false, true, false].map((stream) => gateway.chat(apiKey, { model: 'silent/m', stream, messages: [{ role: 'user', content: 'Hello' }] }).catch(() => undefined));
      await eventually(async () => seen.length === 3, 'the host to have the three calls');
      await gateway.gateway.stop();
      await Promise.all(calls);
      const db = new Database(join(gateway.dataFolder, 'keygate.db'), { readonly: true });
      try {
        expect(db.prepare("select status, count(*) as calls from ai_usage where app = 'cut-app' group by status").all()).toEqual([{ status: 499, calls: 3 }]);
      } finally {
        db.close();
      }
    } finally {
      await gateway.stop();
      silent.closeAllConnections();
      silent.close();
    }
  });
});
