import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageRecorder, type UsageRecord } from '../src/ai/usage-recorder.js';
import { openStore, type Store } from '../src/store/index.js';

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
