/**
 * The two error codes RFC 9449 defines for a request that carries a DPoP proof: `invalid_dpop_proof` (§7.1)
 * when the proof fails a check, and `use_dpop_nonce` (§8, §9) when the server wants a nonce the proof lacks,
 * so the caller can answer with a fresh `DPoP-Nonce` header.
 */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce';

/**
 * A refused DPoP proof. `status` is what a protected resource answers (401 with a `WWW-Authenticate: DPoP`
 * challenge, RFC 9449 §7.1); a token endpoint answers the same codes with 400 (§5, §8). The message names the
 * check that failed and never carries the proof, its claims or key material.
 */
export class DpopError extends Error {
  readonly code: DpopErrorCode;
  readonly status = 401;
  /** The failed check, in a few words, e.g. `"htm" claim does not match the request method`. */
  readonly reason: string;

  constructor(code: DpopErrorCode, reason: string) {
    super(`the DPoP proof was refused: ${reason}`);
    this.name = 'DpopError';
    this.code = code;
    this.reason = reason;
  }

  toJSON(): { error: { code: DpopErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
