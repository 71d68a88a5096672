import type { ServerResponse } from 'node:http';

/**
 * What a provider's failure was, where another format than OpenAI's has a status and type of its own for it that
 * OpenAI's shape lacks: the provider's keys out of quota or credit (OpenAI's 429 `insufficient_quota`, Anthropic's
 * 402 `billing_error`); the provider overloaded or unavailable for now (a 503, Anthropic's 529 `overloaded_error`).
 */
export type ProviderFailureKind = 'out_of_quota' | 'overloaded';

/**
 * An error on the AI surface, in OpenAI's shape (https://platform.openai.com/docs/guides/error-codes); `kind` says
 * what a provider's failure was, for the formats that tell it apart (ProviderFailureKind).
 */
export class AiError extends Error {
  override name = 'AiError';
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
    readonly kind?: ProviderFailureKind,
  ) {
    super(message);
  }
}

/** OpenAI's 400 for a malformed request, naming the parameter at fault, with OpenAI's code where it gives one. */
export function invalidParam(param: string, message: string, code: string | null = null): AiError {
  return new AiError(400, 'invalid_request_error', code, message, param);
}

/**
 * An array given empty where OpenAI wants at least one member (`tools`, `functions`), refused in OpenAI's words: an
 * empty list offers the model nothing, and the adapters that translate it would drop it unseen.
 */
export function emptyArray(param: string): AiError {
  return invalidParam(param, `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`, 'empty_array');
}

export function sendAiError(res: ServerResponse, error: AiError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { message: error.message, type: error.type, param: error.param, code: error.code } });
  res.writeHead(error.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId, ...error.headers });
  res.end(body);
}
