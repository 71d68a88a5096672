import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { InProcessRateLimiter } from './in-process-rate-limiter.js';

describe('the in-process rate limiter', () => {
  it('decides synchronously, without a promise on the hot path', () => {
    const limiter = new InProcessRateLimiter({ clock: new ManualClock() });
    expect(limiter.hit('k', 1, 1_000)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('drops the counters of keys whose windows are over, so memory follows only the keys in use', () => {
    const clock = new ManualClock();
    const limiter = new InProcessRateLimiter({ clock, sweepIntervalMs: 10_000 });
    for (let i = 0; i < 10_000; i++) limiter.hit(`client-${i}`, 10, 1_000);
    limiter.hit('hourly', 10, 3_600_000);
    expect(limiter.size).toBe(10_001);

    clock.advance(10_000);
    limiter.hit('newcomer', 10, 1_000);
    expect(limiter.size).toBe(2); // 'hourly' is still in its window; 'newcomer' just arrived
  });

  it('keeps a counter as long as its previous window still weighs on the current one', () => {
    const clock = new ManualClock();
    const limiter = new InProcessRateLimiter({ clock, sweepIntervalMs: 1_000 });
    limiter.hit('k', 1, 1_000);
    clock.advance(1_999);
    limiter.hit('other', 1, 1_000);
    expect(limiter.size).toBe(2);
    // Had it been dropped, this hit would pass; the previous window's hit still weighs 1/1000.
    expect(limiter.hit('k', 1, 1_000)).toMatchObject({ allowed: false, retryAfterMs: 1 });
  });

  it('takes a refunded hit back from its own window, then from the fading share, then not at all', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const limiter = new InProcessRateLimiter({ clock });
    const counted = limiter.hit('k', 2, 1_000);
    expect(counted.countedIn).toBe(clock.now());
    limiter.hit('k', 2, 1_000);
    limiter.refund('k', 1_000, 1, counted.countedIn!);
    expect(limiter.hit('k', 2, 1_000)).toMatchObject({ allowed: true, remaining: 0 });

    // The next window: the refund comes off the previous window's share, which now weighs fully at its start.
    const second = limiter.hit('k', 3, 1_000, 0);
    clock.advance(1_000);
    expect(limiter.hit('k', 2, 1_000, 0)).toMatchObject({ allowed: true, remaining: 0 });
    limiter.refund('k', 1_000, 2, second.countedIn!);
    expect(limiter.hit('k', 2, 1_000, 0)).toMatchObject({ allowed: true, remaining: 2 });

    // Two windows on, nothing of it is left to take back, and a refund changes nothing.
    clock.advance(2_000);
    limiter.hit('k', 2, 1_000);
    limiter.refund('k', 1_000, 1, second.countedIn!);
    expect(limiter.hit('k', 2, 1_000, 0)).toMatchObject({ remaining: 1 });
  });

  it('counts nothing for a refused hit, and gives it no window to refund', () => {
    const limiter = new InProcessRateLimiter({ clock: new ManualClock() });
    limiter.hit('k', 1, 1_000);
    expect(limiter.hit('k', 1, 1_000).countedIn).toBeUndefined();
  });

  it('counts a charge whatever it comes to, so that the next hit waits for it to slide by', () => {
    const clock = new ManualClock();
    const limiter = new InProcessRateLimiter({ clock });
    expect(limiter.hit('k', 10, 1_000, 4).allowed).toBe(true);
    limiter.charge('k', 1_000, 30);
    expect(limiter.hit('k', 10, 1_000, 1)).toMatchObject({ allowed: false, remaining: 0 });
    // Two windows on, the charge has slid out.
    clock.advance(2_000);
    expect(limiter.hit('k', 10, 1_000, 1).allowed).toBe(true);
  });

  it('forgets every counter when closed', async () => {
    const limiter = new InProcessRateLimiter({ clock: new ManualClock() });
    limiter.hit('k', 1, 1_000);
    await limiter.close();
    expect(limiter.size).toBe(0);
  });
});
