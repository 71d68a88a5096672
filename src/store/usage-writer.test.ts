import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Insertable } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { KeygateError } from '../errors.js';
import { openStore, type AiUsageTable } from './index.js';
import { UsageWriterThread } from './usage-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'keygate-usage-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = (from: number, count: number, usd = 0.25): Array<Insertable<AiUsageTable>> =>
  Array.from({ length: count }, (_, i) => ({
    at: Date.UTC(2026, 10, 29, 12) + from + i, request_id: `req-${from + i}`, app: 'shop-web', team: 'shop', route: 'ai', provider: 'openai', model: 'gpt-4o-mini',
    input_tokens: 12, output_tokens: 9, cached_tokens: 0, estimated: 0, cost_usd: usd, latency_ms: 3, ttft_ms: null, status: 200, cache_hit: 0,
  }));

describe('usage rows written by a thread of their own', () => {
  it('are all in the file once the store is closed, appends still in flight included', async () => {
    const file = join(dir, 'in-flight.db');
    const store = await openStore(`sqlite:${file}`);
    // Not awaited: closing must wait for the thread to finish what it was sent.
    const settled: number[] = [];
    const appended = [store.appendUsage(rows(0, 700)), store.appendUsage(rows(700, 300))].map((p) => p.then((id) => (settled.push(id), id)));
    await store.close();
    expect(settled).toEqual([700, 1000]);
    expect(await Promise.all(appended)).toEqual([700, 1000]);
    const reopened = await openStore(`sqlite:${file}`);
    try {
      const count = await reopened.db.selectFrom('ai_usage').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(count.n)).toBe(1000);
      const day = await reopened.db.selectFrom('ai_spend_daily').select(['scope', 'name', 'cost_usd']).orderBy('scope').execute();
      expect(day).toEqual([
        { scope: 'app', name: 'shop-web', cost_usd: 250 },
        { scope: 'team', name: 'shop', cost_usd: 250 },
      ]);
    } finally {
      await reopened.close();
    }
  });

  it('fail a batch the thread cannot write as a whole, and write the next one', async () => {
    const file = join(dir, 'refused.db');
    const store = await openStore(`sqlite:${file}`);
    try {
      // A NOT NULL column left out in the batch's second multi-row insert: the first one's ten rows were inserted.
      const batch = rows(0, 20);
      batch[14] = { ...batch[14]!, route: null as unknown as string };
      await expect(store.appendUsage(batch)).rejects.toThrow(/usage rows not written: NOT NULL constraint failed: ai_usage\.route/);
      const none = await store.db.selectFrom('ai_usage').select('id').execute();
      expect(none).toEqual([]);
      expect(await store.db.selectFrom('ai_spend_daily').selectAll().execute()).toEqual([]);
      expect(await store.appendUsage(rows(20, 5))).toBeGreaterThan(0);
      expect((await store.db.selectFrom('ai_usage').select('request_id').orderBy('id').execute()).map((r) => r.request_id)).toEqual(['req-20', 'req-21', 'req-22', 'req-23', 'req-24']);
    } finally {
      await store.close();
    }
  });

  it('fail every batch in flight when the thread cannot start', async () => {
    const writer = new UsageWriterThread(join(dir, 'missing.db'), { width: 1, rowsPerInsert: 1, insertOne: 'SELECT 1', insertMany: 'SELECT 1', addDaily: 'SELECT 1' });
    await expect(Promise.all([writer.append([1], []), writer.append([2], [])])).rejects.toThrow(/usage writer thread (failed|exited)/);
    // Nothing left in flight: stopping after the failure resolves at once.
    await writer.stop();
  });

  it('refuses rows once the store is closed, without starting another thread to write them', async () => {
    const file = join(dir, 'closed.db');
    const store = await openStore(`sqlite:${file}`);
    await store.appendUsage(rows(0, 3));
    await store.close();
    await expect(store.appendUsage(rows(3, 2))).rejects.toThrow(/usage rows not written: the store is closed/);
    const reopened = await openStore(`sqlite:${file}`);
    try {
      expect((await reopened.db.selectFrom('ai_usage').select('request_id').orderBy('id').execute()).map((r) => r.request_id)).toEqual(['req-0', 'req-1', 'req-2']);
    } finally {
      await reopened.close();
    }
  });

  it('is refused for a database in memory, which a second connection cannot share', async () => {
    const opening = openStore('sqlite::memory:');
    await expect(opening).rejects.toBeInstanceOf(KeygateError);
    await expect(opening).rejects.toThrow(/must be a file path/);
  });
});
