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

/** The modulus length in bits of an RSA JWK; undefined for other key types. */
function rsaModulusBits(jwk: JWK): number | undefined {
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string') return undefined;
  const n = Buffer.from(jwk.n, 'base64url');
  let first = 0;
  while (first < n.length && n[first] === 0) first += 1;
  if (first === n.length) return 0;
  return (n.length - first - 1) * 8 + (32 - Math.clz32(n[first]!));
}

/**
 * Checks a public JWK registered to encrypt to (an app's `encryptionKey`) when it is registered, rather than
 * at its first encrypted answer: an encryption key type, a key that imports for its `alg` (or for the default
 * of its type), and an RSA modulus of at least 2048 bits (RFC 7518 §4.3).
 */
export async function checkRecipientKey(jwk: JWK, where: string): Promise<void> {
  const fallback = jwk.kty === 'RSA' ? 'RSA-OAEP-256' : jwk.kty === 'EC' || jwk.kty === 'OKP' ? 'ECDH-ES+A256KW' : undefined;
  if (!fallback) throw new KeygateError('invalid_jwk', `${where} must be an RSA, EC or OKP public key, not kty ${JSON.stringify(jwk.kty)}`);
  const alg = typeof jwk.alg === 'string' ? jwk.alg : fallback;
  try {
    await importJWK(jwk, alg);
  } catch (error) {
    throw new KeygateError('invalid_jwk', `${where} is not a valid ${alg} key: ${(error as Error).message}`);
  }
  const bits = rsaModulusBits(jwk);
  if (bits !== undefined && bits < 2048) throw new KeygateError('weak_key', `${where} has a ${bits}-bit RSA modulus; RSA-OAEP needs at least 2048 bits (RFC 7518 §4.3)`);
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
    // RSA-OAEP keys under 2048 bits import, and then fail the encryption itself (RFC 7518 §4.2, §4.3).
    const bits = rsaModulusBits(options.recipient);
    if (bits !== undefined && bits < 2048) throw new KeygateError('weak_key', `the recipient RSA key has a ${bits}-bit modulus; ${alg} needs at least 2048 bits (RFC 7518 §4.3)`);
    kid = options.recipient.kid;
  } else {
    alg = options.alg ?? options.algorithms.find((a) => keys.encryptionKeys.has(a)) ?? options.algorithms[0] ?? '';
    if (!options.algorithms.includes(alg)) throw new KeygateError('algorithm_not_allowed', `"alg" ${JSON.stringify(alg)} is not in the allowed algorithms (${options.algorithms.join(', ')})`);
    const own = keys.encryptionKeys.get(alg);
    if (!own) throw new KeygateError('no_active_key', `there is no active encryption key for ${alg}`);
    key = own.publicKey;
    kid = own.kid;
  }
  // A `dir` key (always 256 bits, EXACT_OCT_BITS) is the content encryption key itself, of the size its `enc` takes (RFC 7518 §4.5, §5).
  if (alg === 'dir' && DIR_KEY_BITS[enc] !== 256) throw new KeygateError('algorithm_not_allowed', `"enc" ${enc} takes a ${DIR_KEY_BITS[enc]}-bit key, and dir keys have 256 bits: use A256GCM or A128CBC-HS256`);
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg, enc, ...(kid ? { kid } : {}), ...(options.contentType ? { cty: options.contentType } : {}) })
    .encrypt(key);
}

/** The content encryption key each `enc` takes (RFC 7518 §5.2, §5.3): a `dir` key must be that size. */
const DIR_KEY_BITS: Readonly<Record<string, number>> = { A128GCM: 128, A192GCM: 192, A256GCM: 256, 'A128CBC-HS256': 256, 'A192CBC-HS384': 384, 'A256CBC-HS512': 512 };
