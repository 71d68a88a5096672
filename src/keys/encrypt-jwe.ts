import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { KeygateError } from '../errors.js';
import { CONTENT_ENCRYPTION_ALGORITHMS } from './algorithms.js';
import type { JoseKey, KeySnapshot } from './key-snapshot.js';
import { hasPrivateMembers } from './public-jwk.js';

export interface EncryptJweOptions {
  /** Key management algorithm; must be in `algorithms`. Defaults to the first allowed one with an active key. */
  alg?: string;
  enc?: string;
  /** Allowed key management algorithms: the explicit allowlist. */
  algorithms: readonly string[];
  /** Allowed content encryption algorithms. */
  encryptionAlgorithms: readonly string[];
  /** Encrypt to this public JWK (an app's registered key) instead of the key service's own encryption key. */
  recipient?: JWK;
  contentType?: string;
}

/**
 * Encrypts to a compact JWE (RFC 7516 §7.1): by default to the key service's active encryption key, so only the
 * gateway can read it, or to a recipient's public JWK. No compression (`zip`), no password-based (PBES2) keys.
 */
export async function encryptJwe(keys: KeySnapshot, plaintext: Uint8Array, options: EncryptJweOptions): Promise<string> {
  const enc = options.enc ?? options.encryptionAlgorithms[0] ?? 'A256GCM';
  if (!options.encryptionAlgorithms.includes(enc) || !CONTENT_ENCRYPTION_ALGORITHMS.includes(enc)) {
    throw new KeygateError('algorithm_not_allowed', `"enc" ${JSON.stringify(enc)} is not in the allowed content encryption algorithms (${options.encryptionAlgorithms.join(', ')})`);
  }
  let key: JoseKey;
  let alg: string;
  let kid: string | undefined;
  if (options.recipient) {
    if (hasPrivateMembers(options.recipient as Record<string, unknown>)) {
      throw new KeygateError('private_key_not_allowed', 'the recipient JWK holds private key members; send only its public members');
    }
    alg = options.alg ?? options.recipient.alg ?? '';
    if (!options.algorithms.includes(alg)) throw new KeygateError('algorithm_not_allowed', `"alg" ${JSON.stringify(alg)} is not in the allowed algorithms (${options.algorithms.join(', ')})`);
    try {
      key = await importJWK(options.recipient, alg);
    } catch (error) {
      throw new KeygateError('invalid_jwk', `the recipient JWK is not a valid ${alg} key: ${(error as Error).message}`);
    }
    kid = options.recipient.kid;
  } else {
    alg = options.alg ?? options.algorithms.find((a) => keys.encryptionKeys.has(a)) ?? options.algorithms[0] ?? '';
    if (!options.algorithms.includes(alg)) throw new KeygateError('algorithm_not_allowed', `"alg" ${JSON.stringify(alg)} is not in the allowed algorithms (${options.algorithms.join(', ')})`);
    const own = keys.encryptionKeys.get(alg);
    if (!own) throw new KeygateError('no_active_key', `there is no active encryption key for ${alg}`);
    key = own.publicKey;
    kid = own.kid;
  }
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg, enc, ...(kid ? { kid } : {}), ...(options.contentType ? { cty: options.contentType } : {}) })
    .encrypt(key);
}
