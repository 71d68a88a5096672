import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { createRateLimiter, InProcessRateLimiter, RedisRateLimiter } from './index.js';

describe('createRateLimiter', () => {
  it('counts in process when no Redis URL is set', async () => {
    const limiter = createRateLimiter({ clock: new ManualClock(), onError: () => undefined });
    expect(limiter).toBeInstanceOf(InProcessRateLimiter);
    await limiter.close();
  });

  it('counts in Redis when a Redis URL is set', async () => {
    const limiter = createRateLimiter({ redisUrl: 'redis://127.0.0.1:1', clock: new ManualClock(), onError: () => undefined });
    expect(limiter).toBeInstanceOf(RedisRateLimiter);
    await limiter.close();
  });
});
