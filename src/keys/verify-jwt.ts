import { errors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { KeygateError } from '../errors.js';
import type { KeySnapshot } from './key-snapshot.js';

export interface VerifyJwtOptions {
  /** The algorithms accepted: the explicit allowlist. A token with any other `alg` is refused, `none` always. */
  algorithms: readonly string[];
  issuer?: string | string[];
  audience?: string | string[];
  /** JOSE `typ` the token must carry, e.g. `at+jwt`. */
  typ?: string;
  now: number;
  clockToleranceSeconds?: number;
  /** Tokens longer than this are refused before any parsing; 8 KiB by default. */
  maxLength?: number;
}

export interface VerifiedJwt {
  payload: JWTPayload;
  header: JWTHeaderParameters;
  kid: string;
}

const DEFAULT_MAX_LENGTH = 8192;

/**
 * Verifies a JWT (RFC 7519, RFC 8725) against the snapshot's live keys. The key is chosen by `kid` only, and
 * must have been made for the token's `alg`: keys embedded in the token (`jwk`, `jku`, `x5u`, `x5c`) are never
 * used, and an RSA public key can never be taken as an HMAC secret. `exp` is required.
 */
export async function verifyJwt(keys: KeySnapshot, token: string, options: VerifyJwtOptions): Promise<VerifiedJwt> {
  if (options.algorithms.length === 0) throw new KeygateError('invalid_request', '"algorithms" must list at least one algorithm');
  if (token.length > (options.maxLength ?? DEFAULT_MAX_LENGTH)) throw new KeygateError('token_invalid', 'the token is larger than allowed');
  let kid = '';
  try {
    const result = await jwtVerify(
      token,
      (header) => {
        const key = typeof header.kid === 'string' ? keys.verificationKeys.get(header.kid) : undefined;
        if (!key || key.alg !== header.alg) throw new errors.JWKSNoMatchingKey();
        kid = key.kid;
        return key.publicKey;
      },
      {
        algorithms: [...options.algorithms],
        issuer: options.issuer,
        audience: options.audience,
        typ: options.typ,
        currentDate: new Date(options.now),
        clockTolerance: options.clockToleranceSeconds ?? 0,
        requiredClaims: ['exp'],
      },
    );
    return { payload: result.payload, header: result.protectedHeader, kid };
  } catch (error) {
    throw new KeygateError('token_invalid', `the token was refused: ${reasonOf(error)}`, { cause: error });
  }
}

/** A short, stable reason that says what failed without echoing the token or key material. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'it has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim "${error.claim}" check failed (${error.reason})`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no live key matches its "kid" and "alg"';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'its "alg" is not allowed';
  if (error instanceof errors.JOSENotSupported) return 'it uses an unsupported feature';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'it is malformed';
  return 'it could not be verified';
}
