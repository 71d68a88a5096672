import { FlattenedEncrypt, base64url, flattenedDecrypt, type FlattenedJWE } from 'jose';
import { KeygateError } from '../errors.js';

/**
 * Any other secret at rest (a model provider's API key): a flattened JWE (`dir` + `A256GCM`) under the master
 * key, with `binding` (the secret's table and row) as additional authenticated data, recomputed when opening.
 */
export async function sealSecret(masterKey: Uint8Array, secret: string, binding: string): Promise<string> {
  const jwe = await new FlattenedEncrypt(new TextEncoder().encode(secret))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setAdditionalAuthenticatedData(new TextEncoder().encode(`keygate:secret:v1:${binding}`))
    .encrypt(masterKey);
  const { aad: _aad, ...stored } = jwe;
  return JSON.stringify(stored);
}

export async function openSecret(masterKey: Uint8Array, sealed: string, binding: string): Promise<string> {
  try {
    const jwe = JSON.parse(sealed) as FlattenedJWE;
    jwe.aad = base64url.encode(new TextEncoder().encode(`keygate:secret:v1:${binding}`));
    const { plaintext } = await flattenedDecrypt(jwe, masterKey, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    return new TextDecoder().decode(plaintext);
  } catch (error) {
    throw new KeygateError('internal_error', `the secret bound to ${binding} does not open under this master key`, { cause: error });
  }
}
