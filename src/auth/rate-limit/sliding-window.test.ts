import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REDIS_URL, redisAvailable, redisTestKeys, type RedisTestKeys } from '../../../test/redis.js';
import { ManualClock } from '../../clock.js';
import { InProcessRateLimiter } from './in-process-rate-limiter.js';
import type { RateLimiter } from './rate-limiter.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

// The same specification for both backends: the Redis script runs on the test's clock here, so both must reach
// the very same decisions at the very same moments.
const BACKENDS: Array<'in-process' | 'redis'> = redisAvailable ? ['in-process', 'redis'] : ['in-process'];
const MINUTE = 60_000;

describe.each(BACKENDS)('the sliding window counter (%s)', (backend) => {
  let clock: ManualClock;
  let limiter: RateLimiter;
  let keys: RedisTestKeys | undefined;
  let errors: Error[];

  beforeEach(async () => {
    clock = new ManualClock(); // 2026-01-01T00:00:00Z, the start of a minute window
    errors = [];
    if (backend === 'redis') {
      keys = await redisTestKeys();
      const redis = new RedisRateLimiter({ url: REDIS_URL, keyPrefix: keys.prefix, clock, onError: (error) => errors.push(error) });
      await redis.ready();
      limiter = redis;
    } else {
      limiter = new InProcessRateLimiter({ clock });
    }
  });
  afterEach(async () => {
    await limiter.close();
    await keys?.cleanup();
    keys = undefined;
    expect(errors).toEqual([]);
  });

  const hits = async (count: number, key = 'k', limit = 5, windowMs = MINUTE, cost = 1) => {
    const decisions = [];
    for (let i = 0; i < count; i++) decisions.push(await limiter.hit(key, limit, windowMs, cost));
    return decisions;
  };

  it('allows exactly the limit in a window and refuses the next hit', async () => {
    const decisions = await hits(6);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
    // Nothing more fits in this window; in the next, the 5 must fade to 4 first: 12 s into it.
    expect(decisions[5]).toMatchObject({ limit: 5, windowMs: MINUTE, retryAfterMs: MINUTE + 12_000 });
  });

  it('counts each key on its own', async () => {
    await hits(5, 'a');
    expect((await limiter.hit('a', 5, MINUTE)).allowed).toBe(false);
    expect(await limiter.hit('b', 5, MINUTE)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('spends a hit of cost n as n units, and refuses a hit that does not fit whole without counting it', async () => {
    const [first, second, third] = await hits(3, 'k', 10, MINUTE, 4);
    expect(first).toMatchObject({ allowed: true, remaining: 6 });
    expect(second).toMatchObject({ allowed: true, remaining: 2 });
    expect(third).toMatchObject({ allowed: false, remaining: 2 });
    expect(await limiter.hit('k', 10, MINUTE, 2)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('never allows a hit whose cost is above the limit', async () => {
    expect(await limiter.hit('k', 3, MINUTE, 4)).toMatchObject({ allowed: false, remaining: 3 });
  });

  it('reports the time left in the window in progress', async () => {
    clock.advance(15_000);
    expect(await limiter.hit('k', 5, MINUTE)).toMatchObject({ allowed: true, resetMs: 45_000, retryAfterMs: 0 });
  });

  it('tells the hit that took the last unit when the next one fits, past its window when its hits fade into the next', async () => {
    clock.advance(18_000);
    const last = await limiter.hit('k', 1, MINUTE);
    // The hit slides out over the next window: a hit of 1 fits once it has faded to nothing, 42 s + 60 s on.
    expect(last).toMatchObject({ allowed: true, remaining: 0, resetMs: 102_000 });
    clock.advance(last.resetMs - 1);
    expect(await limiter.hit('k', 1, MINUTE)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(await limiter.hit('k', 1, MINUTE)).toMatchObject({ allowed: true });
  });

  it('tells the hit that took the last of five units when one fits again: once the five have faded to four', async () => {
    clock.advance(15_000);
    const decisions = await hits(5);
    // 12 s into the next window, 5 × 48 / 60 = 4 are left of them: 45 s + 12 s on.
    expect(decisions.at(-1)).toMatchObject({ allowed: true, remaining: 0, resetMs: 57_000 });
    expect(decisions.at(-2)).toMatchObject({ allowed: true, remaining: 1, resetMs: 45_000 });
  });

  it('gives the whole limit back once two windows have passed without hits', async () => {
    await hits(6);
    clock.advance(2 * MINUTE);
    expect((await hits(6)).map((d) => d.allowed)).toEqual([true, true, true, true, true, false]);
  });

  it('keeps counting hits from the end of one window at the start of the next, so a burst across the boundary cannot double the limit', async () => {
    clock.advance(MINUTE - 1);
    expect((await hits(5)).every((d) => d.allowed)).toBe(true);
    clock.advance(1);
    expect(await limiter.hit('k', 5, MINUTE)).toMatchObject({ allowed: false, resetMs: MINUTE });
  });

  it('lets the previous window weigh linearly less as the current window ages', async () => {
    await hits(10, 'k', 10);
    clock.advance(MINUTE + MINUTE / 2); // the previous 10 now weigh 5
    expect(await limiter.hit('k', 10, MINUTE)).toMatchObject({ allowed: true, remaining: 4 });
    clock.advance(MINUTE / 4); // 10 × ¼ + 1 = 3.5 used: 6 more fit
    expect(await limiter.hit('k', 10, MINUTE)).toMatchObject({ allowed: true, remaining: 5 });
  });

  it('tells a refused hit the exact moment the same hit fits again', async () => {
    await hits(10, 'k', 10);
    clock.advance(MINUTE);
    const refused = await limiter.hit('k', 10, MINUTE);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 6_000 }); // 10 × (60 − 6) / 60 = 9 leaves room for 1
    clock.advance(refused.retryAfterMs - 1);
    expect(await limiter.hit('k', 10, MINUTE)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(await limiter.hit('k', 10, MINUTE)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('tells a hit refused by its own window to wait into the next one', async () => {
    await hits(10, 'k', 10);
    clock.advance(MINUTE / 2);
    // Nothing fits in this window; in the next, the 10 must fade to 8 before a cost of 2 fits: 12 s into it.
    expect(await limiter.hit('k', 10, MINUTE, 2)).toMatchObject({ allowed: false, retryAfterMs: MINUTE / 2 + 12_000 });
  });

  it('starts a key over when its window length changes', async () => {
    await hits(5);
    expect(await limiter.hit('k', 5, 2 * MINUTE)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('refuses a limit, window or cost that is not a whole number in range as invalid configuration', async () => {
    for (const [limit, windowMs, cost] of [[1.5, MINUTE, 1], [-1, MINUTE, 1], [5, 0, 1], [5, MINUTE, -1], [5, MINUTE, 0.5]] as const) {
      await expect(Promise.resolve().then(() => limiter.hit('k', limit, windowMs, cost))).rejects.toMatchObject({ code: 'invalid_config' });
    }
  });
});
