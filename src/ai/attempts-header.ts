import { AiError } from './openai-error.js';
import { headerText } from './header-text.js';

/**
 * The header that lists the targets a call tried, in order, each with the status it answered, once one of them failed
 * and the call went on (a fallback answered, or every one of two or more targets failed): a Structured Field List (RFC 8941 §3.1) of Strings, each target's
 * `provider/model` with a `status` parameter, the provider's own (502: it could not be reached, a provider the gateway
 * could not call for its config among them; 504: it did not answer in time). A call whose first try answered has none.
 *
 * @example x-keygate-attempts: "openai/gpt-4o-mini";status=500, "anthropic/claude-haiku-4-5";status=200
 */
export const ATTEMPTS_HEADER = 'x-keygate-attempts';

/** `list` with one more target tried: its `provider/model` as a String (RFC 8941 §3.3.3), printable ASCII, escaped. */
export function withAttempt(list: string | undefined, provider: string, model: string, status: number): string {
  const item = `"${headerText(`${provider}/${model}`).replace(/[\\"]/g, '\\$&')}";status=${status}`;
  return list === undefined ? item : `${list}, ${item}`;
}

/** The call's error, with the targets it tried (`list`, given when more than one was). */
export function withAttempts(error: AiError, list: string | undefined): AiError {
  if (list === undefined) return error;
  return new AiError(error.status, error.type, error.code, error.message, error.param, { ...error.headers, [ATTEMPTS_HEADER]: list }, error.kind);
}
