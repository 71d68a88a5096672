import { AiError } from '../openai-error.js';

/**
 * The codes of the 400s a Responses API request can meet at the gateway. OpenAI's own (`invalid_value`,
 * `missing_required_parameter`, `unsupported_parameter`, `unsupported_value`, https://platform.openai.com/docs/guides/error-codes) for a
 * malformed or unusable field; Keygate's for what needs state OpenAI keeps and Keygate does not (a stored response,
 * conversation or item, a background run) and for OpenAI's built-in tools, which only OpenAI runs.
 */
export type ResponsesErrorCode =
  | 'invalid_value'
  | 'missing_required_parameter'
  | 'unsupported_parameter'
  | 'unsupported_value'
  | 'previous_response_not_supported'
  | 'conversation_not_supported'
  | 'item_reference_not_supported'
  | 'background_not_supported'
  | 'unsupported_tool'
  | 'unsupported_input_item';

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
