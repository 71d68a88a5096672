import { readFileSync } from 'node:fs';
import { parseConfigText } from '../config/config-file.js';
import { KeygateError } from '../errors.js';
import { AdminApiError, AdminClient, CliError } from './admin-client.js';
import { parseCommandArgs, refuseExtraArguments } from './parse-command-args.js';

export const CONFIG_USAGE = `keygate apply <file.yaml>      replace services, routes, issuers and ai of a running node with the file's
keygate export [--format yaml|json]   print the running config
keygate validate <file.yaml>   check a file without applying it`;

/** Reads and validates a config file; errors name the file and the path of the offending field. */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
  }
  try {
    return parseConfigText(text, file);
  } catch (error) {
    // A YAML error names the file already; a field's error names its path in the file.
    if (error instanceof KeygateError) throw new CliError(error.message.startsWith(`${file} `) ? error.message : `${file}: ${error.message}`, 2);
    throw error;
  }
}

export async function configCommand(command: 'apply' | 'export' | 'validate', args: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandArgs(args, { 'admin-url': { type: 'string' }, 'data-dir': { type: 'string' }, format: { type: 'string' } }, CONFIG_USAGE);
  refuseExtraArguments(positionals, command === 'export' ? 0 : 1, CONFIG_USAGE);
  if (command === 'export') {
    const format = values.format ?? 'yaml';
    if (format !== 'yaml' && format !== 'json') throw new CliError('--format must be yaml or json', 2);
    const text = await AdminClient.fromEnvironment(env, values).request<unknown>('GET', `/config?format=${format}`);
    out(typeof text === 'string' ? text.trimEnd() : JSON.stringify(text, null, 2));
    return;
  }
  const file = positionals[0];
  if (!file) throw new CliError(`keygate ${command} needs a file\n\n${CONFIG_USAGE}`, 2);
  const config = readConfigFile(file);
  if (command === 'validate') {
    out(`${file}: valid`);
    return;
  }
  const result = await AdminClient.fromEnvironment(env, values)
    .request<{ version: number; services: number; routes: number }>('PUT', '/config', config)
    .catch((error: unknown) => {
      // The node's own checks (a `[redacted]` header with no value stored for it) refuse the file as the local ones do.
      if (error instanceof AdminApiError && error.code === 'invalid_config') throw new CliError(`${file}: ${error.detail}`, 2);
      throw error;
    });
  out(`applied ${file}: ${result.services} service(s), ${result.routes} route(s); snapshot version ${result.version}`);
}
