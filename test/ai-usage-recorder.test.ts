import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageRecorder, type UsageRecord } from '../src/ai/usage-recorder.js';
import { openStore, type Store } from '../src/store/index.js';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from './databases.js';

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
  const stored = async () => (await store.db.selectFrom('ai_usage').select('request_id').orderBy('id').execute()).map((r) => r.request_id);
  /** A record the store refuses (request_id is NOT NULL), which the test can mend in place, as it sits in the buffer. */
  const refused = () => ({ ...record('mended'), request_id: null as unknown as string });

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    store = await openStore(database.url);
    errors = [];
    flushed = [];
    recorder = new UsageRecorder(store, (error) => errors.push(error));
    recorder.onFlushed((records) => flushed.push(records));
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
  });

  it('keeps only the records after the statements already written when a later statement of a flush fails', async () => {
    const bad = refused();
    const ids = Array.from({ length: 250 }, (_, i) => `r-${i}`);
    for (const id of ids) recorder.record(id === 'r-220' ? bad : record(id));
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(await stored()).toEqual(ids.slice(0, 200));
    expect(flushed.map((records) => records.length)).toEqual([200]);

    bad.request_id = 'r-220';
    await recorder.flush();
    expect(await stored()).toEqual(ids);
    expect(flushed.map((records) => records.length)).toEqual([200, 50]);
  });
});
