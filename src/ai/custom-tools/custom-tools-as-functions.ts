import type { ChatMessage, ChatRequest, ToolCall, ToolChoice, ToolDefinition } from '../chat-types.js';
import { isJsonObject } from '../json-object.js';
import { AiError } from '../openai-error.js';
import { isAllowedToolsChoice, narrowToAllowedTools } from './allowed-tools.js';

type Json = Record<string, unknown>;

/** A request as an adapter that knows only function tools can send it, and the names of the custom tools it had. */
export interface FunctionToolsRequest {
  request: ChatRequest;
  /** The custom tools' names: a function call to one of them is that custom tool's call (customCallsBack). */
  customNames: ReadonlySet<string>;
}

/** What a request holds that no adapter which translates tools can send: a 400 naming it, in the gateway's words. */
const unsupported = (param: string, what: string, providerType: string) =>
  new AiError(400, 'invalid_request_error', 'unsupported_parameter', `${param}: ${what}, which the ${providerType} provider does not take: only function and custom tools are translated`, param);

/** A tool's name, whatever its kind: `function.name` or `custom.name`. */
function toolName(tool: unknown): string | undefined {
  if (!isJsonObject(tool)) return undefined;
  const spec = tool.type === 'custom' ? tool.custom : tool.function;
  return isJsonObject(spec) && typeof spec.name === 'string' ? spec.name : undefined;
}

/**
 * Refuses tools that share a name across kinds (a function tool and a custom tool both named `apply_patch`): a call
 * names its tool only by name, so the gateway could not tell which one the model called, and which shape to answer
 * it in. 400 `invalid_value` on the later tool.
 *
 * @example refuseToolNameCollisions([{ type: 'function', function: { name: 'a' } }, { type: 'custom', custom: { name: 'a' } }], 'tools') // throws, param 'tools[1]'
 */
export function refuseToolNameCollisions(tools: unknown, param: string): void {
  if (!Array.isArray(tools)) return;
  const kinds = new Map<string, { kind: unknown; at: number }>();
  tools.forEach((tool: unknown, i) => {
    const name = toolName(tool);
    if (name === undefined) return;
    const kind = (tool as Json).type ?? 'function';
    const seen = kinds.get(name);
    if (seen && seen.kind !== kind) {
      throw new AiError(400, 'invalid_request_error', 'invalid_value', `${param}[${i}]: '${name}' names both a ${String(seen.kind)} tool (${param}[${seen.at}]) and a ${String(kind)} tool: give each tool its own name`, `${param}[${i}]`);
    }
    if (!seen) kinds.set(name, { kind, at: i });
  });
}

/**
 * What the function a custom tool becomes tells the model: the tool's own description, and for a grammar format
 * the grammar the input must follow, which only OpenAI enforces; another model is asked to follow it.
 */
function descriptionOf(custom: Json): string {
  const description = typeof custom.description === 'string' ? custom.description : '';
  const format = custom.format;
  if (!isJsonObject(format) || format.type !== 'grammar') return description;
  const grammar = isJsonObject(format.grammar) ? format.grammar : format;
  const syntax = grammar.syntax === 'regex' ? 'regular expression' : 'Lark grammar';
  const rule = `The input must be text that follows this ${syntax} exactly:\n${String(grammar.definition ?? '')}`;
  return description === '' ? rule : `${description}\n\n${rule}`;
}

/** A custom tool as a function of one required string, `input`: its free text (https://platform.openai.com/docs/guides/function-calling#custom-tools). */
function functionTool(custom: Json): ToolDefinition {
  const name = String(custom.name);
  return {
    type: 'function',
    function: {
      name,
      description: descriptionOf(custom),
      parameters: { type: 'object', properties: { input: { type: 'string', description: `The input of ${name}, as free text.` } }, required: ['input'] },
    },
  };
}

const isFunctionTool = (tool: unknown): boolean => isJsonObject(tool) && (tool.type === undefined || tool.type === 'function') && isJsonObject(tool.function);

function toolsOf(tools: readonly unknown[], providerType: string, customNames: Set<string>, passOthers: boolean): ToolDefinition[] {
  return tools.map((tool: unknown, i) => {
    if (isJsonObject(tool) && tool.type === 'custom' && isJsonObject(tool.custom) && typeof tool.custom.name === 'string') {
      customNames.add(tool.custom.name);
      return functionTool(tool.custom);
    }
    if (!isFunctionTool(tool) && !passOthers) throw unsupported(`tools[${i}]`, `a "${String((tool as { type?: unknown })?.type)}" tool`, providerType);
    return tool as ToolDefinition;
  });
}

/** A custom call in the history as the function call the provider would have made: arguments `{"input": …}`. */
function callsOf(calls: readonly unknown[], at: string, providerType: string, passOthers: boolean): ToolCall[] {
  return calls.map((call: unknown, j) => {
    if (isJsonObject(call) && call.type === 'custom' && isJsonObject(call.custom)) {
      const { name, input } = call.custom;
      return { id: String(call.id), type: 'function', function: { name: String(name), arguments: JSON.stringify({ input: String(input) }) } };
    }
    if (!isFunctionTool(call) && !passOthers) throw unsupported(`${at}.tool_calls[${j}]`, `a "${String((call as { type?: unknown })?.type)}" tool call`, providerType);
    return call as ToolCall;
  });
}

function toolChoiceOf(choice: unknown, providerType: string, passOthers: boolean): ToolChoice | undefined {
  if (!isJsonObject(choice)) return choice as ToolChoice | undefined;
  if (choice.type === 'custom' && isJsonObject(choice.custom) && typeof choice.custom.name === 'string') return { type: 'function', function: { name: choice.custom.name } };
  if (!isFunctionTool(choice) && !passOthers) throw unsupported('tool_choice', `a "${String(choice.type)}" tool choice`, providerType);
  // Sent on as it is (passOthers), an allowed_tools choice names its custom tools as the functions they went as.
  if (choice.type === 'allowed_tools' && isJsonObject(choice.allowed_tools) && Array.isArray(choice.allowed_tools.tools)) {
    const tools = choice.allowed_tools.tools.map((tool: unknown) => (isJsonObject(tool) && tool.type === 'custom' && isJsonObject(tool.custom) ? { type: 'function', function: { name: tool.custom.name } } : tool));
    return { ...choice, allowed_tools: { ...choice.allowed_tools, tools } } as unknown as ToolChoice;
  }
  return choice as ToolChoice;
}

/** The custom tools' names of a request that has none. */
export const NO_CUSTOM_TOOLS: ReadonlySet<string> = new Set();

const hasCustomCall = (message: ChatMessage): boolean => Array.isArray(message.tool_calls) && message.tool_calls.some((call: unknown) => !isFunctionTool(call));

/**
 * A request for an adapter that translates tools, which knows only function tools: each OpenAI custom tool
 * (`{type: "custom", custom: {name, description, format}}`) becomes a function of one required string, `input`, its
 * description the tool's (and the grammar of a grammar format, which the model is asked to follow); a custom call in
 * the history a function call with arguments `{"input": …}`; a custom tool choice that function's; an `allowed_tools`
 * choice the tools it allows, and its mode (narrowToAllowedTools). Other kinds of tool or call are refused with a
 * 400, or, with `passOthers` (an OpenAI-compatible host, which may know them, and `allowed_tools`), sent as they are
 * for the host to decide. Undefined when it has nothing to translate: the request goes as it is, and nothing is made
 * for it.
 *
 * @example customToolsAsFunctions({ model: 'claude', messages, tools: [{ type: 'custom', custom: { name: 'apply_patch' } }] }, 'anthropic').customNames // Set { 'apply_patch' }
 */
export function customToolsAsFunctions(asked: ChatRequest, providerType: string, passOthers = false): FunctionToolsRequest | undefined {
  // An allowed_tools choice goes on as it is to a host that may know it; the others get the tools it allows.
  const narrowed = !passOthers && isAllowedToolsChoice(asked.tool_choice);
  const request = narrowed ? narrowToAllowedTools(asked, providerType) : asked;
  const tools: readonly unknown[] = request.tools ?? [];
  const plain = tools.every(isFunctionTool) && !(isJsonObject(request.tool_choice) && !isFunctionTool(request.tool_choice)) && !request.messages.some(hasCustomCall);
  if (plain) return narrowed ? { request, customNames: NO_CUSTOM_TOOLS } : undefined;
  const customNames = new Set<string>();
  refuseToolNameCollisions(tools, 'tools');
  const translated: ChatRequest = { ...request, messages: request.messages.map((message, i) => (hasCustomCall(message) ? { ...message, tool_calls: callsOf(message.tool_calls!, `messages[${i}]`, providerType, passOthers) } : message)) };
  if (request.tools !== undefined) translated.tools = toolsOf(tools, providerType, customNames, passOthers);
  if (request.tool_choice !== undefined) translated.tool_choice = toolChoiceOf(request.tool_choice, providerType, passOthers);
  return { request: translated, customNames };
}
