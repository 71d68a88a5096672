import { AiError } from '../openai-error.js';
import { shownText } from '../shown-text.js';

/**
 * The codes of the 400s a Responses API request can meet at the gateway. OpenAI's own (`invalid_value`, `invalid_type`,
 * `missing_required_parameter`, `unsupported_parameter`, `unsupported_value`, https://platform.openai.com/docs/guides/error-codes) for a
 * malformed or unusable field; Keygate's for what needs state OpenAI keeps and Keygate does not (a conversation, an
 * item by reference, a background run), for OpenAI's built-in tools, which only OpenAI runs, and for a chain of stored
 * responses longer than Keygate keeps.
 */
export type ResponsesErrorCode =
  | 'invalid_value'
  | 'invalid_type'
  | 'missing_required_parameter'
  | 'unknown_parameter'
  | 'unsupported_parameter'
  | 'unsupported_value'
  | 'conversation_not_supported'
  | 'item_reference_not_supported'
  | 'background_not_supported'
  | 'unsupported_tool'
  | 'unsupported_input_item'
  | 'response_chain_too_long'
  | 'previous_response_not_supported';

/**
 * A Responses API request the gateway cannot accept: an AiError (400 `invalid_request_error`, OpenAI's error shape,
 * https://platform.openai.com/docs/api-reference/responses/create), so the usual error path answers it. `param` is
 * the field in OpenAI's form (`input[2].content[0].image_url`).
 *
 * @example throw new ResponsesRequestError('max_output_tokens', "Invalid 'max_output_tokens': must be an integer of at least 16")
 */
export class ResponsesRequestError extends AiError {
  override name = 'ResponsesRequestError';
  constructor(param: string, message: string, code: ResponsesErrorCode = 'invalid_value') {
    super(400, 'invalid_request_error', code, message, param);
  }
}

/** OpenAI's refusal of a member or parameter it does not have, word for word, naming it by its path (`tools[1].paramters`). */
export const unknownParameter = (param: string): ResponsesRequestError => new ResponsesRequestError(param, `Unknown parameter: '${shownText(param)}'.`, 'unknown_parameter');

/**
 * A `previous_response_id` that names no Response the caller may continue (unknown, expired, deleted, or another
 * app's, which are not told apart): a 400 on the request's member, in OpenAI's words and code (clients such as Codex
 * and the Agents SDK recognise it by that code, status and message to start the chain again).
 */
export const previousResponseNotFound = (id: string): AiError =>
  new AiError(400, 'invalid_request_error', 'previous_response_not_found', `Previous response with id '${shownText(id)}' not found.`, 'previous_response_id');

/** `GET`/`DELETE /v1/responses/{id}` (and its input items) for a Response the caller has not stored, or no longer: 404. */
export const responseNotFound = (id: string): AiError => new AiError(404, 'invalid_request_error', 'response_not_found', `Response with id '${shownText(id)}' not found.`, null);

/**
 * A `previous_response_id` the caller stored, whose chain lost an earlier Response (deleted, or expired): its turns
 * can no longer be sent, so it cannot be continued. 400 with OpenAI's code, as previousResponseNotFound, and a
 * message that says why.
 */
export const previousResponseChainBroken = (id: string): AiError =>
  new AiError(400, 'invalid_request_error', 'previous_response_not_found', `Previous response with id '${shownText(id)}' cannot be continued: an earlier response of its chain was deleted or expired. Send the conversation in 'input' instead.`, 'previous_response_id');

/** `GET /v1/responses/{id}/input_items` of a Response whose chain lost an earlier Response (deleted, or expired): 404. */
export const responseChainBroken = (id: string): AiError =>
  new AiError(404, 'invalid_request_error', 'response_not_found', `The input items of response '${shownText(id)}' are gone: an earlier response of its chain was deleted or expired. The response itself can still be retrieved.`, null);

/**
 * A chain of stored responses already `max` long, Keygate's most (which bounds every read of a chain): it cannot be
 * continued, nor (if it got longer) listed. 400, `param` the member that named it (null on `…/input_items`).
 */
export const responseChainTooLong = (id: string, max: number, param: 'previous_response_id' | null): AiError =>
  new AiError(
    400,
    'invalid_request_error',
    'response_chain_too_long',
    `Response '${shownText(id)}' ends a chain of ${max} responses, the most Keygate keeps: start a new chain, sending the conversation (or a summary of it) in 'input' without 'previous_response_id'.`,
    param,
  );

/**
 * A stored Response that could not be read, continued or deleted because the store did not answer (PostgreSQL down,
 * say): a 503 with `Retry-After: 1`, as a budget the store cannot read is, not a 500 that blames the gateway. The
 * answer may come as soon as the store is back; nothing was sent to a provider.
 */
export const responsesStoreUnavailable = (id: string): AiError =>
  new AiError(503, 'api_error', 'store_unavailable', `Response with id '${shownText(id)}' cannot be reached: the store did not answer; try again shortly.`, null, { 'retry-after': '1' });

/** Chat Completions members a Responses API request is sent as (responsesToChat), and the Responses API's names for them. */
const CHAT_PARAMS: ReadonlyArray<[chat: RegExp, responses: string]> = [
  [/^max_(?:completion_)?tokens$/, 'max_output_tokens'],
  [/^reasoning_effort$/, 'reasoning.effort'],
  [/^response_format(?:\.json_schema)?/, 'text.format'],
  // A custom tool's members are nested under `custom` (its grammar's under `format.grammar`) where the Responses API has them flat.
  [/^tools\[(\d+)\]\.custom\.format\.grammar/, 'tools[$1].format'],
  [/^tools\[(\d+)\]\.(?:function|custom)/, 'tools[$1]'],
  [/^tool_choice\.(?:function|custom)/, 'tool_choice'],
  // A message's index is not its input item's (instructions come first, turns are merged): the input it is.
  [/^messages(?:\W.*)?$/, 'input'],
];

/**
 * An error met after a Responses API request became a chat request (a provider's 400, an adapter's refusal), its
 * `param` named as the client sent it: `max_output_tokens`, not the `max_completion_tokens` it was sent as.
 *
 * @example toResponsesError(new AiError(400, 'invalid_request_error', 'invalid_value', 'too large', 'max_completion_tokens')).param // 'max_output_tokens'
 */
export function toResponsesError(error: AiError): AiError {
  const { param } = error;
  if (param === null) return error;
  for (const [chat, responses] of CHAT_PARAMS) {
    if (!chat.test(param)) continue;
    const named = param.replace(chat, responses);
    // An adapter's refusal opens with the member it refused ("response_format: …"): the client's name for it there too.
    const message = error.message.startsWith(`${param}: `) ? `${named}: ${error.message.slice(param.length + 2)}` : error.message;
    return new AiError(error.status, error.type, error.code, message, named, error.headers);
  }
  return error;
}
