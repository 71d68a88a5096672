import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_URL, redisAvailable, redisTestKeys, startFakeRedis, type RedisTestKeys } from '../../../test/redis.js';
import { ManualClock } from '../../clock.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

const HOUR = 3_600_000;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

describe.skipIf(!redisAvailable)('the Redis rate limiter against a real Redis', () => {
  let keys: RedisTestKeys;
  const limiters: RedisRateLimiter[] = [];
  const errors: Error[] = [];
  const node = async () => {
    const limiter = new RedisRateLimiter({ url: REDIS_URL, keyPrefix: keys.prefix, onError: (error) => errors.push(error) });
    limiters.push(limiter);
    await limiter.ready();
    return limiter;
  };
  afterEach(async () => {
    await Promise.all(limiters.splice(0).map((limiter) => limiter.close()));
    await keys.cleanup();
    expect(errors.splice(0)).toEqual([]);
  });

  it('lets two gateway nodes on separate connections share one limit exactly', async () => {
    keys = await redisTestKeys();
    const [a, b] = [await node(), await node()];
    // An hour-long window: even if it rolls over mid-test, the full previous window still refuses the 38th hit.
    const decisions = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).hit('shared', 37, HOUR)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(37);
    expect(decisions.filter((d) => !d.allowed).every((d) => d.remaining === 0 && d.retryAfterMs > 0)).toBe(true);
  });

  it('counts a charge whatever it comes to, for every node: the next hit waits for it', async () => {
    keys = await redisTestKeys();
    const [a, b] = [await node(), await node()];
    expect((await a.hit('charged', 10, HOUR, 4)).allowed).toBe(true);
    await a.charge('charged', HOUR, 30);
    expect(await b.hit('charged', 10, HOUR, 1)).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('stores a counter under the key prefix with an expiry, so Redis frees it once both its windows are over', async () => {
    keys = await redisTestKeys();
    const limiter = await node();
    await limiter.hit('expiring', 5, 60_000);
    const ttl = await keys.client.pttl(`${keys.prefix}expiring`);
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it('takes a refunded hit back from its own window, then from the fading share', async () => {
    keys = await redisTestKeys();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const limiter = new RedisRateLimiter({ url: REDIS_URL, keyPrefix: keys.prefix, clock, onError: (error) => errors.push(error) });
    limiters.push(limiter);
    await limiter.ready();
    const counted = await limiter.hit('k', 2, 1_000);
    expect(counted.countedIn).toBe(clock.now());
    await limiter.hit('k', 2, 1_000);
    await limiter.refund('k', 1_000, 1, counted.countedIn!);
    expect(await limiter.hit('k', 2, 1_000)).toMatchObject({ allowed: true, remaining: 0 });
    clock.advance(1_000);
    await limiter.refund('k', 1_000, 2, counted.countedIn!);
    expect(await limiter.hit('k', 2, 1_000, 0)).toMatchObject({ allowed: true, remaining: 2 });
    // A refused hit is not counted, and has no window to refund.
    await limiter.hit('full', 1, 1_000);
    expect((await limiter.hit('full', 1, 1_000)).countedIn).toBeUndefined();
  });

  it('writes nothing for a refused hit of a key it has never counted', async () => {
    keys = await redisTestKeys();
    const limiter = await node();
    expect((await limiter.hit('never', 0, 60_000)).allowed).toBe(false);
    expect(await keys.client.exists(`${keys.prefix}never`)).toBe(0);
  });
});

describe('the Redis rate limiter when Redis fails', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  it('fails open when nothing listens at the Redis address, and reports the outage once', async () => {
    const errors: Error[] = [];
    const limiter = new RedisRateLimiter({ url: `redis://127.0.0.1:${await closedPort()}`, onError: (error) => errors.push(error) });
    closers.push(() => limiter.close());
    const first = await limiter.hit('k', 5, 60_000);
    const second = await limiter.hit('k', 5, 60_000);
    expect(first).toEqual({ allowed: true, limit: 5, windowMs: 60_000, remaining: 5, resetMs: 60_000, retryAfterMs: 0, unavailable: true });
    expect(second).toEqual(first);
    expect(errors).toHaveLength(1);
  });

  it('fails closed when asked to, telling clients to come back in a second', async () => {
    const limiter = new RedisRateLimiter({ url: `redis://127.0.0.1:${await closedPort()}`, failMode: 'closed', onError: () => undefined });
    closers.push(() => limiter.close());
    expect(await limiter.hit('k', 5, 60_000)).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 1_000, unavailable: true });
  });

  it('gives up on a Redis that stops answering after the command timeout, and fails open', async () => {
    const silent = await startFakeRedis(() => undefined);
    closers.push(() => silent.close());
    const errors: Error[] = [];
    const limiter = new RedisRateLimiter({ url: silent.url, commandTimeoutMs: 50, onError: (error) => errors.push(error) });
    closers.push(() => limiter.close());
    await limiter.ready();
    expect(await limiter.hit('k', 5, 60_000)).toMatchObject({ allowed: true, unavailable: true });
    expect(errors.map((error) => error.message)).toEqual(['Command timed out']);
  });

  it('sends the script itself when Redis does not know it by its digest', async () => {
    const forgetful = await startFakeRedis(([name]) => {
      if (name?.toUpperCase() === 'EVALSHA') return '-NOSCRIPT No matching script.\r\n';
      if (name?.toUpperCase() === 'EVAL') return '*4\r\n:1\r\n:4\r\n:60000\r\n:0\r\n';
      return '+OK\r\n';
    });
    closers.push(() => forgetful.close());
    const errors: Error[] = [];
    const limiter = new RedisRateLimiter({ url: forgetful.url, onError: (error) => errors.push(error) });
    closers.push(() => limiter.close());
    await limiter.ready();
    expect(await limiter.hit('k', 5, 60_000)).toEqual({ allowed: true, limit: 5, windowMs: 60_000, remaining: 4, resetMs: 60_000, retryAfterMs: 0 });
    expect(forgetful.commands.map(([name]) => name?.toUpperCase()).filter((name) => name?.startsWith('EVAL'))).toEqual(['EVALSHA', 'EVAL']);
    expect(errors).toEqual([]);
  });
});
