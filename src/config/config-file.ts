import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { AiSectionSchema } from '../ai/ai-schema.js';
import { ModelCatalog } from '../ai/catalog/index.js';
import { HEADER_NAME_CHARACTERS, HEADER_NAME_PATTERN, caseTwins, lowerCaseHeaderNames } from '../ai/provider-header-names.js';
import { REASONING_BACK_TYPES } from '../ai/providers/index.js';
import { IssuerSchema } from '../auth/issuer-schema.js';
import { ExternalIssuer } from '../auth/issuers/index.js';
import { KeygateError } from '../errors.js';
import { MAX_TIMER_MS, parseDuration } from './duration.js';
import { PathPatternError, Router } from '../proxy/router.js';
import { RouteSchema } from '../proxy/route-schema.js';
import { ServiceSchema } from '../proxy/service-schema.js';
import { parseUrl } from '../parse-url.js';

/** Provider types whose calls go to `{baseUrl}{pathPrefix}/chat/completions`: the others build their own paths. */
const PATH_PREFIX_TYPES: ReadonlySet<string> = new Set(['openai', 'openai-compatible', 'mistral']);

/**
 * The declarative config file (`keygate start --config`, `keygate apply`, `keygate export`) and the admin API's
 * `PUT /config` share this one schema. Each capability adds its own section here.
 */
export const ConfigFileSchema = Type.Object(
  {
    version: Type.Literal(1),
    services: Type.Optional(Type.Array(ServiceSchema)),
    routes: Type.Optional(Type.Array(RouteSchema)),
    issuers: Type.Optional(Type.Array(IssuerSchema)),
    ai: Type.Optional(AiSectionSchema),
  },
  { additionalProperties: false, $id: 'https://keygate.dev/schema/keygate.schema.json', title: 'Keygate configuration' },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;

/**
 * Refuses durations that become timer delays and are longer than a timer can wait, those too long to be read as a
 * number of milliseconds among them: read as nothing, they became the default without a word.
 */
function timerDurations(where: string, durations: Record<string, string | undefined>): void {
  for (const [name, text] of Object.entries(durations)) {
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined || ms > MAX_TIMER_MS) throw new KeygateError('invalid_config', `${where}.${name}: at most 24d (a timer cannot wait longer), got "${text}"`);
  }
}

/** A JSON pointer as a readable path: `/routes/0/paths/1` → `routes[0].paths[1]`. */
function readablePath(pointer: string): string {
  const parts = pointer.split('/').slice(1);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  return out || '(root)';
}

/**
 * A provider's base URL as the AI gateway can call it: a URL a parser takes (the schema's pattern lets through a
 * port over 65535 or a space in the host), without a user or password (never sent: credentials go in the key pool
 * or `headers`), a query or a fragment (the API's path is appended to the URL, and would follow them).
 */
function checkProviderBaseUrl(url: string, at: string): void {
  const parsed = parseUrl(url);
  // Quoted without what could be credentials: an error goes back to whoever sent the config, and to stderr.
  if (!parsed) throw new KeygateError('invalid_config', `${at}: "${url.replace(/\/\/.*@/, '//***@').replace(/\?.*/, '?…')}" is not a valid URL`);
  if (parsed.username !== '' || parsed.password !== '') throw new KeygateError('invalid_config', `${at}: a provider URL must not hold a user or password (they are never sent); put a key in the provider's key pool, or a header in "headers"`);
  if (parsed.search !== '' || parsed.hash !== '' || url.includes('?') || url.includes('#')) throw new KeygateError('invalid_config', `${at}: a provider URL must not hold a query or a fragment (the API's path is appended to it); put a key in the provider's key pool, or a header in "headers"`);
}

/**
 * Validates a whole config: the schema, then what a schema cannot say (unique names, routes naming existing
 * services, path patterns that compile). Throws `invalid_config` naming the path of the first offending field.
 * Returns the config as it is stored: the same, but for AI providers' header names, in lower case.
 */
export function validateConfig(value: unknown): ConfigFile {
  if (!Value.Check(ConfigFileSchema, value)) {
    const errors = [...Value.Errors(ConfigFileSchema, value)];
    // The most specific error is the deepest one; "schema is false" only repeats an additionalProperties error.
    const first = errors.filter((e) => e.message !== 'schema is false').sort((a, b) => b.instancePath.length - a.instancePath.length)[0] ?? errors[0];
    if (first?.keyword === 'additionalProperties') {
      // Name the unknown member itself, not the object holding it.
      const member = (first.params as { additionalProperties?: string[] }).additionalProperties?.[0] ?? '';
      const at = readablePath(`${first.instancePath}/${member}`);
      // A map of header names has no members to misspell: what it refuses is a name no header may have.
      if (namesHeaders(first.schemaPath)) throw new KeygateError('invalid_config', `${at}: is not a header name; a header name is ${HEADER_NAME_CHARACTERS}`);
      throw new KeygateError('invalid_config', `${at}: is not a known member; check its spelling (GET /config/schema lists them)`);
    }
    if (first?.keyword === 'const') {
      // A union of literals reports one "must be equal to constant" per literal: list the values instead.
      const allowed = errors.filter((e) => e.keyword === 'const' && e.instancePath === first.instancePath).map((e) => JSON.stringify((e.params as { allowedValue?: unknown }).allowedValue));
      throw new KeygateError('invalid_config', `${readablePath(first.instancePath)}: must be ${allowed.length > 1 ? `one of ${allowed.join(', ')}` : allowed[0]}`);
    }
    if (first?.keyword === 'enum') {
      // "must be equal to one of the allowed values" does not say which: list them, however many (provider types).
      const allowed = (first.params as { allowedValues?: unknown[] }).allowedValues ?? [];
      throw new KeygateError('invalid_config', `${readablePath(first.instancePath)}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    throw new KeygateError('invalid_config', `${readablePath(first?.instancePath ?? '')}: ${first?.message ?? 'is invalid'}`);
  }
  const config = value as ConfigFile;
  const services = new Map<string, number>();
  (config.services ?? []).forEach((service, i) => {
    if (services.has(service.name)) throw new KeygateError('invalid_config', `services[${i}].name: "${service.name}" is already used by services[${services.get(service.name)}]`);
    services.set(service.name, i);
    timerDurations(`services[${i}]`, {
      'timeouts.connect': service.timeouts?.connect,
      'timeouts.idle': service.timeouts?.idle,
      'timeouts.total': service.timeouts?.total,
      'timeouts.send': service.timeouts?.send,
      'healthCheck.active.interval': service.healthCheck?.active?.interval,
      'healthCheck.active.timeout': service.healthCheck?.active?.timeout,
      'healthCheck.passive.cooldown': service.healthCheck?.passive?.cooldown,
    });
    const origins = new Set<string>();
    service.targets.forEach((target, j) => {
      // The schema's pattern lets through what no URL parser takes (a port over 65535, a space in the host).
      const parsed = parseUrl(target.url);
      // Quoted without what could be credentials: an error goes back to whoever sent the config, and to stderr.
      const at = `services[${i}].targets[${j}].url`;
      if (!parsed) throw new KeygateError('invalid_config', `${at}: "${target.url.replace(/\/\/.*@/, '//***@')}" is not a valid URL`);
      // The proxy calls the target's origin, which has no user or password: they would be stored, listed and never sent.
      if (parsed.username !== '' || parsed.password !== '') throw new KeygateError('invalid_config', `${at}: a target URL must not hold a user or password (they are never sent upstream)`);
      const origin = parsed.origin;
      if (origins.has(origin)) throw new KeygateError('invalid_config', `services[${i}].targets[${j}].url: ${origin} is listed twice`);
      origins.add(origin);
    });
  });
  const issuers = new Set<string>();
  (config.issuers ?? []).forEach((issuer, i) => {
    if (issuers.has(issuer.name)) throw new KeygateError('invalid_config', `issuers[${i}].name: "${issuer.name}" is already used by another issuer`);
    issuers.add(issuer.name);
    if (issuer.issuer === undefined && issuer.jwksUri === undefined) throw new KeygateError('invalid_config', `issuers[${i}]: give "issuer" (discovery, and "iss" checked), "jwksUri", or both`);
    try {
      // The verifier's own checks (https, no credentials in URLs, allowed algorithms), run now so a config the
      // data plane could not compile is refused before anything is stored.
      new ExternalIssuer(issuer);
    } catch (error) {
      if (error instanceof KeygateError) throw new KeygateError('invalid_config', `issuers[${i}]: ${error.message}`);
      throw error;
    }
  });
  const providers = new Set<string>();
  if (config.ai) timerDurations('ai', { timeout: config.ai.timeout, sendTimeout: config.ai.sendTimeout, 'circuitBreaker.cooldown': config.ai.circuitBreaker?.cooldown });
  const ttl = config.ai?.cache?.ttl;
  // Read as nothing, a ttl too long to count in milliseconds turned the cache off without a word.
  if (ttl !== undefined && parseDuration(ttl) === undefined) throw new KeygateError('invalid_config', `ai.cache.ttl: too long to be read as milliseconds, got "${ttl}"`);
  const retention = config.ai?.responses?.retention;
  if (retention !== undefined && !((parseDuration(retention) ?? 0) > 0)) throw new KeygateError('invalid_config', `ai.responses.retention: must be longer than 0 (a stored response must outlive its answer), got "${retention}"`);
  (config.ai?.providers ?? []).forEach((provider, i) => {
    if (providers.has(provider.name)) throw new KeygateError('invalid_config', `ai.providers[${i}].name: "${provider.name}" is already used by another provider`);
    if (provider.pathPrefix !== undefined && !PATH_PREFIX_TYPES.has(provider.type)) {
      throw new KeygateError('invalid_config', `ai.providers[${i}].pathPrefix: only providers of type ${[...PATH_PREFIX_TYPES].join(', ')} take a path prefix; remove it from this ${provider.type} provider`);
    }
    if (provider.reasoningBack !== undefined && !REASONING_BACK_TYPES.has(provider.type)) {
      throw new KeygateError('invalid_config', `ai.providers[${i}].reasoningBack: only providers of type ${[...REASONING_BACK_TYPES].join(', ')} can be sent the history's reasoning_content; remove it from this ${provider.type} provider`);
    }
    if (provider.baseUrl !== undefined) checkProviderBaseUrl(provider.baseUrl, `ai.providers[${i}].baseUrl`);
    const twins = caseTwins(provider.headers ?? {});
    // Header names are case-insensitive (RFC 9110 §5.1): two spellings of one would both be sent, read as one joined value.
    if (twins) throw new KeygateError('invalid_config', `ai.providers[${i}].headers: "${twins[0]}" and "${twins[1]}" name the same header (header names are case-insensitive); keep one`);
    for (const [name, headerValue] of Object.entries(provider.headers ?? {})) {
      // A value Node cannot send (a line break, a control character) would fail every call as "unreachable".
      if (!/^[\t\x20-\x7e\x80-\xff]*$/.test(headerValue)) throw new KeygateError('invalid_config', `ai.providers[${i}].headers.${name}: holds a character no HTTP header may (a line break or another control character, or one beyond Latin-1)`);
    }
    providers.add(provider.name);
  });
  if (config.ai?.models?.length) {
    try {
      // The catalog's own checks (no provider and id twice), so a file the data plane could not compile is refused.
      ModelCatalog.shipped().withOverrides(config.ai.models);
    } catch (error) {
      if (error instanceof KeygateError) throw new KeygateError('invalid_config', `ai.${error.message}`);
      throw error;
    }
  }
  const aliases = new Set<string>();
  (config.ai?.aliases ?? []).forEach((alias, i) => {
    if (aliases.has(alias.name)) throw new KeygateError('invalid_config', `ai.aliases[${i}].name: "${alias.name}" is already used by another alias`);
    aliases.add(alias.name);
    for (const [list, targets] of [['targets', alias.targets], ['fallbacks', alias.fallbacks ?? []]] as const) {
      targets.forEach((target, j) => {
        if (!providers.has(target.provider)) throw new KeygateError('invalid_config', `ai.aliases[${i}].${list}[${j}].provider: no provider is named "${target.provider}"`);
      });
    }
    // Weight 0 drains a target; an alias drained of every one, with no fallback, could answer no call (and its callers
    // would be told to add keys): give it a target that takes calls, or remove it.
    if (![...alias.targets, ...(alias.fallbacks ?? [])].some((target) => (target.weight ?? 1) > 0)) {
      throw new KeygateError('invalid_config', `ai.aliases[${i}]: "${alias.name}" has no target or fallback of a weight above 0, so it could answer no call; give one a weight, or remove the alias`);
    }
  });
  const routes = new Set<string>();
  (config.routes ?? []).forEach((route, i) => {
    if (routes.has(route.name)) throw new KeygateError('invalid_config', `routes[${i}].name: "${route.name}" is already used by another route`);
    const claimTwins = caseTwins(route.auth?.forwardClaims ?? {});
    if (claimTwins) throw new KeygateError('invalid_config', `routes[${i}].auth.forwardClaims: "${claimTwins[0]}" and "${claimTwins[1]}" name the same header (header names are case-insensitive); keep one`);
    routes.add(route.name);
    if ((route.service === undefined) === (route.ai === undefined)) throw new KeygateError('invalid_config', `routes[${i}]: give exactly one of "service" (proxied) or "ai" (served by the AI gateway)`);
    if (route.service !== undefined && !services.has(route.service)) throw new KeygateError('invalid_config', `routes[${i}].service: no service is named "${route.service}"`);
    if (route.ai && !config.ai) throw new KeygateError('invalid_config', `routes[${i}].ai: the config has no "ai" section with providers`);
    if (route.ai && route.encryption) throw new KeygateError('invalid_config', `routes[${i}].encryption: not supported on AI routes yet; remove it rather than believe answers are encrypted`);
    route.auth?.methods.forEach((method, j) => {
      if (method.startsWith('issuer:') && !issuers.has(method.slice(7))) throw new KeygateError('invalid_config', `routes[${i}].auth.methods[${j}]: no issuer is named "${method.slice(7)}"`);
    });
    if (route.limits?.some((l) => l.per !== 'route') && !route.auth) {
      throw new KeygateError('invalid_config', `routes[${i}].limits: a limit per app needs the route to authenticate apps (routes[${i}].auth)`);
    }
    if (route.encryption?.response && !route.auth) {
      throw new KeygateError('invalid_config', `routes[${i}].encryption.response: responses are encrypted to the calling app's key, so the route needs auth (routes[${i}].auth)`);
    }
    route.paths.forEach((path, j) => {
      try {
        new Router([{ route: null, paths: [path] }]);
      } catch (error) {
        if (error instanceof PathPatternError) throw new KeygateError('invalid_config', `routes[${i}].paths[${j}]: ${error.message}`);
        throw error;
      }
    });
  });
  return withProviderHeaderNamesLowered(config);
}

/** Whether a validation error's schema path (`#/properties/ai/…`) points at a map of header names (HEADER_NAME_PATTERN). */
function namesHeaders(schemaPath: string): boolean {
  let schema: unknown = ConfigFileSchema;
  for (const part of schemaPath.replace(/^#\/?/, '').split('/')) {
    if (part !== '') schema = (schema as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  const patterns = (schema as { patternProperties?: Record<string, unknown> } | undefined)?.patternProperties;
  return patterns !== undefined && Object.hasOwn(patterns, HEADER_NAME_PATTERN);
}

/**
 * The config as it is stored: AI providers' header names in lower case (lowerCaseHeaderNames), so that an export shows
 * them as they are sent, and a `[redacted]` value matches its stored header whatever case a file gives it.
 */
function withProviderHeaderNamesLowered(config: ConfigFile): ConfigFile {
  const providers = config.ai?.providers;
  if (!providers?.some((provider) => provider.headers && lowerCaseHeaderNames(provider.headers) !== provider.headers)) return config;
  return { ...config, ai: { ...config.ai!, providers: providers.map((provider) => (provider.headers ? { ...provider, headers: { ...lowerCaseHeaderNames(provider.headers) } } : provider)) } };
}

/** Reads YAML (or JSON, which is YAML) and validates it. */
export function parseConfigText(text: string, source: string): ConfigFile {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    // The parser's first line ends with a colon before the excerpt it quotes on the next lines: not kept.
    throw new KeygateError('invalid_config', `${source} is not valid YAML: ${((error as Error).message.split('\n')[0] ?? '').replace(/:\s*$/, '')}`);
  }
  return validateConfig(value);
}

export function configToYaml(config: ConfigFile): string {
  return stringifyYaml(config);
}
