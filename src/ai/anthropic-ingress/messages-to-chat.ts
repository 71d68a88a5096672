import { ANTHROPIC_BLOCKS, CACHE_CONTROL, CACHE_MARKED, OUTPUT_CONFIG, THINKING, TOOL_ERROR, TOOL_ERROR_PREFIX, TOOL_RESULT_OF, UNTITLED, CITATIONS, DOCUMENT_CONTEXT, type FilePart, type AnthropicBlock, type CacheControl, type ChatMessage, type ChatRequest, type ContentPart, type ImagePart, type TextPart, type ToolCall, type ToolChoice, type ToolDefinition } from '../chat-types.js';
import { isBase64 } from '../file-part.js';
import { isJsonObject } from '../json-object.js';
import { AnthropicRequestError } from './anthropic-error.js';
import { isKeygateSignature, keygateReasoningOf } from './keygate-thinking.js';
import type { AnthropicMessagesRequest } from './wire-types.js';
import { shownText } from '../shown-text.js';

type Json = Record<string, unknown>;

function fail(param: string, message: string): never {
  throw new AnthropicRequestError(param, message);
}
function unsupported(param: string, message: string): never {
  throw new AnthropicRequestError(param, message, 'unsupported_parameter');
}

function text(value: unknown, param: string): string {
  if (typeof value !== 'string') fail(param, 'must be a string');
  return value;
}

/**
 * How many breakpoints withCacheControl has read, ever: messagesToChat, which runs without a pause, tells a request
 * that has some by this count's change, and marks it (CACHE_MARKED).
 */
let breakpointsRead = 0;

/** How many documents asking for citations documentParts has read, ever: messagesToChat marks a request that has some (CITATIONS), as breakpointsRead. */
let citedDocuments = 0;

/**
 * What a block becomes, with the block's `cache_control` (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching)
 * under CACHE_CONTROL, for the Anthropic adapter to send on as it came. `param` is the block's own.
 */
function withCacheControl<T extends CacheControl>(target: T, block: Json, param: string): T {
  const control = block.cache_control;
  if (control === undefined || control === null) return target;
  if (!isJsonObject(control)) fail(param === '' ? 'cache_control' : `${param}.cache_control`, 'must be an object');
  target[CACHE_CONTROL] = control;
  breakpointsRead++;
  return target;
}

const hasCacheControl = (part: CacheControl) => CACHE_CONTROL in part;

/** Image sources (https://docs.anthropic.com/en/docs/build-with-claude/vision): base64 data becomes a data: URL. */
function imagePart(block: Json, param: string): ImagePart {
  const source = block.source;
  if (!isJsonObject(source)) fail(`${param}.source`, 'must be an object');
  if (source.type === 'base64') {
    const mediaType = text(source.media_type, `${param}.source.media_type`);
    const data = text(source.data, `${param}.source.data`);
    return { type: 'image_url', image_url: { url: `data:${mediaType};base64,${data}` } };
  }
  if (source.type === 'url') return { type: 'image_url', image_url: { url: text(source.url, `${param}.source.url`) } };
  return unsupported(`${param}.source.type`, 'must be "base64" or "url"; file sources are not available through this gateway');
}

/**
 * A document block (https://docs.anthropic.com/en/docs/build-with-claude/pdf-support) as OpenAI content parts: a PDF
 * (a base64 source) a `file` part named by the document's title (`document.pdf`, UNTITLED, without one), which the Anthropic, Bedrock and Gemini adapters
 * send as their own documents and OpenAI-format providers take as it is; a plain-text source its text, under its
 * title. Its `context` is a text part before it (marked DOCUMENT_CONTEXT when the document stays a file part). One that asks for citations (`citations: {enabled: true}`, which only
 * Anthropic writes) is a `file` part marked CITATIONS, a plain-text one too (`data:text/plain`), for the Anthropic
 * adapter alone: citedDocuments counts them, for messagesToChat to mark the request. Sources the gateway would have
 * to fetch (`url`, `file`) are refused.
 */
function documentParts(block: Json, param: string): ContentPart[] {
  const source = block.source;
  if (!isJsonObject(source)) fail(`${param}.source`, 'must be an object');
  // An empty title is none: OpenAI refuses a file named "".
  const title = block.title === undefined || block.title === null ? undefined : text(block.title, `${param}.title`) || undefined;
  const context = block.context === undefined || block.context === null ? undefined : text(block.context, `${param}.context`);
  const citations = block.citations;
  if (citations !== undefined && citations !== null && !(isJsonObject(citations) && (citations.enabled === undefined || typeof citations.enabled === 'boolean'))) fail(`${param}.citations`, 'must be an object with a boolean enabled');
  const cited = isJsonObject(citations) && citations.enabled === true;
  if (cited) citedDocuments++;
  // OpenAI refuses a file's bytes without a name: a document without a title is given one, marked as not the client's.
  const file = (data: string, name: string): FilePart => ({ type: 'file', file: { file_data: data, filename: title ?? name }, ...(title === undefined ? { [UNTITLED]: true as const } : {}), ...(cited ? { [CITATIONS]: true as const } : {}) });
  let document: ContentPart;
  if (source.type === 'base64') {
    if (source.media_type !== 'application/pdf') fail(`${param}.source.media_type`, 'must be "application/pdf" for a base64 document source');
    const data = text(source.data, `${param}.source.data`);
    if (!isBase64(data)) fail(`${param}.source.data`, 'must be the PDF in base64');
    document = file(`data:application/pdf;base64,${data}`, 'document.pdf');
  } else if (source.type === 'text') {
    if (source.media_type !== 'text/plain') fail(`${param}.source.media_type`, 'must be "text/plain" for a text document source');
    const body = text(source.data, `${param}.source.data`);
    if (body === '') fail(`${param}.source.data`, 'must not be empty');
    document = cited ? file(`data:text/plain;base64,${Buffer.from(body, 'utf8').toString('base64')}`, 'document.txt') : { type: 'text', text: title !== undefined ? `${title}\n\n${body}` : body };
  } else unsupported(`${param}.source.type`, 'must be "base64" (a PDF) or "text"; url, content and file sources are not available through this gateway');
  // A document's context is text before it, marked as its context (DOCUMENT_CONTEXT) where it stays a document.
  const before: TextPart[] = context !== undefined && context !== '' ? [{ type: 'text', text: context, ...(document.type === 'file' ? { [DOCUMENT_CONTEXT]: true as const } : {}) }] : [];
  return [...before, withCacheControl(document, block, param)];
}

/** The text and image blocks of a system prompt, user turn or tool result (and documents, with images), as OpenAI content parts. */
function contentParts(block: unknown, param: string, allowImages: boolean): ContentPart[] {
  if (!isJsonObject(block)) fail(param, 'must be a content block object');
  if (block.type === 'text') return [withCacheControl<TextPart>({ type: 'text', text: text(block.text, `${param}.text`) }, block, param)];
  if (block.type === 'image' && allowImages) return [withCacheControl(imagePart(block, param), block, param)];
  if (block.type === 'document' && allowImages) return documentParts(block, param);
  return unsupported(`${param}.type`, `"${String(block.type)}" blocks are not accepted here`);
}

/** A block that can only be text (a system prompt's, an assistant turn's), as a text part. */
const textPart = (block: unknown, param: string): TextPart => contentParts(block, param, false)[0] as TextPart;

/**
 * No parts an empty string and one text part a plain string, several an array: what every provider adapter reads.
 * A part with a cache breakpoint stays a part, where the breakpoint is kept.
 */
function partsContent(parts: ContentPart[]): string | ContentPart[] {
  const only = parts[0];
  if (only === undefined) return '';
  return parts.length === 1 && only.type === 'text' && !hasCacheControl(only) ? only.text : parts;
}

/** Text parts as one text, joined by `separator`; or kept apart when one has a cache breakpoint, which needs its place. */
function textContent(parts: TextPart[], separator: string): string | TextPart[] {
  return parts.some(hasCacheControl) ? parts : parts.map((part) => part.text).join(separator);
}

/**
 * A `tool_result` block (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use) as an
 * OpenAI tool message. OpenAI tool messages carry text only, so images and documents in the result are returned for
 * the user message that follows, each marked with the call it answers (TOOL_RESULT_OF); an error result says so in its text (its first block's), OpenAI having no flag for it, and
 * is marked TOOL_ERROR for the Anthropic adapter, which sends the flag on.
 */
function toolResult(block: Json, param: string): { message: ChatMessage; images: ContentPart[] } {
  const id = text(block.tool_use_id, `${param}.tool_use_id`);
  const content = block.content ?? '';
  const parts: ContentPart[] = typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content.flatMap((b, i) => contentParts(b, `${param}.content.${i}`, true)) : fail(`${param}.content`, 'must be a string or an array of content blocks');
  const texts = parts.filter((p): p is TextPart => p.type === 'text');
  const images = parts.flatMap((p) => (p.type !== 'text' ? [{ ...p, [TOOL_RESULT_OF]: id }] : []));
  if (block.is_error !== undefined && typeof block.is_error !== 'boolean') fail(`${param}.is_error`, 'must be a boolean');
  const [first = { type: 'text', text: '' }, ...more] = texts;
  const failed = block.is_error === true;
  const result = textContent(failed ? [{ ...first, text: `${TOOL_ERROR_PREFIX}${first.text}` }, ...more] : texts, '\n');
  return { message: withCacheControl<ChatMessage>({ role: 'tool', tool_call_id: id, content: result, ...(failed ? { [TOOL_ERROR]: true as const } : {}) }, block, param), images };
}

function toolCall(block: Json, param: string): ToolCall {
  const id = text(block.id, `${param}.id`);
  const name = text(block.name, `${param}.name`);
  if (block.input !== undefined && !isJsonObject(block.input)) fail(`${param}.input`, 'must be an object');
  return withCacheControl<ToolCall>({ id, type: 'function', function: { name, arguments: JSON.stringify(block.input ?? {}) } }, block, param);
}

const isThinking = (block: unknown) => isJsonObject(block) && (block.type === 'thinking' || block.type === 'redacted_thinking');

/**
 * A user turn: its tool results first, as tool messages (OpenAI wants them right after the assistant's tool
 * calls, as Anthropic wants them first in the turn), then its text and images, with any tool result images,
 * as one user message.
 */
function userTurn(content: unknown[], param: string): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  content.forEach((block, i) => {
    const where = `${param}.${i}`;
    if (isJsonObject(block) && block.type === 'tool_result') {
      const { message, images } = toolResult(block, where);
      tools.push(message);
      parts.push(...images);
    } else parts.push(...contentParts(block, where, true));
  });
  return parts.length > 0 || tools.length === 0 ? [...tools, { role: 'user', content: partsContent(parts) }] : tools;
}

/**
 * An assistant turn: text blocks become the content, `tool_use` blocks the tool calls. Thinking blocks Keygate wrote
 * for another provider (isKeygateSignature) become the turn's `reasoning_content`, which OpenAI-compatible hosts take
 * back (DeepSeek requires it within a tool-use loop), and never reach Anthropic, which would refuse their signature.
 * Other thinking blocks are Anthropic's own: a turn that holds any keeps its blocks as they came, Keygate's left out,
 * under ANTHROPIC_BLOCKS, which only the Anthropic adapter reads (Anthropic wants them back unchanged, in their
 * place, to use tools with thinking).
 */
function assistantTurn(content: unknown[], param: string): ChatMessage {
  const texts: TextPart[] = [];
  const calls: ToolCall[] = [];
  const reasoning: string[] = [];
  const blocks: AnthropicBlock[] = [];
  let thinking = false;
  content.forEach((block, i) => {
    const where = `${param}.${i}`;
    if (isJsonObject(block) && block.type === 'thinking' && isKeygateSignature(block.signature)) {
      reasoning.push(keygateReasoningOf(text(block.thinking, `${where}.thinking`), block.signature));
      return;
    }
    blocks.push(block as AnthropicBlock);
    if (isThinking(block)) thinking = true;
    else if (isJsonObject(block) && block.type === 'tool_use') calls.push(toolCall(block, where));
    else texts.push(textPart(block, where));
  });
  const message: ChatMessage = { role: 'assistant', content: texts.length > 0 ? textContent(texts, '') : calls.length > 0 ? null : '', ...(calls.length > 0 ? { tool_calls: calls } : {}) };
  if (reasoning.length > 0) message.reasoning_content = reasoning.join('');
  if (thinking) message[ANTHROPIC_BLOCKS] = blocks;
  return message;
}

/**
 * `thinking` (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking): an object whose `type` is
 * `enabled` (with `budget_tokens`), `disabled` or `adaptive`, and whose `display` (`summarized` or `omitted`, how
 * thinking blocks come back), if any, is text. Its limits (a budget of at least 1024, below `max_tokens`) are the
 * model's, and Anthropic says them; so are the displays a model takes.
 */
function thinkingOf(thinking: unknown): Record<string, unknown> {
  if (!isJsonObject(thinking)) fail('thinking', 'must be an object');
  if (thinking.type === 'enabled') {
    if (!Number.isInteger(thinking.budget_tokens) || (thinking.budget_tokens as number) < 1) fail('thinking.budget_tokens', 'is required and must be a positive integer');
  } else if (thinking.type !== 'disabled' && thinking.type !== 'adaptive') fail('thinking.type', 'must be "enabled", "disabled" or "adaptive"');
  if (thinking.display !== undefined && typeof thinking.display !== 'string') fail('thinking.display', 'must be "summarized" or "omitted"');
  return thinking;
}

/** Anthropic's efforts (https://docs.anthropic.com/en/docs/build-with-claude/effort), least first. */
const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'];

/**
 * `output_config` as it came, for an Anthropic provider (OUTPUT_CONFIG): its `effort`, and its `format` (structured
 * output, `{type: "json_schema", schema}`), which other providers get as OpenAI's `response_format`.
 */
function outputConfigOf(config: unknown, chat: ChatRequest): void {
  if (config === null) return;
  if (!isJsonObject(config)) fail('output_config', 'must be an object');
  const { effort, format } = config;
  const kept: { effort?: string; format?: Record<string, unknown> } = {};
  if (effort !== undefined && effort !== null) {
    if (typeof effort !== 'string' || !EFFORTS.includes(effort)) fail('output_config.effort', `must be one of ${EFFORTS.join(', ')}`);
    kept.effort = effort;
  }
  if (format !== undefined && format !== null) {
    if (!isJsonObject(format) || format.type !== 'json_schema' || !isJsonObject(format.schema)) fail('output_config.format', 'must be {"type": "json_schema", "schema": {…}}');
    kept.format = format;
    chat.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema } };
  }
  if (kept.effort !== undefined || kept.format !== undefined) chat[OUTPUT_CONFIG] = kept;
}

/**
 * A system prompt as system messages: one, its blocks' text joined; or, when a block has a cache breakpoint, one
 * a block, so that every provider keeps the blocks apart and the Anthropic adapter can send each as it came.
 */
function systemMessages(system: unknown, param: string): ChatMessage[] {
  if (typeof system === 'string') return system === '' ? [] : [{ role: 'system', content: system }];
  if (!Array.isArray(system)) fail(param, 'must be a string or an array of text blocks');
  const blocks = system.map((block, i) => textPart(block, `${param}.${i}`));
  const prompt = textContent(blocks, '\n\n');
  if (typeof prompt === 'string') return prompt === '' ? [] : [{ role: 'system', content: prompt }];
  return prompt.filter((block) => block.text !== '').map((block) => ({ role: 'system', content: [block] }));
}

function messagesOf(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) fail('messages', 'must be a non-empty array of messages');
  const last = messages.length - 1;
  const chat = messages.flatMap((message: unknown, i) => turnOf(message, i, last));
  // Once each block was checked, which names a malformed one more exactly.
  refuseUnpairedToolUse(messages);
  // Consecutive messages of one role are one turn, as Anthropic combines them: its calls in one assistant message, its
  // results first in one run, as every provider wants them. Translated again, once every block was checked as sent.
  const combined = combinedTurns(messages);
  return combined === messages ? chat : combined.flatMap((message, i) => turnOf(message, i, combined.length - 1));
}

/** One message of `messages` (its place `i`, the last's `last`) as chat messages. */
function turnOf(message: unknown, i: number, last: number): ChatMessage[] {
  const param = `messages.${i}`;
  if (!isJsonObject(message)) fail(param, 'must be a message object');
  const { role, content } = message;
  if (role !== 'user' && role !== 'assistant' && role !== 'system') fail(`${param}.role`, 'must be "user" or "assistant"');
  if (role === 'system') return systemMessages(content, `${param}.content`);
  // As Anthropic refuses them: an empty turn dropped on the way (as most adapters drop empty content) would leave the
  // assistant's turn before it last, which a model reads as a reply to continue rather than one to answer.
  if ((content === '' || (Array.isArray(content) && content.length === 0)) && !(role === 'assistant' && i === last)) fail(param, 'all messages must have non-empty content except for the optional final assistant message');
  if (typeof content === 'string') return [{ role, content }];
  if (!Array.isArray(content)) fail(`${param}.content`, 'must be a string or an array of content blocks');
  content.forEach((block: unknown, j) => {
    if (isJsonObject(block) && block.type === 'text' && block.text === '') fail(`${param}.content.${j}.text`, 'text content blocks must be non-empty');
    if (isJsonObject(block) && block.type === 'text' && typeof block.text === 'string' && block.text.trim() === '') fail(`${param}.content.${j}.text`, 'text content blocks must contain non-whitespace text');
  });
  return role === 'user' ? userTurn(content, `${param}.content`) : [assistantTurn(content, `${param}.content`)];
}

/** The messages with each run of one role (user or assistant) as one message of their blocks; `messages` itself when there is none. */
function combinedTurns(messages: readonly unknown[]): readonly unknown[] {
  const blocksOf = (content: unknown): unknown[] => (typeof content === 'string' ? (content === '' ? [] : [{ type: 'text', text: content }]) : (content as unknown[]));
  const out: unknown[] = [];
  for (const message of messages) {
    const before = out.at(-1);
    if (isJsonObject(message) && (message.role === 'user' || message.role === 'assistant') && isJsonObject(before) && before.role === message.role) {
      out[out.length - 1] = { ...before, content: [...blocksOf(before.content), ...blocksOf(message.content)] };
    } else out.push(message);
  }
  return out.length === messages.length ? messages : out;
}

/**
 * `tool_use` and `tool_result` blocks paired as Anthropic pairs them
 * (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use): each `tool_use` of an assistant
 * turn answered by a `tool_result` in the user turn right after it, and each `tool_result` answering a `tool_use` of
 * the turn right before; consecutive messages of one role are one turn, as Anthropic combines them (a client may send
 * each result of parallel calls in a message of its own). Refused otherwise, in Anthropic's words, before any
 * provider is called: another would refuse in its own, or take an orphan result. A last assistant turn's calls may
 * stand unanswered.
 */
function refuseUnpairedToolUse(messages: readonly unknown[]): void {
  const turns: Array<{ role: 'user' | 'assistant'; first: number; calls: string[]; results: Array<{ id: unknown; at: string }> }> = [];
  messages.forEach((message, i) => {
    if (!isJsonObject(message) || (message.role !== 'user' && message.role !== 'assistant')) return;
    let turn = turns.at(-1);
    if (turn?.role !== message.role) turns.push((turn = { role: message.role, first: i, calls: [], results: [] }));
    (Array.isArray(message.content) ? message.content : []).forEach((block: unknown, j) => {
      if (!isJsonObject(block)) return;
      if (message.role === 'assistant' && block.type === 'tool_use' && typeof block.id === 'string') turn.calls.push(block.id);
      if (message.role === 'user' && block.type === 'tool_result') turn.results.push({ id: block.tool_use_id, at: `messages.${i}.content.${j}` });
    });
  });
  turns.forEach((turn, k) => {
    if (turn.role === 'user') {
      const asked = turns[k - 1]?.calls ?? [];
      const orphan = turn.results.find((result) => !asked.includes(result.id as string));
      if (orphan) fail(orphan.at, `unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${shownText(String(orphan.id))}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`);
      return;
    }
    const next = turns[k + 1];
    if (!next) return;
    const missing = turn.calls.filter((id) => !next.results.some((result) => result.id === id));
    if (missing.length > 0) fail(`messages.${turn.first}`, `\`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.map(shownText).join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`);
  });
}

/** Client tools (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/overview) as OpenAI function tools. */
function toolsOf(tools: unknown): ToolDefinition[] {
  if (!Array.isArray(tools)) fail('tools', 'must be an array of tools');
  return tools.map((tool: unknown, i): ToolDefinition => {
    const param = `tools.${i}`;
    if (!isJsonObject(tool)) fail(param, 'must be a tool object');
    if (tool.type !== undefined && tool.type !== 'custom') unsupported(`${param}.type`, `"${String(tool.type)}" is one of Anthropic's server tools, which are not available through this gateway`);
    const name = text(tool.name, `${param}.name`);
    if (!isJsonObject(tool.input_schema)) fail(`${param}.input_schema`, 'must be a JSON Schema object');
    if (tool.description !== undefined) text(tool.description, `${param}.description`);
    return withCacheControl<ToolDefinition>({ type: 'function', function: { name, ...(tool.description ? { description: tool.description as string } : {}), parameters: tool.input_schema } }, tool, param);
  });
}

function toolChoiceOf(choice: unknown): { tool_choice: ToolChoice; parallel_tool_calls?: false } {
  if (!isJsonObject(choice)) fail('tool_choice', 'must be an object');
  const single = choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false as const } : {};
  switch (choice.type) {
    case 'auto':
      return { tool_choice: 'auto', ...single };
    case 'any':
      return { tool_choice: 'required', ...single };
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      return { tool_choice: { type: 'function', function: { name: text(choice.name, 'tool_choice.name') } }, ...single };
    default:
      return fail('tool_choice.type', 'must be "auto", "any", "tool" or "none"');
  }
}

function numberIn(value: unknown, param: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) fail(param, `must be a number from ${min} to ${max}`);
  return value;
}

/**
 * A Messages API request (https://docs.anthropic.com/en/api/messages) as the gateway's unified chat request, for any
 * provider. The body is validated as it arrives from the client: a field the gateway cannot read throws an
 * AnthropicRequestError naming it. `system` becomes a leading system message (one per block when blocks carry cache
 * breakpoints), `tool_use` blocks tool calls, `tool_result` blocks tool messages, `tool_choice` any/tool OpenAI's
 * required/function, `stop_sequences` `stop` and `metadata.user_id` `user`. `top_k` is kept for the providers that take it; `thinking` and
 * `output_config` are kept under THINKING and OUTPUT_CONFIG, which the Anthropic adapter sends as they came and the
 * other adapters read in their own terms (providers/client-thinking.ts); Anthropic's thinking blocks of earlier turns
 * under ANTHROPIC_BLOCKS, for the Anthropic adapter only; the thinking blocks Keygate wrote for other providers as
 * the turn's `reasoning_content`.
 *
 * @example messagesToChat({ model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'Hello' }] })
 */
export function messagesToChat(request: AnthropicMessagesRequest | Record<string, unknown>): ChatRequest {
  const body: Json = isJsonObject(request) ? request : fail('body', 'must be a JSON object');
  const breakpointsBefore = breakpointsRead;
  const citedBefore = citedDocuments;
  if (typeof body.model !== 'string' || body.model === '') fail('model', 'must be a non-empty string naming the model');
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) fail('max_tokens', 'is required and must be a positive integer');
  const messages = messagesOf(body.messages);
  const system = body.system === undefined ? [] : systemMessages(body.system, 'system');

  // As max_completion_tokens: OpenAI's reasoning models refuse max_tokens, and every adapter reads either.
  const chat = withCacheControl<ChatRequest>({ model: body.model, messages: [...system, ...messages], max_completion_tokens: body.max_tokens as number }, body, '');
  if (body.stream !== undefined) {
    if (typeof body.stream !== 'boolean') fail('stream', 'must be a boolean');
    chat.stream = body.stream;
  }
  if (body.temperature !== undefined) chat.temperature = numberIn(body.temperature, 'temperature', 0, 1);
  if (body.top_p !== undefined) chat.top_p = numberIn(body.top_p, 'top_p', 0, 1);
  if (body.top_k !== undefined) {
    if (!Number.isInteger(body.top_k) || (body.top_k as number) < 0) fail('top_k', 'must be an integer, 0 or more');
    chat.top_k = body.top_k as number;
  }
  if (body.stop_sequences !== undefined) {
    const stops = body.stop_sequences;
    if (!Array.isArray(stops)) fail('stop_sequences', 'must be an array of strings');
    if (stops.length > 0) chat.stop = stops.map((s: unknown, i) => text(s, `stop_sequences.${i}`));
  }
  if (body.tools !== undefined) {
    const tools = toolsOf(body.tools);
    if (tools.length > 0) chat.tools = tools;
  }
  // OpenAI refuses a tool_choice without tools, which Anthropic accepts: it is checked, then sent only with tools.
  if (body.tool_choice !== undefined) {
    const choice = toolChoiceOf(body.tool_choice);
    // A tool the tools do not declare: a provider would call another, or none (Ollama and Mistral ignore the name).
    const named = typeof choice.tool_choice === 'object' && choice.tool_choice.type === 'function' ? choice.tool_choice.function.name : undefined;
    if (named !== undefined && !chat.tools?.some((tool) => tool.function.name === named)) fail('tool_choice.name', `no tool named '${shownText(named)}' is in tools`);
    if (chat.tools) Object.assign(chat, choice);
  }
  if (body.thinking !== undefined) chat[THINKING] = thinkingOf(body.thinking);
  if (body.output_config !== undefined) outputConfigOf(body.output_config, chat);
  if (body.metadata !== undefined) {
    if (!isJsonObject(body.metadata)) fail('metadata', 'must be an object');
    const user = body.metadata.user_id;
    if (user !== undefined && user !== null) chat.user = text(user, 'metadata.user_id');
  }
  if (breakpointsRead !== breakpointsBefore) chat[CACHE_MARKED] = true;
  if (citedDocuments !== citedBefore) chat[CITATIONS] = true;
  return chat;
}
