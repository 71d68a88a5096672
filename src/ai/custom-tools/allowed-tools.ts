import type { ChatRequest, ToolChoice, ToolDefinition } from '../chat-types.js';
import { isJsonObject } from '../json-object.js';
import { AiError, invalidParam } from '../openai-error.js';

type Json = Record<string, unknown>;

/**
 * OpenAI's `allowed_tools` tool choice (https://platform.openai.com/docs/guides/function-calling#allowed-tools): the
 * model may call only these of the request's tools, `auto` (if it calls one) or `required` (it must). Clients send
 * every tool each turn and narrow them here, so that the tools, the start of the prompt, stay cached.
 */
export interface AllowedToolsChoice {
  type: 'allowed_tools';
  allowed_tools: { mode: 'auto' | 'required'; tools: Array<{ type: 'function'; function: { name: string } } | { type: 'custom'; custom: { name: string } }> };
}

export const isAllowedToolsChoice = (choice: unknown): choice is AllowedToolsChoice => isJsonObject(choice) && choice.type === 'allowed_tools';

/**
 * Checks an `allowed_tools` choice, for every provider: `mode` `auto` or `required`, and a non-empty list of tools, a
 * function's `{type: "function", function: {name}}` and a custom tool's `{type: "custom", custom: {name}}` each
 * naming one of `tools` of its kind (400 `invalid_value` otherwise, as every provider's caller sees it); an entry of
 * another type is left to the provider that gets it as it is (an OpenAI-compatible host) or to narrowToAllowedTools,
 * which refuses it. A 400 naming the member otherwise.
 */
export function validateAllowedTools(choice: AllowedToolsChoice, tools: unknown): void {
  const allowed = (choice as unknown as Json).allowed_tools;
  if (!isJsonObject(allowed)) throw invalidParam('tool_choice.allowed_tools', "'tool_choice.allowed_tools' is required for an allowed_tools choice: {mode, tools}");
  if (allowed.mode !== 'auto' && allowed.mode !== 'required') throw invalidParam('tool_choice.allowed_tools.mode', "'tool_choice.allowed_tools.mode' must be 'auto' or 'required'");
  if (!Array.isArray(allowed.tools) || allowed.tools.length === 0) throw invalidParam('tool_choice.allowed_tools.tools', "'tool_choice.allowed_tools.tools' must be a non-empty array of tools");
  const offered = new Set(Array.isArray(tools) ? tools.map(keyOf) : []);
  allowed.tools.forEach((tool: unknown, i) => {
    const at = `tool_choice.allowed_tools.tools[${i}]`;
    if (!isJsonObject(tool) || typeof tool.type !== 'string') throw invalidParam(at, `'${at}' must be a tool: {type: "function", function: {name}} or {type: "custom", custom: {name}}`);
    if (tool.type !== 'function' && tool.type !== 'custom') return;
    const spec = tool[tool.type];
    if (!isJsonObject(spec) || typeof spec.name !== 'string' || spec.name === '') throw invalidParam(`${at}.${tool.type}.name`, `'${at}.${tool.type}.name' must be the name of a tool`);
    if (!offered.has(keyOf(tool))) throw new AiError(400, 'invalid_request_error', 'invalid_value', `${at}: no ${tool.type} tool named '${spec.name}' is in 'tools'`, at);
  });
}

/** A tool's kind and name as an allowed_tools entry names it: `function:get_weather`, `custom:apply_patch`. */
function keyOf(tool: unknown): string | undefined {
  if (!isJsonObject(tool)) return undefined;
  const type = tool.type ?? 'function';
  const spec = type === 'custom' ? tool.custom : type === 'function' ? tool.function : undefined;
  return isJsonObject(spec) && typeof spec.name === 'string' ? `${String(type)}:${spec.name}` : undefined;
}

/**
 * The request as a provider without `allowed_tools` takes it: only the allowed tools, and the choice the mode
 * (`auto` or `required`). What the model may do is the same; what is lost is the provider's prompt cache across
 * turns that allow different tools, since the tools sent differ. The choice is checked again (validateAllowedTools),
 * and a kind of tool no translating adapter sends (a built-in tool) is a 400 `unsupported_parameter`.
 *
 * @example narrowToAllowedTools({ ...request, tools: [a, b], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'b' } }] } } }) // tools [b], tool_choice 'required'
 */
export function narrowToAllowedTools(request: ChatRequest, providerType: string): ChatRequest {
  const choice = request.tool_choice as unknown as AllowedToolsChoice;
  const tools: readonly ToolDefinition[] = request.tools ?? [];
  validateAllowedTools(choice, tools);
  const offered = new Map<string, ToolDefinition>();
  for (const tool of tools) {
    const key = keyOf(tool);
    if (key !== undefined) offered.set(key, tool);
  }
  const kept = new Set<ToolDefinition>();
  choice.allowed_tools.tools.forEach((entry, i) => {
    const at = `tool_choice.allowed_tools.tools[${i}]`;
    if (entry.type !== 'function' && entry.type !== 'custom') {
      throw new AiError(400, 'invalid_request_error', 'unsupported_parameter', `${at}: a "${String((entry as Json).type)}" tool, which the ${providerType} provider does not take: only function and custom tools are translated`, at);
    }
    kept.add(offered.get(keyOf(entry)!)!);
  });
  return { ...request, tools: tools.filter((tool) => kept.has(tool)), tool_choice: choice.allowed_tools.mode as ToolChoice };
}
