import { describe, expect, it } from 'vitest';
import { rateLimitHeaders } from './rate-limit-headers.js';
import type { RateLimitDecision } from './rate-limiter.js';

const allowed = (limit: number, windowMs: number, remaining: number, resetMs: number): RateLimitDecision => ({
  allowed: true,
  limit,
  windowMs,
  remaining,
  resetMs,
  retryAfterMs: 0,
});
const refused = (limit: number, windowMs: number, resetMs: number, retryAfterMs: number): RateLimitDecision => ({
  allowed: false,
  limit,
  windowMs,
  remaining: 0,
  resetMs,
  retryAfterMs,
});

describe('RateLimit header fields', () => {
  it('advertise the limit, remaining quota, seconds to reset and policy of an allowed request', () => {
    expect(rateLimitHeaders([allowed(100, 60_000, 99, 42_000)])).toEqual({
      'RateLimit-Limit': '100',
      'RateLimit-Remaining': '99',
      'RateLimit-Reset': '42',
      'RateLimit-Policy': '100;w=60',
    });
  });

  it('add Retry-After to a refused request, with RateLimit-Reset naming the same moment', () => {
    expect(rateLimitHeaders([refused(100, 60_000, 42_000, 72_000)])).toEqual({
      'RateLimit-Limit': '100',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '72',
      'RateLimit-Policy': '100;w=60',
      'Retry-After': '72',
    });
  });

  it('round seconds up, so a client that waits them is never early', () => {
    expect(rateLimitHeaders([refused(10, 1_500, 1, 1)])).toMatchObject({ 'RateLimit-Reset': '1', 'Retry-After': '1', 'RateLimit-Policy': '10;w=2' });
  });

  it('describe the limit with the lowest remaining quota and list every policy, that one first', () => {
    const headers = rateLimitHeaders([allowed(10, 1_000, 9, 1_000), allowed(1000, 3_600_000, 3, 1_800_000), allowed(50, 60_000, 30, 30_000)]);
    expect(headers).toEqual({
      'RateLimit-Limit': '1000',
      'RateLimit-Remaining': '3',
      'RateLimit-Reset': '1800',
      'RateLimit-Policy': '1000;w=3600, 10;w=1, 50;w=60',
    });
  });

  it('describe a refused limit over allowed ones, the longest wait first', () => {
    const headers = rateLimitHeaders([allowed(10, 1_000, 0, 500), refused(50, 60_000, 10_000, 2_000), refused(1000, 3_600_000, 60_000, 90_000)]);
    expect(headers).toMatchObject({ 'RateLimit-Limit': '1000', 'RateLimit-Reset': '90', 'Retry-After': '90' });
  });

  it('leave out a limit that failed open, since nobody counted it', () => {
    const uncounted: RateLimitDecision = { ...allowed(5, 60_000, 5, 60_000), unavailable: true };
    expect(rateLimitHeaders([uncounted])).toEqual({});
    expect(rateLimitHeaders([uncounted, allowed(100, 60_000, 80, 10_000)])).toMatchObject({ 'RateLimit-Limit': '100', 'RateLimit-Policy': '100;w=60' });
  });

  it('are absent when no limit applied', () => {
    expect(rateLimitHeaders([])).toEqual({});
  });
});
