import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderFailure } from '../provider.js';

/**
 * The HTTP status each of OpenAI's error types stands for (https://platform.openai.com/docs/guides/error-codes), for
 * an error that arrives in a stream, after a 200 head, with no status of its own.
 */
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  BadRequestError: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  tokens: 429,
  requests: 429,
  server_error: 500,
  api_error: 500,
  service_unavailable: 503,
  overloaded: 503,
  overloaded_error: 503,
};

/** A status a provider may put in an error's `code` (OpenRouter's numbers, vLLM's): an HTTP error status or nothing. */
function statusIn(code: unknown): number | undefined {
  const status = typeof code === 'number' ? code : typeof code === 'string' && /^[45]\d\d$/.test(code) ? Number(code) : undefined;
  return status !== undefined && status >= 400 && status <= 599 ? status : undefined;
}

type ParseError = (status: number, text: string, headers: IncomingHttpHeaders) => ProviderFailure;

/**
 * The failure an OpenAI-format stream reports in an event, after its 200 head, or undefined for an event that is a
 * chunk. Hosts say it three ways: OpenAI (and SGLang, Groq, Together) as an event holding only `error`
 * (`{"error":{"message":…,"type":"server_error"}}`), OpenRouter as a chunk with an `error` beside a choice whose
 * `finish_reason` is `error`, vLLM as an error object of its own (`{"object":"error","message":…,"code":400}`).
 * The status comes from the error's numeric code when it has one, else from its type (500 for one not known), and
 * the rest is read as the host's error bodies are (`parseError`), so that it means in the stream what it would have
 * meant as an answer: retryable or not, a rate limit, the caller's mistake.
 */
export function streamedFailure(event: Record<string, unknown>, parseError: ParseError): ProviderFailure | undefined {
  let error: Record<string, unknown>;
  if (typeof event.error === 'object' && event.error !== null) error = event.error as Record<string, unknown>;
  else if (typeof event.error === 'string') error = { message: event.error };
  else if (event.object === 'error' && typeof event.message === 'string') error = event;
  else return undefined;
  const type = typeof error.type === 'string' ? error.type : undefined;
  // Own members only: a type named like an object's member (`constructor`) is a type like any unknown one.
  const status = statusIn(error.code) ?? (type !== undefined && Object.hasOwn(STATUS_OF_TYPE, type) ? STATUS_OF_TYPE[type] : undefined) ?? 500;
  const { message, param } = error;
  const code = typeof error.code === 'string' && statusIn(error.code) === undefined ? error.code : null;
  const body = { message: typeof message === 'string' ? message : undefined, type: type ?? null, code, param: typeof param === 'string' ? param : null };
  return parseError(status, JSON.stringify({ error: body }), {});
}
