import { describe, expect, it } from 'vitest';
import { rateLimitResetMs } from './rate-limit-reset.js';

describe("the reset of an OpenAI-style rate limit, from its x-ratelimit-* headers", () => {
  it('reads durations as OpenAI writes them, to the millisecond, rounded up', () => {
    const reset = (value: string) => rateLimitResetMs({ 'x-ratelimit-reset-requests': value });
    expect([reset('20s'), reset('6m0s'), reset('1.5s'), reset('120ms'), reset('23h47m36.648s'), reset('1500us')]).toEqual([20_000, 360_000, 1_500, 120, 85_656_648, 2]);
  });

  it('takes the reset of the limit that is spent', () => {
    expect(rateLimitResetMs({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '1200', 'x-ratelimit-reset-requests': '20s', 'x-ratelimit-reset-tokens': '6m0s' })).toBe(20_000);
    expect(rateLimitResetMs({ 'x-ratelimit-remaining-requests': '7', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-requests': '20s', 'x-ratelimit-reset-tokens': '1s' })).toBe(1_000);
  });

  it('takes the later of the two resets when both limits are spent, or when the headers do not tell which', () => {
    expect(rateLimitResetMs({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-requests': '20s', 'x-ratelimit-reset-tokens': '6m0s' })).toBe(360_000);
    expect(rateLimitResetMs({ 'x-ratelimit-reset-requests': '20s', 'x-ratelimit-reset-tokens': '6m0s' })).toBe(360_000);
    expect(rateLimitResetMs({ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-requests': '20s' })).toBe(20_000);
  });

  it('takes the reset of the limit not told to have some left: a daily request limit with 499 left does not keep a key out for hours', () => {
    expect(rateLimitResetMs({ 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-reset-requests': '23h0m0s', 'x-ratelimit-remaining-tokens': '12', 'x-ratelimit-reset-tokens': '6s' })).toBe(6_000);
    expect(rateLimitResetMs({ 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-reset-requests': '23h0m0s', 'x-ratelimit-reset-tokens': '6s' })).toBe(6_000);
  });

  it('reads nothing from resets that are no duration, or from none', () => {
    expect(rateLimitResetMs({})).toBeUndefined();
    for (const value of ['20', '-1', '1e3s', 'soon', '5 s', '']) expect(rateLimitResetMs({ 'x-ratelimit-reset-requests': value })).toBeUndefined();
  });
});
