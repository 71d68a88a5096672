/**
 * Reads a claim by path: `scp`, or `realm_access.roles` for a nested member (Keycloak). A member whose own name
 * holds dots, like Auth0's namespaced `https://example.com/roles`, is found too: at each level the longest run of
 * the path that names a member wins (`https://example.com/app_metadata.plan` reads `plan` inside that claim).
 * Only own members are read, so a path such as `__proto__` or `constructor` finds nothing.
 *
 * @example readClaim({ realm_access: { roles: ['admin'] } }, 'realm_access.roles') // ['admin']
 */
export function readClaim(payload: Readonly<Record<string, unknown>>, path: string): unknown {
  return memberAt(payload, path.split('.'), 0);
}

function memberAt(value: unknown, parts: readonly string[], from: number): unknown {
  if (from === parts.length) return value;
  if (value === null || typeof value !== 'object') return undefined;
  const object = value as Record<string, unknown>;
  for (let to = parts.length; to > from; to--) {
    const name = to === from + 1 ? parts[from]! : parts.slice(from, to).join('.');
    if (Object.hasOwn(object, name)) return memberAt(object[name], parts, to);
  }
  return undefined;
}
