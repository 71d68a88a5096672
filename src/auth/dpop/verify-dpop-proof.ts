import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors, jwtVerify, type JWK, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { KeygateError } from '../../errors.js';
import { accessTokenHash } from './access-token-hash.js';
import { DpopError } from './dpop-error.js';
import { normalizeHtu } from './htu.js';
import type { DpopReplayCache } from './replay-cache.js';

/**
 * The registered asymmetric JWS algorithms (RFC 7518 §3, RFC 8037, RFC 9864) a proof may use. RFC 9449 §4.3
 * step 5 forbids `none` and MAC algorithms: a shared secret would prove nothing about who holds the key.
 */
export const DPOP_SIGNING_ALGORITHMS: readonly string[] = [
  'ES256', 'ES384', 'ES512',
  'PS256', 'PS384', 'PS512',
  'RS256', 'RS384', 'RS512',
  'EdDSA', 'Ed25519',
  'ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87',
];

export interface VerifyDpopProofOptions {
  /** The request's HTTP method, as received, e.g. `GET`. */
  method: string;
  /** The request URL as received: scheme, host and path. Query and fragment are ignored (§4.3 step 9). */
  url: string;
  /** The access token presented with the proof; when given, the proof's `ath` must be its hash (§4.3 step 12). */
  accessToken?: string;
  /** The allowlist of proof algorithms; each must be in `DPOP_SIGNING_ALGORITHMS`. */
  algorithms: readonly string[];
  /** How long after its `iat` a proof is accepted; 60 s by default (§11.1). */
  maxAgeSeconds?: number;
  /** How far in the future `iat` may be, for client clocks running ahead; 5 s by default. */
  clockSkewSeconds?: number;
  /** When set, the proof's `nonce` must be one of these server-provided values (§8, §9). */
  nonce?: { expected: readonly string[] };
  /** Where used `jti`s are remembered (§11.1). */
  replay: DpopReplayCache;
  /** Milliseconds since the epoch. */
  now: number;
}

export interface VerifiedDpopProof {
  /** The RFC 7638 SHA-256 thumbprint of the proof key, to compare with the access token's `cnf.jkt` (§6.1). */
  jkt: string;
  /** The proof's public key, as its `jwk` header carried it. */
  jwk: JWK;
  jti: string;
  /** The proof's `iat`, in seconds since the epoch. */
  iat: number;
}

const DEFAULT_MAX_AGE_SECONDS = 60;
const DEFAULT_CLOCK_SKEW_SECONDS = 5;
/** Proofs are a header and a public key; anything longer is refused before parsing. */
const MAX_PROOF_LENGTH = 8192;
/** Members that carry private or secret material in any key type (RFC 7518 §6, RFC 8037 §2, AKP's `priv`). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

/**
 * Checks a DPoP proof JWT as RFC 9449 §4.3 "Checking DPoP Proofs" lists, then spends its `jti` (§11.1). The
 * caller takes the proof from the request with `singleDpopHeader` (step 1) and, for a DPoP-bound access token,
 * compares the returned `jkt` with the token's `cnf.jkt` through `checkTokenBinding` (step 12).
 *
 * @example
 * const { jkt } = await verifyDpopProof(singleDpopHeader(req.headers), {
 *   method: 'GET', url: 'https://api.example.com/orders', accessToken, algorithms: ['ES256', 'EdDSA'],
 *   replay, now: clock.now(),
 * });
 */
export async function verifyDpopProof(proof: string, options: VerifyDpopProofOptions): Promise<VerifiedDpopProof> {
  assertAsymmetricAllowlist(options.algorithms);
  const maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  const clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;

  // Step 2: the header value is a single, well-formed JWT.
  if (proof.length > MAX_PROOF_LENGTH) throw refused('the proof is larger than allowed');
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw refused('the proof is not a well-formed JWT');
  }

  // Step 4: `typ` is `dpop+jwt` (the "application/" prefix may be omitted, RFC 7515 §4.1.9).
  if (typeof header.typ !== 'string' || header.typ.toLowerCase().replace(/^application\//, '') !== 'dpop+jwt') {
    throw refused('"typ" header must be "dpop+jwt"');
  }
  // Step 5: `alg` is an asymmetric algorithm on the allowlist, never `none`.
  if (typeof header.alg !== 'string' || !options.algorithms.includes(header.alg)) {
    throw refused('"alg" header is not an allowed asymmetric algorithm');
  }
  // Step 7, checked before step 6 so private material is never imported: `jwk` holds a public key only.
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw refused('"jwk" header is missing');
  if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) throw refused('"jwk" header must be a public key');

  // Step 6: the signature verifies with the key in the `jwk` header.
  let payload: JWTPayload;
  let keyUnusable = false;
  try {
    const verified = await jwtVerify(
      proof,
      async (protectedHeader, token) => {
        try {
          return await EmbeddedJWK(protectedHeader, token);
        } catch (error) {
          keyUnusable = true;
          throw error;
        }
      },
      { algorithms: [...options.algorithms], currentDate: new Date(options.now) },
    );
    payload = verified.payload;
  } catch (error) {
    throw refused(keyUnusable ? '"jwk" header is not a usable public key for its "alg"' : reasonOf(error));
  }

  // Step 3: the claims §4.2 requires are present.
  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || jti === '') throw refused('"jti" claim is missing');
  if (typeof htm !== 'string') throw refused('"htm" claim is missing');
  if (typeof htu !== 'string') throw refused('"htu" claim is missing');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw refused('"iat" claim is missing');

  // Step 8: `htm` is the request's method (methods are case-sensitive, RFC 9110 §9.1).
  if (htm !== options.method) throw refused('"htm" claim does not match the request method');
  // Step 9: `htu` is the request URI without query and fragment, compared after RFC 3986 §6 normalization.
  const requestHtu = normalizeHtu(options.url);
  if (requestHtu === undefined) throw refused('the request URL cannot be compared with "htu"');
  if (normalizeHtu(htu) !== requestHtu) throw refused('"htu" claim does not match the request URL');
  // Step 10: the server-provided nonce, when the server asks for one; refused with `use_dpop_nonce` (§8, §9).
  if (options.nonce && (typeof payload.nonce !== 'string' || !options.nonce.expected.includes(payload.nonce))) {
    throw new DpopError('use_dpop_nonce', '"nonce" claim is missing or stale; sign a new proof with the nonce from the DPoP-Nonce header');
  }
  // Step 11: the proof was created within the acceptance window (§11.1).
  const ageSeconds = options.now / 1000 - iat;
  if (ageSeconds > maxAgeSeconds) throw refused('"iat" claim is too old; sign a new proof for each request');
  if (ageSeconds < -clockSkewSeconds) throw refused('"iat" claim is in the future');
  // Step 12: with an access token, `ath` is its hash; the key binding is checked by `checkTokenBinding`.
  if (options.accessToken !== undefined) {
    if (typeof payload.ath !== 'string') throw refused('"ath" claim is missing');
    if (payload.ath !== accessTokenHash(options.accessToken)) throw refused('"ath" claim does not match the access token');
  }

  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  // §11.1: spend the `jti` last, so refused proofs do not fill the cache. It is scoped to the proof key and
  // hashed, so entries have a fixed size and one client cannot spend another's `jti`.
  const replayKey = createHash('sha256').update(`${jkt}.${jti}`).digest('base64url');
  if (!(await options.replay.markUsed(replayKey, (iat + maxAgeSeconds) * 1000, options.now))) {
    throw refused('"jti" claim has been used before; sign a new proof for each request');
  }
  return { jkt, jwk: { ...jwk }, jti, iat };
}

function assertAsymmetricAllowlist(algorithms: readonly string[]): void {
  if (algorithms.length === 0) throw new KeygateError('invalid_config', 'DPoP "algorithms" must list at least one algorithm');
  const refusedAlgorithm = algorithms.find((alg) => !DPOP_SIGNING_ALGORITHMS.includes(alg));
  if (refusedAlgorithm !== undefined) {
    throw new KeygateError('invalid_config', `DPoP "algorithms" may list asymmetric signature algorithms only, not "${refusedAlgorithm}"`);
  }
}

function refused(reason: string): DpopError {
  return new DpopError('invalid_dpop_proof', reason);
}

/** A short reason for a failed signature or JOSE check; jose's errors are not passed on as they carry the claims. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify with the "jwk" header key';
  if (error instanceof errors.JWTExpired) return '"exp" claim has passed';
  if (error instanceof errors.JWTClaimValidationFailed) return `"${error.claim}" claim check failed`;
  if (error instanceof errors.JOSEAlgNotAllowed) return '"alg" header is not an allowed asymmetric algorithm';
  if (error instanceof errors.JOSENotSupported) return 'the proof uses an unsupported feature';
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return 'the proof is not a well-formed JWT';
  return 'the proof could not be verified';
}
