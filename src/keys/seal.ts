import { FlattenedEncrypt, base64url, flattenedDecrypt, type FlattenedJWE, type JWK } from 'jose';
import { KeygateError } from '../errors.js';

/**
 * Private keys at rest: a flattened JWE (RFC 7516 §7.2.2) with `dir` + `A256GCM` under the master key. The
 * row the key belongs to is the JWE's additional authenticated data, so a sealed key copied into another row,
 * or a row whose `alg` or `use` was edited, no longer opens.
 */
function binding(kid: string, use: string, alg: string): Uint8Array {
  return new TextEncoder().encode(`keygate:jwk_keys:v1:${kid}:${use}:${alg}`);
}

export async function sealPrivateJwk(masterKey: Uint8Array, jwk: JWK, row: { kid: string; use: string; alg: string }): Promise<string> {
  const jwe = await new FlattenedEncrypt(new TextEncoder().encode(JSON.stringify(jwk)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setAdditionalAuthenticatedData(binding(row.kid, row.use, row.alg))
    .encrypt(masterKey);
  // The binding is recomputed from the row when opening, never read from storage.
  const { aad: _aad, ...stored } = jwe;
  return JSON.stringify(stored);
}

export async function openPrivateJwk(masterKey: Uint8Array, sealed: string, row: { kid: string; use: string; alg: string }): Promise<JWK> {
  try {
    const jwe = JSON.parse(sealed) as FlattenedJWE;
    jwe.aad = base64url.encode(binding(row.kid, row.use, row.alg));
    const { plaintext } = await flattenedDecrypt(jwe, masterKey, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    return JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
  } catch (error) {
    throw new KeygateError('internal_error', `the private part of key ${row.kid} does not open under this master key`, { cause: error });
  }
}

/** A fixed value sealed under the master key on first start; if it does not open, the master key is wrong. */
const CHECK_AAD = new TextEncoder().encode('keygate:master-key-check:v1');
const CHECK_TEXT = 'keygate master key check';

export async function sealMasterKeyCheck(masterKey: Uint8Array): Promise<string> {
  const jwe = await new FlattenedEncrypt(new TextEncoder().encode(CHECK_TEXT))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setAdditionalAuthenticatedData(CHECK_AAD)
    .encrypt(masterKey);
  return JSON.stringify(jwe);
}

export async function masterKeyOpens(masterKey: Uint8Array, check: string): Promise<boolean> {
  try {
    const jwe = JSON.parse(check) as FlattenedJWE;
    jwe.aad = base64url.encode(CHECK_AAD);
    const { plaintext } = await flattenedDecrypt(jwe, masterKey, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    return new TextDecoder().decode(plaintext) === CHECK_TEXT;
  } catch {
    return false;
  }
}
