import { describe, expect, it } from 'vitest';
import { connectTimeoutFor } from './provider-agents.js';

describe('connectTimeoutFor', () => {
  it('waits for a connection as long as ai.timeout when that is shorter than 10 s', () => {
    expect(connectTimeoutFor(300)).toBe(300);
    expect(connectTimeoutFor(2_000)).toBe(2_000);
  });

  it('waits 10 s at most, for the default 60 s, a longer timeout, or none (0)', () => {
    expect(connectTimeoutFor(60_000)).toBe(10_000);
    expect(connectTimeoutFor(600_000)).toBe(10_000);
    expect(connectTimeoutFor(0)).toBe(10_000);
  });
});
