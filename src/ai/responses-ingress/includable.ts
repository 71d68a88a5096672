import { jsonTypeName } from '../json-object.js';
import { ResponsesRequestError } from './responses-error.js';
import { shownText } from '../shown-text.js';

/**
 * Every value OpenAI documents for `include` (https://platform.openai.com/docs/api-reference/responses/create#responses-create-include;
 * the SDK's `ResponseIncludable`), in OpenAI's order: a create, a retrieve and a list of input items take the same.
 * Only `reasoning.encrypted_content` changes what Keygate answers; the others are accepted and do nothing: they ask
 * for what OpenAI's built-in tools return (which Keygate refuses), for input image URLs (input items are listed as
 * sent, URLs included) or for output logprobs (which a Response's text parts do not carry through the gateway; Chat
 * Completions does).
 */
const INCLUDABLE: readonly string[] = [
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
];

/** OpenAI's list of allowed values: "'a', 'b', and 'c'". */
const quotedList = (values: readonly string[]): string => values.map((value, i) => `${i > 0 && i === values.length - 1 ? 'and ' : ''}'${value}'`).join(', ');

/**
 * `include`: an array of INCLUDABLE values, or a 400 in OpenAI's words and codes (`invalid_type` on `include` for
 * another type; `invalid_value` on `include[i]` for a value OpenAI does not define, naming those it does).
 *
 * @example checkInclude(['reasoning.encrypted_content']) // passes; checkInclude(['usage']) throws on 'include[0]'
 */
export function checkInclude(include: unknown): asserts include is string[] {
  if (!Array.isArray(include)) {
    throw new ResponsesRequestError('include', `Invalid type for 'include': expected an array of one of ${quotedList(INCLUDABLE).replace(', and ', ', or ')}, but got ${jsonTypeName(include)} instead.`, 'invalid_type');
  }
  include.forEach((value: unknown, i) => {
    if (typeof value !== 'string' || !INCLUDABLE.includes(value)) throw new ResponsesRequestError(`include[${i}]`, `Invalid value: '${shownText(String(value))}'. Supported values are: ${quotedList(INCLUDABLE)}.`, 'invalid_value');
  });
}

/** A query's `include` values, as the SDKs send them (`include[]=…`, OpenAI's bracket form) or plain (`include=…`). */
export function includeOfQuery(params: URLSearchParams): string[] {
  return [...params.getAll('include[]'), ...params.getAll('include')];
}
