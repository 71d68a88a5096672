import { describe, expect, it } from 'vitest';
import { costUsd, INPUT_RATES } from './cost.js';

const MINI = { inputPerMillion: 0.15, outputPerMillion: 0.6, cachedInputPerMillion: 0.075 };

describe('costUsd', () => {
  it('bills 1,000 input and 500 output tokens at $0.15 / $0.60 per million as $0.00045', () => {
    expect(costUsd(MINI, { inputTokens: 1_000, outputTokens: 500 })).toBe(0.00045);
  });

  it('bills cached input tokens at the cached rate and the rest of the input at the input rate', () => {
    // 600 fresh × 0.15 + 400 cached × 0.075 + 500 × 0.60 = 90 + 30 + 300 micro-dollars.
    expect(costUsd(MINI, { inputTokens: 1_000, outputTokens: 500, cachedInputTokens: 400 })).toBe(0.00042);
  });

  it("bills cache writes at Anthropic's 1.25× (5 minutes) and 2× (1 hour) the input rate unless they carry their own rates", () => {
    // 1,000 input of which 200 written for 5 minutes and 100 for an hour: 700 × 0.15 + 200 × 0.1875 + 100 × 0.3 = 172.5.
    const writes = { fiveMinute: 200, oneHour: 100 };
    expect(costUsd(MINI, { inputTokens: 1_000, outputTokens: 0, cacheWrites: writes })).toBe(0.0001725);
    expect(costUsd(MINI, { inputTokens: 1_000, outputTokens: 0, cacheWrites: { ...writes, rates: INPUT_RATES } })).toBe(0.00015);
  });

  it("bills cache writes at the model's own 5-minute and 1-hour write prices, whatever rates they carry", () => {
    // Claude Sonnet 4.5 on Bedrock: $3 input, $3.75 and $6 per million written for 5 minutes and for an hour.
    const sonnet = { inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3, cacheWrite5mPerMillion: 3.75, cacheWrite1hPerMillion: 6 };
    // 12 fresh × 3 + 1,000 × 3.75 + 2,000 × 6 + 5 × 15 = 36 + 3,750 + 12,000 + 75 micro-dollars.
    const writes = { fiveMinute: 1_000, oneHour: 2_000, rates: INPUT_RATES };
    expect(costUsd(sonnet, { inputTokens: 3_012, outputTokens: 5, cacheWrites: writes })).toBe(0.015861);
  });

  it('bills a write of a lifetime the model has no price for at its rates of the input rate', () => {
    const fiveMinuteOnly = { ...MINI, cacheWrite5mPerMillion: 0.2 };
    // 700 × 0.15 + 200 × 0.2 + 100 × 0.15 (1 hour, INPUT_RATES) = 105 + 40 + 15.
    expect(costUsd(fiveMinuteOnly, { inputTokens: 1_000, outputTokens: 0, cacheWrites: { fiveMinute: 200, oneHour: 100, rates: INPUT_RATES } })).toBe(0.00016);
  });

  it('bills cached input tokens at the input rate when the model has no cached rate', () => {
    const model = { ...MINI, cachedInputPerMillion: null };
    expect(costUsd(model, { inputTokens: 1_000, outputTokens: 500, cachedInputTokens: 400 })).toBe(0.00045);
  });

  it('reads a cached count above the input count as all input cached', () => {
    expect(costUsd(MINI, { inputTokens: 1_000, outputTokens: 0, cachedInputTokens: 5_000 })).toBe(0.000075);
  });

  it('costs nothing when no tokens were used', () => {
    expect(costUsd(MINI, { inputTokens: 0, outputTokens: 0 })).toBe(0);
  });

  it('rounds to a billionth of a dollar', () => {
    // 1 token at $0.0375 per million is 3.75e-8 USD: 37.5 nano-dollars, rounded to 38.
    expect(costUsd({ inputPerMillion: 0.0375, outputPerMillion: 0, cachedInputPerMillion: null }, { inputTokens: 1, outputTokens: 0 })).toBe(3.8e-8);
  });

  it('adds up large calls without drifting', () => {
    const opus = { inputPerMillion: 15, outputPerMillion: 75, cachedInputPerMillion: 1.5 };
    expect(costUsd(opus, { inputTokens: 1_000_000, outputTokens: 1_000_000, cachedInputTokens: 500_000 })).toBe(83.25);
  });

  it('refuses a negative or fractional token count, naming it', () => {
    expect(() => costUsd(MINI, { inputTokens: -1, outputTokens: 0 })).toThrow(/"inputTokens"/);
    expect(() => costUsd(MINI, { inputTokens: 1, outputTokens: 0.5 })).toThrow(/"outputTokens"/);
    expect(() => costUsd(MINI, { inputTokens: 1, outputTokens: 1, cachedInputTokens: Number.NaN })).toThrow(/"cachedInputTokens"/);
  });
});
