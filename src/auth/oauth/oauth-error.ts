/**
 * Errors of the token, introspection and revocation endpoints in RFC 6749 §5.2's shape:
 * `{"error": "...", "error_description": "..."}`, never with a hint that helps an attacker.
 */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'invalid_target' | 'invalid_dpop_proof' | 'use_dpop_nonce';

export class OAuthError extends Error {
  override name = 'OAuthError';
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly status = code === 'invalid_client' ? 401 : 400,
  ) {
    super(description);
  }

  body(): string {
    return JSON.stringify({ error: this.code, error_description: this.description });
  }
}
