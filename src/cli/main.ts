#!/usr/bin/env -S node --max-semi-space-size=4 --liftoff-only --no-memory-reducer
// The V8 options above (also in `npm start`, docs/settings.md): a young generation of 2 × 4 MiB instead of up to
// 2 × 16 MiB, since a proxy's garbage dies young; and WebAssembly (undici's HTTP parser) kept on V8's baseline
// compiler, whose optimizing tier took some 30 MiB for a moment at the first upstream call; and no idle-time heap
// shrinking, whose collections could throw away the request path's optimized code in a quiet spell (docs/settings.md).
// Node options given in NODE_OPTIONS still apply.
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { WorkerStartError, runWorker, startPrimary } from '../cluster/workers.js';
import { SETTING_FLAGS, SettingsError, loadSettings } from '../config/settings.js';
import { KeygateError } from '../errors.js';
import { KEYGATE_VERSION, PortError, startGateway } from '../gateway.js';
import { MasterKeyError, newMasterKeyText } from '../keys/index.js';
import { TlsError } from '../proxy/tls-certificates.js';
import { createLogger } from '../observe/logger.js';
import { CliError } from './admin-client.js';
import { AI_USAGE, aiCommand } from './ai-command.js';
import { asksForHelp } from './asks-for-help.js';
import { CONFIG_USAGE, configCommand, readConfigFile } from './config-command.js';
import { KEYS_USAGE, keysCommand } from './keys-command.js';

const USAGE = `keygate ${KEYGATE_VERSION} — an AI & API gateway built around a JSON Web Key service

  keygate start [--config keygate.yaml] [--proxy-port N] [--admin-port N] [--data-dir DIR] [--database-url URL] …
${CONFIG_USAGE.replace(/^/gm, '  ')}
  keygate keys <list|show|create|rotate|revoke|import|export> …   (keygate keys help)
  keygate ai <usage|budgets|calls> …   usage, spend and budgets of the AI gateway (keygate ai help)
  keygate master-key        print a new master key for KEYGATE_MASTER_KEY
  keygate version

Every start flag has a KEYGATE_* variable; docs/settings.md lists them all.
Start flags: ${SETTING_FLAGS.map((f) => `--${f}`).join(' ')}`;

async function start(args: string[]): Promise<void> {
  let flags: Record<string, string | undefined>;
  try {
    const options = Object.fromEntries([...SETTING_FLAGS, 'config'].map((f) => [f, { type: 'string' as const }]));
    flags = parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (error) {
    throw new SettingsError((error as Error).message.split('\n')[0] ?? 'bad flag');
  }
  const { config: configPath, ...settingFlags } = flags;
  const settings = loadSettings(process.env, settingFlags);
  const logger = createLogger(settings.logLevel);
  if (cluster.isWorker) return runWorker(settings, { logger: logger.child({ worker: process.pid }) });
  const configFile = configPath === undefined ? undefined : readConfigFile(configPath);
  const gateway = settings.workers > 1 ? await startPrimary(settings, { logger, configFile }) : await startGateway(settings, { logger, configFile });

  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    gateway.stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: { message: error.message } }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/** Each command's usage, for `keygate <command> --help` (and `keygate help <command>`). */
const USAGE_OF: Readonly<Record<string, string>> = { start: USAGE, keys: KEYS_USAGE, ai: AI_USAGE, apply: CONFIG_USAGE, export: CONFIG_USAGE, validate: CONFIG_USAGE };

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // Asked of a command, its usage and nothing else, with success: not "unknown option", and never a start.
  if (command !== undefined && Object.hasOwn(USAGE_OF, command) && asksForHelp(rest)) {
    console.log(USAGE_OF[command]);
    return;
  }
  if (command === 'help' && rest[0] !== undefined && Object.hasOwn(USAGE_OF, rest[0])) {
    console.log(USAGE_OF[rest[0]]);
    return;
  }
  switch (command) {
    case 'start':
      return start(rest);
    case 'keys':
      return keysCommand(rest, process.env, (line) => console.log(line));
    case 'ai':
      return aiCommand(rest, process.env, (line) => console.log(line));
    case 'apply':
    case 'export':
    case 'validate':
      return configCommand(command, rest, process.env, (line) => console.log(line));
    case 'master-key':
      console.log(newMasterKeyText());
      return;
    case 'version':
    case '--version':
      console.log(KEYGATE_VERSION);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      if (command === undefined) console.log(`\n${KEYS_USAGE}`);
      return;
    default:
      throw new CliError(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // One clear line, no stack: these are the user's to fix (a setting, a port, the master key, the store).
  if (error instanceof SettingsError || error instanceof CliError) {
    console.error(`keygate: ${error.message}`);
    process.exit(error instanceof CliError ? error.exitCode : 2);
  }
  if (error instanceof MasterKeyError || error instanceof PortError || error instanceof KeygateError || error instanceof WorkerStartError || error instanceof TlsError) {
    console.error(`keygate: ${error.message}`);
    process.exit(1);
  }
  // Its stack, not the whole object: an error's own members may quote what it was given (a URL with its password).
  console.error('keygate: unexpected failure:', error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error));
  process.exit(1);
});
