import type { ChatCompletion, ChatCompletionChunk, FinishReason } from './chat-types.js';
import { isJsonObject } from './json-object.js';
import { emptyArray, invalidParam as invalid } from './openai-error.js';
import { shownText } from './shown-text.js';
import { validateFunctionParameters } from './tools-validation.js';

/**
 * OpenAI's deprecated function calling (https://platform.openai.com/docs/api-reference/chat/create#chat-create-functions),
 * which OpenAI still accepts: the `functions` and `function_call` parameters, assistant messages with a
 * `function_call`, and `function` messages with its result. The gateway takes them in the tool forms that replaced
 * them, which every adapter translates; an OpenAI-type provider gets the tool forms too, rather than the legacy
 * ones as they came, because OpenAI-compatible hosts often know only tools, and one form in means one form out:
 * the same answer whatever provider (or fallback) served it, and one entry in the response cache.
 *
 * A call that offered `functions` is answered in their form: the first tool call as `function_call`, finish reason
 * `function_call`, as OpenAI answers it. The legacy form has room for one call; no `parallel_tool_calls: false`
 * is added to say so, since OpenAI's reasoning models (o1, o3-mini…) refuse that member: a model that calls
 * several functions at once has its first call answered.
 */

/** Whether a chat request offered `functions`, and is to be answered with `function_call`. */
export function offersFunctions(body: Record<string, unknown>): boolean {
  return Array.isArray(body.functions);
}

/** `functions`, `function_call` and the messages of the legacy form, rewritten in place in the tool forms. */
export function toToolForms(body: Record<string, unknown>): void {
  if (body.functions !== undefined) toolsOf(body);
  if (body.function_call !== undefined) toolChoiceOf(body);
  if (Array.isArray(body.messages) && body.messages.some(isLegacyMessage)) body.messages = toolMessages(body.messages);
}

function toolsOf(body: Record<string, unknown>): void {
  const functions = body.functions;
  if (body.tools !== undefined) throw invalid('functions', "give either 'functions' or 'tools', not both: 'functions' is the deprecated form of 'tools'");
  if (!Array.isArray(functions)) throw invalid('functions', "'functions' must be an array");
  if (functions.length === 0) throw emptyArray('functions');
  body.tools = functions.map((fn: unknown, i) => {
    // Checked here, in the client's words: once a tool, a nameless function would be refused as `tools[i]`, which it did not send.
    if (!isJsonObject(fn) || typeof fn.name !== 'string' || fn.name === '') throw invalid(`functions[${i}].name`, `functions[${i}] must be an object with a name`);
    validateFunctionParameters(fn.parameters, `functions[${i}].parameters`);
    return { type: 'function', function: fn };
  });
  delete body.functions;
}

function toolChoiceOf(body: Record<string, unknown>): void {
  const choice = body.function_call;
  if (body.tool_choice !== undefined) throw invalid('function_call', "give either 'function_call' or 'tool_choice', not both: 'function_call' is the deprecated form of 'tool_choice'");
  // OpenAI's refusal, in the client's words: once a tool_choice, it would be refused as one, which the client did not send.
  if (!Array.isArray(body.tools) || body.tools.length === 0) throw invalid('function_call', "Invalid value for 'function_call': 'function_call' is only allowed when 'functions' are specified.");
  if (choice === 'none' || choice === 'auto') body.tool_choice = choice;
  else if (isJsonObject(choice) && typeof choice.name === 'string') {
    // Refused in the client's words, as tool_choice naming a tool not offered is (validateToolChoice).
    const named = choice.name;
    if (!body.tools.some((tool: unknown) => isJsonObject(tool) && isJsonObject(tool.function) && tool.function.name === named)) throw invalid('function_call', `Invalid value for 'function_call': no function named '${shownText(named)}' is in 'functions'.`);
    body.tool_choice = { type: 'function', function: { name: named } };
  }
  else throw invalid('function_call', `'function_call' must be "none", "auto" or {"name": "<function name>"}`);
  delete body.function_call;
}

const isLegacyMessage = (message: unknown): boolean => isJsonObject(message) && (message.role === 'function' || (message.function_call !== undefined && message.function_call !== null));

/**
 * The messages with each assistant `function_call` as a tool call, whose id is made from the message's place
 * (stable from one turn of the conversation to the next), and each `function` message as the tool result
 * answering the latest such call of its name.
 */
function toolMessages(messages: unknown[]): unknown[] {
  let unanswered: Array<{ id: string; name: string }> = [];
  return messages.map((message, i) => {
    if (!isJsonObject(message)) return message;
    if (message.role === 'assistant') {
      const mapped = message.function_call === undefined || message.function_call === null ? message : withToolCall(message, i);
      unanswered = Array.isArray(mapped.tool_calls) ? mapped.tool_calls.flatMap((call: unknown) => (isJsonObject(call) && isJsonObject(call.function) ? [{ id: String(call.id), name: String(call.function.name) }] : [])) : [];
      return mapped;
    }
    if (message.role !== 'function') return message;
    if (typeof message.name !== 'string') throw invalid(`messages[${i}].name`, `messages[${i}] has the role function and must name the function`);
    const answered = unanswered.findIndex((call) => call.name === message.name);
    if (answered === -1) throw invalid(`messages[${i}]`, `messages[${i}] is the result of function "${message.name}", which the assistant message before it did not call`);
    const [call] = unanswered.splice(answered, 1);
    return { role: 'tool', tool_call_id: call!.id, content: message.content ?? '' };
  });
}

function withToolCall(message: Record<string, unknown>, i: number): Record<string, unknown> {
  const { function_call: call, ...rest } = message;
  if (!isJsonObject(call) || typeof call.name !== 'string' || typeof call.arguments !== 'string') throw invalid(`messages[${i}].function_call`, `messages[${i}].function_call must have a name and its arguments as a string`);
  if (Array.isArray(message.tool_calls) && message.tool_calls.length > 0) throw invalid(`messages[${i}].function_call`, `messages[${i}] has both tool_calls and the deprecated function_call: give one`);
  return { ...rest, tool_calls: [{ id: `call_fn_${i}`, type: 'function', function: { name: call.name, arguments: call.arguments } }] };
}

const finishReasonOf = (reason: FinishReason | null): FinishReason | null => (reason === 'tool_calls' ? 'function_call' : reason);

/** A completion with its first tool call as the legacy `function_call`. */
export function toFunctionCallCompletion(completion: ChatCompletion): ChatCompletion {
  return {
    ...completion,
    choices: completion.choices.map((choice) => {
      const { tool_calls: calls, ...message } = choice.message;
      const first = calls?.[0]?.function;
      return { ...choice, message: first ? { ...message, function_call: { name: first.name, arguments: first.arguments } } : message, finish_reason: finishReasonOf(choice.finish_reason) };
    }),
  };
}

/** A streamed chunk with its first tool call's deltas as `function_call` deltas; the chunk itself when it has none. */
export function toFunctionCallChunk(chunk: ChatCompletionChunk): ChatCompletionChunk {
  if (!chunk.choices.some((choice) => choice.delta.tool_calls !== undefined || choice.finish_reason === 'tool_calls')) return chunk;
  return {
    ...chunk,
    choices: chunk.choices.map((choice) => {
      const { tool_calls: calls, ...delta } = choice.delta;
      const first = calls?.find((call) => call.index === 0)?.function;
      return { ...choice, delta: first ? { ...delta, function_call: first } : delta, finish_reason: finishReasonOf(choice.finish_reason) };
    }),
  };
}
