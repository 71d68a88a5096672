import { parseArgs } from 'node:util';
import { CliError } from './admin-client.js';

/** Long options, each given once: the only kind the keygate commands have. */
type Options = Record<string, { type: 'string' | 'boolean' }>;

/** One argument that begins with a single dash: the CLI has no short options, so it is a value. */
const SINGLE_DASH = /^-[^-]/;

/** A kid: an RFC 7638 thumbprint, a SHA-256 in base64url (43 characters), which may begin with "--" too. */
const KID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * `node:util` parseArgs, strict, for commands that have only long options. A kid is an RFC 7638 thumbprint in
 * base64url, so one in 64 begins with "-" (and one in 4,096 with "--"): such an argument is a positional or an
 * option's value, never an option, and `keygate keys export -Xb3…` works without the `--` that parseArgs would
 * otherwise ask for. An unknown long option that is not shaped like a kid is still refused.
 */
export function parseCommandArgs<O extends Options>(args: string[], options: O, usage: string) {
  const dashed = new Map<string, string>();
  const masked = args.map((arg, i) => {
    const value = SINGLE_DASH.test(arg) || (arg.startsWith('--') && !(arg.slice(2).split('=')[0]! in options) && KID_SHAPE.test(arg));
    if (!value) return arg;
    const placeholder = `\u0000${i}`;
    dashed.set(placeholder, arg);
    return placeholder;
  });
  const unmask = (value: string) => dashed.get(value) ?? value;
  let parsed;
  try {
    parsed = parseArgs({ args: masked, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${usage}`, 2);
  }
  const values = Object.fromEntries(Object.entries(parsed.values).map(([name, value]) => [name, typeof value === 'string' ? unmask(value) : value]));
  return { values: values as typeof parsed.values, positionals: parsed.positionals.map(unmask) };
}

/** Refuses, with the usage and exit code 2, positionals beyond the `count` a command takes (a mistyped option, say). */
export function refuseExtraArguments(positionals: readonly string[], count: number, usage: string): void {
  if (positionals.length > count) throw new CliError(`unexpected argument ${JSON.stringify(positionals[count])}\n\n${usage}`, 2);
}
