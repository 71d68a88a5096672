import { describe, expect, it } from 'vitest';
import { CliError } from './admin-client.js';
import { parseCommandArgs, refuseExtraArguments } from './parse-command-args.js';

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

  it('takes a kid that begins with two dashes as a positional, by its shape', () => {
    const kid = '--b3_kid-0123456789abcdefghijklmnopqrstuvwx';
    expect(kid).toHaveLength(43);
    expect(parseCommandArgs(['show', kid], OPTIONS, 'usage').positionals).toEqual(['show', kid]);
  });

  it('takes what follows -- as positionals', () => {
    expect(parseCommandArgs(['show', '--json', '--', '--reason'], OPTIONS, 'usage')).toEqual({ values: { json: true }, positionals: ['show', '--reason'] });
  });

  it('refuses positionals beyond those a command takes, with the usage and exit code 2', () => {
    expect(() => refuseExtraArguments(['import', 'key.pem'], 2, 'usage')).not.toThrow();
    expect(() => refuseExtraArguments(['import', 'key.pem', '-public'], 2, 'the usage text')).toThrow(expect.objectContaining({ exitCode: 2, message: 'unexpected argument "-public"\n\nthe usage text' }));
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
