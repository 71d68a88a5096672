import { isJsonObject, jsonTypeName } from './json-object.js';
import { invalidParam as invalid } from './openai-error.js';
import { shownText } from './shown-text.js';

/** The three tool choices OpenAI names by a word (https://platform.openai.com/docs/api-reference/chat/create#chat-create-tool_choice). */
const TOOL_CHOICE_WORDS: readonly unknown[] = ['none', 'auto', 'required'];

/**
 * `tool_choice` as OpenAI takes it: `"none"`, `"auto"`, `"required"`, or an object naming a tool, `{type:
 * "function", function: {name}}` or `{type: "custom", custom: {name}}` (an `allowed_tools` choice is checked by
 * validateAllowedTools; a choice of another type, a host's own, is left to the provider). Checked here for every
 * provider: the adapters read the function's name from any choice that is not one of the words, which made an
 * unknown word a TypeError on some (a 500 for the caller's mistake) and nothing at all on others.
 */
export function validateToolChoice(choice: unknown, tools?: unknown): void {
  if (choice === undefined || TOOL_CHOICE_WORDS.includes(choice)) return;
  if (!isJsonObject(choice)) throw invalid('tool_choice', `'tool_choice' must be "none", "auto", "required" or an object naming a tool, {"type": "function", "function": {"name": …}}; got ${JSON.stringify(choice)?.slice(0, 40)}`);
  // A type-less choice is read as a function's, as a type-less tool is.
  if (choice.type === undefined || choice.type === 'function') {
    const fn = choice.function;
    if (!isJsonObject(fn) || typeof fn.name !== 'string' || fn.name === '') throw invalid('tool_choice.function', "'tool_choice.function' must name the function to call: {\"type\": \"function\", \"function\": {\"name\": …}}");
    refuseUnoffered('function', fn.name, tools);
  }
  if (choice.type === 'custom') {
    if (!(isJsonObject(choice.custom) && typeof choice.custom.name === 'string' && choice.custom.name !== '')) {
      throw invalid('tool_choice.custom', "'tool_choice.custom' must name the custom tool to call: {\"type\": \"custom\", \"custom\": {\"name\": …}}");
    }
    refuseUnoffered('custom', choice.custom.name, tools);
  }
}

/**
 * A choice of a tool that `tools` does not declare, refused as OpenAI refuses it: a provider would call another tool
 * (Anthropic), refuse in its own words, or answer as if no tool were named. Without `tools` at all, the choice is
 * refused as a tool setting without tools (refuseToolSettingsWithoutTools).
 */
function refuseUnoffered(kind: 'function' | 'custom', name: string, tools: unknown): void {
  if (!Array.isArray(tools)) return;
  const offered = tools.some((tool: unknown) => {
    if (!isJsonObject(tool)) return false;
    if (kind === 'custom') return tool.type === 'custom' && isJsonObject(tool.custom) && tool.custom.name === name;
    return (tool.type === undefined || tool.type === 'function') && isJsonObject(tool.function) && tool.function.name === name;
  });
  if (!offered) throw invalid('tool_choice', `Tool choice '${shownText(name)}' not found in 'tools' parameter.`);
}

/**
 * A function tool as OpenAI declares it, `{type: "function", function: {name, description?, parameters?}}` (a
 * type-less tool is read as one): an object whose `function` names it, its parameters (if any) a JSON Schema object.
 * Checked here for every provider, rather than reaching an adapter that takes a function without `function` for a
 * tool of some other kind.
 */
export function validateFunctionTool(tool: unknown, at: string): void {
  if (!isJsonObject(tool)) throw invalid(at, `'${at}' must be a tool: {"type": "function", "function": {"name": …}} or {"type": "custom", "custom": {"name": …}}`);
  if (tool.type !== undefined && tool.type !== 'function') return;
  if (!isJsonObject(tool.function)) throw invalid(`${at}.function`, `'${at}.function' is required for a function tool: {"name", "description"?, "parameters"?}`);
  if (typeof tool.function.name !== 'string' || tool.function.name === '') throw invalid(`${at}.function.name`, `'${at}.function.name' must be the function's name`);
  validateFunctionParameters(tool.function.parameters, `${at}.function.parameters`);
}

/**
 * A function's `parameters`, "described as a JSON Schema object" (https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools),
 * refused otherwise as OpenAI refuses it: a translating adapter would send Gemini the function without them and
 * Bedrock a schema that is a string. `null` is taken as not given, as every adapter takes it.
 */
export function validateFunctionParameters(parameters: unknown, at: string): void {
  if (parameters === undefined || parameters === null || isJsonObject(parameters)) return;
  throw invalid(at, `Invalid type for '${at}': expected a JSON Schema object, but got ${jsonTypeName(parameters)} instead.`, 'invalid_type');
}

/**
 * `tool_choice` and `parallel_tool_calls` with no tools to call, refused as OpenAI refuses them ("'tool_choice' is
 * only allowed when 'tools' are specified"): the adapters that translate them drop them along with the absent tools,
 * so `tool_choice: "required"` was answered with text. An empty `tools` offers none either.
 */
export function refuseToolSettingsWithoutTools(body: Record<string, unknown>): void {
  if (Array.isArray(body.tools) && body.tools.length > 0) return;
  for (const name of ['tool_choice', 'parallel_tool_calls'] as const) {
    if (body[name] !== undefined) throw invalid(name, `Invalid value for '${name}': '${name}' is only allowed when 'tools' are specified.`);
  }
}

/**
 * Tool calls and their results paired as OpenAI pairs them
 * (https://platform.openai.com/docs/guides/function-calling): each `tool` message answers a call of the assistant
 * message before its run of tool messages, and each call of an assistant message is answered in the run after it.
 * Refused otherwise, in OpenAI's words, before any provider is called: Anthropic and Gemini refuse in their own,
 * Bedrock and Mistral took an orphan result or an unanswered call.
 */
export function refuseUnpairedToolMessages(messages: readonly unknown[]): void {
  /** The calls of the assistant message whose run of tool messages this is, not answered yet; and its place. */
  let open = new Set<string>();
  let caller = -1;
  const closeRun = () => {
    if (open.size > 0) {
      throw invalid(`messages[${caller}].role`, `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].map(shownText).join(', ')}`);
    }
    caller = -1;
  };
  messages.forEach((message, i) => {
    if (!isJsonObject(message)) return;
    if (message.role === 'tool') {
      const id = message.tool_call_id;
      if (caller === -1 || typeof id !== 'string' || !open.delete(id)) {
        throw invalid(`messages[${i}].role`, "Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls'.");
      }
      return;
    }
    closeRun();
    if (message.role !== 'assistant' || !Array.isArray(message.tool_calls) || message.tool_calls.length === 0) return;
    open = new Set(message.tool_calls.flatMap((call: unknown) => (isJsonObject(call) && typeof call.id === 'string' ? [call.id] : [])));
    caller = i;
  });
  closeRun();
}
