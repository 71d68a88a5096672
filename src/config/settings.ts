import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { MAX_TIMER_MS, parseDuration } from './duration.js';
import { parseUrl } from '../parse-url.js';

/** Signing algorithms the first start may create the default key for. */
export const DEFAULT_SIGNING_ALGS = ['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'EdDSA'] as const;

export interface Settings {
  proxyHost: string;
  proxyPort: number;
  adminHost: string;
  adminPort: number;
  dataDir: string;
  /** `sqlite:<file>` or `postgres://…`; defaults to `sqlite:<dataDir>/keygate.db`. */
  databaseUrl: string;
  /** base64url of 32 bytes; when absent, read from or generated into `<dataDir>/master.key`. */
  masterKey: string | undefined;
  /** When absent, read from or generated into `<dataDir>/admin-token`. */
  adminToken: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  signingAlg: (typeof DEFAULT_SIGNING_ALGS)[number];
  keyRotationInterval: number;
  keyPublishLead: number;
  tokenMaxTtl: number;
  jwksMaxAge: number;
  syncInterval: number;
  shutdownGrace: number;
  /** Proxy-port TLS: the default certificate and key, and a folder of per-host pairs chosen by SNI. */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  tlsCertsDir: string | undefined;
  adminTlsCert: string | undefined;
  adminTlsKey: string | undefined;
  /** How often certificate files are checked for changes. */
  tlsReloadInterval: number;
  /** Processes serving the proxy port; 1 serves it from the main process. */
  workers: number;
  /** Shared counters (rate limits) for several nodes; in-process counters when absent. */
  redisUrl: string | undefined;
  /** The OAuth issuer (RFC 8414) this gateway names in its tokens; its proxy URL when absent. */
  issuer: string | undefined;
  /** Lifetime of access tokens from the token endpoint; at most KEYGATE_TOKEN_MAX_TTL. */
  accessTokenTtl: number;
  /** Slow clients: the whole request head must arrive within clientHeaderTimeout, the whole request within clientRequestTimeout (408 otherwise). */
  clientHeaderTimeout: number;
  clientRequestTimeout: number;
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

interface SettingDef {
  key: keyof Settings;
  env: string;
  /** Secrets are taken from the environment only: a flag would show in `ps`. */
  flag?: string;
  parse(raw: string, name: string): unknown;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function port(raw: string, name: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new SettingsError(`${name} must be a port number from 0 to 65535, got "${raw}"`);
  }
  return Number(raw);
}

function duration(raw: string, name: string): number {
  const ms = parseDuration(raw);
  if (ms === undefined || ms <= 0) {
    throw new SettingsError(`${name} must be a duration such as 90s, 15m, 1h or 30d, got "${raw}"`);
  }
  return ms;
}

/** A duration that becomes a timer's delay or a socket timeout: at most MAX_TIMER_MS. */
function timerDuration(raw: string, name: string): number {
  const ms = duration(raw, name);
  if (ms > MAX_TIMER_MS) throw new SettingsError(`${name} must be at most 24d (a timer cannot wait longer), got "${raw}"`);
  return ms;
}

function oneOf(values: readonly string[]) {
  return (raw: string, name: string): string => {
    if (!values.includes(raw)) throw new SettingsError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
    return raw;
  };
}

/** The scheme of a URL-like setting, safe to quote: never more of a value that may hold a password. */
function schemeOf(raw: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]{0,30}):/.exec(raw)?.[1];
  return scheme ? `a URL starting "${scheme}:"` : 'something else';
}

/**
 * A Redis URL that the client can read: a password holding `/`, `?`, `#` or `@` unescaped does not parse, and the
 * Redis client's own error quotes the whole URL. Neither this message nor any other quotes the value.
 */
function redisUrl(raw: string, name: string): string {
  if (!/^rediss?:\/\//.test(raw)) throw new SettingsError(`${name} must start with redis:// or rediss://, got ${schemeOf(raw)}`);
  if (!URL.canParse(raw)) throw new SettingsError(`${name} is not a URL the Redis client can read; percent-encode the reserved characters of its password (/ ? # @ : become %2F %3F %23 %40 %3A)`);
  return raw;
}

function issuerUrl(raw: string, name: string): string {
  // The issuer is published (OAuth metadata, every token's iss): a user or password in it would be too.
  const parsed = parseUrl(raw);
  if (parsed && (parsed.username !== '' || parsed.password !== '')) throw new SettingsError(`${name} must not hold a user or password: it is published in the OAuth metadata and in every token`);
  // RFC 8414 §2: an https URL (http is tolerated for local use) with no query or fragment.
  if (!/^https?:\/\/[^?#]+$/.test(raw) || raw.endsWith('/') || !parsed) throw new SettingsError(`${name} must be an http(s) URL without a trailing slash, query or fragment, got ${raw.includes('@') ? schemeOf(raw) : `"${raw}"`}`);
  return raw;
}

function workerCount(raw: string, name: string): number {
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 256) throw new SettingsError(`${name} must be a whole number from 1 to 256, got "${raw}"`);
  return Number(raw);
}

function text(raw: string, name: string): string {
  if (raw.trim() === '') throw new SettingsError(`${name} must not be empty`);
  return raw;
}

function databaseUrl(raw: string, name: string): string {
  if (!(/^postgres(ql)?:\/\//.test(raw) || raw.startsWith('sqlite:'))) throw new SettingsError(`${name} must start with postgres://, postgresql:// or sqlite:, got ${schemeOf(raw)}`);
  // The environment only for a password, like the other secrets: a flag's value shows in `ps` to every user.
  if (name.startsWith('--') && hasPassword(raw)) throw new SettingsError(`${name} must not hold a password (a flag shows in ps); set KEYGATE_DATABASE_URL instead, or use PGPASSWORD or a .pgpass file`);
  return raw;
}

/** Whether a database URL carries a password: in its authority (`user:pw@`), or as a query parameter. */
function hasPassword(url: string): boolean {
  if (url.startsWith('sqlite:')) return false;
  const authority = url.slice(url.indexOf('//') + 2);
  const at = authority.lastIndexOf('@');
  return (at >= 0 && authority.slice(0, at).includes(':')) || /[?&][^=&#]*password[^=&#]*=/i.test(url);
}

const DEFS: SettingDef[] = [
  { key: 'proxyHost', env: 'KEYGATE_PROXY_HOST', flag: 'proxy-host', parse: text },
  { key: 'proxyPort', env: 'KEYGATE_PROXY_PORT', flag: 'proxy-port', parse: port },
  { key: 'adminHost', env: 'KEYGATE_ADMIN_HOST', flag: 'admin-host', parse: text },
  { key: 'adminPort', env: 'KEYGATE_ADMIN_PORT', flag: 'admin-port', parse: port },
  { key: 'dataDir', env: 'KEYGATE_DATA_DIR', flag: 'data-dir', parse: text },
  { key: 'databaseUrl', env: 'KEYGATE_DATABASE_URL', flag: 'database-url', parse: databaseUrl },
  { key: 'masterKey', env: 'KEYGATE_MASTER_KEY', parse: text },
  { key: 'adminToken', env: 'KEYGATE_ADMIN_TOKEN', parse: text },
  { key: 'logLevel', env: 'KEYGATE_LOG_LEVEL', flag: 'log-level', parse: oneOf(LOG_LEVELS) },
  { key: 'signingAlg', env: 'KEYGATE_SIGNING_ALG', flag: 'signing-alg', parse: oneOf(DEFAULT_SIGNING_ALGS) },
  { key: 'keyRotationInterval', env: 'KEYGATE_KEY_ROTATION_INTERVAL', flag: 'key-rotation-interval', parse: duration },
  { key: 'keyPublishLead', env: 'KEYGATE_KEY_PUBLISH_LEAD', flag: 'key-publish-lead', parse: duration },
  { key: 'tokenMaxTtl', env: 'KEYGATE_TOKEN_MAX_TTL', flag: 'token-max-ttl', parse: duration },
  { key: 'jwksMaxAge', env: 'KEYGATE_JWKS_MAX_AGE', flag: 'jwks-max-age', parse: duration },
  { key: 'syncInterval', env: 'KEYGATE_SYNC_INTERVAL', flag: 'sync-interval', parse: timerDuration },
  { key: 'shutdownGrace', env: 'KEYGATE_SHUTDOWN_GRACE', flag: 'shutdown-grace', parse: timerDuration },
  { key: 'tlsCert', env: 'KEYGATE_TLS_CERT', flag: 'tls-cert', parse: text },
  { key: 'tlsKey', env: 'KEYGATE_TLS_KEY', flag: 'tls-key', parse: text },
  { key: 'tlsCertsDir', env: 'KEYGATE_TLS_CERTS_DIR', flag: 'tls-certs-dir', parse: text },
  { key: 'adminTlsCert', env: 'KEYGATE_ADMIN_TLS_CERT', flag: 'admin-tls-cert', parse: text },
  { key: 'adminTlsKey', env: 'KEYGATE_ADMIN_TLS_KEY', flag: 'admin-tls-key', parse: text },
  { key: 'tlsReloadInterval', env: 'KEYGATE_TLS_RELOAD_INTERVAL', flag: 'tls-reload-interval', parse: timerDuration },
  { key: 'workers', env: 'KEYGATE_WORKERS', flag: 'workers', parse: workerCount },
  // A Redis URL may hold a password: environment only, like the other secrets.
  { key: 'redisUrl', env: 'KEYGATE_REDIS_URL', parse: redisUrl },
  { key: 'issuer', env: 'KEYGATE_ISSUER', flag: 'issuer', parse: issuerUrl },
  { key: 'accessTokenTtl', env: 'KEYGATE_ACCESS_TOKEN_TTL', flag: 'access-token-ttl', parse: duration },
  { key: 'clientHeaderTimeout', env: 'KEYGATE_CLIENT_HEADER_TIMEOUT', flag: 'client-header-timeout', parse: timerDuration },
  { key: 'clientRequestTimeout', env: 'KEYGATE_CLIENT_REQUEST_TIMEOUT', flag: 'client-request-timeout', parse: timerDuration },
];

/** Variables read by the CLI client rather than by `keygate start`; known, so never "unknown". */
const CLIENT_ENV = ['KEYGATE_ADMIN_URL'];

export const SETTING_FLAGS: readonly string[] = DEFS.flatMap((d) => (d.flag ? [d.flag] : []));

function defaults(): Omit<Settings, 'databaseUrl'> & { databaseUrl?: string } {
  return {
    proxyHost: '0.0.0.0',
    proxyPort: 8080,
    adminHost: '127.0.0.1',
    adminPort: 8081,
    dataDir: './data',
    masterKey: undefined,
    adminToken: undefined,
    logLevel: 'info',
    signingAlg: 'ES256',
    keyRotationInterval: 30 * 86_400_000,
    keyPublishLead: 86_400_000,
    tokenMaxTtl: 86_400_000,
    jwksMaxAge: 15 * 60_000,
    syncInterval: 1_000,
    shutdownGrace: 10_000,
    tlsCert: undefined,
    tlsKey: undefined,
    tlsCertsDir: undefined,
    adminTlsCert: undefined,
    adminTlsKey: undefined,
    tlsReloadInterval: 5_000,
    workers: availableParallelism(),
    redisUrl: undefined,
    issuer: undefined,
    accessTokenTtl: 3_600_000,
    clientHeaderTimeout: 10_000,
    clientRequestTimeout: 300_000,
  };
}

/**
 * Reads settings from `KEYGATE_*` variables, then flags (flags win), validates every one and the rules
 * between them. Throws a SettingsError whose message is one line naming the setting.
 */
export function loadSettings(env: NodeJS.ProcessEnv, flags: Record<string, string | undefined> = {}): Settings {
  const known = new Set([...DEFS.map((d) => d.env), ...CLIENT_ENV]);
  for (const name of Object.keys(env)) {
    if (name.startsWith('KEYGATE_') && !known.has(name)) {
      throw new SettingsError(`unknown setting ${name}; see docs/settings.md for the list`);
    }
  }
  const knownFlags = new Set(SETTING_FLAGS);
  for (const name of Object.keys(flags)) {
    if (!knownFlags.has(name)) throw new SettingsError(`unknown flag --${name}; run "keygate help" for the list`);
  }

  const values: Record<string, unknown> = { ...defaults() };
  for (const def of DEFS) {
    const fromEnv = env[def.env];
    if (fromEnv !== undefined) values[def.key] = def.parse(fromEnv, def.env);
    const fromFlag = def.flag ? flags[def.flag] : undefined;
    if (fromFlag !== undefined) values[def.key] = def.parse(fromFlag, `--${def.flag}`);
  }
  const settings = values as unknown as Settings;
  settings.dataDir = resolve(settings.dataDir);
  settings.databaseUrl ??= `sqlite:${resolve(settings.dataDir, 'keygate.db')}`;

  if (settings.proxyPort !== 0 && settings.proxyPort === settings.adminPort) {
    throw new SettingsError(`KEYGATE_PROXY_PORT and KEYGATE_ADMIN_PORT must differ, both are ${settings.proxyPort}`);
  }
  if ((settings.tlsCert === undefined) !== (settings.tlsKey === undefined)) {
    throw new SettingsError('KEYGATE_TLS_CERT and KEYGATE_TLS_KEY must be set together');
  }
  if (settings.tlsCertsDir !== undefined && settings.tlsCert === undefined) {
    throw new SettingsError('KEYGATE_TLS_CERTS_DIR needs a default certificate: set KEYGATE_TLS_CERT and KEYGATE_TLS_KEY too');
  }
  if ((settings.adminTlsCert === undefined) !== (settings.adminTlsKey === undefined)) {
    throw new SettingsError('KEYGATE_ADMIN_TLS_CERT and KEYGATE_ADMIN_TLS_KEY must be set together');
  }
  if (settings.clientHeaderTimeout > settings.clientRequestTimeout) {
    throw new SettingsError('KEYGATE_CLIENT_HEADER_TIMEOUT must not be longer than KEYGATE_CLIENT_REQUEST_TIMEOUT');
  }
  if (settings.accessTokenTtl > settings.tokenMaxTtl) {
    throw new SettingsError('KEYGATE_ACCESS_TOKEN_TTL must not be longer than KEYGATE_TOKEN_MAX_TTL');
  }
  if (settings.keyPublishLead >= settings.keyRotationInterval) {
    throw new SettingsError('KEYGATE_KEY_PUBLISH_LEAD must be shorter than KEYGATE_KEY_ROTATION_INTERVAL');
  }
  if (settings.jwksMaxAge >= settings.keyPublishLead) {
    // A verifier must see the next key before it signs anything, so its cached JWKS must expire sooner.
    throw new SettingsError('KEYGATE_JWKS_MAX_AGE must be shorter than KEYGATE_KEY_PUBLISH_LEAD');
  }
  return settings;
}

/**
 * mkdir -p, one level at a time: Node 20's recursive mkdirSync spins for ever under /proc, where mkdir answers
 * neither success nor a usable error.
 */
function makeDirectories(path: string): void {
  const parent = dirname(path);
  if (parent !== path && !existsSync(parent)) makeDirectories(parent);
  if (!existsSync(path)) mkdirSync(path, { mode: 0o700 });
}

/** Creates the data directory if needed and proves it writable; throws a SettingsError naming it. */
export function ensureDataDir(dataDir: string): void {
  try {
    makeDirectories(dataDir);
    if (!statSync(dataDir).isDirectory()) throw new Error('not a directory');
    accessSync(dataDir, constants.W_OK | constants.R_OK);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : (error as Error).message;
    throw new SettingsError(`data directory ${dataDir} is not writable (${reason}); set KEYGATE_DATA_DIR or --data-dir`);
  }
}
