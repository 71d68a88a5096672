/**
 * Whether a command's arguments ask for its usage: `--help` or `-h` anywhere before a `--` that ends the options,
 * as most command-line tools take them. Neither can be a kid (43 characters) or any other value a command takes.
 */
export function asksForHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}
