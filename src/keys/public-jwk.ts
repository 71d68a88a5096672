import type { JWK } from 'jose';
import type { Kty } from './algorithms.js';

/** The members of each key type that are public (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). */
const PUBLIC_MEMBERS: Record<Kty, readonly string[]> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
  oct: [],
};

const PRIVATE_MEMBERS: Record<Kty, readonly string[]> = {
  RSA: ['kty', 'n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'],
  EC: ['kty', 'crv', 'x', 'y', 'd'],
  OKP: ['kty', 'crv', 'x', 'd'],
  oct: ['kty', 'k'],
};

/** Every member that is secret in some key type; none of them may ever appear in a JWKS or an API response. */
export const SECRET_MEMBERS: readonly string[] = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** Whether the JWK carries private or secret material. */
export function hasPrivateMembers(jwk: Record<string, unknown>): boolean {
  return SECRET_MEMBERS.some((m) => jwk[m] !== undefined);
}

/**
 * The public JWK of a key, with its `kid`, `alg` and `use` set and every private member left behind; null for
 * oct keys, which have no public part.
 */
export function publicJwkOf(jwk: JWK, meta: { kid: string; alg: string; use: string }): JWK | null {
  const kty = jwk.kty as Kty;
  if (kty === 'oct') return null;
  const source = jwk as Record<string, unknown>;
  const out: Record<string, unknown> = { kid: meta.kid };
  for (const m of PUBLIC_MEMBERS[kty]) if (source[m] !== undefined) out[m] = source[m];
  out.alg = meta.alg;
  out.use = meta.use;
  return out as JWK;
}

/** The private JWK reduced to the members its key type defines: no `x5c`, no stray extension members. */
export function privateJwkOf(jwk: JWK, meta: { kid: string; alg: string; use: string }): JWK {
  const source = jwk as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const m of PRIVATE_MEMBERS[jwk.kty as Kty]) if (source[m] !== undefined) out[m] = source[m];
  return { ...out, kid: meta.kid, alg: meta.alg, use: meta.use } as JWK;
}
