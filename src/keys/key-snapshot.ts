import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { KeyUse } from './algorithms.js';
import { buildJwks, type JwksDocument } from './jwks.js';
import type { KeyRow, KeyState } from './key-record.js';
import { PUBLISHED_STATES } from './key-record.js';
import { openPrivateJwk } from './seal.js';

export type JoseKey = CryptoKey | Uint8Array;

export interface LoadedKey {
  kid: string;
  alg: string;
  use: KeyUse;
  state: KeyState;
  /** For verifying and encrypting: the public key, or the secret for oct keys. */
  publicKey: JoseKey;
  /** For signing and decrypting; absent for trusted public keys. */
  privateKey?: JoseKey;
  /** Public JWK, for callers that must name the key they used. */
  publicJwk: JWK | null;
}

/**
 * The key service's part of the data-plane snapshot: immutable, built once per change, read without any store
 * query. Private keys live here in memory only, opened from the store with the master key.
 */
export interface KeySnapshot {
  readonly jwks: JwksDocument;
  /** Keys that may verify a signature: published signing keys, trusted public keys and live HMAC keys. */
  readonly verificationKeys: ReadonlyMap<string, LoadedKey>;
  /** The active signing key for each algorithm. */
  readonly signingKeys: ReadonlyMap<string, LoadedKey>;
  /** The default signing algorithm (the first start's key). */
  readonly defaultSigningAlg: string;
  /** The active encryption key for each algorithm: what senders encrypt to. */
  readonly encryptionKeys: ReadonlyMap<string, LoadedKey>;
  /** Keys that may decrypt: every live encryption key with a private part. */
  readonly decryptionKeys: ReadonlyMap<string, LoadedKey>;
}

const LIVE_STATES: readonly KeyState[] = [...PUBLISHED_STATES, 'trusted'];

/**
 * Compiles rows into a KeySnapshot. `cache` carries imported keys from one compile to the next: a kid names one
 * key for ever, so a key is opened and imported once per process, not once per change.
 */
export async function compileKeySnapshot(
  rows: readonly KeyRow[],
  options: { masterKey: Uint8Array; defaultSigningAlg: string; cache: Map<string, LoadedKey> },
): Promise<KeySnapshot> {
  const published: JWK[] = [];
  const verificationKeys = new Map<string, LoadedKey>();
  const signingKeys = new Map<string, LoadedKey>();
  const encryptionKeys = new Map<string, LoadedKey>();
  const decryptionKeys = new Map<string, LoadedKey>();
  const seen = new Set<string>();

  for (const row of rows) {
    const state = row.state as KeyState;
    if (!LIVE_STATES.includes(state)) continue;
    seen.add(row.kid);
    let loaded = options.cache.get(row.kid);
    if (!loaded) {
      loaded = await loadKey(row, options.masterKey);
      options.cache.set(row.kid, loaded);
    }
    const key = loaded.state === state ? loaded : { ...loaded, state };
    if (row.public_jwk !== null && PUBLISHED_STATES.includes(state)) published.push(JSON.parse(row.public_jwk) as JWK);
    if (key.use === 'sig') {
      verificationKeys.set(key.kid, key);
      if (state === 'active' && key.privateKey) signingKeys.set(key.alg, key);
    } else {
      // Only the gateway's own active key is a default target; a trusted outside key is used only when named.
      if (state === 'active') encryptionKeys.set(key.alg, key);
      if (key.privateKey) decryptionKeys.set(key.kid, key);
    }
  }
  for (const kid of options.cache.keys()) if (!seen.has(kid)) options.cache.delete(kid);

  return {
    jwks: buildJwks(published),
    verificationKeys,
    signingKeys,
    defaultSigningAlg: options.defaultSigningAlg,
    encryptionKeys,
    decryptionKeys,
  };
}

async function loadKey(row: KeyRow, masterKey: Uint8Array): Promise<LoadedKey> {
  const privateJwk = row.sealed_private === null ? null : await openPrivateJwk(masterKey, row.sealed_private, row);
  const publicJwk = row.public_jwk === null ? null : (JSON.parse(row.public_jwk) as JWK);
  const publicKey = await importJWK((publicJwk ?? privateJwk)!, row.alg);
  const loaded: LoadedKey = { kid: row.kid, alg: row.alg, use: row.use as KeyUse, state: row.state as KeyState, publicKey, publicJwk };
  if (privateJwk) loaded.privateKey = row.kty === 'oct' ? publicKey : await importJWK(privateJwk, row.alg);
  return loaded;
}
