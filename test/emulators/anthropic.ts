import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson, sseEvent, startEmulatorServer, writeEvent, type EmulatorHandle, type LooseRecordedRequest } from './emulator-http.js';
import { decodesToPdf, documentsNote, isBase64, toolsCalledFor } from './emulated-model.js';

/**
 * A local stand-in for Anthropic's Messages API (https://docs.anthropic.com/en/api/messages) on 127.0.0.1, for
 * tests of the Anthropic adapter. It checks what the real API checks where a translation could go wrong (the
 * key, the version header, required fields, roles, non-empty text, tool_use answered by tool_result, cache
 * breakpoints), answers
 * deterministically, and streams its answers as the documented events, one write per event.
 *
 * - With tools (and `tool_choice` not `none`), it calls a tool: the forced one, else each tool the last user
 *   message names, else the first; the input is filled in from the tool's schema. Unless the tool is forced it
 *   says "Let me check." first, so tool blocks do not start at index 0.
 * - With `tool_result` blocks in the last user turn, it answers "The tool answered: <result text>".
 * - With documents that ask for citations in the last user turn, it answers "Echo: <last user text> " and a text
 *   block citing each (citedAnswer), streamed as Anthropic streams citations: a `citations_delta` before the text.
 * - Otherwise it answers "Echo: <last user text>", with " [documents: N]" after it when the last user turn holds N
 *   document blocks, cut at the first stop sequence found, at `max_tokens`, or where the context window ends (the
 *   `contextWindow` option).
 * - Documents (https://docs.anthropic.com/en/docs/build-with-claude/pdf-support): `document` blocks in user turns
 *   only, of a base64 PDF (bytes that start `%PDF-`), non-empty plain text or a PDF's URL, with an optional string
 *   `title` and `context` and `citations: {enabled: boolean}`; they count as input tokens with the rest of the JSON.
 * - Extended thinking (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking): with `thinking`
 *   enabled (a `budget_tokens` of at least 1024, below `max_tokens`) or adaptive, the answer starts with a thinking
 *   block signed by the emulator (`signatureFor`), and with a redacted_thinking block after it when the last user
 *   text holds Anthropic's documented test string (REDACTED_THINKING_TRIGGER); streamed as the docs show: a
 *   `thinking` block start, `thinking_delta`s, one `signature_delta`. As Anthropic does, it refuses forced tool use
 *   with thinking, a temperature other than 1, a top_k or a top_p under 0.95 with thinking, a thinking block whose signature does not match its text, and a tool-use loop whose last
 *   assistant turn does not start with a thinking block.
 * - `output_config`: an `effort` of low, medium, high, xhigh or max is taken; a `format` (`json_schema`) makes the
 *   answer one text block of JSON that satisfies the schema.
 * - Usage: input tokens are `inputTokensFor(body)` (characters / 4); output tokens likewise from the answer,
 *   thinking included (Anthropic bills thinking as output).
 */
export type AnthropicEmulatorMode = 'normal' | 'rate-limited' | 'overloaded' | 'server-error' | 'stream-error' | 'stream-overloaded';

export interface AnthropicEmulatorOptions {
  /** The only key accepted in `x-api-key`. Default `test-anthropic-key`. */
  apiKey?: string;
  /** The `retry-after` seconds sent in 'rate-limited' mode. Default 7. */
  retryAfterSeconds?: number;
  /** Reported as `cache_read_input_tokens` on every answer. Default 0. */
  cacheReadInputTokens?: number;
  /** Reported as `cache_creation` by lifetime, and their sum as `cache_creation_input_tokens`, on every answer. Default none. */
  cacheCreation?: { fiveMinute: number; oneHour: number };
  /**
   * The model's context window, in the emulator's tokens (characters / 4, as `inputTokensFor` counts): an answer
   * that would outgrow it is cut where it ends, with `stop_reason: "model_context_window_exceeded"`, as Claude
   * Sonnet 4.5 and later answer (https://docs.anthropic.com/en/api/handling-stop-reasons). Default none.
   */
  contextWindow?: number;
}

export type RecordedRequest = LooseRecordedRequest;

export interface AnthropicEmulator extends EmulatorHandle<RecordedRequest> {
  /** 'rate-limited' → 429 with retry-after, 'overloaded' → 529, 'server-error' → 500, 'stream-error' → an `error` event mid-stream (529 when not streaming), 'stream-overloaded' → a 200 stream whose `error` event (overloaded) comes right after `message_start`, before any content, as Anthropic's streams fail under load (529 when not streaming). */
  setMode(mode: AnthropicEmulatorMode): void;
}

type Json = Record<string, unknown>;
type Block = Json & { type: string };
interface Message {
  role: string;
  content: string | Block[];
}

export const countTokens = (text: string): number => Math.ceil(text.length / 4);

/** The input tokens the emulator reports for a request body. */
export function inputTokensFor(body: { system?: unknown; messages?: unknown }): number {
  return countTokens(JSON.stringify({ system: body.system ?? null, messages: body.messages }));
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Claude models that think only adaptively and refuse a thinking budget or disabled thinking (Bedrock's adaptive
 * thinking page names Opus 4.7 and Mythos Preview, https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html;
 * Opus 4.8, Fable 5 and the rest of Claude 5 answer the same), as the service knows its own models: a list, with the
 * later models the tests make up (Opus 4.9 and 4.10, Sonnet 6, Mythos 5), not Keygate's rule for ids it does not know
 * (src/ai/providers/anthropic/adaptive-only.ts), which tests of that rule would otherwise pass by construction.
 */
const ADAPTIVE_ONLY_MODELS = new Set([
  'claude-opus-4-7', 'claude-opus-4-8', 'claude-opus-4-9', 'claude-opus-4-10', 'claude-mythos-preview', 'claude-mythos-5', 'claude-fable-5', 'claude-fable-5-1',
  'claude-opus-5', 'claude-sonnet-5', 'claude-haiku-5', 'claude-opus-5-5', 'claude-sonnet-5-5', 'claude-haiku-5-5', 'claude-sonnet-6',
]);

/**
 * Whether a model id names an ADAPTIVE_ONLY_MODELS model: Anthropic's ids and Bedrock's (`anthropic.claude-…`, after a
 * region's prefix, or an inference profile's ARN) alike, with or without a date and Bedrock's version suffix.
 */
export function thinksOnlyAdaptively(model: string): boolean {
  const base = model
    .slice(model.lastIndexOf('/') + 1)
    .replace(/^(?:[a-z-]+\.)?anthropic\./, '')
    .replace(/-v\d+(?::\d+)?$/, '')
    .replace(/-\d{8}$/, '');
  return ADAPTIVE_ONLY_MODELS.has(base);
}
/** Anthropic's answer to a thinking budget or disabled thinking for a model that thinks only adaptively. */
export const adaptiveOnlyRefusal = (type: unknown): string => `"thinking.type.${String(type)}" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`;

/** Anthropic's documented prompt that makes the model answer with a redacted_thinking block, to test clients with. */
export const REDACTED_THINKING_TRIGGER = 'ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCCE4C1253D5E2D82641AC0E52CC2876CB';
/** The thinking the emulator answers with, for a last user text. */
export const thinkingFor = (userText: string): string => `The user wrote ${JSON.stringify(userText)}. I will answer it directly.`;
/** The signature the emulator gives a thinking block: only the emulator can make it, and it fits only that text. */
export const signatureFor = (thinking: string): string => createHash('sha256').update(`emulator-thinking\n${thinking}`).digest('base64');
/** The encrypted thinking of the emulator's redacted_thinking block. */
export const REDACTED_DATA = Buffer.from('emulator redacted thinking').toString('base64');

const thinkingOn = (body: Json): boolean => {
  const type = (body.thinking as Json | undefined)?.type;
  return type === 'enabled' || type === 'adaptive';
};

const blocksOf = (message: Message): Block[] => (typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content);
const textOf = (blocks: Block[]): string => blocks.flatMap((b) => (b.type === 'text' ? [String(b.text)] : [])).join(' ');

function validate(body: Json): void {
  const fail = (message: string) => {
    throw new RequestError(400, 'invalid_request_error', message);
  };
  if (typeof body.model !== 'string') fail('model: Field required');
  if (body.model === 'no-such-model') throw new RequestError(404, 'not_found_error', `model: ${body.model}`);
  if (typeof body.max_tokens !== 'number' || body.max_tokens < 1) fail('max_tokens: Field required');
  if (!Array.isArray(body.messages) || body.messages.length === 0) fail('messages: Field required');
  if (body.temperature !== undefined && (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 1)) fail('temperature: Input should be less than or equal to 1');
  if (body.top_k !== undefined && !(Number.isInteger(body.top_k) && (body.top_k as number) >= 0)) fail('top_k: Input should be a valid integer, greater than or equal to 0');
  if (body.system !== undefined && typeof body.system !== 'string' && !Array.isArray(body.system)) fail('system: Input should be a valid string');
  // output_config (https://docs.anthropic.com/en/docs/build-with-claude/effort, structured outputs): effort and format.
  if (body.output_config !== undefined) {
    const config = body.output_config as Json;
    if (config.effort !== undefined && !['low', 'medium', 'high', 'xhigh', 'max'].includes(String(config.effort))) fail("output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'");
    const format = config.format as Json | undefined;
    if (format !== undefined && (format.type !== 'json_schema' || typeof format.schema !== 'object')) fail("output_config.format: Input should be a valid dictionary with type 'json_schema' and a schema");
  }
  // Quoted in BerriAI/litellm#3286: Anthropic refuses a stop sequence only of whitespace.
  if (((body.stop_sequences ?? []) as string[]).some((sequence) => sequence.trim() === '')) fail('stop_sequences: each stop sequence must contain non-whitespace');
  const tools = (body.tools ?? []) as Json[];
  for (const [i, tool] of tools.entries()) {
    if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name)) fail(`tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
    if ((tool.input_schema as Json | undefined)?.type !== 'object') fail(`tools.${i}.input_schema.type: Input should be 'object'`);
  }
  if (body.tool_choice !== undefined && tools.length === 0) fail('tool_choice may only be specified while providing tools');
  if (body.thinking !== undefined) {
    const thinking = body.thinking as Json;
    if ((thinking.type === 'enabled' || thinking.type === 'disabled') && thinksOnlyAdaptively(String(body.model))) fail(adaptiveOnlyRefusal(thinking.type));
    if (thinking.type === 'enabled') {
      const budget = thinking.budget_tokens;
      if (!Number.isInteger(budget) || (budget as number) < 1024) fail('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
      if ((budget as number) >= (body.max_tokens as number)) fail('`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size');
    } else if (thinking.type !== 'disabled' && thinking.type !== 'adaptive') fail("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'");
    const forced = (body.tool_choice as Json | undefined)?.type;
    if (thinkingOn(body) && (forced === 'any' || forced === 'tool')) fail('Thinking may not be enabled when tool_choice forces tool use.');
    // The docs' "feature compatibility": no changed temperature or top_k, and a top_p of 0.95 to 1 (wording the emulator's).
    if (thinkingOn(body) && body.temperature !== undefined && body.temperature !== 1) fail('`temperature` may only be set to 1 when thinking is enabled.');
    if (thinkingOn(body) && body.top_k !== undefined) fail('`top_k` may not be set when thinking is enabled.');
    if (thinkingOn(body) && body.top_p !== undefined && (body.top_p as number) < 0.95) fail('`top_p` must be at least 0.95 when thinking is enabled.');
  }
  const messages = body.messages as Message[];
  // Tool-use ids name one call in the whole conversation (Anthropic: "tool_use ids must be unique").
  const toolUseIds = new Set<string>();
  messages.forEach((message, i) => {
    for (const [j, block] of blocksOf(message).entries()) {
      if (block.type !== 'tool_use') continue;
      if (toolUseIds.has(String(block.id))) fail(`messages.${i}.content.${j}: \`tool_use\` ids must be unique`);
      toolUseIds.add(String(block.id));
    }
  });
  messages.forEach((message, i) => {
    if (message.role !== 'user' && message.role !== 'assistant') fail(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    if (!Array.isArray(message.content) && typeof message.content !== 'string') fail(`messages.${i}.content: Input should be a valid list`);
    if (Array.isArray(message.content) && message.content.length === 0) fail(`messages.${i}: all messages must have non-empty content`);
    for (const [j, block] of blocksOf(message).entries()) {
      if (block.type === 'text' && (typeof block.text !== 'string' || block.text === '')) fail(`messages.${i}.content.${j}.text: text content blocks must be non-empty`);
      // A text block only of whitespace is refused unless another text block of the message says something, as
      // measured against the API (LibreChat-AI/agents#124: [' '] and ['\n'] refused, [' ', 'real'] taken).
      if (block.type === 'text' && String(block.text).trim() === '' && !blocksOf(message).some((other) => other.type === 'text' && String(other.text).trim() !== '')) fail('messages: text content blocks must contain non-whitespace text');
      if (block.type === 'image') {
        const source = block.source as Json;
        const ok = source?.type === 'base64' ? /^image\/(jpeg|png|gif|webp)$/.test(String(source.media_type)) && typeof source.data === 'string' : source?.type === 'url' && /^https?:\/\//.test(String(source.url));
        if (!ok) fail(`messages.${i}.content.${j}.source: invalid image source`);
      }
      if (block.type === 'document') {
        const refusal = documentRefusal(block, message.role, `messages.${i}.content.${j}`);
        if (refusal) fail(refusal);
      }
      if (block.type === 'thinking' && (typeof block.thinking !== 'string' || block.signature !== signatureFor(block.thinking))) fail(`messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`);
      if (block.type === 'redacted_thinking' && block.data !== REDACTED_DATA) fail(`messages.${i}.content.${j}: Invalid \`data\` in \`redacted_thinking\` block`);
      if ((block.type === 'tool_use' && message.role !== 'assistant') || (block.type === 'tool_result' && message.role !== 'user')) fail(`messages.${i}.content.${j}: ${block.type} in a ${message.role} message`);
    }
    // Every tool_use must be answered by a tool_result in the very next message, and only those.
    const uses = blocksOf(message).flatMap((b) => (b.type === 'tool_use' ? [String(b.id)] : []));
    const previous = messages[i - 1];
    const answered = blocksOf(message).flatMap((b) => (b.type === 'tool_result' ? [String(b.tool_use_id)] : []));
    if (answered.length > 0) {
      const asked = previous ? blocksOf(previous).flatMap((b) => (b.type === 'tool_use' ? [String(b.id)] : [])) : [];
      const unexpected = answered.filter((id) => !asked.includes(id));
      if (unexpected.length > 0) fail(`messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${unexpected.join(', ')}`);
    }
    if (uses.length > 0) {
      const next = messages[i + 1];
      const results = next ? blocksOf(next).flatMap((b) => (b.type === 'tool_result' ? [String(b.tool_use_id)] : [])) : [];
      const missing = uses.filter((id) => !results.includes(id));
      if (next && missing.length > 0) fail(`messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}`);
    }
  });
  // With thinking on, a tool-use loop is one assistant turn, which must start with thinking: the last assistant
  // message before the tool results Anthropic is answering must start with its thinking block, sent back unchanged.
  const lastMessage = messages.at(-1);
  const lastAssistant = messages.length - 2;
  if (thinkingOn(body) && lastMessage && blocksOf(lastMessage).some((b) => b.type === 'tool_result') && messages[lastAssistant]?.role === 'assistant') {
    const first = blocksOf(messages[lastAssistant]!)[0];
    if (first?.type !== 'thinking' && first?.type !== 'redacted_thinking') {
      fail(`messages.${lastAssistant}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first?.type)}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`.`);
    }
  }
  // Prompt caching (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching): `{"type": "ephemeral"}`,
  // with a `ttl` of 5m or 1h, on at most 4 places: the request, tools, system blocks, content blocks and theirs.
  const blocks = messages.flatMap((message) => blocksOf(message).flatMap((block) => [block, ...(Array.isArray(block.content) ? (block.content as Block[]) : [])]));
  const marked = [body, ...tools, ...(Array.isArray(body.system) ? (body.system as Json[]) : []), ...blocks].flatMap((at) => (at.cache_control === undefined ? [] : [at.cache_control as Json]));
  for (const control of marked) if (control?.type !== 'ephemeral' || (control.ttl !== undefined && control.ttl !== '5m' && control.ttl !== '1h')) fail('cache_control: Input should be an object with type "ephemeral" and a ttl of "5m" or "1h"');
  if (marked.length > 4) fail(`A maximum of 4 blocks with cache_control may be provided. Found ${marked.length}.`);
}

/**
 * Why Anthropic refuses a document block at `at`, if it does (https://docs.anthropic.com/en/docs/build-with-claude/pdf-support,
 * …/citations; the SDK's DocumentBlockParam): a document is something the user gives, its source a base64 PDF, plain
 * text or a PDF's URL, and its title and context strings (or null, which the SDK's types allow).
 */
function documentRefusal(block: Block, role: string, at: string): string | undefined {
  if (role !== 'user') return `${at}: document blocks may only be in a user message`;
  const source = block.source as Json | undefined;
  switch (source?.type) {
    case 'base64':
      if (source.media_type !== 'application/pdf') return `${at}.source.base64.media_type: Input should be 'application/pdf'`;
      if (!isBase64(source.data)) return `${at}.source.base64.data: Input should be non-empty base64 data`;
      if (!decodesToPdf(source.data)) return `${at}.source.base64.data: The PDF specified was not valid.`;
      break;
    case 'text':
      if (source.media_type !== 'text/plain') return `${at}.source.text.media_type: Input should be 'text/plain'`;
      if (typeof source.data !== 'string' || source.data === '') return `${at}.source.text.data: text documents must be non-empty`;
      break;
    case 'url':
      if (!/^https?:\/\//.test(String(source.url))) return `${at}.source.url.url: Input should be a valid URL`;
      break;
    default:
      return `${at}.source: Input tag '${String(source?.type)}' found using 'type' does not match any of the expected tags: 'base64', 'text', 'url'`;
  }
  for (const name of ['title', 'context'] as const) if (block[name] !== undefined && block[name] !== null && typeof block[name] !== 'string') return `${at}.${name}: Input should be a valid string`;
  const citations = block.citations as Json | null | undefined;
  if (citations !== undefined && citations !== null && typeof citations.enabled !== 'boolean') return `${at}.citations.enabled: Input should be a valid boolean`;
  return undefined;
}

/** A value that satisfies a (simple) JSON schema, the same every time. */
function sample(schema: Json | undefined): unknown {
  if (!schema) return null;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, Json>).map(([key, value]) => [key, sample(value)]));
    case 'array':
      return [sample(schema.items as Json | undefined)];
    case 'string':
      return 'Paris';
    case 'integer':
    case 'number':
      return 21;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

interface Answer {
  content: Block[];
  stop_reason: string;
  stop_sequence: string | null;
}

let toolUseCounter = 0;

/** The answer, after its thinking when thinking is on. */
function answer(body: Json, contextWindow: number): Answer {
  const reply = answerText(body, contextWindow);
  if (!thinkingOn(body)) return reply;
  const userText = textOf(blocksOf((body.messages as Message[]).at(-1) as Message));
  const thinking = thinkingFor(userText);
  const thought: Block[] = [{ type: 'thinking', thinking, signature: signatureFor(thinking) }];
  if (userText.includes(REDACTED_THINKING_TRIGGER)) thought.push({ type: 'redacted_thinking', data: REDACTED_DATA });
  return { ...reply, content: [...thought, ...reply.content] };
}

function answerText(body: Json, contextWindow: number): Answer {
  const messages = body.messages as Message[];
  const last = messages.at(-1) as Message;
  const lastBlocks = blocksOf(last);
  const results = lastBlocks.filter((b) => b.type === 'tool_result');
  const tools = (body.tools ?? []) as Json[];
  const choice = body.tool_choice as Json | undefined;
  if (results.length === 0 && tools.length > 0 && choice?.type !== 'none') {
    const userText = textOf(lastBlocks);
    const forced = choice?.type === 'tool' ? tools.filter((t) => t.name === choice.name) : [];
    const chosen = forced.length > 0 ? forced : toolsCalledFor(tools, userText, (t) => String(t.name));
    const uses: Block[] = chosen.map((tool) => ({ type: 'tool_use', id: `toolu_emu_${++toolUseCounter}`, name: tool.name, input: sample(tool.input_schema as Json) }));
    const content = forced.length > 0 || choice?.type === 'any' ? uses : [{ type: 'text', text: 'Let me check.' }, ...uses];
    return { content, stop_reason: 'tool_use', stop_sequence: null };
  }
  // Structured output: the answer is JSON that satisfies the schema.
  const format = (body.output_config as Json | undefined)?.format as Json | undefined;
  if (format) return { content: [{ type: 'text', text: JSON.stringify(sample(format.schema as Json)) }], stop_reason: 'end_turn', stop_sequence: null };
  const cited = citedAnswer(messages, lastBlocks);
  if (cited) return { content: cited, stop_reason: 'end_turn', stop_sequence: null };
  let text =
    results.length > 0
      ? `The tool answered: ${results.map((r) => (typeof r.content === 'string' ? r.content : textOf((r.content ?? []) as Block[]))).join(' ')}`
      : `Echo: ${textOf(lastBlocks)}${documentsNote(lastBlocks.filter((b) => b.type === 'document').length)}`;
  let stopReason = 'end_turn';
  let stopSequence: string | null = null;
  for (const sequence of (body.stop_sequences ?? []) as string[]) {
    const at = text.indexOf(sequence);
    if (at !== -1) {
      text = text.slice(0, at);
      stopReason = 'stop_sequence';
      stopSequence = sequence;
      break;
    }
  }
  const budget = body.max_tokens as number;
  if (countTokens(text) > budget) {
    text = text.slice(0, budget * 4);
    stopReason = 'max_tokens';
    stopSequence = null;
  }
  const room = Math.max(0, contextWindow - inputTokensFor(body));
  if (countTokens(text) > room) {
    text = text.slice(0, room * 4);
    stopReason = 'model_context_window_exceeded';
    stopSequence = null;
  }
  return { content: [{ type: 'text', text }], stop_reason: stopReason, stop_sequence: stopSequence };
}

/**
 * The answer to a last user turn with documents that ask for citations (https://docs.anthropic.com/en/docs/build-with-claude/citations):
 * "Echo: <last user text> " as a text block, then one text block for each such document, citing it: a text
 * document's first sentence as a `char_location`, a PDF's first page as a `page_location`, each with the document's
 * index among all the request's documents and its title.
 */
function citedAnswer(messages: Message[], lastBlocks: Block[]): Block[] | undefined {
  const documents = messages.flatMap((message) => blocksOf(message).filter((block) => block.type === 'document'));
  const cited = lastBlocks.filter((block) => block.type === 'document' && (block.citations as Json | undefined)?.enabled === true);
  if (cited.length === 0) return undefined;
  const blocks: Block[] = [{ type: 'text', text: `Echo: ${textOf(lastBlocks)} ` }];
  for (const document of cited) {
    const source = document.source as Json;
    const at = { document_index: documents.indexOf(document), document_title: typeof document.title === 'string' ? document.title : null };
    if (source.type === 'text') {
      const sentence = /^[^.]*\.?/.exec(String(source.data))?.[0] ?? '';
      blocks.push({ type: 'text', text: sentence, citations: [{ type: 'char_location', cited_text: sentence, ...at, start_char_index: 0, end_char_index: sentence.length }] });
    } else blocks.push({ type: 'text', text: '(page 1)', citations: [{ type: 'page_location', cited_text: '(page 1)', ...at, start_page_number: 1, end_page_number: 2 }] });
  }
  return blocks;
}

const outputTokensOf = (content: Block[]) => countTokens(content.map((b) => (b.type === 'text' ? String(b.text) : b.type === 'thinking' ? String(b.thinking) : b.type === 'redacted_thinking' ? String(b.data) : JSON.stringify(b.input))).join(''));

function sendError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { type: 'error', error: { type, message }, request_id: 'req_emulator' }, { 'request-id': 'req_emulator', ...headers });
}

async function stream(res: ServerResponse, body: Json, reply: Answer, usage: Json, failMidway: boolean, failFirst = false): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': 'req_emulator' });
  const send = (data: Json) => writeEvent(res, sseEvent(String(data.type), data));
  await send({ type: 'message_start', message: { id: 'msg_emulator_stream', type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } });
  await send({ type: 'ping' });
  if (failFirst) {
    await send({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    res.end();
    return;
  }
  for (const [index, block] of reply.content.entries()) {
    if (block.type === 'text') {
      await send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const citation of (block.citations ?? []) as Json[]) await send({ type: 'content_block_delta', index, delta: { type: 'citations_delta', citation } });
      const pieces = String(block.text).match(/\S+\s*|\s+/g) ?? [];
      for (const [n, piece] of pieces.entries()) {
        await send({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
        if (failMidway && n === 0) {
          await send({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
          res.end();
          return;
        }
      }
    } else if (block.type === 'thinking') {
      // As the docs' example streams it: an empty thinking block, its text in pieces, then its signature.
      await send({ type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '' } });
      for (const piece of String(block.thinking).match(/\S+\s*|\s+/g) ?? []) await send({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } });
      await send({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: block.signature } });
    } else if (block.type === 'redacted_thinking') {
      await send({ type: 'content_block_start', index, content_block: block });
    } else {
      await send({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      const json = JSON.stringify(block.input);
      const size = Math.ceil(json.length / 3);
      const pieces = ['', json.slice(0, size), json.slice(size, 2 * size), json.slice(2 * size)];
      for (const piece of pieces) await send({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    await send({ type: 'content_block_stop', index });
  }
  await send({ type: 'message_delta', delta: { stop_reason: reply.stop_reason, stop_sequence: reply.stop_sequence }, usage: { output_tokens: usage.output_tokens } });
  await send({ type: 'message_stop' });
  res.end();
}

/** Starts the emulator on 127.0.0.1 on a free port. */
export async function startAnthropicEmulator(options: AnthropicEmulatorOptions = {}): Promise<AnthropicEmulator> {
  const apiKey = options.apiKey ?? 'test-anthropic-key';
  let mode: AnthropicEmulatorMode = 'normal';

  const server = await startEmulatorServer<RecordedRequest>(({ req, res, body }) => {
    if (req.method !== 'POST' || req.url !== '/v1/messages') return sendError(res, 404, 'not_found_error', 'Not found');
    if (req.headers['x-api-key'] !== apiKey) return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    if (typeof req.headers['anthropic-version'] !== 'string') return sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    if (typeof body !== 'object' || body === null) return sendError(res, 400, 'invalid_request_error', 'There was an issue with the request body: it is not valid JSON');
    const request = body as Json;
    if (mode === 'rate-limited') return sendError(res, 429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', { 'retry-after': String(options.retryAfterSeconds ?? 7) });
    if (mode === 'overloaded' || ((mode === 'stream-error' || mode === 'stream-overloaded') && request.stream !== true)) return sendError(res, 529, 'overloaded_error', 'Overloaded');
    if (mode === 'server-error') return sendError(res, 500, 'api_error', 'Internal server error');
    try {
      validate(request);
    } catch (error) {
      if (error instanceof RequestError) return sendError(res, error.status, error.type, error.message);
      throw error;
    }
    const reply = answer(request, options.contextWindow ?? Infinity);
    const usage = {
      input_tokens: inputTokensFor(request),
      cache_creation_input_tokens: (options.cacheCreation?.fiveMinute ?? 0) + (options.cacheCreation?.oneHour ?? 0),
      cache_read_input_tokens: options.cacheReadInputTokens ?? 0,
      cache_creation: { ephemeral_5m_input_tokens: options.cacheCreation?.fiveMinute ?? 0, ephemeral_1h_input_tokens: options.cacheCreation?.oneHour ?? 0 },
      output_tokens: outputTokensOf(reply.content),
    };
    if (request.stream === true) return stream(res, request, reply, usage, mode === 'stream-error', mode === 'stream-overloaded');
    sendJson(res, 200, { id: 'msg_emulator', type: 'message', role: 'assistant', model: request.model, ...reply, usage }, { 'request-id': 'req_emulator' });
  });
  return {
    ...server,
    setMode: (next) => {
      mode = next;
    },
  };
}
