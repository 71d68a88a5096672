import type { IncomingHttpHeaders } from 'node:http';
import { failureFor, type ProviderFailure } from '../provider.js';
import type { AnthropicErrorBody } from './wire-types.js';

/** Anthropic's error types and their HTTP statuses (https://docs.anthropic.com/en/api/errors). */
const STATUS_OF_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/**
 * An Anthropic error in OpenAI's terms, with Anthropic's `error.type` as the code. A billing error (or a 400 about
 * the credit balance) means this key's account cannot pay: the key is set aside like an exhausted quota. A 529
 * (overloaded) is a retryable server error.
 */
export function anthropicFailure(status: number, text: string, headers: IncomingHttpHeaders): ProviderFailure {
  let message = `Anthropic answered ${status}`;
  let code: string | null = null;
  try {
    const parsed = JSON.parse(text) as Partial<AnthropicErrorBody>;
    if (parsed.error && typeof parsed.error.message === 'string') {
      message = parsed.error.message;
      code = typeof parsed.error.type === 'string' ? parsed.error.type : null;
    }
  } catch {
    // not JSON (a proxy's HTML page): keep the generic message rather than echo it
  }
  if (code === 'billing_error' || (status === 400 && /credit balance/i.test(message))) {
    return { status, type: 'insufficient_quota', code: 'insufficient_quota', message, credentialProblem: 'quota', retryable: true };
  }
  return failureFor(status, message, headers, code);
}

/** A streamed `error` event, which arrives after a 200 head, as the failure its type would have answered. */
export function streamedFailure(error: AnthropicErrorBody['error']): ProviderFailure {
  // Own members only: a type named like an object's member (`constructor`) is a type like any unknown one.
  const status = (typeof error.type === 'string' && Object.hasOwn(STATUS_OF_TYPE, error.type) ? STATUS_OF_TYPE[error.type] : undefined) ?? 500;
  return anthropicFailure(status, JSON.stringify({ type: 'error', error }), {});
}
