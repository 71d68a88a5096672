import { KeygateError } from '../../errors.js';

/**
 * Why a token from an outside issuer was refused. Kept for logs and metrics only: the caller sees one generic
 * message, so an attacker probing the gateway learns nothing about which check failed (RFC 6750 §3.1 allows the
 * resource server to say less).
 */
export type IssuerTokenReason =
  | 'too_large'
  | 'malformed'
  | 'alg_not_allowed'
  | 'crit_unsupported'
  | 'no_matching_key'
  | 'signature_invalid'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'wrong_type'
  | 'missing_claim'
  | 'invalid_claim';

/**
 * A bearer token from an outside issuer that does not verify. Code `token_invalid`; the message never carries
 * the token, a claim value or a key.
 */
export class IssuerTokenError extends KeygateError {
  readonly reason: IssuerTokenReason;
  /** The claim whose check failed, when one did (`exp`, `aud`, ...). A name, never a value. */
  readonly claim: string | undefined;

  constructor(reason: IssuerTokenReason, claim?: string) {
    super('token_invalid', 'the bearer token was refused: present a valid, unexpired access token issued for this API');
    this.name = 'IssuerTokenError';
    this.reason = reason;
    this.claim = claim;
  }
}

/** Why an issuer's metadata or key set could not be used. */
export type IssuerFetchReason =
  | 'timeout'
  | 'unreachable'
  | 'http_status'
  | 'too_large'
  | 'not_json'
  | 'not_jwks'
  | 'no_usable_keys'
  | 'invalid_metadata'
  | 'issuer_mismatch';

/**
 * An outside issuer's discovery document or JWK Set could not be fetched or used, and no earlier good copy
 * exists: verification fails closed. Code `upstream_failed`; the message names neither the URL nor the body.
 */
export class IssuerUnavailableError extends KeygateError {
  readonly reason: IssuerFetchReason;
  /** The HTTP status the issuer answered with, for `http_status`. */
  readonly httpStatus: number | undefined;

  constructor(reason: IssuerFetchReason, httpStatus?: number) {
    super('upstream_failed', 'the token issuer could not be consulted to verify the bearer token; try again later');
    this.name = 'IssuerUnavailableError';
    this.reason = reason;
    this.httpStatus = httpStatus;
  }
}
