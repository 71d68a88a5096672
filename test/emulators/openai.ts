import type { ServerResponse } from 'node:http';
import { sendJson as sendJsonAs, sseData, startEmulatorServer, writeEvent, type EmulatorHandle, type LooseRecordedRequest } from './emulator-http.js';
import { decodesToPdf, documentsNote, encodedVector, isBase64, isTokenInput, textOfContent, tokenInputsAsText, toolsCalledFor } from './emulated-model.js';

/**
 * A local stand-in for OpenAI's Chat Completions and Embeddings APIs
 * (https://platform.openai.com/docs/api-reference/chat, …/embeddings) on 127.0.0.1, for end-to-end tests of the
 * gateway. It checks the Bearer key and what the real API refuses where a gateway could go wrong (a missing model
 * or messages, a tool message that answers no tool call, an unanswered tool call, `stream_options` without
 * `stream`, `max_tokens` beyond the model's limit, bad tool names, `top_k`, which other providers take,
 * `reasoning_effort` on a model that does not reason (GPT-4o, GPT-4.1, GPT-3.5) and beside function tools on GPT-5.2
 * and later, which take the pair only on the Responses API), and answers deterministically:
 *
 * - A `tool` message last → "The tool answered: <its content>".
 * - With tools (and `tool_choice` not `none`) → a call of the forced tool, else each tool the last user message
 *   names, else the first; arguments are filled in from the tool's JSON schema. Content is null. A custom tool
 *   (`{type: "custom", custom: {name, format}}`, its grammar nested under `format.grammar`) is called with free text,
 *   `*** <name>` then a line with the last user text, streamed as `custom` input fragments.
 * - Otherwise "Echo: <last user text>", with " [documents: N]" after it when the last message is the user's and holds
 *   N file parts, cut at the first stop sequence found, or at `max_completion_tokens` / `max_tokens` (finish_reason
 *   `length`). `n` gives that many choices.
 * - File parts (`{type: "file", file: {…}}`, PDFs only) are checked as validateFilePart says; they count as prompt
 *   tokens with the rest of the messages' JSON.
 * - Usage: prompt tokens are `promptTokensFor(body)` (characters / 4), completion tokens likewise from the answer;
 *   `cachedTokens` is reported as `prompt_tokens_details.cached_tokens`. A `reasoning_effort` other than `none` adds
 *   REASONING_TOKENS to the completion tokens, told as `completion_tokens_details.reasoning_tokens`, as reasoning
 *   models report the tokens they reasoned with (their reasoning itself is never returned by Chat Completions).
 * - Streams are SSE written one event per write: a role chunk, content (or tool call argument) deltas, a finish
 *   chunk, then — only when `stream_options.include_usage` is set — a chunk with empty `choices` and the usage
 *   (every other chunk then carries `"usage": null`), then `data: [DONE]`.
 * - Embeddings: a vector (8 values, or `dimensions`) computed from each input text, as floats or, with
 *   `encoding_format: "base64"`, as little-endian float32 bytes in base64.
 * - Errors have OpenAI's body `{ error: { message, type, param, code } }`; a wrong key gets OpenAI's 401, which
 *   names the key masked to its first three and last four characters.
 * - With `reasoningContent`, it answers as DeepSeek's thinking mode does (https://api-docs.deepseek.com/guides/thinking_mode):
 *   `message.reasoning_content` (reasoningFor the last user text, or the tool's result) beside the content, streamed
 *   as `delta.reasoning_content` chunks before the answer's; and it refuses what DeepSeek documents it refuses: between
 *   two user messages where the model called tools, an assistant message sent back without its `reasoning_content`
 *   (the tool-calling ones and the answer that ends the turn alike, in every later request). Between two user
 *   messages without tool calls, reasoning sent back or not is all one (DeepSeek ignores it). It takes DeepSeek's
 *   switch, `thinking: {type: "enabled"}` or `{type: "disabled"}` (any other value refused): disabled, it answers
 *   without reasoning and wants none back, as DeepSeek's non-thinking mode. Without the option, `thinking` is refused
 *   as OpenAI refuses a member it does not define.
 * - With `refusesReasoningContent`, it refuses `reasoning_content` on any message as Groq does, with Groq's words:
 *   "'messages.1' : for 'role:assistant' the following must be satisfied[('messages.1' : property
 *   'reasoning_content' is unsupported)]" (janhq/jan#8136, SimonSchubert/Kai#265).
 */
export type OpenAIEmulatorMode = 'normal' | 'rate-limited' | 'out-of-quota' | 'server-error' | 'garbled' | 'null-body' | 'odd-error' | 'legacy-choice' | 'failed-choice' | 'ignores-stream' | 'stream-error' | 'stream-error-midway' | 'calls-without-index' | 'insufficient-resource' | 'insufficient-resource-midway' | 'refuses';

export interface OpenAIEmulatorOptions {
  /** The key accepted as `Authorization: Bearer …` (with `moreKeys`). Default `test-openai-key`. */
  apiKey?: string;
  /** More keys the emulator takes as valid, as keys of other projects of the same account would be. */
  moreKeys?: readonly string[];
  /** The `retry-after` seconds sent in 'rate-limited' mode. Default 20. */
  retryAfterSeconds?: number;
  /**
   * Rate limits say when to come back only as many of OpenAI's 429s do, in its rate-limit headers
   * (https://platform.openai.com/docs/guides/rate-limits): requests spent (`x-ratelimit-remaining-requests: 0`),
   * `x-ratelimit-reset-requests` of `retryAfterSeconds` and `x-ratelimit-reset-tokens: 6m0s`, without `retry-after`.
   */
  resetHeadersOnly?: boolean;
  /** Reported as `usage.prompt_tokens_details.cached_tokens` (part of the prompt tokens). Default 0. */
  cachedTokens?: number;
  /**
   * False: answer without `usage`, as some OpenAI-compatible hosts do. 'prompt-only': `usage` without
   * `completion_tokens`, a host's incomplete report. Default true.
   */
  reportUsage?: boolean | 'prompt-only';
  /** The largest `max_tokens` / `max_completion_tokens` accepted. Default 16384 (gpt-4o-mini's). */
  maxOutputTokens?: number;
  /** Milliseconds between streamed events, to see them arrive one by one. Default 0 (the next turn of the event loop). */
  streamDelayMs?: number;
  /** Streams send their head at once and then wait for `releaseStreams()` before the first event. Default false. */
  holdStreams?: boolean;
  /** Keys accepted as valid whose account is out of credit: 429 insufficient_quota (unless rate-limited first). */
  exhaustedKeys?: readonly string[];
  /**
   * Keys accepted as valid whose project may not use the model asked for: 403, in OpenAI's words for a model a
   * project has no access to, naming the project.
   */
  deniedKeys?: readonly string[];
  /** The path before /chat/completions and /embeddings: '/v1' as OpenAI has it, '' as Perplexity has it. Default '/v1'. */
  pathPrefix?: string;
  /** Answer as DeepSeek's thinking mode: with `reasoning_content`, wanting it back from turns that called tools. Default false. */
  reasoningContent?: boolean;
  /** Refuse `reasoning_content` in the request's messages, as Groq and Cerebras do. Default false. */
  refusesReasoningContent?: boolean;
  /**
   * Count reasoning tokens apart from `completion_tokens` (in `total_tokens` only), as xAI does: "reasoning token
   * consumption will be counted separately from completion_tokens, but will be counted in the total_tokens"
   * (https://docs.x.ai/docs/key-information/consumption-and-rate-limits). Default false (OpenAI's: within it).
   */
  reasoningApart?: boolean;
  /**
   * Tell the cached prompt tokens (`cachedTokens`) as DeepSeek's usage does: `prompt_cache_hit_tokens` and
   * `prompt_cache_miss_tokens`, with no `prompt_tokens_details` (https://api-docs.deepseek.com/api/create-chat-completion).
   */
  deepseekCacheUsage?: boolean;
  /**
   * Tell the cached prompt tokens (`cachedTokens`) as some of Together's models do: `cached_tokens` at the top of
   * `usage`, with no `prompt_tokens_details` ("Some models return `cached_tokens` at the top level of `usage`
   * instead", https://docs.together.ai/docs/inference/chat/prompt-caching, Check cached tokens).
   */
  togetherCacheUsage?: boolean;
  /**
   * Stream the usage where Groq documents it, `x_groq.usage` on the final chunk: "Usage information for the stream.
   * Only sent in the final chunk." (XGroq, https://console.groq.com/docs/api-reference, as Groq's SDK types it in
   * groq-python's `types/chat/chat_completion_chunk.py`), and no chunk of OpenAI's `usage` (which Groq documents as
   * present "only … when you set `stream_options: {"include_usage": true}`"): Groq's own member is then the only
   * place the counts are. Default false.
   */
  groqStreamUsage?: boolean;
  /**
   * Groq's words for a stream it stops early: the 'stream-error' modes then end the stream with a chunk that tells them in
   * `x_groq.error`, "An error string indicating why a stream was stopped early" (XGroq, https://console.groq.com/docs/api-reference,
   * typed so in groq-python's `types/chat/chat_completion_chunk.py`), rather than with OpenAI's `error` event.
   */
  groqStreamError?: string;
  /**
   * Tell usage as Perplexity does for Sonar Deep Research (https://docs.perplexity.ai/api-reference/chat-completions-post):
   * OpenAI's three counts, which leave out the PERPLEXITY_CITATION_TOKENS of the searches it ran and the
   * PERPLEXITY_REASONING_TOKENS it reasoned with, told apart as `citation_tokens` and `reasoning_tokens`, beside
   * `num_search_queries`, `search_context_size` and `cost`, priced as https://docs.perplexity.ai/getting-started/pricing
   * prices Sonar Deep Research ($2 input, $8 output, $2 citation, $3 reasoning per million tokens, $5 per thousand
   * searches). Streams tell it on their final chunk, the one with the finish reason, whatever `stream_options` said.
   * Default false.
   */
  perplexityUsage?: boolean;
  /**
   * End as Together does: finish_reason `eos` where the model ended the answer itself (its end-of-sequence token),
   * `stop` only where a stop sequence ended it (Together's chat completion choice: `finish_reason: 'stop' | 'eos' |
   * 'length' | 'tool_calls' | 'function_call'`, in together-typescript's `resources/chat/completions.ts`). Default false.
   */
  togetherFinishReasons?: boolean;
  /** Answer embeddings as floats whatever `encoding_format` asks, as some OpenAI-compatible servers do. Default false. */
  floatsOnly?: boolean;
}

export type RecordedRequest = LooseRecordedRequest;

export interface OpenAIEmulator extends EmulatorHandle<RecordedRequest> {
  /** Every request received so far, oldest first. */
  requests(): readonly RecordedRequest[];
  /**
   * 'rate-limited' → 429 rate_limit_exceeded with retry-after, 'out-of-quota' → 429 insufficient_quota, 'server-error' → 500,
   * 'garbled' → 200 with an HTML page instead of JSON (what a misconfigured proxy in front of a host sends),
   * 'null-body' → 200 with the JSON `null` (JSON, but no completion), 'odd-error' → 500 whose error message is an
   * object, not OpenAI's string, 'legacy-choice' → 200 with a choice of the old completions API (`text`, no
   * `message`) and usage, 'ignores-stream' → a stream request answered with the whole completion, usage included,
   * 'stream-error' → a stream whose `error` event (server_error) comes right after its opening chunk, before any
   * content, 'stream-error-midway' → the same after the answer's first word (both 500 when not streaming); with
   * `groqStreamError`, Groq's `x_groq.error` chunk instead of the event. 'insufficient-resource' → DeepSeek's
   * interrupted inference, "`insufficient_system_resource` if the request is interrupted due to insufficient resource
   * of the inference system" (https://api-docs.deepseek.com/api/create-chat-completion): each choice ends with that
   * finish reason before any content, 'insufficient-resource-midway' after the answer's first word; usage counts what
   * was made, and streams end as any other (usage chunk when asked for, then `[DONE]`). 'refuses' → each choice
   * the model's refusal (https://platform.openai.com/docs/guides/structured-outputs#refusals): REFUSAL as
   * `message.refusal` beside `content: null`, streamed as `delta.refusal` fragments, finish_reason `stop`, its tokens
   * counted as an answer's.
   */
  setMode(mode: OpenAIEmulatorMode): void;
  /**
   * Keys accepted as valid and rate limited from now on (429 rate_limit_exceeded with retry-after, as 'rate-limited'
   * answers every key); none by default.
   */
  rateLimitKeys(keys: readonly string[]): void;
  /** Streams waiting for their first event (with `holdStreams`). */
  heldStreams(): number;
  /** Lets every held stream send its events. */
  releaseStreams(): void;
}

type Json = Record<string, unknown>;
interface Message {
  role?: string;
  content?: unknown;
  tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }>;
  tool_call_id?: string;
  reasoning_content?: unknown;
}
interface Tool {
  type?: string;
  function?: { name?: string; parameters?: Json };
  custom?: { name?: string; format?: Json };
}
type ToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } } | { id: string; type: 'custom'; custom: { name: string; input: string } };
interface Answer {
  content: string | null;
  toolCalls: ToolCall[];
  /** `eos`: the model ended the answer itself (its end-of-sequence token), told as `stop` but by a Together-like emulator. */
  finishReason: 'stop' | 'eos' | 'length' | 'tool_calls' | 'insufficient_system_resource';
  reasoning?: string;
  /** The model's refusal, in place of content ('refuses'). */
  refusal?: string;
}

export const countTokens = (text: string): number => Math.ceil(text.length / 4);

/** The prompt tokens the emulator reports for a chat request body. */
export function promptTokensFor(body: { messages?: unknown }): number {
  return countTokens(JSON.stringify(body.messages ?? []));
}

/** The embedding the emulator answers for a text. */
export function embeddingFor(text: string, dimensions = 8): number[] {
  const seed = [...text].reduce((sum, c) => sum + (c.codePointAt(0) ?? 0), 0);
  return Array.from({ length: dimensions }, (_, i) => ((seed * (i + 1)) % 997) / 997);
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string | null,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const invalid = (message: string, param: string | null = null, code: string | null = null) => new RequestError(400, 'invalid_request_error', code, message, param);

/** OpenAI shows a wrong key masked: enough to recognise it, too little to use it. */
const masked = (key: string) => (key.length <= 8 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`);

/** The reasoning the emulator answers with, in its DeepSeek-like mode, for the last message's text. */
export const reasoningFor = (text: string): string => `The user wants ${JSON.stringify(text)}; I answer it.`;

/** OpenAI's models that do not reason, and refuse `reasoning_effort` (the others' names are reasoning models' or another host's). */
const NOT_REASONING = /^(?:gpt-4|gpt-3\.5|chatgpt-4o)/;
/** GPT-5.2 and later refuse function tools beside a `reasoning_effort` on Chat Completions (other than `none`). */
const NO_TOOLS_WITH_EFFORT = /^gpt-(?:5\.(?:[2-9]|\d{2,})|[6-9])/;

/**
 * A custom tool as Chat Completions takes it (https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools):
 * `{type: "custom", custom: {name, description?, format?}}`, a grammar format's syntax and definition nested under
 * `grammar` (the Responses API's flat form is refused here, as OpenAI refuses a member it does not define).
 */
function validateCustomTool(tool: Tool, i: number): void {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(String(tool.custom?.name))) throw invalid(`Missing required parameter: 'tools[${i}].custom.name'.`, `tools[${i}].custom.name`, 'missing_required_parameter');
  const format = tool.custom?.format;
  if (format === undefined || format.type === 'text') return;
  if (format.type !== 'grammar') throw invalid(`Invalid value: '${String(format.type)}'. Supported values are: 'text' and 'grammar'.`, `tools[${i}].custom.format.type`, 'invalid_value');
  for (const key of Object.keys(format)) if (key !== 'type' && key !== 'grammar') throw invalid(`Unknown parameter: 'tools[${i}].custom.format.${key}'.`, `tools[${i}].custom.format.${key}`, 'unknown_parameter');
  const grammar = format.grammar as Json | undefined;
  if (typeof grammar?.definition !== 'string' || (grammar.syntax !== 'lark' && grammar.syntax !== 'regex')) throw invalid(`Missing required parameter: 'tools[${i}].custom.format.grammar'.`, `tools[${i}].custom.format.grammar`, 'missing_required_parameter');
}

/**
 * A file content part as Chat Completions takes one (https://platform.openai.com/docs/guides/pdf-files?api-mode=chat:
 * "Chat Completions accepts only PDF files"): in a user message, a `file` with either `file_data`, a PDF as a
 * `data:application/pdf;base64,` URL, or `file_id`, an uploaded file's (`file-…`). OpenAI wants a `filename` with
 * `file_data`, and without one answers that `file_id` is missing (quoted in openai/openai-agents-python#1513 and
 * langchain-ai/langchainjs#9570).
 */
function validateFilePart(part: Json, role: unknown, at: string): void {
  if (role !== 'user') throw invalid(`Invalid value: 'file'. Supported values are: ${role === 'assistant' ? "'text' and 'refusal'" : "'text'"}.`, `${at}.type`, 'invalid_value');
  const file = (part.file ?? {}) as Json;
  if (file.file_data !== undefined && file.file_id !== undefined) throw invalid(`Invalid '${at}.file': expected one of 'file_data' or 'file_id', but got both.`, `${at}.file`, 'invalid_value');
  if (file.file_id !== undefined) {
    if (typeof file.file_id !== 'string' || !file.file_id.startsWith('file-')) throw invalid(`Invalid '${at}.file.file_id': expected an ID that begins with 'file-'.`, `${at}.file.file_id`, 'invalid_value');
    return;
  }
  if (file.file_data === undefined || typeof file.filename !== 'string' || file.filename === '') throw invalid(`Missing required parameter: '${at}.file.file_id'.`, `${at}.file.file_id`, 'missing_required_parameter');
  const pdf = /^data:application\/pdf;base64,(.*)$/s.exec(String(file.file_data))?.[1];
  if (!isBase64(pdf) || !decodesToPdf(pdf)) throw invalid(`Invalid '${at}.file.file_data': expected a PDF as a base64 data URL ('data:application/pdf;base64,...').`, `${at}.file.file_data`, 'invalid_value');
}

function validateChat(body: Json, maxOutputTokens: number, reasoningContent: boolean, refusesReasoningContent: boolean): void {
  if (typeof body.model !== 'string' || body.model === '') throw invalid('you must provide a model parameter');
  if (body.model === 'no-such-model') throw new RequestError(404, 'invalid_request_error', 'model_not_found', `The model \`${body.model}\` does not exist or you do not have access to it.`);
  if (body.messages === undefined) throw invalid("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  if (body.top_k !== undefined) throw invalid('Unrecognized request argument supplied: top_k');
  if (body.stream_options !== undefined && body.stream !== true) throw invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
  for (const name of ['max_tokens', 'max_completion_tokens']) {
    const value = body[name];
    if (typeof value === 'number' && value > maxOutputTokens) {
      throw invalid(`${name} is too large: ${value}. This model supports at most ${maxOutputTokens} completion tokens, whereas you provided ${value}.`, name, 'invalid_value');
    }
  }
  for (const [i, tool] of ((body.tools ?? []) as Tool[]).entries()) {
    if (tool.type === 'custom') {
      validateCustomTool(tool, i);
      continue;
    }
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(String(tool.function?.name))) {
      throw invalid(`Invalid 'tools[${i}].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`, `tools[${i}].function.name`, 'invalid_value');
    }
  }
  if (body.reasoning_effort !== undefined && NOT_REASONING.test(String(body.model))) throw invalid("Unsupported parameter: 'reasoning_effort' is not supported with this model.", 'reasoning_effort', 'unsupported_parameter');
  // Reasoning models take sampling settings only without reasoning: GPT-5.1 and later at effort `none`, earlier ones never.
  if (body.reasoning_effort !== undefined && body.reasoning_effort !== 'none' && typeof body.temperature === 'number' && body.temperature !== 1) {
    throw invalid(`Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.`, 'temperature', 'unsupported_value');
  }
  if (body.reasoning_effort !== undefined && body.reasoning_effort !== 'none' && Array.isArray(body.tools) && body.tools.length > 0 && NO_TOOLS_WITH_EFFORT.test(String(body.model))) {
    throw invalid(`Function tools with reasoning_effort are not supported for ${String(body.model)} in /v1/chat/completions. Please use /v1/responses instead.`, 'reasoning_effort');
  }
  if (body.thinking !== undefined) {
    if (!reasoningContent) throw invalid('Unrecognized request argument supplied: thinking', 'thinking', 'unknown_parameter');
    const type = (body.thinking as Json | null)?.type;
    if (type !== 'enabled' && type !== 'disabled') throw invalid(`Invalid 'thinking.type': expected 'enabled' or 'disabled', got ${JSON.stringify(type)}.`, 'thinking.type', 'invalid_value');
  }
  const messages = body.messages as Message[];
  if (reasoningContent && thinks(body)) refuseLostReasoning(messages);
  if (refusesReasoningContent) {
    const at = messages.findIndex((message) => message && 'reasoning_content' in message);
    if (at >= 0) throw invalid(`'messages.${at}' : for 'role:${String(messages[at]!.role)}' the following must be satisfied[('messages.${at}' : property 'reasoning_content' is unsupported)]`);
  }
  // OpenAI refuses members it does not define, Anthropic's cache_control among them.
  if ('cache_control' in body) throw invalid("Unrecognized request argument supplied: cache_control", 'cache_control', 'unknown_parameter');
  for (const [i, tool] of ((body.tools ?? []) as Json[]).entries()) if (tool && 'cache_control' in tool) throw invalid(`Unknown parameter: 'tools[${i}].cache_control'.`, `tools[${i}].cache_control`, 'unknown_parameter');
  messages.forEach((message, i) => {
    if ('cache_control' in (message as Json)) throw invalid(`Unknown parameter: 'messages[${i}].cache_control'.`, `messages[${i}].cache_control`, 'unknown_parameter');
    if (Array.isArray(message.content)) {
      for (const [j, part] of (message.content as Json[]).entries()) {
        if (part && 'cache_control' in part) throw invalid(`Unknown parameter: 'messages[${i}].content[${j}].cache_control'.`, `messages[${i}].content[${j}].cache_control`, 'unknown_parameter');
        if (part?.type === 'file') validateFilePart(part, message.role, `messages[${i}].content[${j}]`);
      }
    }
    // A tool call's members are OpenAI's: Google's `extra_content` (a Gemini thought signature) among those it does not define.
    for (const [j, call] of ((message as Json).tool_calls as Json[] | undefined ?? []).entries()) {
      const unknown = Object.keys(call ?? {}).find((key) => !['id', 'type', 'function', 'custom'].includes(key));
      if (unknown !== undefined) throw invalid(`Unknown parameter: 'messages[${i}].tool_calls[${j}].${unknown}'.`, `messages[${i}].tool_calls[${j}].${unknown}`, 'unknown_parameter');
    }
  });
  messages.forEach((message, i) => {
    if (!['system', 'developer', 'user', 'assistant', 'tool'].includes(String(message.role))) {
      throw invalid(`Invalid value: '${String(message.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`, `messages[${i}].role`, 'invalid_value');
    }
    if (message.role === 'tool') {
      const asked = messages.slice(0, i).reverse().find((m) => m.role !== 'tool');
      if (!asked?.tool_calls?.some((call) => call.id === message.tool_call_id)) {
        throw invalid("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.", `messages.[${i}].role`);
      }
    }
    if (message.role === 'assistant' && message.tool_calls?.length) {
      const answered = new Set(messages.slice(i + 1).filter((m) => m.role === 'tool').map((m) => m.tool_call_id));
      const missing = message.tool_calls.map((call) => String(call.id)).filter((id) => !answered.has(id));
      if (missing.length > 0) {
        throw invalid(`An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.join(', ')}`, `messages.[${i}].role`);
      }
    }
  });
}

/** Whether a DeepSeek-like request is in thinking mode: DeepSeek's default, unless `thinking: {type: "disabled"}`. */
const thinks = (body: Json): boolean => (body.thinking as Json | undefined)?.type !== 'disabled';

/**
 * DeepSeek's thinking mode (https://api-docs.deepseek.com/guides/thinking_mode): between two user messages in which
 * the model called tools, every assistant message's reasoning_content must be passed back to the API, in all later
 * requests; between two without tool calls it is ignored. Refused with the message DeepSeek answers.
 */
function refuseLostReasoning(messages: Message[]): void {
  let turn: number[] = [];
  const check = () => {
    if (!turn.some((i) => messages[i]!.tool_calls?.length)) return;
    const lost = turn.find((i) => typeof messages[i]!.reasoning_content !== 'string');
    if (lost !== undefined) throw invalid('The `reasoning_content` in the thinking mode must be passed back to the API.', `messages[${lost}].reasoning_content`, 'invalid_request_error');
  };
  messages.forEach((message, i) => {
    if (message.role === 'user') {
      check();
      turn = [];
    } else if (message.role === 'assistant') turn.push(i);
  });
  check();
}

/** A value that satisfies a (simple) JSON schema, the same every time. */
function sample(schema: Json | undefined): unknown {
  if (!schema) return {};
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

let toolCallCounter = 0;

function answer(body: Json): Answer {
  const messages = body.messages as Message[];
  const last = messages.at(-1) as Message;
  const tools = ((body.tools ?? []) as Tool[]).filter((t) => (t.type === 'function' && t.function?.name) || (t.type === 'custom' && t.custom?.name));
  const choice = body.tool_choice as string | { function?: { name?: string }; custom?: { name?: string } } | undefined;
  const nameOf = (tool: Tool) => String(tool.type === 'custom' ? tool.custom?.name : tool.function?.name);
  if (last.role === 'tool') return { content: `The tool answered: ${textOfContent(last.content)}`, toolCalls: [], finishReason: 'eos' };
  if (tools.length > 0 && choice !== 'none') {
    const userText = textOfContent(last.content);
    const forcedName = typeof choice === 'object' ? (choice.function?.name ?? choice.custom?.name) : undefined;
    const forced = tools.filter((t) => nameOf(t) === forcedName);
    const chosen = forced.length > 0 ? forced : toolsCalledFor(tools, userText, nameOf);
    // A custom tool's call carries free text: the emulator's is the user's text, after a line that names the tool.
    const toolCalls = chosen.map((tool): ToolCall => {
      const id = `call_emulator${++toolCallCounter}`;
      if (tool.type === 'custom') return { id, type: 'custom', custom: { name: nameOf(tool), input: `*** ${nameOf(tool)}\n${userText}` } };
      return { id, type: 'function', function: { name: nameOf(tool), arguments: JSON.stringify(sample(tool.function?.parameters)) } };
    });
    return { content: null, toolCalls, finishReason: 'tool_calls' };
  }
  const files = last.role === 'user' && Array.isArray(last.content) ? (last.content as Array<Json | null>).filter((part) => part?.type === 'file').length : 0;
  let text = `Echo: ${textOfContent(last.content)}${documentsNote(files)}`;
  let finishReason: Answer['finishReason'] = 'eos';
  const stops = typeof body.stop === 'string' ? [body.stop] : ((body.stop ?? []) as string[]);
  for (const sequence of stops) {
    const at = text.indexOf(sequence);
    if (at !== -1) {
      text = text.slice(0, at);
      finishReason = 'stop';
      break;
    }
  }
  const budget = (body.max_completion_tokens ?? body.max_tokens) as number | undefined;
  if (budget !== undefined && countTokens(text) > budget) {
    text = text.slice(0, budget * 4);
    finishReason = 'length';
  }
  return { content: text, toolCalls: [], finishReason };
}

const completionTokensOf = (reply: Answer) => countTokens((reply.reasoning ?? '') + (reply.content ?? '') + (reply.refusal ?? '') + reply.toolCalls.map((c) => (c.type === 'custom' ? c.custom.name + c.custom.input : c.function.name + c.function.arguments)).join(''));

/** OpenAI's JSON answers carry a content-length and a request id. */
function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendJsonAs(res, status, body, { 'content-length': Buffer.byteLength(JSON.stringify(body)), 'x-request-id': 'req_emulator', ...headers });
}

function sendError(res: ServerResponse, error: RequestError): void {
  sendJson(res, error.status, { error: { message: error.message, type: error.type, param: error.param, code: error.code } }, error.headers);
}

/** The tokens of the searches' results a Perplexity-like emulator reports reading, apart from the prompt's (`citation_tokens`). */
export const PERPLEXITY_CITATION_TOKENS = 1_200;
/** The tokens a Perplexity-like emulator reports reasoning with, apart from the answer's (`reasoning_tokens`). */
export const PERPLEXITY_REASONING_TOKENS = 3_000;
/** The searches a Perplexity-like emulator reports running (`num_search_queries`). */
export const PERPLEXITY_SEARCH_QUERIES = 3;

/** Perplexity's usage of a Sonar Deep Research answer: its counts, and its cost at Perplexity's prices. */
function perplexityUsageOf(promptTokens: number, answerTokens: number): Json {
  const perMillion = (tokens: number, dollars: number) => (tokens * dollars) / 1_000_000;
  const cost = {
    input_tokens_cost: perMillion(promptTokens, 2),
    output_tokens_cost: perMillion(answerTokens, 8),
    citation_tokens_cost: perMillion(PERPLEXITY_CITATION_TOKENS, 2),
    reasoning_tokens_cost: perMillion(PERPLEXITY_REASONING_TOKENS, 3),
    search_queries_cost: (PERPLEXITY_SEARCH_QUERIES * 5) / 1_000,
  };
  return {
    prompt_tokens: promptTokens,
    completion_tokens: answerTokens,
    total_tokens: promptTokens + answerTokens,
    search_context_size: 'low',
    citation_tokens: PERPLEXITY_CITATION_TOKENS,
    num_search_queries: PERPLEXITY_SEARCH_QUERIES,
    reasoning_tokens: PERPLEXITY_REASONING_TOKENS,
    cost: { ...cost, total_cost: Object.values(cost).reduce((sum, usd) => sum + usd, 0) },
  };
}

/** The reasoning tokens the emulator reports for a request with a `reasoning_effort` other than `none`. */
export const REASONING_TOKENS = 64;

/** The refusal the emulator answers with in its 'refuses' mode, in OpenAI's words for one. */
export const REFUSAL = "I'm sorry, I can't assist with that request.";

/** Starts the emulator on 127.0.0.1 on a free port. */
export async function startOpenAIEmulator(options: OpenAIEmulatorOptions = {}): Promise<OpenAIEmulator> {
  const apiKey = options.apiKey ?? 'test-openai-key';
  const reportUsage = options.reportUsage !== false;
  const floatsOnly = options.floatsOnly === true;
  let mode: OpenAIEmulatorMode = 'normal';
  let rateLimited: ReadonlySet<string> = new Set();
  const held: Array<() => void> = [];
  let completions = 0;

  /** An answer's finish reason as the host tells it: Together's `eos` for the model's own end, OpenAI's `stop` otherwise. */
  const told = (reason: Answer['finishReason']) => (reason === 'eos' && !options.togetherFinishReasons ? 'stop' : reason);

  const usageOf = (promptTokens: number, answerTokens: number, reasoningTokens: number): Json => (options.perplexityUsage ? perplexityUsageOf(promptTokens, answerTokens) : {
    prompt_tokens: promptTokens,
    completion_tokens: options.reasoningApart ? answerTokens : answerTokens + reasoningTokens,
    total_tokens: promptTokens + answerTokens + reasoningTokens,
    ...(options.deepseekCacheUsage
      ? { prompt_cache_hit_tokens: Math.min(options.cachedTokens ?? 0, promptTokens), prompt_cache_miss_tokens: promptTokens - Math.min(options.cachedTokens ?? 0, promptTokens) }
      : options.togetherCacheUsage
        ? { cached_tokens: Math.min(options.cachedTokens ?? 0, promptTokens) }
        : { prompt_tokens_details: { cached_tokens: Math.min(options.cachedTokens ?? 0, promptTokens), audio_tokens: 0 } }),
    completion_tokens_details: { reasoning_tokens: reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  });

  const chat = async (res: ServerResponse, body: Json): Promise<void> => {
    validateChat(body, options.maxOutputTokens ?? 16_384, options.reasoningContent === true, options.refusesReasoningContent === true);
    const count = Number(body.n ?? 1);
    const last = (body.messages as Message[]).at(-1);
    const replies = Array.from({ length: count }, (): Answer => ({ ...answer(body), ...(options.reasoningContent && thinks(body) ? { reasoning: reasoningFor(textOfContent(last?.content)) } : {}) }));
    // DeepSeek's inference interrupted for lack of resources: the answer as far as it got, and no further.
    if (mode === 'insufficient-resource' || mode === 'insufficient-resource-midway') {
      for (const reply of replies) Object.assign(reply, { content: mode === 'insufficient-resource' ? '' : (reply.content ?? '').split(' ')[0], toolCalls: [], finishReason: 'insufficient_system_resource' });
    }
    if (mode === 'refuses') for (const reply of replies) Object.assign(reply, { content: null, toolCalls: [], refusal: REFUSAL, finishReason: 'stop' });
    const reasoning = body.reasoning_effort !== undefined && body.reasoning_effort !== 'none' ? REASONING_TOKENS * count : 0;
    const full = usageOf(promptTokensFor(body), replies.reduce((sum, r) => sum + completionTokensOf(r), 0), reasoning);
    const usage = options.reportUsage === 'prompt-only' ? { prompt_tokens: full.prompt_tokens, total_tokens: full.prompt_tokens } : full;
    const head = { id: `chatcmpl-emulator${++completions}`, created: 1_735_787_045, model: String(body.model), system_fingerprint: 'fp_emulator' };
    // 'ignores-stream': a host that answers every chat request whole, as some OpenAI-compatible servers do.
    if (body.stream !== true || mode === 'ignores-stream') {
      const choices = replies.map((reply, index) => ({
        index,
        message: { role: 'assistant', content: reply.content, ...(reply.reasoning !== undefined ? { reasoning_content: reply.reasoning } : {}), refusal: reply.refusal ?? null, annotations: [], ...(reply.toolCalls.length > 0 ? { tool_calls: reply.toolCalls } : {}) },
        logprobs: null,
        finish_reason: told(reply.finishReason),
      }));
      return sendJson(res, 200, { ...head, object: 'chat.completion', choices, ...(reportUsage ? { usage } : {}), service_tier: 'default' });
    }
    const includeUsage = (body.stream_options as Json | undefined)?.include_usage === true && reportUsage && !options.groqStreamUsage && !options.perplexityUsage;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_emulator' });
    if (options.holdStreams) {
      res.flushHeaders();
      await new Promise<void>((resolve) => held.push(resolve));
    }
    const send = (data: unknown) => writeEvent(res, sseData(data), options.streamDelayMs);
    const chunk = (index: number, delta: Json, finishReason: string | null = null) => ({
      ...head,
      object: 'chat.completion.chunk',
      choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
    // A server error in the stream, after its 200 head: OpenAI sends it as an event holding only `error` and ends the
    // stream there, without `[DONE]` (the official clients raise it as an APIError). 'stream-error' right after the
    // opening chunk, before the model said anything; 'stream-error-midway' after the answer's first words.
    if (mode === 'stream-error' || mode === 'stream-error-midway') {
      await send(chunk(0, { role: 'assistant', content: '', refusal: null }));
      if (mode === 'stream-error-midway') await send(chunk(0, { content: (replies[0]?.content ?? '').split(' ')[0] ?? '' }));
      if (options.groqStreamError !== undefined) await send({ ...head, object: 'chat.completion.chunk', choices: [], x_groq: { id: 'req_emulator', error: options.groqStreamError } });
      else await send({ error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null } });
      res.end();
      return;
    }
    for (const [index, reply] of replies.entries()) {
      // DeepSeek streams its reasoning first, content null, then the answer.
      if (reply.reasoning !== undefined) {
        await send(chunk(index, { role: 'assistant', content: null, reasoning_content: '' }));
        for (const piece of reply.reasoning.match(/\S+\s*|\s+/g) ?? []) await send(chunk(index, { content: null, reasoning_content: piece }));
      }
      if (reply.toolCalls.length > 0) {
        await send(chunk(index, { role: 'assistant', content: null, refusal: null }));
        for (const [n, call] of reply.toolCalls.entries()) {
          // A custom call streams its input as `custom` fragments (the shape reported in openai/openai-python#2530).
          if (call.type === 'custom') {
            await send(chunk(index, { tool_calls: [{ index: n, id: call.id, type: 'custom', custom: { name: call.custom.name, input: '' } }] }));
            for (const piece of call.custom.input.match(/.{1,6}/gs) ?? []) await send(chunk(index, { tool_calls: [{ index: n, custom: { input: piece } }] }));
            continue;
          }
          // 'calls-without-index': each call whole in one delta, with its id and no index, as Google's OpenAI-compatible
          // API streams them (reported in google-gemini/gemini-api-cookbook and openai/openai-agents-python issues).
          if (mode === 'calls-without-index') {
            await send(chunk(index, { tool_calls: [{ id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }] }));
            continue;
          }
          await send(chunk(index, { tool_calls: [{ index: n, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }));
          // Arguments arrive in small fragments, as OpenAI sends them.
          for (const piece of call.function.arguments.match(/.{1,6}/gs) ?? []) await send(chunk(index, { tool_calls: [{ index: n, function: { arguments: piece } }] }));
        }
      } else if (reply.refusal !== undefined) {
        await send(chunk(index, { role: 'assistant', content: null, refusal: '' }));
        for (const piece of reply.refusal.match(/\S+\s*|\s+/g) ?? []) await send(chunk(index, { refusal: piece }));
      } else {
        await send(chunk(index, { role: 'assistant', content: '', refusal: null }));
        for (const piece of (reply.content ?? '').match(/\S+\s*|\s+/g) ?? []) await send(chunk(index, { content: piece }));
      }
      const finish = chunk(index, {}, told(reply.finishReason));
      const last = reportUsage && index === replies.length - 1;
      await send(options.groqStreamUsage && last ? { ...finish, x_groq: { id: 'req_emulator', usage } } : options.perplexityUsage && last ? { ...finish, usage } : finish);
    }
    if (includeUsage) await send({ ...head, object: 'chat.completion.chunk', choices: [], usage });
    await send('[DONE]');
    res.end();
  };

  const embed = (res: ServerResponse, body: Json): void => {
    if (typeof body.model !== 'string' || body.model === '') throw invalid('you must provide a model parameter');
    if (body.model === 'no-such-model') throw new RequestError(404, 'invalid_request_error', 'model_not_found', `The model \`${body.model}\` does not exist or you do not have access to it.`);
    // Token ids are embedded as the text of their ids: what counts is that they are taken, as OpenAI takes them.
    const inputs = typeof body.input === 'string' ? [body.input] : isTokenInput(body.input) ? tokenInputsAsText(body.input) : body.input;
    if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((text) => typeof text === 'string' && text !== '')) {
      throw invalid("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
    }
    const data = (inputs as string[]).map((text, index) => {
      const values = embeddingFor(text, body.dimensions as number | undefined);
      return { object: 'embedding', index, embedding: encodedVector(values, floatsOnly ? 'float' : body.encoding_format) };
    });
    const tokens = (inputs as string[]).reduce((sum, text) => sum + countTokens(text), 0);
    sendJson(res, 200, { object: 'list', data, model: body.model, ...(reportUsage ? { usage: { prompt_tokens: tokens, total_tokens: tokens } } : {}) });
  };

  const server = await startEmulatorServer<RecordedRequest>(
    ({ req, res, body }) => {
      const path = new URL(req.url ?? '/', 'http://emulator').pathname;
      const prefix = options.pathPrefix ?? '/v1';
      const operation = req.method === 'POST' && (path === `${prefix}/chat/completions` || path === `${prefix}/embeddings`) ? path.slice(prefix.length) : undefined;
      if (!operation) throw invalid(`Invalid URL (${req.method} ${path})`);
      const authorization = req.headers.authorization ?? '';
      if (!authorization.startsWith('Bearer ')) {
        throw new RequestError(401, 'invalid_request_error', null, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.");
      }
      const key = authorization.slice(7);
      const exhausted = options.exhaustedKeys?.includes(key) ?? false;
      const denied = options.deniedKeys?.includes(key) ?? false;
      const limited = rateLimited.has(key);
      if (key !== apiKey && !(options.moreKeys?.includes(key) ?? false) && !exhausted && !denied && !limited) {
        throw new RequestError(401, 'invalid_request_error', 'invalid_api_key', `Incorrect API key provided: ${masked(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`);
      }
      if (mode === 'rate-limited' || limited) {
        const seconds = options.retryAfterSeconds ?? 20;
        const when: Record<string, string> = options.resetHeadersOnly
          ? { 'x-ratelimit-limit-requests': '3', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': `${seconds}s`, 'x-ratelimit-limit-tokens': '150000', 'x-ratelimit-remaining-tokens': '149984', 'x-ratelimit-reset-tokens': '6m0s' }
          : { 'retry-after': String(seconds) };
        throw new RequestError(429, 'requests', 'rate_limit_exceeded', `Rate limit reached for requests in organization org-EmuLat0rOrgan1zat10nId00 on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${seconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`, null, when);
      }
      if (denied) throw new RequestError(403, 'invalid_request_error', 'model_not_found', `Project \`proj_emulator0001\` does not have access to model \`${String((body as Json | null)?.model ?? '')}\``);
      if (mode === 'out-of-quota' || exhausted) throw new RequestError(429, 'insufficient_quota', 'insufficient_quota', 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.');
      const streams = (body as Json | null)?.stream === true;
      if (mode === 'server-error' || ((mode === 'stream-error' || mode === 'stream-error-midway') && !streams)) throw new RequestError(500, 'server_error', null, 'The server had an error while processing your request. Sorry about that!');
      if (mode === 'garbled') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>Welcome to nginx!</body></html>');
        return;
      }
      if (mode === 'null-body') return sendJson(res, 200, null);
      if (mode === 'legacy-choice') return sendJson(res, 200, { id: 'cmpl-emulator', object: 'chat.completion', created: 1_735_787_045, model: 'gpt-4o-mini', choices: [{ index: 0, text: 'hi', finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } });
      // Not OpenAI's but OpenRouter's, as an OpenAI-compatible host: a 200 whose choice failed (finish_reason "error").
      if (mode === 'failed-choice') return sendJson(res, 200, { id: 'chatcmpl-failed', object: 'chat.completion', created: 1_735_787_045, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'Half an ans' }, finish_reason: 'error' }], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } });
      if (mode === 'odd-error') return sendJson(res, 500, { error: { message: { detail: 'upstream exploded' }, type: ['server_error'], code: 7 } });
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw invalid("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)");
      }
      if (operation === '/embeddings') return embed(res, body as Json);
      return chat(res, body as Json);
    },
    {
      onError: (error, res) => {
        if (error instanceof RequestError && !res.headersSent) sendError(res, error);
        else res.destroy();
      },
    },
  );
  return {
    ...server,
    rateLimitKeys: (keys) => {
      rateLimited = new Set(keys);
    },
    setMode: (next) => {
      mode = next;
    },
    heldStreams: () => held.length,
    releaseStreams: () => {
      for (const release of held.splice(0)) release();
    },
  };
}
