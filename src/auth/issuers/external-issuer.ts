import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { systemClock, type Clock } from '../../clock.js';
import { KeygateError } from '../../errors.js';
import { readClaim } from './claim-path.js';
import { discoverIssuer } from './discovery.js';
import { IssuerTokenError, IssuerUnavailableError } from './issuer-errors.js';
import { parseIssuerUrl } from './issuer-url.js';
import { REMOTE_KEY_SET_DEFAULTS, RemoteKeySet, type RemoteKeySetOptions } from './remote-key-set.js';
import { ISSUER_SIGNATURE_ALGORITHMS, isIssuerSignatureAlgorithm } from './signature-algorithms.js';

/** One trusted outside issuer, as an operator configures it. */
export interface ExternalIssuerConfig {
  /** How logs and the admin API name this issuer. */
  name: string;
  /** The issuer identifier: its keys are found by discovery, and the token's `iss` must equal it. */
  issuer?: string;
  /** The JWK Set URL, when the issuer has no discovery document; used instead of discovery when both are set. */
  jwksUri?: string;
  /** The token's `aud` must hold one of these (RFC 7519 §4.1.3, RFC 8725 §3.9). */
  audiences: string[];
  /** The accepted `alg` values: asymmetric only (RS*, PS*, ES*, EdDSA). */
  algorithms: string[];
  /** Leeway for `exp` and `nbf`, in seconds; 0 by default, 300 at most. */
  clockToleranceSeconds?: number;
  /** Claim paths for what the gateway reads from a token, e.g. `{ scope: 'realm_access.roles' }`. */
  claimMappings?: { subject?: string; scope?: string; clientId?: string };
  /** The JOSE `typ` the token must carry, e.g. `at+jwt` (RFC 9068 §4); not checked when absent. */
  typ?: string;
  /** Tokens longer than this many characters are refused before any parsing; 8 KiB by default. */
  maxTokenBytes?: number;
}

/** A verified token and what the gateway takes from it. */
export interface VerifiedIssuerToken {
  payload: JWTPayload;
  subject: string;
  scopes: string[];
  clientId?: string;
}

const DEFAULT_MAX_TOKEN_BYTES = 8192;
const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/**
 * Verifies access tokens (RFC 9068) and other JWTs (RFC 7519) minted by an outside issuer — Keycloak, Auth0,
 * Okta, Entra ID or any OpenID provider — against the issuer's published keys, with the checks RFC 8725 asks for:
 * an explicit asymmetric `alg` allowlist (no `none`, no HMAC, so an RSA public key can never become an HMAC
 * secret), keys chosen by `kid` from the issuer's JWKS only (never from the token's `jwk`, `jku`, `x5u` or `x5c`),
 * no unknown `crit` extensions, `exp` required, `iss` and `aud` checked, and a size limit before parsing.
 *
 * A refused token throws {@link IssuerTokenError} (`token_invalid`, with an internal `reason`); an issuer whose keys
 * were never loaded throws {@link IssuerUnavailableError} (`upstream_failed`). Bad config throws `invalid_config`.
 *
 * @example
 * const keycloak = new ExternalIssuer({ name: 'keycloak', issuer: 'https://sso.example.com/realms/main',
 *   audiences: ['orders-api'], algorithms: ['RS256'], claimMappings: { scope: 'realm_access.roles' } });
 * const { subject, scopes } = await keycloak.verify(bearerToken);
 */
export class ExternalIssuer {
  readonly name: string;
  readonly #config: ExternalIssuerConfig;
  readonly #options: RemoteKeySetOptions;
  readonly #clock: Clock;
  #keySet: RemoteKeySet | undefined;
  #discovery: Promise<RemoteKeySet> | undefined;
  #discoveryFailure: { at: number; error: IssuerUnavailableError } | undefined;

  constructor(config: ExternalIssuerConfig, options: RemoteKeySetOptions = {}) {
    checkConfig(config, options);
    this.name = config.name;
    this.#config = { ...config, audiences: [...config.audiences], algorithms: [...config.algorithms] };
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    if (config.jwksUri !== undefined) this.#keySet = new RemoteKeySet(config.jwksUri, options);
  }

  /** Verifies `token` and returns its claims, subject, scopes and client id. */
  async verify(token: string): Promise<VerifiedIssuerToken> {
    const config = this.#config;
    if (typeof token !== 'string' || token.length > (config.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES)) throw new IssuerTokenError('too_large');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new IssuerTokenError('malformed');
    }
    // No JWS extension is understood here, so any "crit" header must be refused (RFC 7515 §4.1.11).
    if (header.crit !== undefined) throw new IssuerTokenError('crit_unsupported');
    if (!isIssuerSignatureAlgorithm(header.alg) || !config.algorithms.includes(header.alg)) throw new IssuerTokenError('alg_not_allowed');

    const keySet = await this.#keys();
    const options: JWTVerifyOptions = {
      algorithms: config.algorithms,
      audience: config.audiences,
      currentDate: new Date(this.#clock.now()),
      clockTolerance: config.clockToleranceSeconds ?? 0,
      requiredClaims: ['exp'],
      ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
      ...(config.typ !== undefined ? { typ: config.typ } : {}),
    };
    let payload: JWTPayload;
    try {
      // Only the protected header's `alg` and `kid` reach the key set: `jwk`, `jku`, `x5u` and `x5c` are ignored.
      ({ payload } = await jwtVerify(token, (protectedHeader) => keySet.getKey({ alg: protectedHeader.alg, kid: protectedHeader.kid }), options));
    } catch (error) {
      throw refusal(error);
    }
    return this.#claimsOf(payload);
  }

  #claimsOf(payload: JWTPayload): VerifiedIssuerToken {
    const mappings = this.#config.claimMappings ?? {};
    const subjectPath = mappings.subject ?? 'sub';
    const subject = readClaim(payload, subjectPath);
    if (subject === undefined) throw new IssuerTokenError('missing_claim', subjectPath);
    if (typeof subject !== 'string' || subject === '') throw new IssuerTokenError('invalid_claim', subjectPath);

    const scopeValue = mappings.scope !== undefined ? readClaim(payload, mappings.scope) : (payload.scope ?? payload.scp);
    const clientId = mappings.clientId !== undefined ? readClaim(payload, mappings.clientId) : (payload.client_id ?? payload.azp);
    return { payload, subject, scopes: scopesOf(scopeValue), ...(typeof clientId === 'string' ? { clientId } : {}) };
  }

  /** The key set: configured, or found once by discovery. A failed discovery is retried at most once per cooldown. */
  async #keys(): Promise<RemoteKeySet> {
    if (this.#keySet) return this.#keySet;
    if (!this.#discovery) {
      const cooldownMs = this.#options.cooldownMs ?? REMOTE_KEY_SET_DEFAULTS.cooldownMs;
      const failure = this.#discoveryFailure;
      if (failure && this.#clock.now() - failure.at < cooldownMs) throw new IssuerUnavailableError(failure.error.reason, failure.error.httpStatus);
      this.#discovery = this.#discover().finally(() => {
        this.#discovery = undefined;
      });
    }
    return this.#discovery;
  }

  async #discover(): Promise<RemoteKeySet> {
    try {
      const metadata = await discoverIssuer(this.#config.issuer!, this.#options);
      this.#keySet = new RemoteKeySet(metadata.jwksUri, this.#options);
      this.#discoveryFailure = undefined;
      return this.#keySet;
    } catch (error) {
      const failure = error instanceof IssuerUnavailableError ? error : new IssuerUnavailableError('invalid_metadata');
      this.#discoveryFailure = { at: this.#clock.now(), error: failure };
      this.#options.logger?.warn({ issuer: this.name, reason: failure.reason, httpStatus: failure.httpStatus }, 'issuer discovery failed; no keys to verify with');
      throw failure;
    }
  }
}

/** Scopes as RFC 8693 §4.2 writes them (one space-separated string), or as an array (Entra's and Okta's `scp`). */
function scopesOf(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((scope) => scope !== '');
  if (Array.isArray(value)) return value.filter((scope): scope is string => typeof scope === 'string' && scope !== '');
  return [];
}

/** The stable reason for a failed verification; the token and its claims stay out of the error. */
function refusal(error: unknown): KeygateError {
  if (error instanceof IssuerTokenError || error instanceof IssuerUnavailableError) return error;
  if (error instanceof errors.JWTExpired) return new IssuerTokenError('expired', error.claim);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return new IssuerTokenError('missing_claim', error.claim);
    const byClaim = { iss: 'wrong_issuer', aud: 'wrong_audience', nbf: 'not_yet_valid', typ: 'wrong_type' } as const;
    return new IssuerTokenError(byClaim[error.claim as keyof typeof byClaim] ?? 'invalid_claim', error.claim);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new IssuerTokenError('alg_not_allowed');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new IssuerTokenError('signature_invalid');
  return new IssuerTokenError('malformed');
}

function checkConfig(config: ExternalIssuerConfig, options: RemoteKeySetOptions): void {
  const invalid = (message: string) => new KeygateError('invalid_config', message);
  if (typeof config.name !== 'string' || config.name === '') throw invalid('"name" must be a non-empty string');
  if (config.issuer === undefined && config.jwksUri === undefined) throw invalid(`issuer "${config.name}": set "issuer" (for discovery) or "jwksUri"`);
  if (config.issuer !== undefined) parseIssuerUrl(config.issuer, `issuer "${config.name}": "issuer"`, { allowHttp: options.allowHttp });
  if (config.jwksUri !== undefined) parseIssuerUrl(config.jwksUri, `issuer "${config.name}": "jwksUri"`, { allowHttp: options.allowHttp, allowQuery: true });
  if (!Array.isArray(config.audiences) || config.audiences.length === 0 || !config.audiences.every((aud) => typeof aud === 'string' && aud !== '')) {
    throw invalid(`issuer "${config.name}": "audiences" must list at least one audience`);
  }
  if (!Array.isArray(config.algorithms) || config.algorithms.length === 0) throw invalid(`issuer "${config.name}": "algorithms" must list at least one algorithm`);
  for (const alg of config.algorithms) {
    if (!isIssuerSignatureAlgorithm(alg)) {
      throw invalid(`issuer "${config.name}": "algorithms" may hold only ${ISSUER_SIGNATURE_ALGORITHMS.join(', ')}; "${String(alg)}" is not one`);
    }
  }
  const tolerance = config.clockToleranceSeconds;
  if (tolerance !== undefined && !(Number.isFinite(tolerance) && tolerance >= 0 && tolerance <= MAX_CLOCK_TOLERANCE_SECONDS)) {
    throw invalid(`issuer "${config.name}": "clockToleranceSeconds" must be between 0 and ${MAX_CLOCK_TOLERANCE_SECONDS}`);
  }
  const maxBytes = config.maxTokenBytes;
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes > 0)) throw invalid(`issuer "${config.name}": "maxTokenBytes" must be a positive integer`);
}
