import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './admin-client.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** One argument that begins with a single dash: the CLI has no short options, so it is a value. */
const SINGLE_DASH = /^-[^-]/;

/**
 * `node:util` parseArgs, strict, for commands that have only long options. A kid is an RFC 7638 thumbprint in
 * base64url, so one in 64 begins with "-": such an argument is a positional or an option's value, never an
 * option, and `keygate keys export -Xb3…` works without the `--` that parseArgs would otherwise ask for.
 */
export function parseCommandArgs<O extends Options>(args: string[], options: O, usage: string) {
  const dashed = new Map<string, string>();
  const masked = args.map((arg, i) => {
    if (!SINGLE_DASH.test(arg)) return arg;
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
