import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Insertable } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/keygate-process.js';
import { openStore, type AiUsageTable } from './index.js';
import { WalCheckpointer } from './wal-checkpointer.js';

const dir = mkdtempSync(join(tmpdir(), 'keygate-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = (from: number, count: number): Array<Insertable<AiUsageTable>> =>
  Array.from({ length: count }, (_, i) => ({
    at: 1_764_417_600_000 + from + i, request_id: `req-${from + i}`, app: 'shop-web', team: 'shop', route: 'ai', provider: 'openai', model: 'gpt-4o-mini',
    input_tokens: 12, output_tokens: 9, cached_tokens: 0, estimated: 0, cost_usd: 0.0000072, latency_ms: 3, ttft_ms: null, status: 200, cache_hit: 0,
  }));

describe('checkpoints of a SQLite store file', () => {
  it("copy the log into the database file off the store's connection, which never fills up enough to do it itself", async () => {
    const file = join(dir, 'copy.db');
    const store = await openStore(`sqlite:${file}`);
    try {
      // The migrations' pages reach the file first; then the usage rows', a few hundred pages, far below the point
      // where the store's own connection would checkpoint.
      const settled = await eventually(async () => statSync(file).size > 4096 && statSync(file).size, 'the migrations checkpointed');
      for (let i = 0; i < 20; i++) await store.appendUsage(rows(i * 200, 200));
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
      await eventually(async () => statSync(file).size > settled + 200 * 1024, 'the usage rows checkpointed into the file');
    } finally {
      await store.close();
    }
  });

  it('closing stops the thread, checkpoints the rest and removes the log, every row kept', async () => {
    const file = join(dir, 'close.db');
    const store = await openStore(`sqlite:${file}`);
    await store.appendUsage(rows(0, 1000));
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const reopened = await openStore(`sqlite:${file}`);
    try {
      const { count } = await reopened.db.selectFrom('ai_usage').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
      expect(Number(count)).toBe(1000);
    } finally {
      await reopened.close();
    }
  });
});

describe('the checkpoint thread', () => {
  it('reports a file it cannot open, and stops cleanly all the same', async () => {
    const errors: string[] = [];
    const checkpointer = WalCheckpointer.start(join(dir, 'missing', 'store.db'), { onError: (message) => errors.push(message) });
    await eventually(async () => errors.length > 0, 'the error reported');
    expect(errors).toHaveLength(1);
    await checkpointer.stop();
  });
});
