import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { USAGE_STATEMENT_ROWS, UsageRecorder, type UsageRecord } from '../src/ai/usage-recorder.js';
import { openStore, type Store } from '../src/store/index.js';
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
});

describe.each(STORE_KINDS)('the usage recorder when the %s store refuses a record', (kind) => {
  let database: TestDatabase;
  let store: Store;
  let recorder: UsageRecorder;
  let errors: Error[];
  let flushed: Array<readonly UsageRecord[]>;
  let lastIds: number[];
  const stored = async () => (await store.db.selectFrom('ai_usage').select('request_id').orderBy('id').execute()).map((r) => r.request_id);
  /** A record the store refuses (request_id is NOT NULL), which the test can mend in place, as it sits in the buffer. */
  const refused = () => ({ ...record('mended'), request_id: null as unknown as string });

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    store = await openStore(database.url);
    errors = [];
    flushed = [];
    lastIds = [];
    // Only the test's own flushes write: none starts as records pile up.
    recorder = new UsageRecorder(store, (error) => errors.push(error), 100_000, Infinity);
    recorder.onFlushed((records, lastId) => {
      flushed.push(records);
      lastIds.push(lastId);
    });
  });
  afterEach(async () => {
    await store.close();
    await database.drop();
  });

  it('writes nothing of the batch, and writes all of it at a later flush once the store takes it', async () => {
    const bad = refused();
    recorder.record(record('before'));
    recorder.record(bad);
    recorder.record(record('after'));
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(await stored()).toEqual([]);
    expect(flushed).toEqual([]);

    bad.request_id = 'mended';
    await recorder.flush();
    expect(await stored()).toEqual(['before', 'mended', 'after']);
    expect(flushed.map((records) => records.map((r) => r.request_id))).toEqual([['before', 'mended', 'after']]);
    // With the largest id they were given.
    const ids = await store.db.selectFrom('ai_usage').select('id').execute();
    expect(lastIds).toEqual([Math.max(...ids.map((r) => Number(r.id)))]);
  });

  it('keeps only the records after the statements already written when a later statement of a flush fails', async () => {
    // Two statements' worth and a half, the refused record in the second: the first statement is in the store.
    const rows = USAGE_STATEMENT_ROWS[kind];
    const bad = refused();
    const ids = Array.from({ length: rows * 2.5 }, (_, i) => `r-${i}`);
    const badId = `r-${rows + 10}`;
    for (const id of ids) recorder.record(id === badId ? bad : record(id));
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(await stored()).toEqual(ids.slice(0, rows));
    expect(flushed.map((records) => records.length)).toEqual([rows]);

    bad.request_id = badId;
    await recorder.flush();
    expect(await stored()).toEqual(ids);
    // Told statement by statement, each with its largest id.
    expect(flushed.map((records) => records.length)).toEqual([rows, rows, rows / 2]);
    const idOf = new Map((await store.db.selectFrom('ai_usage').select(['id', 'request_id']).execute()).map((r) => [r.request_id, Number(r.id)]));
    expect(lastIds).toEqual(flushed.map((records) => Math.max(...records.map((r) => idOf.get(r.request_id)!))));
  });

  it('while the store refuses a write, later records do not each start another: only a flush asked for retries', async () => {
    const eager = new UsageRecorder(store, (error) => errors.push(error));
    eager.record(record('r-0'));
    eager.record(refused());
    for (let i = 2; i < 500; i++) eager.record(record(`r-${i}`));
    // The 500th record started a write, which the store refuses.
    await eventually(async () => errors.length === 1, 'the first write refused');
    for (let i = 500; i < 700; i++) eager.record(record(`r-${i}`));
    await eager.flush();
    // Then 700 records are buffered, and none of the last 200 started a write: the explicit flush is the second.
    expect(errors).toHaveLength(2);
    expect(await stored()).toEqual([]);
  });

  it('keeps the newest records up to its bound while the store refuses them, and counts every one it drops', async () => {
    const bounded = new UsageRecorder(store, (error) => errors.push(error), 100, Infinity);
    bounded.record(refused());
    for (let i = 1; i < 80; i++) bounded.record(record(`r-${i}`));
    await bounded.flush();
    expect(errors).toHaveLength(1);
    // 80 kept for the next try; 300 more go over the bound of 100, the refused record first among the oldest.
    for (let i = 80; i < 380; i++) bounded.record(record(`r-${i}`));
    expect(bounded.dropped).toBe(280);
    await bounded.flush();
    expect(errors).toHaveLength(1);
    expect(await stored()).toEqual(Array.from({ length: 100 }, (_, i) => `r-${280 + i}`));
  });

  it('counts the records a failed write puts back beyond the bound as dropped', async () => {
    const bounded = new UsageRecorder(store, (error) => errors.push(error), 100, Infinity);
    const bad = refused();
    bounded.record(bad);
    for (let i = 1; i < 100; i++) bounded.record(record(`r-${i}`));
    // Records made while the write is under way, which then fails: 100 put back plus 30 newer ones.
    const writing = bounded.flush();
    for (let i = 100; i < 130; i++) bounded.record(record(`r-${i}`));
    await writing;
    expect(errors).toHaveLength(1);
    expect(bounded.dropped).toBe(30);
    await bounded.flush();
    expect(await stored()).toEqual(Array.from({ length: 100 }, (_, i) => `r-${30 + i}`));
  });
});
