import { describe, expect, it } from 'vitest';
import { asksForHelp } from './asks-for-help.js';

describe('asksForHelp', () => {
  it('finds --help or -h anywhere among the options', () => {
    expect(asksForHelp(['--help'])).toBe(true);
    expect(asksForHelp(['create', '--alg', 'ES256', '-h'])).toBe(true);
  });

  it('takes nothing after -- for a request for help, nor a longer word that begins alike', () => {
    expect(asksForHelp(['export', '--', '-h'])).toBe(false);
    expect(asksForHelp(['--helpful', '-hx', 'help'])).toBe(false);
  });
});
