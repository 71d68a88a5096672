import { describe, expect, it } from 'vitest';
import { respawnDelay } from './workers.js';

describe('respawnDelay', () => {
  it('replaces a worker at once, then backs off while replacements keep dying before they listen', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 20].map(respawnDelay)).toEqual([0, 250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });
});
