import type { IncomingHttpHeaders } from 'node:http';
import { failureFor, type ProviderFailure } from '../provider.js';

/**
 * Bedrock's errors (https://docs.aws.amazon.com/bedrock/latest/userguide/troubleshooting-api-error-codes.html): a
 * JSON `{"message"}` body, the exception named by the `x-amzn-errortype` header. Classified by that name, since
 * the same status means different things (a 403 is a bad key, a 400 may be an over-quota account).
 */
const INVALID_CREDENTIAL = new Set(['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'InvalidClientTokenId', 'MissingAuthenticationTokenException']);
/** Unavailable for now (503: overloaded or not ready, worth a wait), and failed (500: a fault of the service or the model). */
const UNAVAILABLE = new Set(['ServiceUnavailableException', 'ModelNotReadyException']);
const FAILED = new Set(['InternalServerException', 'InternalFailure', 'ModelErrorException', 'ModelStreamErrorException']);
/**
 * A 403 that names no exception, in which Bedrock refuses an API key: `{"Message":"Authentication failed: Please make
 * sure your API Key is valid."}`, or `"Authorization header is missing"` (the wording callers report; Amazon documents
 * none for it). Read by its words: a 403 of no name about anything else refuses the call, not the key.
 */
const API_KEY_REFUSED = /\bauthentication failed\b|\bAPI key\b|\bauthorization header\b/i;

export function bedrockFailure(status: number, errorType: string, rawMessage: string, headers: IncomingHttpHeaders): ProviderFailure {
  const message = firstParagraph(rawMessage) || `Bedrock answered ${status}${errorType ? ` (${errorType})` : ''}`;
  const code = errorType || null;
  if (INVALID_CREDENTIAL.has(errorType) || (errorType === '' && status === 403 && API_KEY_REFUSED.test(message))) return { ...failureFor(401, message, headers, code), status };
  // The key's identity may not do this (a model not enabled for the account, a policy): another key may; it is kept.
  if (errorType === 'AccessDeniedException') return failureFor(403, message, headers, code);
  // A model that timed out or failed: the provider's failure, told as a timeout or a 5xx, whatever status it came with.
  if (errorType === 'ModelTimeoutException') return failureFor(408, message, headers, code);
  if (errorType === 'ThrottlingException' || errorType === 'ServiceQuotaExceededException') return { ...failureFor(429, message, headers, code), status };
  if (UNAVAILABLE.has(errorType)) return failureFor(503, message, headers, code);
  if (FAILED.has(errorType)) return failureFor(500, message, headers, code);
  if (errorType === 'ResourceNotFoundException') return { ...failureFor(404, message, headers, code), status };
  if (errorType === 'ValidationException') return failureFor(400, message, headers, code);
  return failureFor(status, message, headers, code);
}

export function parseBedrockError(status: number, body: string, headers: IncomingHttpHeaders): ProviderFailure {
  let message = '';
  let bodyType = '';
  try {
    const parsed = JSON.parse(body) as { message?: unknown; Message?: unknown; __type?: unknown };
    const text = parsed.message ?? parsed.Message;
    if (typeof text === 'string') message = text;
    if (typeof parsed.__type === 'string') bodyType = parsed.__type.split('#').pop() ?? '';
  } catch {
    // not JSON: keep the generic message
  }
  const header = headers['x-amzn-errortype'];
  const errorType = (typeof header === 'string' ? header.split(':')[0] : undefined) || bodyType;
  return bedrockFailure(status, errorType ?? '', message, headers);
}

/**
 * AWS appends the canonical request it expected to a signature mismatch, session token included: only the first
 * paragraph of a message is kept. Not shortened here: a session token cut in two would no longer be found whole by
 * the redaction that follows; the handler shortens what the client is told once the secrets are cut.
 */
function firstParagraph(message: string): string {
  return (message.split(/\r?\n\s*\r?\n/)[0] ?? '').trim();
}
