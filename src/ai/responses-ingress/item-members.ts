import { isJsonObject } from '../json-object.js';
import { unknownParameter } from './responses-error.js';

/**
 * The members of the input items Keygate reads, and of their parts, as OpenAI's Responses API has them
 * (https://platform.openai.com/docs/api-reference/responses/create#responses-create-input; the `openai` SDK's
 * `ResponseInputItem`, and the output and listed items a client sends back: `ResponseOutputMessage`,
 * `ResponseFunctionToolCallItem`, `ResponseReasoningItem`…). An item is taken in every form it has: a client's
 * (`EasyInputMessage`), a Response's `output` appended to the input, an item of `…/input_items`. Beside OpenAI's:
 * what Codex sends (a message's `end_turn`, a custom call output's `name`), what the `openai` SDK's `responses.parse()`
 * and `responses.stream()` add to the output a client appends (a call's `parsed_arguments`, a text's `parsed`), and
 * what Keygate's own answers carry (a Gemini call's `extra_content`), so that none of them is refused.
 */
const ITEM_MEMBERS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['message', new Set(['type', 'id', 'role', 'content', 'status', 'phase', 'end_turn'])],
  ['function_call', new Set(['type', 'id', 'call_id', 'name', 'arguments', 'status', 'namespace', 'caller', 'created_by', 'parsed_arguments', 'extra_content'])],
  ['function_call_output', new Set(['type', 'id', 'call_id', 'output', 'status', 'caller', 'created_by'])],
  ['custom_tool_call', new Set(['type', 'id', 'call_id', 'name', 'input', 'status', 'namespace', 'caller', 'created_by'])],
  ['custom_tool_call_output', new Set(['type', 'id', 'call_id', 'output', 'status', 'caller', 'created_by', 'name'])],
  ['reasoning', new Set(['type', 'id', 'summary', 'content', 'encrypted_content', 'status'])],
  ['item_reference', new Set(['type', 'id'])],
]);

/** The members of content parts (`ResponseInputText`, `ResponseInputImage`, `ResponseInputFile`, `ResponseOutputText`…), by their type. */
const PART_MEMBERS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['input_text', new Set(['type', 'text', 'prompt_cache_breakpoint'])],
  ['input_image', new Set(['type', 'image_url', 'file_id', 'detail', 'prompt_cache_breakpoint'])],
  ['input_file', new Set(['type', 'file_data', 'file_id', 'file_url', 'filename', 'detail', 'prompt_cache_breakpoint'])],
  ['output_text', new Set(['type', 'text', 'annotations', 'logprobs', 'parsed'])],
  ['refusal', new Set(['type', 'refusal'])],
  ['summary_text', new Set(['type', 'text'])],
  ['reasoning_text', new Set(['type', 'text'])],
]);

/** The members of an item that hold its parts: a message's content, an output's parts, a reasoning item's summary and text. */
const PART_ARRAYS: ReadonlyMap<string, readonly string[]> = new Map([
  ['message', ['content']],
  ['function_call_output', ['output']],
  ['custom_tool_call_output', ['output']],
  ['reasoning', ['summary', 'content']],
]);

/**
 * OpenAI's refusal of a member it does not know, word for word, naming it by its path (`tools[1].paramters`).
 * `null` is "not given", as OpenAI takes it, here as anywhere in the request.
 */
export function refuseUnknownMembers(object: Record<string, unknown>, known: ReadonlySet<string>, at: string): void {
  for (const name in object) {
    if (known.has(name) || object[name] === null) continue;
    throw unknownParameter(at === '' ? name : `${at}.${name}`);
  }
}

/**
 * Refuses a member of an input item, or of one of its parts, that the Responses API does not have, as OpenAI does:
 * `400 unknown_parameter` naming it (`input[0].content[1].detial`), where it would otherwise change nothing without a
 * word. An item or part of a type Keygate does not take is left to the refusal of its type; a part that is not an
 * object, or parts that are not an array, to the refusal of their shape.
 *
 * @example refuseUnknownItemMembers({ role: 'user', content: 'Hi', rol: 'x' }, 'message', 'input[0]') // throws, param 'input[0].rol'
 */
export function refuseUnknownItemMembers(item: Record<string, unknown>, type: unknown, at: string): void {
  if (typeof type !== 'string') return;
  const known = ITEM_MEMBERS.get(type);
  if (!known) return;
  refuseUnknownMembers(item, known, at);
  for (const member of PART_ARRAYS.get(type) ?? []) {
    const parts = item[member];
    if (!Array.isArray(parts)) continue;
    parts.forEach((part: unknown, i) => {
      if (!isJsonObject(part) || typeof part.type !== 'string') return;
      const partMembers = PART_MEMBERS.get(part.type);
      if (partMembers) refuseUnknownMembers(part, partMembers, `${at}.${member}[${i}]`);
    });
  }
}
