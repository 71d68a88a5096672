import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { KeygateError } from '../errors.js';
import { PathPatternError, Router } from '../proxy/router.js';
import { RouteSchema } from '../proxy/route-schema.js';
import { ServiceSchema } from '../proxy/service-schema.js';

/**
 * The declarative config file (`keygate start --config`, `keygate apply`, `keygate export`) and the admin API's
 * `PUT /config` share this one schema. Each capability adds its own section here.
 */
export const ConfigFileSchema = Type.Object(
  {
    version: Type.Literal(1),
    services: Type.Optional(Type.Array(ServiceSchema)),
    routes: Type.Optional(Type.Array(RouteSchema)),
  },
  { additionalProperties: false, $id: 'https://keygate.dev/schema/keygate.schema.json', title: 'Keygate configuration' },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;

/** A JSON pointer as a readable path: `/routes/0/paths/1` → `routes[0].paths[1]`. */
function readablePath(pointer: string): string {
  const parts = pointer.split('/').slice(1);
  let out = '';
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  return out || '(root)';
}

/**
 * Validates a whole config: the schema, then what a schema cannot say (unique names, routes naming existing
 * services, path patterns that compile). Throws `invalid_config` naming the path of the first offending field.
 */
export function validateConfig(value: unknown): ConfigFile {
  if (!Value.Check(ConfigFileSchema, value)) {
    const errors = [...Value.Errors(ConfigFileSchema, value)];
    // The most specific error is the deepest one; "schema is false" only repeats an additionalProperties error.
    const first = errors.filter((e) => e.message !== 'schema is false').sort((a, b) => b.instancePath.length - a.instancePath.length)[0] ?? errors[0];
    const extra = first?.keyword === 'additionalProperties' ? ` (${String((first.params as { additionalProperties?: string[] }).additionalProperties?.join(', '))})` : '';
    throw new KeygateError('invalid_config', `${readablePath(first?.instancePath ?? '')}: ${first?.message ?? 'is invalid'}${extra}`);
  }
  const config = value as ConfigFile;
  const services = new Map<string, number>();
  (config.services ?? []).forEach((service, i) => {
    if (services.has(service.name)) throw new KeygateError('invalid_config', `services[${i}].name: "${service.name}" is already used by services[${services.get(service.name)}]`);
    services.set(service.name, i);
    const origins = new Set<string>();
    service.targets.forEach((target, j) => {
      const origin = new URL(target.url).origin;
      if (origins.has(origin)) throw new KeygateError('invalid_config', `services[${i}].targets[${j}].url: ${origin} is listed twice`);
      origins.add(origin);
    });
  });
  const routes = new Set<string>();
  (config.routes ?? []).forEach((route, i) => {
    if (routes.has(route.name)) throw new KeygateError('invalid_config', `routes[${i}].name: "${route.name}" is already used by another route`);
    routes.add(route.name);
    if (!services.has(route.service)) throw new KeygateError('invalid_config', `routes[${i}].service: no service is named "${route.service}"`);
    route.paths.forEach((path, j) => {
      try {
        new Router([{ route: null, paths: [path] }]);
      } catch (error) {
        if (error instanceof PathPatternError) throw new KeygateError('invalid_config', `routes[${i}].paths[${j}]: ${error.message}`);
        throw error;
      }
    });
  });
  return config;
}

/** Reads YAML (or JSON, which is YAML) and validates it. */
export function parseConfigText(text: string, source: string): ConfigFile {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new KeygateError('invalid_config', `${source} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return validateConfig(value);
}

export function configToYaml(config: ConfigFile): string {
  return stringifyYaml(config);
}
