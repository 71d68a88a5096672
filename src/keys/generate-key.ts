import { exportJWK, generateKeyPair, generateSecret } from 'jose';
import { KeygateError } from '../errors.js';
import { algorithmSpec, ktyForCurve, type Kty } from './algorithms.js';
import type { KeyMaterial } from './key-material.js';
import { privateJwkOf, publicJwkOf } from './public-jwk.js';
import { kidOf } from './thumbprint.js';

export interface GenerateKeyOptions {
  alg: string;
  /** For EC/OKP algorithms that accept several curves (ECDH-ES: P-256 by default, P-384, P-521, X25519). */
  crv?: string;
  /** RSA modulus length in bits, 2048 (default), 3072 or 4096. */
  modulusLength?: number;
}

/** Secret lengths for oct algorithms that jose's generateSecret does not name directly. */
const SECRET_ALG: Record<string, string> = { dir: 'A256GCM' };

/**
 * Generates a new key for `alg` (RFC 7518 algorithm names) with its `kid` set to the RFC 7638 thumbprint.
 *
 * @example const key = await generateKey({ alg: 'ES256' }); key.publicJwk // { kid, kty: 'EC', crv: 'P-256', x, y, alg: 'ES256', use: 'sig' }
 */
export async function generateKey(options: GenerateKeyOptions): Promise<KeyMaterial> {
  const spec = algorithmSpec(options.alg);
  if (!spec) throw new KeygateError('unsupported_algorithm', `"alg" (Algorithm) ${JSON.stringify(options.alg)} is not supported`);
  const alg = spec.alg;
  let crv: string | null = null;
  let jwk;
  if (spec.kty !== 'RSA' && options.modulusLength !== undefined) throw new KeygateError('invalid_request', `"modulusLength" applies to RSA keys only, not to ${alg}`);
  if (spec.kty === 'oct') {
    if (options.crv !== undefined) throw new KeygateError('invalid_request', `"crv" does not apply to ${alg} keys`);
    jwk = await exportJWK(await generateSecret(SECRET_ALG[alg] ?? alg, { extractable: true }));
  } else if (spec.kty === 'RSA') {
    if (options.crv !== undefined) throw new KeygateError('invalid_request', `"crv" does not apply to ${alg} keys`);
    const modulusLength = options.modulusLength ?? 2048;
    if (![2048, 3072, 4096].includes(modulusLength)) {
      throw new KeygateError('weak_key', `"modulusLength" must be 2048, 3072 or 4096 for ${alg}, got ${modulusLength}`);
    }
    const pair = await generateKeyPair(alg, { modulusLength, extractable: true });
    jwk = await exportJWK(pair.privateKey);
  } else {
    const curves = spec.curves ?? [];
    crv = options.crv ?? curves[0] ?? null;
    if (!crv || !curves.includes(crv)) {
      throw new KeygateError('invalid_request', `"crv" must be one of ${curves.join(', ')} for ${alg}, got ${JSON.stringify(options.crv)}`);
    }
    const pair = await generateKeyPair(alg, { crv, extractable: true });
    jwk = await exportJWK(pair.privateKey);
  }
  const kty = (spec.kty === 'oct' || spec.kty === 'RSA' ? spec.kty : ktyForCurve(crv ?? '')) as Kty;
  const kid = await kidOf(jwk);
  const meta = { kid, alg, use: spec.use };
  return { kid, kty, alg, use: spec.use, crv, publicJwk: publicJwkOf(jwk, meta), privateJwk: privateJwkOf(jwk, meta) };
}
