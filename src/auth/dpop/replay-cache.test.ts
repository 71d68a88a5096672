import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { InMemoryDpopReplayCache } from './replay-cache.js';

describe('InMemoryDpopReplayCache', () => {
  it('accepts a key once within its lifetime', () => {
    const clock = new ManualClock();
    const cache = new InMemoryDpopReplayCache();
    expect(cache.markUsed('a', clock.now() + 60_000, clock.now())).toBe(true);
    expect(cache.markUsed('a', clock.now() + 60_000, clock.advance(59_999))).toBe(false);
  });

  it('accepts a key again once it has expired', () => {
    const clock = new ManualClock();
    const cache = new InMemoryDpopReplayCache();
    cache.markUsed('a', clock.now() + 60_000, clock.now());
    expect(cache.markUsed('a', clock.now() + 120_000, clock.advance(60_000))).toBe(true);
  });

  it('drops expired entries as new keys arrive', () => {
    const clock = new ManualClock();
    const cache = new InMemoryDpopReplayCache();
    for (let i = 0; i < 1000; i += 1) cache.markUsed(`old-${i}`, clock.now() + 60_000, clock.now());
    clock.advance(60_000);
    cache.markUsed('new', clock.now() + 60_000, clock.now());
    expect(cache.size).toBe(1);
  });

  it('stays within its default capacity of 100 000 under many live entries', () => {
    const clock = new ManualClock();
    const cache = new InMemoryDpopReplayCache();
    for (let i = 0; i < 150_000; i += 1) cache.markUsed(`k-${i}`, clock.now() + 60_000, clock.now());
    expect(cache.capacity).toBe(100_000);
    expect(cache.size).toBe(100_000);
  });

  it('evicts the oldest entry when full and keeps the newest', () => {
    const clock = new ManualClock();
    const cache = new InMemoryDpopReplayCache({ capacity: 3 });
    for (const key of ['a', 'b', 'c', 'd']) cache.markUsed(key, clock.now() + 60_000, clock.now());
    expect(cache.size).toBe(3);
    expect(cache.markUsed('d', clock.now() + 60_000, clock.now())).toBe(false);
    expect(cache.markUsed('a', clock.now() + 60_000, clock.now())).toBe(true);
  });

  it('still refuses a key used again after it expired once its first entry is evicted', () => {
    const clock = new ManualClock();
    const cache = new InMemoryDpopReplayCache({ capacity: 3 });
    cache.markUsed('x', clock.now() + 60_000, clock.now());
    cache.markUsed('a', clock.now() + 1_000, clock.now());
    clock.advance(1_000);
    expect(cache.markUsed('a', clock.now() + 60_000, clock.now())).toBe(true);
    cache.markUsed('b', clock.now() + 60_000, clock.now());
    cache.markUsed('c', clock.now() + 60_000, clock.now());
    expect(cache.markUsed('a', clock.now() + 60_000, clock.now())).toBe(false);
    expect(cache.size).toBe(3);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new InMemoryDpopReplayCache({ capacity: 0 })).toThrow(RangeError);
  });
});
