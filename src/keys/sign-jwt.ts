import { randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { KeygateError } from '../errors.js';
import type { KeySnapshot } from './key-snapshot.js';

export interface SignJwtOptions {
  /** Must be one of `algorithms`; defaults to the snapshot's default signing algorithm. */
  alg?: string;
  /** The algorithms this caller may sign with: the explicit allowlist. */
  algorithms: readonly string[];
  /** Lifetime in seconds; capped by `maxTtlSeconds`, which is what lets a retiring key leave the JWKS safely. */
  ttlSeconds: number;
  maxTtlSeconds: number;
  /** JOSE `typ` header, e.g. `at+jwt` for RFC 9068 access tokens; `JWT` by default. */
  typ?: string;
  now: number;
}

/**
 * Signs a JWT (RFC 7519) with the active key for the algorithm, setting `kid`, `iat`, `exp` and, unless given,
 * `jti`. Refuses an algorithm outside the allowlist and a lifetime beyond the key service's maximum.
 *
 * @example await signJwt(keys, { sub: 'app-1' }, { algorithms: ['ES256'], ttlSeconds: 300, maxTtlSeconds: 86400, now: Date.now() })
 */
export async function signJwt(keys: KeySnapshot, claims: JWTPayload, options: SignJwtOptions): Promise<string> {
  const alg = options.alg ?? keys.defaultSigningAlg;
  if (!options.algorithms.includes(alg)) {
    throw new KeygateError('algorithm_not_allowed', `"alg" ${JSON.stringify(alg)} is not in the allowed signing algorithms (${options.algorithms.join(', ')})`);
  }
  const key = keys.signingKeys.get(alg);
  if (!key?.privateKey) throw new KeygateError('no_active_key', `there is no active signing key for ${alg}; create one with "keygate keys create --alg ${alg} --state active"`);
  if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds <= 0 || options.ttlSeconds > options.maxTtlSeconds) {
    throw new KeygateError('invalid_request', `"ttlSeconds" must be a whole number from 1 to ${options.maxTtlSeconds} (KEYGATE_TOKEN_MAX_TTL)`);
  }
  const iat = Math.floor(options.now / 1000);
  const { iat: _iat, exp: _exp, ...rest } = claims;
  return new SignJWT({ jti: randomUUID(), ...rest })
    .setProtectedHeader({ alg, kid: key.kid, typ: options.typ ?? 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + options.ttlSeconds)
    .sign(key.privateKey);
}
