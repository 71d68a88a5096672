import { describe, expect, it } from 'vitest';
import { dollars } from './ai-command.js';

describe('dollars as the CLI prints them', () => {
  it('prints cents above a cent, and three significant digits below, in decimals however small', () => {
    expect([5, 0.01, 0.0099, 0.000584, 0.0000775, 1e-7, 2.5e-8, 0].map(dollars)).toEqual(['$5.00', '$0.01', '$0.0099', '$0.000584', '$0.0000775', '$0.0000001', '$0.000000025', '$0']);
  });
});
