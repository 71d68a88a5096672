import type { JWK } from 'jose';
import type { Selectable } from 'kysely';
import type { JwkKeysTable } from '../store/index.js';
import type { KeyUse, Kty } from './algorithms.js';

export type KeyState = 'next' | 'active' | 'retiring' | 'retired' | 'revoked' | 'trusted';
export const KEY_STATES: readonly KeyState[] = ['next', 'active', 'retiring', 'retired', 'revoked', 'trusted'];
/** States whose public key is in the JWKS (RFC 7517 §5): published ahead of use and until its tokens expire. */
export const PUBLISHED_STATES: readonly KeyState[] = ['next', 'active', 'retiring'];

export type KeyRow = Selectable<JwkKeysTable>;

/** What the admin API and CLI show of a key: metadata and public members, never private ones. */
export interface KeyInfo {
  kid: string;
  kty: Kty;
  alg: string;
  use: KeyUse;
  crv: string | null;
  state: KeyState;
  origin: string;
  hasPrivateKey: boolean;
  published: boolean;
  publicJwk: JWK | null;
  createdAt: string;
  activateAt: string | null;
  activatedAt: string | null;
  retiringAt: string | null;
  retireAt: string | null;
  retiredAt: string | null;
  revokedAt: string | null;
  revokeReason: string | null;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export function keyInfoOf(row: KeyRow): KeyInfo {
  const state = row.state as KeyState;
  return {
    kid: row.kid,
    kty: row.kty as Kty,
    alg: row.alg,
    use: row.use as KeyUse,
    crv: row.crv,
    state,
    origin: row.origin,
    hasPrivateKey: row.sealed_private !== null,
    published: row.public_jwk !== null && PUBLISHED_STATES.includes(state),
    publicJwk: row.public_jwk === null ? null : (JSON.parse(row.public_jwk) as JWK),
    createdAt: iso(row.created_at)!,
    activateAt: iso(row.activate_at),
    activatedAt: iso(row.activated_at),
    retiringAt: iso(row.retiring_at),
    retireAt: iso(row.retire_at),
    retiredAt: iso(row.retired_at),
    revokedAt: iso(row.revoked_at),
    revokeReason: row.revoke_reason,
  };
}
