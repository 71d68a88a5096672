/**
 * Every error a caller of Keygate can meet, in one place: a stable `code`, the HTTP status it maps to, and a
 * message that says what to do. Messages never carry key material, tokens or secrets.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_jwk: 400,
  weak_key: 400,
  unsupported_key_type: 400,
  unsupported_algorithm: 400,
  duplicate_kid: 400,
  private_key_not_allowed: 400,
  private_key_required: 400,
  algorithm_not_allowed: 400,
  token_invalid: 400,
  invalid_config: 400,
  decryption_failed: 400,
  unauthorized: 401,
  unauthenticated: 401,
  invalid_token: 401,
  invalid_dpop_proof: 401,
  insufficient_scope: 403,
  access_denied: 403,
  subscription_required: 403,
  encryption_key_missing: 403,
  encryption_required: 415,
  rate_limited: 429,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  key_not_found: 404,
  key_state_conflict: 409,
  config_conflict: 409,
  no_active_key: 409,
  payload_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  upstream_failed: 502,
  no_healthy_target: 503,
  upstream_timeout: 504,
  internal_error: 500,
  store_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class KeygateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeygateError';
    this.code = code;
    this.status = ERROR_STATUS[code];
  }

  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** The one JSON error body both ports answer with: `{"error":{"code","message"}}`. */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}
