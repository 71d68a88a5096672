import { ANTHROPIC_BLOCKS, OPENAI_NAME, TOOL_RESULT_OF, type AnthropicBlock, type ChatMessage, type ChatRequest, type ContentPart, type CustomToolCall, type FilePart, type CustomToolDefinition, type ImagePart, type ResponseFormat, type ToolCall, type ToolChoice, type ToolDefinition } from '../chat-types.js';
import { refuseToolNameCollisions } from '../custom-tools/index.js';
import { isBase64DataUrl } from '../file-part.js';
import { isJsonObject, jsonTypeName } from '../json-object.js';
import { nestsTooDeep } from '../nesting-depth.js';
import { includesEncryptedReasoning, type EncryptedReasoning } from './encrypted-reasoning.js';
import { checkInclude } from './includable.js';
import { refuseUnknownItemMembers, refuseUnknownMembers } from './item-members.js';
import { ResponsesRequestError, type ResponsesErrorCode } from './responses-error.js';
import { itemId } from './chat-to-response.js';
import type { ResponseEcho, ResponsesAllowedTools, ResponsesCustomTool, ResponsesInputItem, ResponsesReasoning, ResponsesTextFormat, ResponsesTool, ResponsesToolChoice } from './wire-types.js';
import { shownText } from '../shown-text.js';

type Json = Record<string, unknown>;

/**
 * On a chat request translated from a Responses API request: what the Response echoes of it (instructions, tools,
 * text format…), which the chat request has no member for. A symbol, so JSON (a provider's body, the response
 * cache's key) leaves it out.
 */
export const RESPONSE_ECHO: unique symbol = Symbol('RESPONSE_ECHO');

/**
 * On a chat request translated from a Responses API request that is to be stored: its own input items (not the
 * continued response's, which the store keeps already), each with its id, as the stored Response keeps them. A
 * symbol, as RESPONSE_ECHO.
 */
export const RESPONSE_INPUT: unique symbol = Symbol('RESPONSE_INPUT');

/**
 * On a chat request translated from a Responses API request whose `include` asks for reasoning items'
 * `encrypted_content`: the answer shows it (a stored Response keeps it whatever the client asked). A symbol, as RESPONSE_ECHO.
 */
export const RESPONSE_INCLUDES_ENCRYPTED: unique symbol = Symbol('RESPONSE_INCLUDES_ENCRYPTED');

export interface ResponsesChatRequest extends ChatRequest {
  [RESPONSE_ECHO]: ResponseEcho;
  [RESPONSE_INPUT]?: ResponsesInputItem[];
  [RESPONSE_INCLUDES_ENCRYPTED]?: true;
}

/** Whether the client of a Responses API request asked to be shown reasoning items' `encrypted_content`. */
export const includesEncrypted = (request: ChatRequest): boolean => (request as Partial<ResponsesChatRequest>)[RESPONSE_INCLUDES_ENCRYPTED] === true;

/** The stored Response a request continues (`previous_response_id`): its id, and its chain's input and output items, the first turn's first. */
export interface PreviousResponse {
  id: string;
  items: readonly ResponsesInputItem[];
}

/** What a Response echoes when the request set nothing: OpenAI's defaults. */
const DEFAULT_ECHO: ResponseEcho = {
  instructions: null,
  max_output_tokens: null,
  metadata: {},
  parallel_tool_calls: true,
  reasoning: { effort: null, summary: null },
  temperature: null,
  text: { format: { type: 'text' } },
  tool_choice: 'auto',
  tools: [],
  top_p: null,
  user: null,
  store: false,
  previous_response_id: null,
};

/** The echo responsesToChat kept on `request`, or OpenAI's defaults for a request that came another way. */
export const responseEchoOf = (request: ChatRequest): ResponseEcho => (request as Partial<ResponsesChatRequest>)[RESPONSE_ECHO] ?? DEFAULT_ECHO;

function fail(param: string, message: string, code?: ResponsesErrorCode): never {
  throw new ResponsesRequestError(param, message, code);
}
/** OpenAI's wording for a field of the wrong type or value: "Invalid 'top_p': expected a number from 0 to 1." */
function invalid(param: string, expected: string): never {
  return fail(param, `Invalid '${param}': expected ${expected}.`);
}

function text(value: unknown, param: string): string {
  if (typeof value !== 'string') invalid(param, 'a string');
  return value;
}
const optionalText = (value: unknown, param: string): string | undefined => (value === undefined || value === null ? undefined : text(value, param));

function numberIn(value: unknown, param: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) invalid(param, `a number from ${min} to ${max}`);
  return value;
}
function boolean(value: unknown, param: string): boolean {
  if (typeof value !== 'boolean') invalid(param, 'a boolean');
  return value;
}

/** An `input_image` part (https://platform.openai.com/docs/guides/images-vision): a URL or a data: URL. */
function imagePart(part: Json, param: string): ImagePart {
  if (part.image_url === undefined || part.image_url === null) {
    if (part.file_id !== undefined && part.file_id !== null) fail(`${param}.file_id`, "Images by 'file_id' need OpenAI's Files API, which Keygate does not keep: send the image as 'image_url' (a URL or a base64 data: URL).", 'unsupported_parameter');
    invalid(`${param}.image_url`, 'a URL or a base64 data: URL');
  }
  const url = text(part.image_url, `${param}.image_url`);
  const detail = part.detail;
  if (detail !== undefined && detail !== null && !['auto', 'low', 'high', 'original'].includes(String(detail))) invalid(`${param}.detail`, "one of 'auto', 'low', 'high' or 'original'");
  // `original` (full resolution) is OpenAI's alone: other providers, and Chat Completions, know the other three.
  return { type: 'image_url', image_url: { url, ...(detail === 'auto' || detail === 'low' || detail === 'high' ? { detail } : {}) } };
}

/**
 * An `input_file` part (https://platform.openai.com/docs/guides/pdf-files) as Chat Completions' `file` part: its bytes
 * (`file_data`, a base64 data: URL) with its name, or a `file_id` (which only OpenAI's API can read: the other
 * adapters refuse it). A `file_url` the gateway would have to fetch is refused.
 */
function filePart(part: Json, param: string): FilePart {
  const given = (name: string) => part[name] !== undefined && part[name] !== null;
  if (given('file_url')) fail(`${param}.file_url`, "Files by 'file_url' are not fetched by Keygate: send the file's bytes as 'file_data' (a base64 data: URL).", 'unsupported_parameter');
  if (given('file_data') === given('file_id')) invalid(param, "one of 'file_data' and 'file_id'");
  const filename = given('filename') ? text(part.filename, `${param}.filename`) : undefined;
  // OpenAI refuses a file's bytes without their name; the other providers would be sent the same request.
  if (given('file_data') && !filename) invalid(`${param}.filename`, "the file's name, given with 'file_data'");
  const file: FilePart['file'] = given('file_data') ? { file_data: text(part.file_data, `${param}.file_data`) } : { file_id: text(part.file_id, `${param}.file_id`) };
  if (file.file_data !== undefined && !isBase64DataUrl(file.file_data)) invalid(`${param}.file_data`, 'a base64 data: URL, data:application/pdf;base64,…');
  return { type: 'file', file: { ...file, ...(filename !== undefined ? { filename } : {}) } };
}

/** A part of a user, system or developer message, or of a function call's output: text, or (where allowed) an image. */
function inputPart(part: unknown, param: string, images: boolean): ContentPart {
  if (!isJsonObject(part)) invalid(param, 'a content part object');
  if (part.type === 'input_text') return { type: 'text', text: text(part.text, `${param}.text`) };
  if (part.type === 'input_image' && images) return imagePart(part, param);
  if (part.type === 'input_file' && images) return filePart(part, param);
  return invalid(`${param}.type`, images ? "'input_text', 'input_image' or 'input_file'" : "'input_text'");
}

/** One text part a plain string, as every provider adapter reads it; otherwise the parts. */
function partsContent(parts: ContentPart[]): string | ContentPart[] {
  const only = parts[0];
  if (only === undefined) return '';
  return parts.length === 1 && only.type === 'text' ? only.text : parts;
}

/** A user message's content: text, or input_text and input_image parts. */
function userContent(content: unknown, param: string): string | ContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) invalid(param, 'a string or an array of content parts');
  return partsContent(content.map((part, i) => inputPart(part, `${param}[${i}]`, true)));
}

/** A system or developer message's content: text, its input_text parts joined as Keygate joins system blocks. */
function instructionContent(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) invalid(param, 'a string or an array of input_text parts');
  return content.map((part, i) => (inputPart(part, `${param}[${i}]`, false) as { text: string }).text).join('\n\n');
}

/** An assistant message's text: a string, or output_text (and refusal, or input_text) parts as one text. */
function assistantText(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) invalid(param, 'a string or an array of output_text parts');
  return content
    .map((part: unknown, i) => {
      const at = `${param}[${i}]`;
      if (!isJsonObject(part)) invalid(at, 'a content part object');
      if (part.type === 'output_text' || part.type === 'input_text') return text(part.text, `${at}.text`);
      if (part.type === 'refusal') return text(part.refusal, `${at}.refusal`);
      return invalid(`${at}.type`, "'output_text' or 'refusal'");
    })
    .join('');
}

/**
 * A `function_call` item (https://platform.openai.com/docs/guides/function-calling) as a tool call whose id is the
 * item's `call_id`; a Gemini call's thought signature (`extra_content.google.thought_signature`, which Keygate's
 * answers put there) goes with it, for Gemini to have back.
 */
function functionCall(item: Json, param: string): ToolCall {
  const id = text(item.call_id, `${param}.call_id`);
  const signature = isJsonObject(item.extra_content) && isJsonObject(item.extra_content.google) ? item.extra_content.google.thought_signature : undefined;
  if (signature !== undefined && typeof signature !== 'string') invalid(`${param}.extra_content.google.thought_signature`, 'a string');
  return { id, type: 'function', function: { name: text(item.name, `${param}.name`), arguments: text(item.arguments, `${param}.arguments`) }, ...(signature !== undefined ? { extra_content: { google: { thought_signature: signature } } } : {}) };
}

/** A `custom_tool_call` item (https://platform.openai.com/docs/guides/function-calling#custom-tools) as a custom call whose id is the item's `call_id`. */
function customToolCall(item: Json, param: string): CustomToolCall {
  const id = text(item.call_id, `${param}.call_id`);
  if (id === '') invalid(`${param}.call_id`, 'the id its output names, as a non-empty string');
  return { id, type: 'custom', custom: { name: text(item.name, `${param}.name`), input: text(item.input, `${param}.input`) } };
}

/**
 * A `function_call_output` (or `custom_tool_call_output`, the same but for its type) item as a tool message. Its output is text, or parts: their text, joined; the images
 * and files among them are returned for a user message after the tool messages, since tool messages carry text only,
 * each marked with the call it answers (TOOL_RESULT_OF).
 */
function functionCallOutput(item: Json, param: string): { message: ChatMessage; images: ContentPart[] } {
  const id = text(item.call_id, `${param}.call_id`);
  const output = item.output;
  if (typeof output === 'string') return { message: { role: 'tool', tool_call_id: id, content: output }, images: [] };
  if (!Array.isArray(output)) invalid(`${param}.output`, 'a string or an array of content parts');
  const parts = output.map((part, i) => inputPart(part, `${param}.output[${i}]`, true));
  const texts = parts.flatMap((part) => (part.type === 'text' ? [part.text] : []));
  return { message: { role: 'tool', tool_call_id: id, content: texts.join('\n') }, images: parts.flatMap((part) => (part.type !== 'text' ? [{ ...part, [TOOL_RESULT_OF]: id }] : [])) };
}

/**
 * The text of a `reasoning` item a client sent back: its reasoning text (`content`), else its summary. Its
 * `encrypted_content` is read apart (EncryptedReasoning), when Keygate sealed it.
 */
function reasoningText(item: Json, param: string): string {
  const pick = (parts: unknown, at: string, type: string): string[] => {
    if (parts === undefined || parts === null) return [];
    if (!Array.isArray(parts)) invalid(at, `an array of ${type} parts`);
    return parts.map((part: unknown, i) => text(isJsonObject(part) ? part.text : undefined, `${at}[${i}].text`));
  };
  const content = pick(item.content, `${param}.content`, 'reasoning_text');
  return (content.length > 0 ? content : pick(item.summary, `${param}.summary`, 'summary_text')).join('\n\n');
}

/** A call an assistant turn made: of a function, or of a custom tool. */
type TurnCall = ToolCall | CustomToolCall;

/** A part of an assistant turn, in the order its items came: what Claude's blocks are rebuilt from. */
type TurnPart = { text: string } | { call: TurnCall } | { thinking: AnthropicBlock[] };

/** The assistant's side of one turn, from consecutive output items a client sent back. */
interface AssistantTurn {
  texts: string[];
  calls: TurnCall[];
  reasoning: string[];
  parts: TurnPart[];
  /** Whether a reasoning item of the turn gave back thinking blocks Keygate sealed. */
  thought: boolean;
}

/**
 * A tool call's arguments as a tool_use block's input; undefined when they are not JSON, or nest too deep to be
 * written out again in the provider's body: the turn then goes as tool calls, whose arguments the adapter reads (and
 * refuses, nesting_too_deep) itself.
 */
function toolUseInput(args: string): unknown {
  if (args.trim() === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(args) as unknown;
  } catch {
    return undefined;
  }
  return nestsTooDeep(input) ? undefined : input;
}

/**
 * A turn's blocks as Claude wrote them: its thinking blocks (from its reasoning items' `encrypted_content`) where their
 * items were, a text block for each message, a tool_use block for each call
 * (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#preserving-thinking-blocks). Undefined when
 * a call's arguments are no JSON: the adapter refuses those as it does without thinking.
 */
function claudeBlocks(parts: readonly TurnPart[]): AnthropicBlock[] | undefined {
  const blocks: AnthropicBlock[] = [];
  for (const part of parts) {
    if ('thinking' in part) blocks.push(...part.thinking);
    else if ('text' in part) blocks.push({ type: 'text', text: part.text });
    else if (part.call.type === 'custom') {
      // Claude called the function the custom tool was sent as (customToolsAsFunctions): its input is that function's.
      blocks.push({ type: 'tool_use', id: part.call.id, name: part.call.custom.name, input: { input: part.call.custom.input } });
    } else {
      const input = toolUseInput(part.call.function.arguments);
      if (input === undefined) return undefined;
      blocks.push({ type: 'tool_use', id: part.call.id, name: part.call.function.name, input });
    }
  }
  return blocks;
}

function assistantMessage({ texts, calls, reasoning, parts, thought: signed }: AssistantTurn): ChatMessage {
  const message: ChatMessage = { role: 'assistant', content: texts.length > 0 ? texts.join('\n\n') : calls.length > 0 ? null : '' };
  // Custom calls ride in the unified request as OpenAI has them, until provider-call translates them for an
  // adapter that knows only function calls (custom-tools/).
  if (calls.length > 0) message.tool_calls = calls as ToolCall[];
  const thought = reasoning.filter((r) => r !== '').join('\n\n');
  if (thought !== '') message.reasoning_content = thought;
  const blocks = signed ? claudeBlocks(parts) : undefined;
  if (blocks) message[ANTHROPIC_BLOCKS] = blocks;
  return message;
}

/**
 * `input` (https://platform.openai.com/docs/api-reference/responses/create#responses-create-input) as chat messages.
 * A string is one user message. Items: messages keep their role; an answer's items sent back (an assistant message,
 * `function_call`s, `reasoning`), consecutive, are one assistant message with its text, tool calls and
 * `reasoning_content` (what DeepSeek-style hosts want back within a tool loop; a turn of reasoning alone is left
 * out) and, when a reasoning item's `encrypted_content` opens with `sealed`, Claude's blocks (ANTHROPIC_BLOCKS), so
 * that Claude gets its signed thinking back; one that does not open (OpenAI's, another gateway's) is left out. A
 * `custom_tool_call` is a custom call in the same turn; a `function_call_output` or `custom_tool_call_output` is a
 * tool message. Items that need OpenAI's state or built-in tools are refused.
 */
function inputMessages(input: readonly unknown[], continued: number, sealed: EncryptedReasoning | undefined): ChatMessage[] {
  const messages: ChatMessage[] = [];
  let turn: AssistantTurn | undefined;
  let images: ContentPart[] = [];
  const assistant = () => (turn ??= { texts: [], calls: [], reasoning: [], parts: [], thought: false });
  /** The assistant message each call went in, by the call's id: its output goes right after it (placed). */
  const callers = new Map<string, ChatMessage>();
  const endTurn = () => {
    if (turn && (turn.texts.length > 0 || turn.calls.length > 0)) {
      const message = assistantMessage(turn);
      for (const call of turn.calls) callers.set(call.id, message);
      messages.push(message);
    }
    turn = undefined;
  };
  /**
   * A tool message right after its call's turn and the tool messages already there: an output sent after a message
   * that followed its call would otherwise leave the turn's calls apart from their results, which every provider but
   * the lenient ones refuses.
   */
  const placed = (message: ChatMessage, media: ContentPart[]) => {
    const caller = callers.get(message.tool_call_id!);
    let at = caller ? messages.lastIndexOf(caller) + 1 : messages.length;
    while (messages[at]?.role === 'tool') at++;
    if (at === messages.length) {
      messages.push(message);
      return void images.push(...media);
    }
    messages.splice(at, 0, message);
    // Its images and files go after its run too, not after the message that came between.
    if (media.length === 0) return;
    let after = at + 1;
    while (messages[after]?.role === 'tool') after++;
    messages.splice(after, 0, { role: 'user', content: media });
  };
  // Images and files of function call outputs follow the run of tool messages: providers want those right after the calls.
  const endOutputs = () => {
    if (images.length > 0) messages.push({ role: 'user', content: images });
    images = [];
  };
  // Each call's id, and whether an output answered it: every output answers an earlier call, every call is answered.
  const calls = new Map<string, { kind: string; answered: boolean }>();
  input.forEach((item: unknown, i) => {
    // A continued response's items were checked when it was stored; the request's own are named as the client sent them.
    const param = i < continued ? 'previous_response_id' : `input[${i - continued}]`;
    if (!isJsonObject(item)) invalid(param, 'an input item object');
    // An easy input message (`{role, content}`) may leave its type out.
    const type = item.type ?? 'message';
    // A continued response's items were checked when stored (or before this check was): they must still continue.
    if (i >= continued) refuseUnknownItemMembers(item, type, param);
    if (type !== 'function_call_output' && type !== 'custom_tool_call_output') endOutputs();
    switch (type) {
      case 'message': {
        const { role, content } = item;
        if (role === 'assistant') {
          const said = assistantText(content, `${param}.content`);
          if (said === '') return;
          assistant().texts.push(said);
          return void assistant().parts.push({ text: said });
        }
        endTurn();
        if (role === 'user') return void messages.push({ role, content: userContent(content, `${param}.content`) });
        if (role === 'system' || role === 'developer') return void messages.push({ role, content: instructionContent(content, `${param}.content`) });
        return invalid(`${param}.role`, "one of 'user', 'system', 'developer' or 'assistant'");
      }
      case 'function_call':
      case 'custom_tool_call': {
        const call = type === 'function_call' ? functionCall(item, param) : customToolCall(item, param);
        calls.set(call.id, { kind: type === 'function_call' ? 'function' : 'custom tool', answered: false });
        assistant().calls.push(call);
        return void assistant().parts.push({ call });
      }
      case 'reasoning': {
        assistant().reasoning.push(reasoningText(item, param));
        const thinking = sealed?.open(item.encrypted_content);
        if (!thinking) return;
        assistant().thought = true;
        return void assistant().parts.push({ thinking });
      }
      case 'function_call_output':
      case 'custom_tool_call_output': {
        endTurn();
        const { message, images: more } = functionCallOutput(item, param);
        // OpenAI's refusal, word for word: each provider would refuse it in its own words, or send an orphan result.
        const answers = calls.get(message.tool_call_id!);
        if (!answers) fail('input', `No tool call found for ${type === 'function_call_output' ? 'function' : 'custom tool'} call output with call_id ${shownText(message.tool_call_id!)}.`);
        answers.answered = true;
        placed(message, more);
        return;
      }
      case 'item_reference':
        return fail(`${param}.type`, "Keygate does not look up stored items by reference: send the item itself in 'input', or continue its response with 'previous_response_id'.", 'item_reference_not_supported');
      default:
        return fail(`${param}.type`, `'${String(type)}' items belong to OpenAI's built-in tools, which are not available through this gateway; only messages, reasoning, function_call, function_call_output, custom_tool_call and custom_tool_call_output items are.`, 'unsupported_input_item');
    }
  });
  endTurn();
  endOutputs();
  for (const [id, { kind, answered }] of calls) if (!answered) fail('input', `No tool output found for ${kind} call ${shownText(id)}.`);
  return messages;
}

/** A custom tool's `format`: `text`, or a `grammar` with its `syntax` (`lark` or `regex`) and `definition`. */
function customFormatOf(format: unknown, param: string): ResponsesCustomTool['format'] {
  if (format === undefined || format === null) return undefined;
  if (!isJsonObject(format)) invalid(param, 'an object');
  if (format.type === 'text') return { type: 'text' };
  if (format.type !== 'grammar') invalid(`${param}.type`, "'text' or 'grammar'");
  if (format.syntax !== 'lark' && format.syntax !== 'regex') invalid(`${param}.syntax`, "'lark' or 'regex'");
  const definition = text(format.definition, `${param}.definition`);
  if (definition === '') invalid(`${param}.definition`, 'the grammar, as a non-empty string');
  return { type: 'grammar', syntax: format.syntax, definition };
}

/** A custom tool (https://platform.openai.com/docs/guides/function-calling#custom-tools), flat as the Responses API has it. */
function customToolOf(tool: Json, param: string): ResponsesCustomTool {
  const name = text(tool.name, `${param}.name`);
  // As Chat Completions checks it (validateCustomTool): a provider it is translated for gets a function of that name.
  if (!OPENAI_NAME.test(name)) invalid(`${param}.name`, '1 to 64 letters, digits, underscores or dashes');
  const description = optionalText(tool.description, `${param}.description`);
  const format = customFormatOf(tool.format, `${param}.format`);
  return { type: 'custom', name, ...(description !== undefined ? { description } : {}), ...(format ? { format } : {}) };
}

/**
 * `tools`: function and custom tools, in the Responses API's flat form (`{type: "function", name, description,
 * parameters, strict}`, `{type: "custom", name, description, format}`). OpenAI's built-in tools (web_search,
 * file_search, computer_use, code_interpreter, image_generation…) and MCP run at OpenAI, and are refused.
 */
function toolsOf(tools: unknown): ResponsesTool[] {
  if (!Array.isArray(tools)) invalid('tools', 'an array of tools');
  return tools.map((tool: unknown, i): ResponsesTool => {
    const param = `tools[${i}]`;
    if (!isJsonObject(tool)) invalid(param, 'a tool object');
    if (tool.type === 'custom') {
      refuseUnknownMembers(tool, CUSTOM_TOOL_MEMBERS, param);
      return customToolOf(tool, param);
    }
    if (tool.type !== 'function') {
      fail(`${param}.type`, `'${String(tool.type)}' tools are run by OpenAI itself (built-in and MCP tools), which Keygate cannot do over other providers; only function and custom tools are available through this gateway.`, 'unsupported_tool');
    }
    // A misspelt `paramters` would send the tool without its schema, and the model call it with anything.
    refuseUnknownMembers(tool, FUNCTION_TOOL_MEMBERS, param);
    const name = text(tool.name, `${param}.name`);
    const description = optionalText(tool.description, `${param}.description`);
    const parameters = tool.parameters ?? null;
    if (parameters !== null && !isJsonObject(parameters)) invalid(`${param}.parameters`, 'a JSON Schema object');
    const strict = tool.strict === undefined || tool.strict === null ? null : boolean(tool.strict, `${param}.strict`);
    return { type: 'function', name, ...(description !== undefined ? { description } : {}), parameters, strict };
  });
}

/** A custom tool as Chat Completions declares it: nested under `custom`, a grammar's syntax and definition under `grammar`. */
function chatCustomTool({ name, description, format }: ResponsesCustomTool): CustomToolDefinition {
  const chatFormat = format?.type === 'grammar' ? { type: 'grammar' as const, grammar: { syntax: format.syntax, definition: format.definition } } : format;
  return { type: 'custom', custom: { name, ...(description !== undefined ? { description } : {}), ...(chatFormat ? { format: chatFormat } : {}) } };
}

/**
 * A tool as Chat Completions declares it; a function's `strict` only when the client set it: the provider's default
 * otherwise. A custom tool rides in the unified request as OpenAI's, until provider-call translates it for an adapter
 * that knows only function tools (custom-tools/).
 */
function chatTool(tool: ResponsesTool): ToolDefinition {
  if (tool.type === 'custom') return chatCustomTool(tool) as unknown as ToolDefinition;
  const { name, description, parameters, strict } = tool;
  return { type: 'function', function: { name, ...(description ? { description } : {}), ...(parameters ? { parameters } : {}), ...(strict !== null ? { strict } : {}) } };
}

function toolChoiceOf(choice: unknown, tools: readonly ResponsesTool[]): ResponsesToolChoice {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isJsonObject(choice) && (choice.type === 'function' || choice.type === 'custom')) {
    const name = text(choice.name, 'tool_choice.name');
    // OpenAI's refusal, word for word: a provider would call another tool, or none.
    if (!tools.some((one) => one.type === choice.type && one.name === name)) fail('tool_choice', `Tool choice '${shownText(name)}' not found in 'tools' parameter.`);
    return { type: choice.type, name };
  }
  if (isJsonObject(choice) && choice.type === 'allowed_tools') return allowedToolsOf(choice, tools);
  return fail('tool_choice', `Invalid 'tool_choice': expected 'auto', 'none', 'required', {"type": "function", "name": …}, {"type": "custom", "name": …} or {"type": "allowed_tools", …}; OpenAI's built-in tools are not available through this gateway.`, 'unsupported_value');
}

/**
 * An `allowed_tools` choice (https://platform.openai.com/docs/guides/function-calling#allowed-tools) of function and
 * custom tools, each one of `tools` (of its kind), whatever the provider.
 */
function allowedToolsOf(choice: Record<string, unknown>, offered: readonly ResponsesTool[]): ResponsesAllowedTools {
  if (choice.mode !== 'auto' && choice.mode !== 'required') invalid('tool_choice.mode', "'auto' or 'required'");
  if (!Array.isArray(choice.tools) || choice.tools.length === 0) invalid('tool_choice.tools', 'a non-empty array of tools');
  const tools = choice.tools.map((tool: unknown, i) => {
    const at = `tool_choice.tools[${i}]`;
    if (!isJsonObject(tool) || (tool.type !== 'function' && tool.type !== 'custom')) {
      return fail(at, `Invalid '${at}': expected {"type": "function", "name": …} or {"type": "custom", "name": …}; OpenAI's built-in tools are not available through this gateway.`, 'unsupported_value');
    }
    const name = text(tool.name, `${at}.name`);
    if (!offered.some((one) => one.type === tool.type && one.name === name)) fail(at, `Invalid '${at}': no ${tool.type} tool named '${name}' is in 'tools'.`);
    return { type: tool.type, name } as const;
  });
  return { type: 'allowed_tools', mode: choice.mode, tools };
}

/** A tool choice as Chat Completions has it; a custom one (`{type: "custom", custom: {name}}`) rides as chatTool's tools do. */
function chatToolChoice(choice: ResponsesToolChoice): ToolChoice {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'allowed_tools') {
    const tools = choice.tools.map(({ type, name }) => (type === 'custom' ? { type, custom: { name } } : { type, function: { name } }));
    return { type: 'allowed_tools', allowed_tools: { mode: choice.mode, tools } } as unknown as ToolChoice;
  }
  if (choice.type === 'custom') return { type: 'custom', custom: { name: choice.name } } as unknown as ToolChoice;
  return { type: 'function', function: { name: choice.name } };
}

/**
 * `text.format` (https://platform.openai.com/docs/guides/structured-outputs?api-mode=responses): `text`, `json_object`,
 * or `json_schema` with its `name`, `schema`, `strict` and `description` flat on the format, as Chat Completions'
 * `response_format` has them under `json_schema`.
 */
function formatOf(format: unknown): { echo: ResponsesTextFormat; chat?: ResponseFormat } {
  if (!isJsonObject(format)) invalid('text.format', 'an object');
  if (format.type === 'text') return { echo: { type: 'text' } };
  if (format.type === 'json_object') return { echo: { type: 'json_object' }, chat: { type: 'json_object' } };
  if (format.type !== 'json_schema') invalid('text.format.type', "one of 'text', 'json_object' or 'json_schema'");
  if (format.name === undefined || format.name === null) fail('text.format.name', "Missing required parameter: 'text.format.name'.", 'missing_required_parameter');
  const name = text(format.name, 'text.format.name');
  if (!OPENAI_NAME.test(name)) invalid('text.format.name', '1 to 64 letters, digits, underscores or dashes');
  if (!isJsonObject(format.schema)) invalid('text.format.schema', 'a JSON Schema object');
  const strict = format.strict === undefined || format.strict === null ? undefined : boolean(format.strict, 'text.format.strict');
  const description = optionalText(format.description, 'text.format.description');
  const spec = { name, schema: format.schema, ...(strict !== undefined ? { strict } : {}), ...(description !== undefined ? { description } : {}) };
  return { echo: { type: 'json_schema', ...spec }, chat: { type: 'json_schema', json_schema: spec } };
}

const VERBOSITIES = ['low', 'medium', 'high'];
const SUMMARIES = ['auto', 'concise', 'detailed'];

/** `reasoning` (https://platform.openai.com/docs/guides/reasoning): its effort is Chat Completions' `reasoning_effort`. */
function reasoningOf(reasoning: unknown): ResponsesReasoning {
  if (!isJsonObject(reasoning)) invalid('reasoning', 'an object');
  const effort = optionalText(reasoning.effort, 'reasoning.effort');
  // OpenAI's efforts, or one an OpenAI-compatible host defines (as on Chat Completions): adapters that map it refuse others.
  if (effort === '') invalid('reasoning.effort', "one of 'none', 'minimal', 'low', 'medium', 'high' or 'xhigh'");
  // `generate_summary` is the deprecated name of `summary`.
  for (const name of ['summary', 'generate_summary']) {
    const value = reasoning[name];
    if (value !== undefined && value !== null && !SUMMARIES.includes(String(value))) invalid(`reasoning.${name}`, "one of 'auto', 'concise' or 'detailed'");
  }
  return { effort: effort ?? null, summary: ((reasoning.summary ?? reasoning.generate_summary) as string | undefined) ?? null };
}

/** `metadata`: at most 16 pairs, keys of at most 64 characters, string values of at most 512 (OpenAI's limits). */
function metadataOf(metadata: unknown): Record<string, string> {
  if (!isJsonObject(metadata)) invalid('metadata', 'an object of string values');
  const entries = Object.entries(metadata);
  if (entries.length > 16) invalid('metadata', 'at most 16 key-value pairs');
  for (const [key, value] of entries) {
    if (key.length > 64) invalid('metadata', 'keys of at most 64 characters');
    if (typeof value !== 'string' || value.length > 512) invalid(`metadata.${key}`, 'a string of at most 512 characters');
  }
  return metadata as Record<string, string>;
}

/**
 * The request members OpenAI's Responses API documents
 * (https://platform.openai.com/docs/api-reference/responses/create), each read, refused or accepted below. Another
 * is refused as OpenAI refuses it (`unknown_parameter`), not dropped: a misspelt `temprature` would otherwise change
 * nothing without a word.
 */
const REQUEST_MEMBERS = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'text', 'reasoning', 'max_output_tokens', 'temperature', 'top_p',
  'user', 'metadata', 'store', 'stream', 'stream_options', 'previous_response_id', 'include', 'truncation', 'prompt_cache_key',
  'prompt_cache_retention', 'service_tier', 'safety_identifier', 'top_logprobs', 'max_tool_calls', 'conversation', 'background', 'prompt',
  // Codex's own metadata of the client (its ResponsesApiRequest): accepted and not sent on, as the members above.
  'client_metadata',
]);
/** `defer_loading`: Codex's and the Agents SDK's mark of a tool found by tool search, accepted and not sent on. */
const FUNCTION_TOOL_MEMBERS = new Set(['type', 'name', 'description', 'parameters', 'strict', 'defer_loading']);
const CUSTOM_TOOL_MEMBERS = new Set(['type', 'name', 'description', 'format']);

/**
 * What needs state OpenAI keeps and Keygate does not: refused, with what to send instead. Keygate stores responses
 * (to continue with `previous_response_id`), but keeps no conversations and runs nothing in the background.
 */
function refuseStatefulFields(body: Json): void {
  if (body.conversation !== undefined) fail('conversation', "Keygate keeps no conversations: continue a stored response with 'previous_response_id', or send the whole conversation in 'input', instead of 'conversation'.", 'conversation_not_supported');
  if (body.background === true) fail('background', 'Keygate runs no response in the background to be fetched later: send the request without it (streamed, if it is long).', 'background_not_supported');
  if (body.prompt !== undefined) fail('prompt', "Stored prompt templates live at OpenAI: send the prompt's text in 'instructions' and 'input' instead of 'prompt'.", 'unsupported_parameter');
}

/**
 * A request's `previous_response_id` (https://platform.openai.com/docs/api-reference/responses/create#responses-create-previous_response_id):
 * the id of the stored Response it continues, undefined when it continues none.
 */
export function previousResponseIdOf(request: Record<string, unknown>): string | undefined {
  const id = request.previous_response_id;
  if (id === undefined || id === null) return undefined;
  // A stored Response's id is at most 64 characters (OpenAI's are 53).
  if (typeof id !== 'string' || id === '' || id.length > 64) invalid('previous_response_id', "a response id ('resp_…', at most 64 characters)");
  return id;
}

/**
 * An item sent twice, as OpenAI refuses it: in `input` and in the stored response `previous_response_id` continues
 * (a client appending a Response's `output` to its input and also continuing that Response), or twice in `input`.
 * Sent on, the model would see its own words and calls twice, and Anthropic refuses two tool calls of one id.
 */
function refuseRepeatedItems(continued: readonly unknown[], own: readonly unknown[]): void {
  const seen = new Set<string>();
  for (const item of continued) if (isJsonObject(item) && typeof item.id === 'string') seen.add(item.id);
  own.forEach((item, i) => {
    if (!isJsonObject(item) || typeof item.id !== 'string') return;
    if (seen.has(item.id)) fail(`input[${i}].id`, `Duplicate item found with id ${shownText(item.id)}. Remove duplicate items from your input and try again.`);
    seen.add(item.id);
  });
}

/** `input` as input items: a string is one user message. */
function inputItemsOf(input: unknown): unknown[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  if (!Array.isArray(input) || input.length === 0) invalid('input', 'a string or a non-empty array of input items');
  return input;
}

const ITEM_PREFIXES: Readonly<Record<string, 'msg' | 'fc' | 'fco' | 'ctc' | 'ctco' | 'rs'>> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  custom_tool_call: 'ctc',
  custom_tool_call_output: 'ctco',
  reasoning: 'rs',
};

/**
 * An input item (already checked by inputMessages) as a stored Response lists it
 * (https://platform.openai.com/docs/api-reference/responses/input-items/list): its members as sent, but for those
 * that are null; its own id, or a new one (`msg_…`, `fc_…`, `fco_…`, `ctc_…`, `ctco_…`, `rs_…`); `type: "message"` on an easy message,
 * whose text becomes one `input_text` part (`output_text` for the assistant's); `status: "completed"` where it had none.
 */
function storedItem(item: Json): ResponsesInputItem {
  const kept: Json = Object.fromEntries(Object.entries(item).filter(([, value]) => value !== null));
  const type = typeof kept.type === 'string' ? kept.type : 'message';
  if (type === 'message' && typeof kept.content === 'string') {
    kept.content = kept.role === 'assistant' ? [{ type: 'output_text', text: kept.content, annotations: [] }] : [{ type: 'input_text', text: kept.content }];
  }
  // A client's id is kept only if it is one (a non-empty string): an empty or a numeric id would make a list cursor
  // that matches nothing, or everything.
  const { id: given, ...rest } = kept;
  const id = typeof given === 'string' && given !== '' ? given : itemId(ITEM_PREFIXES[type] ?? 'msg');
  return { id, type, ...rest, ...(type !== 'reasoning' && kept.status === undefined ? { status: 'completed' } : {}) } as ResponsesInputItem;
}

/**
 * A Responses API request (https://platform.openai.com/docs/api-reference/responses/create) as the gateway's unified
 * chat request, for any provider. `instructions` is a leading system message, `input` the messages (see
 * inputMessages), function tools Chat Completions' tools, `text.format` `response_format`, `reasoning.effort`
 * `reasoning_effort`, `max_output_tokens` `max_completion_tokens`; `temperature`, `top_p`, `user`, `stream`,
 * `tool_choice` and `parallel_tool_calls` are Chat Completions' own. What the Response echoes is kept under
 * RESPONSE_ECHO. A request that continues a stored Response (`previous_response_id`, resolved by the caller into
 * `previous`) is sent its chain's input and output items before its own input; its instructions are not carried
 * over, as with OpenAI. Unless `store` is false, the request's own input items to keep with the answer are under
 * RESPONSE_INPUT. Reasoning items whose `encrypted_content` opens with `sealed` give Claude its thinking blocks back
 * (inputMessages); an `include` of `reasoning.encrypted_content` is RESPONSE_INCLUDES_ENCRYPTED, any value OpenAI
 * does not define a 400 (checkInclude). Function and custom tools are Chat Completions' own (a custom tool stays a
 * custom tool: provider-call translates it for providers that know only functions). Accepted and not
 * sent on: `metadata` (echoed), the rest of `include`, `truncation`, `text.verbosity`,
 * `prompt_cache_key` and OpenAI's other account settings; what needs state Keygate does not keep is refused
 * (refuseStatefulFields). `null` is "not given", as OpenAI takes it. A malformed field throws a
 * ResponsesRequestError naming it.
 *
 * @example responsesToChat({ model: 'gpt-4o-mini', instructions: 'Be brief.', input: 'Hello' })
 */
export function responsesToChat(request: Record<string, unknown>, previous?: PreviousResponse, sealed?: EncryptedReasoning): ResponsesChatRequest {
  if (!isJsonObject(request)) invalid('body', 'a JSON object');
  const body: Json = Object.fromEntries(Object.entries(request).filter(([, value]) => value !== null));
  if (body.model === undefined || body.model === '') fail('model', "Missing required parameter: 'model'.", 'missing_required_parameter');
  if (typeof body.model !== 'string') fail('model', `Invalid type for 'model': expected a string, but got ${jsonTypeName(body.model)} instead.`, 'invalid_type');
  refuseUnknownMembers(body, REQUEST_MEMBERS, '');
  refuseStatefulFields(body);
  const previousId = previousResponseIdOf(body);
  if (previousId !== previous?.id) throw new Error(`previous_response_id ${previousId ?? 'none'} was not resolved into the request's previous response`);
  if (body.input === undefined) fail('input', "Missing required parameter: 'input'.", 'missing_required_parameter');
  const echo: ResponseEcho = { ...DEFAULT_ECHO, metadata: {}, reasoning: { ...DEFAULT_ECHO.reasoning }, store: true, previous_response_id: previousId ?? null };
  const instructions = optionalText(body.instructions, 'instructions');
  const system: ChatMessage[] = instructions ? [{ role: 'system', content: instructions }] : [];
  const own = inputItemsOf(body.input);
  const continued = previous?.items ?? [];
  refuseRepeatedItems(continued, own);
  const chat: ResponsesChatRequest = { model: body.model, messages: [...system, ...inputMessages([...continued, ...own], continued.length, sealed)], [RESPONSE_ECHO]: echo };
  if (body.include !== undefined) checkInclude(body.include);
  if (includesEncryptedReasoning(body.include)) chat[RESPONSE_INCLUDES_ENCRYPTED] = true;
  if (instructions !== undefined) echo.instructions = instructions;
  if (body.stream !== undefined) chat.stream = boolean(body.stream, 'stream');
  if (body.store !== undefined) echo.store = boolean(body.store, 'store');
  if (echo.store) chat[RESPONSE_INPUT] = own.map((item) => storedItem(item as Json));
  if (body.max_output_tokens !== undefined) {
    // OpenAI's least (https://platform.openai.com/docs/api-reference/responses/create#responses-create-max_output_tokens);
    // sent as max_completion_tokens, which OpenAI's reasoning models require and every adapter reads.
    if (!Number.isInteger(body.max_output_tokens) || (body.max_output_tokens as number) < 16) invalid('max_output_tokens', 'an integer of at least 16');
    chat.max_completion_tokens = echo.max_output_tokens = body.max_output_tokens as number;
  }
  if (body.temperature !== undefined) chat.temperature = echo.temperature = numberIn(body.temperature, 'temperature', 0, 2);
  if (body.top_p !== undefined) chat.top_p = echo.top_p = numberIn(body.top_p, 'top_p', 0, 1);
  if (body.user !== undefined) chat.user = echo.user = text(body.user, 'user');
  if (body.metadata !== undefined) echo.metadata = metadataOf(body.metadata);
  if (body.tools !== undefined) echo.tools = toolsOf(body.tools);
  if (body.tool_choice !== undefined) echo.tool_choice = toolChoiceOf(body.tool_choice, echo.tools);
  if (body.parallel_tool_calls !== undefined) echo.parallel_tool_calls = boolean(body.parallel_tool_calls, 'parallel_tool_calls');
  // Chat Completions refuses tool_choice and parallel_tool_calls without tools: they go with tools only.
  if (echo.tools.length > 0) {
    chat.tools = echo.tools.map(chatTool);
    refuseToolNameCollisions(chat.tools, 'tools');
    if (body.tool_choice !== undefined) chat.tool_choice = chatToolChoice(echo.tool_choice);
    if (body.parallel_tool_calls !== undefined) chat.parallel_tool_calls = echo.parallel_tool_calls;
  }
  if (body.text !== undefined) {
    if (!isJsonObject(body.text)) invalid('text', 'an object');
    const { format, verbosity } = body.text;
    if (format !== undefined && format !== null) {
      const read = formatOf(format);
      echo.text = { format: read.echo };
      if (read.chat) chat.response_format = read.chat;
    }
    if (verbosity !== undefined && verbosity !== null) {
      if (!VERBOSITIES.includes(String(verbosity))) invalid('text.verbosity', "one of 'low', 'medium' or 'high'");
      echo.text = { ...echo.text, verbosity: verbosity as string };
    }
  }
  if (body.reasoning !== undefined) {
    echo.reasoning = reasoningOf(body.reasoning);
    if (echo.reasoning.effort !== null) chat.reasoning_effort = echo.reasoning.effort;
  }
  return chat;
}
