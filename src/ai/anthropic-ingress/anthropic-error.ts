import { AiError, type ProviderFailureKind } from '../openai-error.js';
import type { AnthropicErrorBody, AnthropicErrorType } from './wire-types.js';

const ERROR_TYPES: ReadonlySet<string> = new Set<AnthropicErrorType>([
  'invalid_request_error',
  'authentication_error',
  'billing_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'timeout_error',
  'overloaded_error',
]);

/**
 * The Anthropic error type an HTTP status is answered with (https://docs.anthropic.com/en/api/errors): other 4xx
 * statuses are `invalid_request_error`, as Anthropic documents, and other 5xx statuses `api_error`.
 */
export function anthropicErrorTypeFor(status: number): AnthropicErrorType {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/**
 * Anthropic's error body, `{ type: 'error', error: { type, message } }` (https://docs.anthropic.com/en/api/errors).
 * A `type` that is not one of Anthropic's is replaced by the type for `status`.
 *
 * @example anthropicError(404, 'not_found_error', 'model: claude-9 not found')
 */
export function anthropicError(status: number, type: string, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type: ERROR_TYPES.has(type) ? (type as AnthropicErrorType) : anthropicErrorTypeFor(status), message } };
}

/** What the gateway knows of a failure: an AiError, in OpenAI's terms, is one. */
export interface GatewayError {
  status: number;
  type: string;
  code: string | null;
  message: string;
  kind?: ProviderFailureKind;
  /** The headers it is answered with (an AiError's). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * The HTTP status an Anthropic-format client is answered a failure with: the gateway's, but where Anthropic has a
 * status of its own for what the failure was. A provider's keys out of quota or credit are Anthropic's 402
 * `billing_error`, which the Anthropic adapter reads back as such, rather than OpenAI's 429, which Anthropic's clients
 * take for a rate limit to wait out; a provider overloaded for now is Anthropic's 529 `overloaded_error`, the status
 * its clients and the Anthropic adapter know it by, rather than the 503 the chat endpoint answers.
 */
function anthropicStatusFor(error: Pick<GatewayError, 'status' | 'kind'>): number {
  if (error.kind === 'out_of_quota') return 402;
  return error.kind === 'overloaded' ? 529 : error.status;
}

/**
 * A gateway error, in OpenAI's shape, as Anthropic's: the HTTP status (anthropicStatusFor) decides the type, since
 * OpenAI's `invalid_request_error` also covers what Anthropic calls `not_found_error` (an unknown model) and
 * `request_too_large`; the message is kept as it is. A 503 the client is told not to retry (`x-should-retry: false`:
 * no provider key left until an administrator adds one) is an `api_error`, not an `overloaded_error`, which says to
 * come back later.
 *
 * @example const { status, body } = toAnthropicError(aiError); res.writeHead(status, …).end(JSON.stringify(body))
 */
export function toAnthropicError(error: GatewayError): { status: number; body: AnthropicErrorBody } {
  const status = anthropicStatusFor(error);
  const type = status === 503 && error.headers?.['x-should-retry'] === 'false' ? 'api_error' : anthropicErrorTypeFor(status);
  return { status, body: { type: 'error', error: { type, message: error.message } } };
}

/**
 * A Messages API request the gateway cannot accept. It is an AiError (status 400, `invalid_request_error`), so the
 * usual error path handles it; `param` is the field in Anthropic's dotted form (`messages.0.content.1.source`), and
 * the message starts with it, as Anthropic's do.
 */
export class AnthropicRequestError extends AiError {
  override name = 'AnthropicRequestError';
  constructor(param: string, message: string, code: 'invalid_parameter' | 'unsupported_parameter' = 'invalid_parameter') {
    super(400, 'invalid_request_error', code, `${param}: ${message}`, param);
  }
}
