import { describe, expect, it } from 'vitest';
import { CliError } from './admin-client.js';
import { parseCommandArgs } from './parse-command-args.js';

const OPTIONS = { reason: { type: 'string' }, json: { type: 'boolean' } } as const;

describe('parseCommandArgs', () => {
  it('takes an argument that begins with one dash as a positional, in its place', () => {
    expect(parseCommandArgs(['export', '-Xb3_kid', '--json', 'more'], OPTIONS, 'usage')).toEqual({
      values: { json: true },
      positionals: ['export', '-Xb3_kid', 'more'],
    });
  });

  it("takes an argument that begins with one dash as an option's value", () => {
    expect(parseCommandArgs(['revoke', 'kid', '--reason', '-leaked'], OPTIONS, 'usage').values).toEqual({ reason: '-leaked' });
  });

  it('still refuses an unknown long option, with the usage and exit code 2', () => {
    let caught: unknown;
    try {
      parseCommandArgs(['list', '--colour'], OPTIONS, 'the usage text');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect(caught).toMatchObject({ exitCode: 2 });
    expect((caught as Error).message).toMatch(/--colour[\s\S]*the usage text$/);
  });
});
