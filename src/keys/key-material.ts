import type { JWK } from 'jose';
import type { KeyUse, Kty } from './algorithms.js';

/** A key as the key service handles it between generation or import and sealing into the store. */
export interface KeyMaterial {
  kid: string;
  kty: Kty;
  alg: string;
  use: KeyUse;
  crv: string | null;
  /** Public members, kid, alg and use; null for oct keys. */
  publicJwk: JWK | null;
  /** Null for a public key imported to be trusted (verify and encrypt only). */
  privateJwk: JWK | null;
}
