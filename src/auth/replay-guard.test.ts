import { describe, expect, it } from 'vitest';
import { onTwoStoreHandles, STORE_KINDS } from '../../test/databases.js';
import type { Store } from '../store/index.js';
import { StoreReplayGuard } from './replay-guard.js';

const T = Date.UTC(2026, 10, 29, 12);

describe.each(STORE_KINDS)('one-time values in the %s store', (kind) => {
  let first: Store;
  let second: Store;
  onTwoStoreHandles(kind, (a, b) => ([first, second] = [a, b]));

  it('accepts a value once, from whichever handle sees it first, until it expires', async () => {
    const [a, b] = [new StoreReplayGuard(first), new StoreReplayGuard(second)];
    expect(await a.markUsed('proof-1', T + 60_000, T)).toBe(true);
    expect(await b.markUsed('proof-1', T + 60_000, T + 1)).toBe(false);
    expect(await a.markUsed('proof-1', T + 60_000, T + 59_999)).toBe(false);
    // Once its use has expired the value is as good as new, and is remembered again from then on.
    expect(await b.markUsed('proof-1', T + 200_000, T + 60_000)).toBe(true);
    expect(await a.markUsed('proof-1', T + 300_000, T + 100_000)).toBe(false);
  });

  it('lets exactly one of many concurrent uses of a value through', async () => {
    const guards = [new StoreReplayGuard(first), new StoreReplayGuard(second)];
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => guards[i % 2]!.markUsed('raced', T + 60_000, T)));
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('keeps values of any length and content apart', async () => {
    const guard = new StoreReplayGuard(first);
    const long = 'x'.repeat(5_000);
    expect(await guard.markUsed(long, T + 60_000, T)).toBe(true);
    expect(await guard.markUsed(`${long}y`, T + 60_000, T)).toBe(true);
    expect(await guard.markUsed("'; drop table replay_guard; --", T + 60_000, T)).toBe(true);
    expect(await guard.markUsed(long, T + 60_000, T)).toBe(false);
  });

  it('purges the values whose use has expired, and only those', async () => {
    const guard = new StoreReplayGuard(first);
    await guard.markUsed('short', T + 1_000, T);
    await guard.markUsed('long', T + 3_600_000, T);
    expect(await guard.purge(T + 2_000)).toBeGreaterThanOrEqual(1);
    expect(await guard.markUsed('long', T + 3_600_000, T + 2_000)).toBe(false);
    expect(await guard.markUsed('short', T + 5_000, T + 2_000)).toBe(true);
  });
});
