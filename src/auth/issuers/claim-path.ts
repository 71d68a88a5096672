import type { JWTPayload } from 'jose';

/**
 * Reads a claim by path: `scp`, or `realm_access.roles` for a nested member (Keycloak). A claim whose own name
 * holds dots, like Auth0's namespaced `https://example.com/roles`, is found by its whole name first.
 * Only own members are read, so a path such as `__proto__` or `constructor` finds nothing.
 *
 * @example readClaim({ realm_access: { roles: ['admin'] } }, 'realm_access.roles') // ['admin']
 */
export function readClaim(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const name of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, name)) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}
