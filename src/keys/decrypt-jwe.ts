import { compactDecrypt, decodeProtectedHeader, type CompactJWEHeaderParameters } from 'jose';
import { KeygateError } from '../errors.js';
import type { KeySnapshot } from './key-snapshot.js';

export interface DecryptJweOptions {
  /** Allowed key management algorithms: the explicit allowlist. */
  algorithms: readonly string[];
  /** Allowed content encryption algorithms. */
  encryptionAlgorithms: readonly string[];
  /** Inputs longer than this are refused before any work; 1 MiB by default. */
  maxLength?: number;
}

const DEFAULT_MAX_LENGTH = 1024 * 1024;

/**
 * Decrypts a compact JWE (RFC 7516) addressed to one of the key service's live encryption keys (by `kid`).
 * Refuses algorithms outside the allowlists, compressed payloads (`zip`, RFC 8725 §3.6) and oversize inputs.
 */
export async function decryptJwe(keys: KeySnapshot, jwe: string, options: DecryptJweOptions): Promise<{ plaintext: Uint8Array; header: CompactJWEHeaderParameters }> {
  if (jwe.length > (options.maxLength ?? DEFAULT_MAX_LENGTH)) throw new KeygateError('payload_too_large', 'the JWE is larger than allowed');
  let header;
  try {
    header = decodeProtectedHeader(jwe);
  } catch {
    throw new KeygateError('decryption_failed', 'the JWE is malformed');
  }
  if (header.zip !== undefined) throw new KeygateError('decryption_failed', 'compressed JWEs ("zip") are refused');
  if (typeof header.alg !== 'string' || !options.algorithms.includes(header.alg)) {
    throw new KeygateError('algorithm_not_allowed', `"alg" ${JSON.stringify(header.alg)} is not in the allowed algorithms (${options.algorithms.join(', ')})`);
  }
  const key = typeof header.kid === 'string' ? keys.decryptionKeys.get(header.kid) : undefined;
  if (!key?.privateKey || key.alg !== header.alg) throw new KeygateError('decryption_failed', 'the JWE is not addressed to a live key of this gateway');
  try {
    const result = await compactDecrypt(jwe, key.privateKey, {
      keyManagementAlgorithms: [...options.algorithms],
      contentEncryptionAlgorithms: [...options.encryptionAlgorithms],
    });
    return { plaintext: result.plaintext, header: result.protectedHeader };
  } catch (error) {
    throw new KeygateError('decryption_failed', 'the JWE could not be decrypted', { cause: error });
  }
}
