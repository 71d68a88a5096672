import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallsUnderWay } from './calls-under-way.js';
import type { ProviderAgents } from './provider-agents.js';
import type { Principal } from '../auth/principal.js';
import type { RateLimitDecision, RateLimiter } from '../auth/rate-limit/index.js';
import type { CatalogSnapshot } from '../catalog/index.js';
import { resumeWhenDrained } from '../stalled-clients.js';
import { costUsd, type CacheWrites, type CatalogModel, type ModelKind, type ModelPrices } from './catalog/index.js';
import type { AiSnapshot, AiTarget, AliasTarget, SnapshotKey } from './ai-snapshot.js';
import { resolveModel } from './ai-snapshot.js';
import { ANTHROPIC_BETA, ANTHROPIC_BLOCKS, CACHE_MARKED, TOOL_ERROR, CACHE_WRITES, OPENAI_NAME, OUTPUT_CONFIG, REASONING_EFFORTS, STOP_SEQUENCE, THINKING, TOOL_RESULT_OF, UNTITLED, CITATIONS, DOCUMENT_CONTEXT, WINDOW_EXCEEDED, type ChatCompletion, type StopSequence, type ChatRequest, type ClientCompletion, type CustomToolCall, type EmbeddingsRequest, type EmbeddingsResponse, type ToolCall, type Usage } from './chat-types.js';
import { ChatChunksToMessageEvents, withBetaFeatures, anthropicErrorTypeFor, chatToMessages, failedChoice, hiddenReasoningFor, messagesToChat, toAnthropicError } from './anthropic-ingress/index.js';
import { ChatChunksToResponseEvents, ENCRYPTED_REASONING_INCLUDE, checkInclude, includeOfQuery, RESPONSE_INPUT, ResponsesRequestError, chatToResponse, includesEncrypted, includesEncryptedReasoning, outputAsIncluded, responseAsIncluded, type EncryptedReasoning, inputItemsPage, previousResponseChainBroken, previousResponseIdOf, previousResponseNotFound, readInputItemsQuery, responseChainBroken, responseChainTooLong, responseEchoOf, responseNotFound, responsesStoreUnavailable, responsesToChat, toResponsesError, type PreviousResponse, type ResponseObject, type ResponsesChatRequest, type ResponsesInputItem } from './responses-ingress/index.js';
import { isAllowedToolsChoice, refuseToolNameCollisions, validateAllowedTools } from './custom-tools/index.js';
import { isJsonObject } from './json-object.js';
import { GENERATION_FAILED } from './providers/generation-failed.js';
import { offersFunctions, toFunctionCallChunk, toFunctionCallCompletion, toToolForms } from './legacy-functions.js';
import { oneToolCallAsked, oneToolCallPerChoice, withOneToolCall } from './one-tool-call.js';
import { refuseDeepNesting } from './nesting-depth.js';
import { takeCacheControl } from './openai-cache-control.js';
import { validateStreamOptions } from './stream-options.js';
import { validateFilePart } from './file-part.js';
import { refuseToolSettingsWithoutTools, refuseUnpairedToolMessages, validateFunctionTool, validateToolChoice } from './tools-validation.js';
import { headerText } from './header-text.js';
import { AiError, emptyArray, invalidParam as invalid, sendAiError } from './openai-error.js';
import { refuseBeyondChatBounds } from './chat-bounds.js';
import { withoutOperatorIds } from './operator-ids.js';
import { CallCancelled, Cancellation, ProviderCallError, callEmbeddings, chatAnswer, openChatStream, saysSomething, type ChatAnswer, type Done, type EmbeddingsCallOptions } from './provider-call.js';
import { SOURCE_TEXT, thinkingAsked, type CallContext, type ProviderAdapter, type ProviderFailure, type TranslatedChunk } from './providers/index.js';
import { idSpanOf, newCompletionId, withIdAt } from './completion-id.js';
import { ResponseCache, type CachedCompletion } from './response-cache.js';
import type { SecretRedaction } from './secret-redaction.js';
import { periodEnd, periodStart, type SpendTracker } from './spend-tracker.js';
import type { KeyTurns } from './key-turns.js';
import { HALF_OPEN_TRY, type TargetCircuits } from './target-circuits.js';
import { KeyLeftPool, isCurrent, isPooled } from './changed-providers.js';
import { saysModelIsGone } from './model-gone.js';
import { ATTEMPTS_HEADER, withAttempt, withAttempts } from './attempts-header.js';
import { StoreReadError, type EarlierOwner, type StoredResponse, type StoredResponses } from './stored-responses.js';
import { definitionTokens, estimatePromptTokens, estimateTokens, loadTokenizer, promptMediaTokens, quickTokenCount } from './token-estimate.js';
import type { UsageRecorder } from './usage-recorder.js';
import type { SharedBudgets, SharedHold, SpendAddition } from './shared-budgets.js';
import { countOf, reasoningApart } from './output-tokens.js';

/** A call's tokens: `cached` and `writes` (prompt-cache writes, priced above plain input) are part of `input`. */
/** A call's tokens as its provider counted them, and what it charged when it says (`usd`: OpenRouter's, Perplexity's). */
type Tokens = { input: number; output: number; cached: number; writes?: CacheWrites; usd?: number };

/** What outlives snapshots on one node: caches, key health, usage and spend. */
export interface AiRuntime {
  /** The connection pool for a call, by its `ai.timeout` (ProviderAgents). */
  agents: ProviderAgents;
  cache: ResponseCache;
  /** Responses kept for OpenAI's Responses API: read and written by Responses API calls only. */
  responses: StoredResponses;
  /** Seals and opens reasoning items' `encrypted_content` (Claude's thinking blocks) under the master key, for one owner (responseOwner). */
  sealedReasoningFor: (owner: string) => EncryptedReasoning;
  /** Told when a Response could not be kept (it is answered all the same, with `store: false`). */
  onStoreError: (error: Error) => void;
  /** Told when stored Responses could not be read, continued or deleted because the store failed (the caller gets a 503). */
  onStoreReadError?: (error: Error) => void;
  recorder: UsageRecorder;
  spend: SpendTracker;
  /** Holds of every process and node, in Redis when the gateway has one: else each process's own (SpendTracker). */
  sharedBudgets?: SharedBudgets;
  limiter: RateLimiter;
  /** The calls begun and not yet recorded: a shutdown waits for their records before the usage recorder's last write. */
  underWay: CallsUnderWay;
  /** Keys set aside, by id: until when, and why. */
  setAside: Map<string, SetAside>;
  /** The generation of each provider's current config (forgetChangedProviders); none yet: the first, 0. */
  generations: Map<string, number>;
  /** The ids of the keys the snapshot served now pools (forgetChangedProviders): no try sends one deleted since (isPooled). */
  pooledKeys: Set<string>;
  /** Told when a provider key is set aside (so that an operator can see which key failed, and why). */
  onKeySetAside?: (provider: string, keyId: string, reason: 'invalid' | 'quota', untilMs: number) => void;
  /** Told of an error the gateway did not expect, which the client was answered as a 500. */
  onUnexpected?: (requestId: string, error: unknown) => void;
  /** Smooth weighted round-robin state of each alias's targets, by their place in it (AliasTarget.rotation). */
  weights: Map<string, number>;
  /** Provider models that keep failing, skipped while their circuit is open. */
  circuits: TargetCircuits;
  /** The order each provider's keys are tried in: in turn within a priority, rate-limited keys last. */
  keyTurns: KeyTurns;
  now: () => number;
}

/** A key left out of its pool for a while: refused by the provider (`invalid`), or out of quota or credit (`quota`). */
export interface SetAside {
  until: number;
  reason: 'invalid' | 'quota';
  /** Whether the provider said until when (its Retry-After), rather than the gateway guessing. */
  told: boolean;
}

export interface AiCall {
  /** The request's id (requestIdOf), already chosen by the data plane: the answer, the usage record and the logs share it. */
  requestId: string;
  route: string;
  routeModels: readonly string[] | undefined;
  principal: Principal | undefined;
  snapshot: AiSnapshot;
  catalog: CatalogSnapshot;
  runtime: AiRuntime;
  maxBodySize: number;
  responseHeaders: Readonly<Record<string, string>>;
}

/** Longest Retry-After the gateway waits out itself before trying the same target again; longer ones fall through. */
const MAX_RETRY_WAIT_MS = 2_000;

const tooLarge = (limit: number) => new AiError(413, 'invalid_request_error', 'request_too_large', `the request body is larger than this route allows (${limit} bytes)`, null, { connection: 'close' });

/** Where each operation's request body is described, for a body that is not JSON to be pointed to. */
const REFERENCES: Readonly<Record<string, string>> = {
  'chat/completions': 'https://platform.openai.com/docs/api-reference/chat/create',
  embeddings: 'https://platform.openai.com/docs/api-reference/embeddings/create',
  responses: 'https://platform.openai.com/docs/api-reference/responses/create',
  messages: 'https://docs.anthropic.com/en/api/messages',
  'messages/count_tokens': 'https://docs.anthropic.com/en/api/messages-count-tokens',
};

/** The body as a JSON object; a 400 in OpenAI's shape if it is not one, pointing to the operation's reference. */
function parseBody(body: Buffer, operation: string): Record<string, unknown> {
  try {
    const value = JSON.parse(body.toString('utf8')) as unknown;
    if (!isJsonObject(value)) throw new Error('not an object');
    return value;
  } catch {
    throw new AiError(400, 'invalid_request_error', 'invalid_json', `the request body is not a JSON object; see ${REFERENCES[operation] ?? REFERENCES['chat/completions']}`);
  }
}

/** Reads the body as a JSON object and hands it to `done`, once: from the request's own `end` event, no promise. */
function readJson(req: IncomingMessage, limit: number, operation: string, done: Done<Record<string, unknown>>): void {
  // Gone before the handler ran (while a credential was checked): its events have been and gone.
  if (req.destroyed && !req.readableEnded) return done(new CallCancelled('the client closed the connection before sending the whole body'));
  // A compressed body would be read as text that is not JSON (or as JSON it is not, for a label the body does not
  // have): the gateway reads bodies as sent, and says so.
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    req.resume();
    return done(new AiError(415, 'invalid_request_error', 'unsupported_content_encoding', `the request body is sent with content-encoding "${encoding.slice(0, 40)}"; send it uncompressed, without the header`));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (error: Error | undefined, body?: Record<string, unknown>) => {
    if (finished) return;
    finished = true;
    done(error, body);
  };
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      finish(tooLarge(limit));
      req.pause();
    } else chunks.push(chunk);
  });
  req.on('end', () => {
    let body: Record<string, unknown>;
    try {
      body = parseBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), operation);
      // Before anything walks the body, writes it out, or counts it against a limit or a budget.
      refuseDeepNesting(body, operation.startsWith('messages') ? 'anthropic' : 'openai');
    } catch (error) {
      return finish(error as Error);
    }
    finish(undefined, body);
  });
  // The client left before its whole body came: a 499, not the gateway's failure.
  req.on('error', () => finish(new CallCancelled('the client closed the connection before sending the whole body')));
}

/**
 * One message as far as the gateway reads it (the prompt estimate, every adapter's translation): a role, content
 * that is text, null or content parts each with a type (text parts with text), and tool calls each naming a
 * function with its arguments as text. Cache breakpoints on it and its parts are taken (takeCacheControl); the
 * answer says whether it had any.
 */
function validateMessage(m: unknown, i: number): boolean {
  const at = `messages[${i}]`;
  if (!isJsonObject(m) || !['system', 'developer', 'user', 'assistant', 'tool'].includes(String(m.role))) throw invalid(`${at}.role`, `${at} must have a role of system, developer, user, assistant or tool`);
  let marked = takeCacheControl(m, at);
  const { content, tool_calls: calls } = m;
  // `null` as absent: clients send back the assistant messages they were given, and those say `tool_calls: null`.
  if (content === undefined && (calls === undefined || calls === null)) throw invalid(`${at}.content`, `${at} must have content`);
  if (content !== undefined && content !== null && typeof content !== 'string') {
    if (!Array.isArray(content)) throw invalid(`${at}.content`, `${at}.content must be a string or an array of content parts`);
    content.forEach((part: unknown, j: number) => {
      if (!isJsonObject(part) || typeof part.type !== 'string') throw invalid(`${at}.content[${j}].type`, `${at}.content[${j}] must be an object with a type`);
      if (part.type === 'text' && typeof part.text !== 'string') throw invalid(`${at}.content[${j}].text`, `${at}.content[${j}].text must be a string`);
      if (part.type === 'image_url' && !(isJsonObject(part.image_url) && typeof part.image_url.url === 'string')) throw invalid(`${at}.content[${j}].image_url.url`, `${at}.content[${j}].image_url must have a url`);
      if (part.type === 'refusal' && typeof part.refusal !== 'string') throw invalid(`${at}.content[${j}].refusal`, `${at}.content[${j}].refusal must be a string`);
      if (part.type === 'file') validateFilePart(part, `${at}.content[${j}]`, String(m.role));
      if (part.cache_control !== undefined && takeCacheControl(part, `${at}.content[${j}]`)) marked = true;
    });
  }
  if (calls !== undefined && calls !== null) {
    if (!Array.isArray(calls)) throw invalid(`${at}.tool_calls`, `${at}.tool_calls must be an array`);
    calls.forEach((call: unknown, j: number) => {
      // OpenAI's custom tools' calls carry free-text input; providers that know only function tools refuse them later.
      if (isJsonObject(call) && call.type === 'custom') {
        const custom = call.custom;
        if (!isJsonObject(custom) || typeof custom.name !== 'string' || typeof custom.input !== 'string') throw invalid(`${at}.tool_calls[${j}].custom`, `${at}.tool_calls[${j}] must have a custom tool's name and its input as a string`);
        // Its output names it by id (tool_call_id): a provider it is translated for pairs the two by it.
        if (typeof call.id !== 'string' || call.id === '') throw invalid(`${at}.tool_calls[${j}].id`, `${at}.tool_calls[${j}] must have an id, as the tool message with its output names it`);
        return;
      }
      const fn = isJsonObject(call) ? call.function : undefined;
      if (!isJsonObject(fn) || typeof fn.name !== 'string' || typeof fn.arguments !== 'string') throw invalid(`${at}.tool_calls[${j}].function`, `${at}.tool_calls[${j}] must have a function with a name and its arguments as a string`);
      // Anthropic takes a breakpoint on a tool_use block: the call's.
      if ((call as Record<string, unknown>).cache_control !== undefined && takeCacheControl(call as Record<string, unknown>, `${at}.tool_calls[${j}]`)) marked = true;
    });
  }
  return marked;
}

/**
 * OpenAI's API takes `null` for any optional parameter (`temperature: null`, `stream: null`…) as "not given":
 * so does the gateway, before it reads or translates anything.
 */
function withoutNulls(body: Record<string, unknown>): void {
  for (const key in body) if (body[key] === null) delete body[key];
}

const isLogitBias = (value: unknown): boolean =>
  isJsonObject(value) && Object.entries(value).every(([token, bias]) => /^\d+$/.test(token) && Number.isInteger(bias) && (bias as number) >= -100 && (bias as number) <= 100);

function validateChat(body: Record<string, unknown>): ChatRequest {
  withoutNulls(body);
  toToolForms(body);
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model', 'you must provide a model parameter');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages', "'messages' must be a non-empty array");
  let marked = takeCacheControl(body, '');
  for (let i = 0; i < body.messages.length; i++) if (validateMessage(body.messages[i], i)) marked = true;
  refuseUnpairedToolMessages(body.messages);
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw invalid('stream', "'stream' must be a boolean");
  validateStreamOptions(body);
  // vLLM's default top_k is -1, and 0 means the same to others: off, which adapters say by leaving it out.
  if (body.top_k !== undefined && (!Number.isInteger(body.top_k) || Number(body.top_k) < -1)) throw invalid('top_k', "'top_k' must be an integer, -1 or more (-1 and 0: no top-k sampling)");
  for (const name of ['max_tokens', 'max_completion_tokens', 'n'] as const) {
    if (body[name] !== undefined && (!Number.isInteger(body[name]) || Number(body[name]) < 1)) throw invalid(name, `'${name}' must be a positive integer`);
  }
  // OpenAI's own refusal, word for word: given both, each adapter would pick one, and not the same one.
  if (body.max_tokens !== undefined && body.max_completion_tokens !== undefined) throw new AiError(400, 'invalid_request_error', 'invalid_parameter_combination', "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported.", 'max_tokens');
  if (body.temperature !== undefined && (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 2)) throw invalid('temperature', "'temperature' must be a number from 0 to 2");
  // OpenAI's ranges (https://platform.openai.com/docs/api-reference/chat/create): adapters map them onto their providers' own.
  if (body.top_p !== undefined && (typeof body.top_p !== 'number' || body.top_p < 0 || body.top_p > 1)) throw invalid('top_p', "'top_p' must be a number from 0 to 1");
  for (const name of ['frequency_penalty', 'presence_penalty'] as const) {
    const penalty = body[name];
    if (penalty !== undefined && (typeof penalty !== 'number' || penalty < -2 || penalty > 2)) throw invalid(name, `'${name}' must be a number from -2 to 2`);
  }
  if (body.seed !== undefined && !Number.isInteger(body.seed)) throw invalid('seed', "'seed' must be an integer");
  // Token ids to biases from -100 to 100: anything else would pass every provider but OpenAI's unseen.
  if (body.logit_bias !== undefined && !isLogitBias(body.logit_bias)) throw invalid('logit_bias', "'logit_bias' must be an object of token ids to integers from -100 to 100");
  if (body.logprobs !== undefined && typeof body.logprobs !== 'boolean') throw invalid('logprobs', "'logprobs' must be a boolean");
  if (body.top_logprobs !== undefined && (!Number.isInteger(body.top_logprobs) || Number(body.top_logprobs) < 0 || Number(body.top_logprobs) > 20)) throw invalid('top_logprobs', "'top_logprobs' must be an integer from 0 to 20");
  if (Number(body.top_logprobs ?? 0) > 0 && body.logprobs !== true) throw invalid('top_logprobs', "'top_logprobs' needs 'logprobs': true");
  if (body.stop !== undefined && typeof body.stop !== 'string' && !(Array.isArray(body.stop) && body.stop.every((sequence) => typeof sequence === 'string'))) throw invalid('stop', "'stop' must be a string or an array of strings");
  refuseBeyondChatBounds(body);
  if (body.tools !== undefined && !Array.isArray(body.tools)) throw invalid('tools', "'tools' must be an array");
  if (Array.isArray(body.tools) && body.tools.length === 0) throw emptyArray('tools');
  // A call names its tool by name alone: a function and a custom tool of one name could not be told apart, whatever the provider.
  refuseToolNameCollisions(body.tools, 'tools');
  if (body.tools) body.tools.forEach((tool: unknown, i: number) => {
    if (isJsonObject(tool) && tool.type === 'custom') validateCustomTool(tool, `tools[${i}]`);
    else validateFunctionTool(tool, `tools[${i}]`);
    if (isJsonObject(tool) && tool.cache_control !== undefined && takeCacheControl(tool, `tools[${i}]`)) marked = true;
  });
  if (isAllowedToolsChoice(body.tool_choice)) validateAllowedTools(body.tool_choice, body.tools);
  else validateToolChoice(body.tool_choice, body.tools);
  refuseToolSettingsWithoutTools(body);
  if (body.response_format !== undefined) validateResponseFormat(body.response_format);
  // OpenAI's values, or one an OpenAI-compatible host defines (OpenRouter's max): the adapters that map it refuse others.
  if (body.reasoning_effort !== undefined && (typeof body.reasoning_effort !== 'string' || body.reasoning_effort === '')) throw invalid('reasoning_effort', `'reasoning_effort' must be one of ${REASONING_EFFORTS.join(', ')}, or another value the provider defines`);
  const request = body as unknown as ChatRequest;
  if (marked) request[CACHE_MARKED] = true;
  return request;
}

/**
 * A custom tool as Chat Completions declares it (https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools):
 * `{type: "custom", custom: {name, description?, format?}}`, the format `{type: "text"}` or `{type: "grammar",
 * grammar: {syntax: "lark" | "regex", definition}}`. Checked here for every provider: one it is translated for
 * reads them all, and a name-less tool would be a function named "undefined".
 */
function validateCustomTool(tool: Record<string, unknown>, at: string): void {
  const custom = tool.custom;
  if (!isJsonObject(custom)) throw invalid(`${at}.custom`, `${at}.custom is required for a custom tool: {name, description?, format?}`);
  if (typeof custom.name !== 'string' || !OPENAI_NAME.test(custom.name)) throw invalid(`${at}.custom.name`, `${at}.custom.name must be 1 to 64 letters, digits, underscores or dashes`);
  if (custom.description !== undefined && typeof custom.description !== 'string') throw invalid(`${at}.custom.description`, `${at}.custom.description must be a string`);
  const format = custom.format;
  if (format === undefined) return;
  if (!isJsonObject(format) || (format.type !== 'text' && format.type !== 'grammar')) throw invalid(`${at}.custom.format.type`, `${at}.custom.format must be {type: "text"} or {type: "grammar", grammar: {syntax, definition}}`);
  if (format.type === 'text') return;
  const grammar = format.grammar;
  if (!isJsonObject(grammar) || (grammar.syntax !== 'lark' && grammar.syntax !== 'regex')) throw invalid(`${at}.custom.format.grammar.syntax`, `${at}.custom.format.grammar.syntax must be "lark" or "regex"`);
  if (typeof grammar.definition !== 'string' || grammar.definition === '') throw invalid(`${at}.custom.format.grammar.definition`, `${at}.custom.format.grammar.definition must be the grammar, as a string`);
}

/**
 * `response_format` as OpenAI documents it: `{type: "text"}`, `{type: "json_object"}`, or `{type: "json_schema",
 * json_schema: {name, schema?, strict?, description?}}`. Every adapter that translates it reads those members: a
 * `json_schema` without its object was a TypeError in them, a 500 for the caller's mistake.
 */
function validateResponseFormat(format: unknown): void {
  if (!isJsonObject(format) || !['text', 'json_object', 'json_schema'].includes(String(format.type))) throw invalid('response_format.type', "'response_format.type' must be one of text, json_object or json_schema");
  if (format.type !== 'json_schema') return;
  const spec = format.json_schema;
  if (!isJsonObject(spec)) throw invalid('response_format.json_schema', "'response_format.json_schema' is required when the type is json_schema");
  if (typeof spec.name !== 'string' || !OPENAI_NAME.test(spec.name)) throw invalid('response_format.json_schema.name', "'response_format.json_schema.name' must be 1 to 64 letters, digits, underscores or dashes");
  if (spec.schema !== undefined && !isJsonObject(spec.schema)) throw invalid('response_format.json_schema.schema', "'response_format.json_schema.schema' must be a JSON Schema object");
}

const MAX_EMBEDDING_INPUTS = 2_048;

/** A token id: what `input` holds in place of text when a client sends tokens (OpenAI's tokenizers' ids). */
const isTokenId = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= 0;

/**
 * `input` as OpenAI's embeddings API takes it (https://platform.openai.com/docs/api-reference/embeddings/create):
 * a text, an array of texts, an array of token ids, or an array of such arrays; no text empty, no array empty, at
 * most 2,048 inputs. What it refuses is refused here, for every provider: some embed "" as a vector of something.
 */
function validateEmbeddingInput(input: unknown): void {
  if (typeof input === 'string') {
    if (input === '') throw invalid('input', "'input' cannot be an empty string");
    return;
  }
  if (!Array.isArray(input) || input.length === 0) throw invalid('input', "'input' must be a string, an array of strings, an array of token ids or an array of arrays of token ids, and not empty");
  const first: unknown = input[0];
  // A flat array of token ids is one input, as long as the model's context (OpenAI's embedding models take 8,191
  // tokens), which the provider bounds: the cookbook's long texts go as such chunks.
  if (typeof first === 'number') {
    if (!input.every(isTokenId)) throw invalid('input', "'input' as an array of token ids must hold integers of 0 or more only");
    return;
  }
  // OpenAI's own bound; it also bounds the parts a provider that takes fewer inputs a call is sent in (Gemini: 100 a call).
  if (input.length > MAX_EMBEDDING_INPUTS) throw invalid('input', `'input' may hold at most ${MAX_EMBEDDING_INPUTS} items`);
  for (let i = 0; i < input.length; i++) {
    const item: unknown = input[i];
    if (typeof first === 'string' ? typeof item !== 'string' : !Array.isArray(item)) throw invalid(`input[${i}]`, "'input' must hold texts only, or arrays of token ids only");
    if (item === '' || (Array.isArray(item) && item.length === 0)) throw invalid(`input[${i}]`, `'input[${i}]' cannot be empty`);
    if (Array.isArray(item) && !item.every(isTokenId)) throw invalid(`input[${i}]`, `'input[${i}]' must hold token ids: integers of 0 or more`);
  }
}

function validateEmbeddings(body: Record<string, unknown>): EmbeddingsRequest {
  withoutNulls(body);
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model', 'you must provide a model parameter');
  validateEmbeddingInput(body.input);
  if (body.encoding_format !== undefined && body.encoding_format !== 'float' && body.encoding_format !== 'base64') throw invalid('encoding_format', "'encoding_format' must be 'float' or 'base64'");
  if (body.dimensions !== undefined && (!Number.isInteger(body.dimensions) || Number(body.dimensions) < 1)) throw invalid('dimensions', "'dimensions' must be a positive integer");
  if (body.user !== undefined && typeof body.user !== 'string') throw invalid('user', "'user' must be a string");
  if (body.input_type !== undefined && typeof body.input_type !== 'string') throw invalid('input_type', "'input_type' must be a string");
  return body as unknown as EmbeddingsRequest;
}

/** Whether `allowed` (an app's or a route's list) lets the caller use `requested`, resolving to `target`s. */
function permits(allowed: readonly string[] | undefined, requested: string, targets: readonly AiTarget[]): boolean {
  if (!allowed || allowed.includes('*') || allowed.includes(requested)) return true;
  return targets.length > 0 && targets.every((t) => allowed.includes(`${t.provider}/${t.model}`) || allowed.includes(t.model));
}

/** Whether both the route and the calling app let the caller use `requested`, resolving to `targets`. */
function mayUse(call: AiCall, requested: string, targets: readonly AiTarget[]): boolean {
  const app = call.principal?.app ? call.catalog.apps.get(call.principal.app) : undefined;
  return permits(call.routeModels, requested, targets) && permits(app?.models, requested, targets);
}

/** OpenAI's answer for a model that does not exist, or that the caller may not use: the two are not told apart. */
const modelNotFound = (name: string) => new AiError(404, 'invalid_request_error', 'model_not_found', `The model \`${name}\` does not exist or you do not have access to it.`, 'model');

/** Orders targets for one call: by smooth weighted round robin for the first, the rest by weight. */
function weightedOrder(runtime: AiRuntime, targets: readonly AliasTarget[]): AiTarget[] {
  if (targets.length <= 1) return [...targets];
  let total = 0;
  let best = -1;
  let bestWeight = -Infinity;
  targets.forEach((t, i) => {
    const current = (runtime.weights.get(t.rotation) ?? 0) + t.weight;
    runtime.weights.set(t.rotation, current);
    total += t.weight;
    if (current > bestWeight) {
      bestWeight = current;
      best = i;
    }
  });
  const chosen = targets[best]!;
  runtime.weights.set(chosen.rotation, bestWeight - total);
  return [chosen, ...targets.filter((_, i) => i !== best).sort((a, b) => b.weight - a.weight)];
}

/**
 * A call's prices, from the catalog of the snapshot it started on: the one its admission and its budget hold read. A
 * catalog changed while the call runs (a price raised, an entry removed) prices the calls that start after it.
 */
const priceOf = (call: AiCall, catalogKey: string, model: string): ModelPrices | undefined => call.snapshot.catalog.priced(catalogKey, model);

/** A call's cost: what the host charged when it says, else its tokens at the catalog's prices (0 for a model it does not price). */
function costOf(price: ModelPrices | undefined, usage: Tokens): number {
  if (usage.usd !== undefined) return usage.usd;
  return price ? costUsd(price, { inputTokens: usage.input, outputTokens: usage.output, cachedInputTokens: usage.cached, cacheWrites: usage.writes }) : 0;
}

/** The charge a usage reports (Usage.cost), if it is a sum of money: a number of 0 or more, finite. */
function chargedUsd(cost: Usage['cost']): number | undefined {
  const usd = typeof cost === 'object' && cost !== null ? cost.total_cost : cost;
  return typeof usd === 'number' && Number.isFinite(usd) && usd >= 0 ? usd : undefined;
}

/**
 * The failure with the call's secrets (its key, the provider's configured credentials) cut out of every text the
 * client gets: some hosts quote the credential they were sent in their errors, in the message or elsewhere.
 */
function withoutSecret(failure: ProviderFailure, redaction: SecretRedaction): ProviderFailure {
  const { message, type, code, param } = failure;
  if (!(redaction.foundIn(message) || redaction.foundIn(type) || (code !== null && redaction.foundIn(code)) || (typeof param === 'string' && redaction.foundIn(param)))) return failure;
  return {
    ...failure,
    message: redaction.cut(message),
    type: redaction.cut(type),
    code: code === null ? null : redaction.cut(code),
    ...(typeof param === 'string' ? { param: redaction.cut(param) } : {}),
  };
}

/** The most characters of a provider's words a client is told. */
const PROVIDER_WORDS_CHARS = 1_000;

/**
 * A provider's words as the client is told them: without the operator's account names, and shortened, which is done
 * only here, after the call's secrets were cut (withoutSecret): a text shortened first could keep part of a secret
 * that the cut, looking for the whole, would miss (a Bedrock session token of 800 characters).
 */
function providerWords(message: string): string {
  const words = withoutOperatorIds(message);
  return words.length > PROVIDER_WORDS_CHARS ? `${words.slice(0, PROVIDER_WORDS_CHARS)}…` : words;
}

/**
 * A refusal that waiting will not undo (a spent budget lasts until the day or month turns; keys out of quota until
 * someone pays): the `openai` and `@anthropic-ai/sdk` clients retry a 429 unless the answer says `x-should-retry: false`.
 */
const NO_RETRY: Readonly<Record<string, string>> = { 'x-should-retry': 'false' };

/** What the client is told of a provider's failure: its meaning, in its words without the operator's account names. */
function clientError(provider: ProviderFailure): AiError {
  const failure = { ...provider, message: providerWords(provider.message) };
  const headers: Record<string, string> = failure.retryAfterMs !== undefined ? { 'retry-after': String(Math.max(1, Math.ceil(failure.retryAfterMs / 1000))) } : {};
  if (failure.credentialProblem === 'invalid') return new AiError(502, 'api_error', 'provider_authentication_failed', 'the provider refused every configured API key; an administrator must check the key pool');
  // The provider's words for a denial can name the operator's account (an AWS ARN, a Google project): not the client's to see.
  if (failure.credentialProblem === 'denied') {
    return failure.status === 402
      ? new AiError(402, 'insufficient_quota', failure.code ?? 'insufficient_quota', 'the provider cannot pay for a call this large with the configured keys; ask for fewer max_tokens')
      : new AiError(failure.status, 'permission_error', failure.code ?? 'permission_denied', 'the provider refused this call with every configured key (permission denied); an administrator must check what its keys may use');
  }
  // Out of quota or credit: no retry passes until the account is paid for, so none is asked of the client's SDK.
  if (failure.credentialProblem === 'quota' || failure.type === 'insufficient_quota') {
    return new AiError(429, 'insufficient_quota', failure.code ?? 'insufficient_quota', `the provider is out of quota or credit: ${failure.message}`, null, { ...headers, ...NO_RETRY }, 'out_of_quota');
  }
  if (failure.status === 429) return new AiError(429, 'rate_limit_error', failure.code ?? 'rate_limit_exceeded', `the provider is rate limiting: ${failure.message}`, null, headers);
  if (failure.status === 504) return new AiError(504, 'api_error', failure.code ?? 'provider_timeout', failure.message);
  // Overloaded or unavailable for now (a 503, Anthropic's 529): a 503 with the provider's Retry-After, which an
  // Anthropic-format client is answered as Anthropic's 529 overloaded_error, as it would its own provider's.
  if (failure.status === 503 || failure.status === 529) return new AiError(503, 'api_error', failure.code ?? 'provider_overloaded', `the provider is overloaded or unavailable: ${failure.message}`, null, headers, 'overloaded');
  if (failure.status >= 500) return new AiError(502, 'api_error', failure.code ?? 'provider_error', `the provider failed: ${failure.message}`);
  return new AiError(failure.status, failure.type, failure.code, failure.message, failure.param ?? null);
}

/** A call as it goes, for its record should it fail: when it started, the model asked for, the target tried last. */
interface CallTrace {
  /** Stops the provider call under way, and any fallback after it, once the client has gone. */
  cancel: Cancellation;
  started: number;
  model: string;
  target: AiTarget | undefined;
  /** The call's record is made (an answer, or a stream that broke off): a failure after it adds none. */
  recorded: boolean;
  /**
   * What the last failed try had its provider do, and bill, before it failed (the parts of an embeddings request
   * answered before one failed), not yet recorded: the call's failure record carries it if that try was the last.
   */
  spent: TrySpend | undefined;
  /** What the call holds against budgets in money while it runs (holdSpend), until its record or its end releases it. */
  held: Held | undefined;
}

interface Held {
  app: string | undefined;
  team: string | undefined;
  usd: number;
  /** The same hold in Redis (AiRuntime.sharedBudgets), once taken there. */
  shared?: SharedHold;
}

/** The tokens and cost of what a failed try had its provider do, with the status that try failed with. */
interface TrySpend {
  target: AiTarget;
  tokens: Tokens;
  estimated: boolean;
  cost: number;
  status: number;
}

/** The usage table's model column: at most this many characters. */
const MODEL_COLUMN_CHARS = 200;

/**
 * A model name as the usage table can hold it. It is the client's own text until it resolves, and may stay so
 * (`provider/<any id>`): cut to the column's width by characters, and without NUL, which PostgreSQL refuses in
 * text. Either would fail the whole batch of records, and every batch after it.
 */
function modelColumn(name: string): string {
  const clean = name.includes('\0') ? name.replaceAll('\0', '') : name;
  return clean.length <= MODEL_COLUMN_CHARS ? clean : Array.from(clean).slice(0, MODEL_COLUMN_CHARS).join('');
}

/** What a call's record says beyond what the call and its trace know. */
interface CallOutcome {
  app: string | undefined;
  team: string | undefined;
  provider: string | null;
  model: string;
  tokens: Tokens;
  estimated: boolean;
  cost: number;
  ttftMs: number | null;
  status: number;
  cacheHit: boolean;
}

const NO_TOKENS = Object.freeze({ input: 0, output: 0, cached: 0 });

/**
 * The call's usage record, and its cost counted against the budgets. Each call has exactly one, and one more for
 * each failed try that had a provider do billed work before another try followed (keepSpend).
 */
function recordCall(call: AiCall, trace: CallTrace, outcome: CallOutcome): void {
  if (!trace.recorded) call.runtime.underWay.ended();
  trace.recorded = true;
  // A hold in Redis goes with the record's cost, in one step (sharedSpend): no other process's check sees neither.
  const shared = trace.held?.shared;
  if (shared) trace.held!.shared = undefined;
  releaseSpend(call, trace);
  writeRecord(call, trace, outcome, shared);
}

function writeRecord(call: AiCall, trace: CallTrace, outcome: CallOutcome, releasing?: SharedHold): void {
  const at = call.runtime.now();
  const { app, team, tokens } = outcome;
  call.runtime.recorder.record({
    at, request_id: call.requestId, app: app ?? null, team: team ?? null, route: call.route, provider: outcome.provider, model: modelColumn(outcome.model),
    input_tokens: tokens.input, output_tokens: tokens.output, cached_tokens: tokens.cached, estimated: outcome.estimated ? 1 : 0, cost_usd: outcome.cost,
    latency_ms: at - trace.started, ttft_ms: outcome.ttftMs, status: outcome.status, cache_hit: outcome.cacheHit ? 1 : 0,
    credential: call.principal?.credential ?? null,
  });
  const { sharedBudgets } = call.runtime;
  // The process's figures before this call: a period no process has counted in Redis yet starts from them.
  const additions = sharedBudgets && outcome.cost > 0 ? sharedSpend(call, sharedBudgets, app, team, outcome.cost, at) : undefined;
  call.runtime.spend.add(app, team, outcome.cost, at);
  if (sharedBudgets && (releasing || additions?.length)) sharedBudgets.settle(releasing, additions ?? []);
}

/** A call's cost as added to the shared spend of each budget in money of its app and team (SharedBudgets.settle). */
function sharedSpend(call: AiCall, sharedBudgets: SharedBudgets, app: string | undefined, team: string | undefined, usd: number, at: number): SpendAddition[] {
  return budgetPeriods(call, app, team).map(({ scope, name, period }) => ({
    spendKey: sharedBudgets.spendKey(scope, name, period, periodStart(period, at)),
    seed: call.runtime.spend.spentKnown(scope, name, period, at),
    usd,
    expiresAt: periodEnd(period, at) + DAY_MS,
  }));
}

/** Each budget in money of `app` and of `team` that has a limit: its scope, name, period and limit. */
function budgetPeriods(call: AiCall, app: string | undefined, team: string | undefined): Array<Omit<MoneyBudget, 'recorded'>> {
  const periods: Array<Omit<MoneyBudget, 'recorded'>> = [];
  for (const scope of ['app', 'team'] as const) {
    const name = scope === 'app' ? app : team;
    const budget = name === undefined ? undefined : (scope === 'app' ? call.catalog.apps : call.catalog.teams).get(name)?.budget;
    if (name === undefined || budget === undefined) continue;
    for (const period of ['day', 'month'] as const) {
      const limit = period === 'day' ? budget.dailyUsd : budget.monthlyUsd;
      if (limit !== undefined) periods.push({ scope, name, period, limit });
    }
  }
  return periods;
}

const DAY_MS = 86_400_000;

/** The call's app, and the app's team, as its records name them. */
function appOf(call: AiCall): { app: string | undefined; team: string | undefined } {
  const app = call.principal?.app;
  return { app, team: app ? call.catalog.apps.get(app)?.team : undefined };
}

/**
 * The record of a call that failed: refused by the gateway (validation, permissions, budgets, token rate) or by
 * every target. Providers charge for answers, and a refusal reached none: no tokens and no cost, but for the work
 * the last try had done before it failed (its kept spend).
 */
function recordFailure(call: AiCall, trace: CallTrace, status: number): void {
  const spent = trace.spent;
  trace.spent = undefined;
  const own = spent && spent.target === trace.target ? spent : undefined;
  // A spend kept from an earlier target than the one tried last is that target's: a record of its own.
  if (spent && !own) recordSpend(call, trace, spent);
  recordCall(call, trace, {
    ...appOf(call), provider: trace.target?.provider ?? null, model: trace.target?.model ?? trace.model,
    tokens: own?.tokens ?? NO_TOKENS, estimated: own?.estimated ?? false, cost: own?.cost ?? 0, ttftMs: null, status, cacheHit: false,
  });
}

/**
 * Keeps what a failed try had its provider do, and bill, for the call's records: the failure's, should the call end
 * with this try; otherwise a record of its own, written when the next try's spend is kept or the call answers.
 */
function keepSpend(call: AiCall, trace: CallTrace, spend: TrySpend): void {
  if (trace.spent) recordSpend(call, trace, trace.spent);
  trace.spent = spend;
}

/** Keeps the spend of a try whose failure carries what the provider made and billed (ProviderCallError.billed), if any. */
function keepBilled(call: AiCall, trace: CallTrace, tried: AiTarget, catalogKey: string, error: unknown): void {
  const tokens = error instanceof ProviderCallError ? usageOf(error.billed) : undefined;
  if (tokens) keepSpend(call, trace, { target: tried, tokens, estimated: false, cost: costOf(priceOf(call, catalogKey, tried.model), tokens), status: 502 });
}

/** The record of a failed try's spend, apart from the call's own record: its target, its status, its tokens and cost. */
function recordSpend(call: AiCall, trace: CallTrace, spend: TrySpend): void {
  writeRecord(call, trace, { ...appOf(call), provider: spend.target.provider, model: spend.target.model, tokens: spend.tokens, estimated: spend.estimated, cost: spend.cost, ttftMs: null, status: spend.status, cacheHit: false });
}

/** Why an AI operation is unknown; for a stored response's, what Keygate does serve of them. */
function unknownOperation(operation: string): string {
  if (operation.startsWith('responses/')) return `unknown AI operation: ${operation}. Of a stored response Keygate serves GET and DELETE /v1/responses/{id} and GET /v1/responses/{id}/input_items; nothing runs in the background to cancel`;
  return `unknown AI operation: ${operation}`;
}

/** What a path under `responses/` asks of a stored Response, if it is one of its endpoints. */
function storedResponseAction(operation: string, method: string | undefined): { id: string; action: 'retrieve' | 'delete' | 'input_items' } | undefined {
  const parts = operation.slice('responses/'.length).split('/');
  let id: string;
  try {
    id = decodeURIComponent(parts[0]!);
  } catch {
    id = parts[0]!;
  }
  if (id === '') return undefined;
  if (parts.length === 1 && (method === 'GET' || method === 'DELETE')) return { id, action: method === 'GET' ? 'retrieve' : 'delete' };
  if (parts.length === 2 && parts[1] === 'input_items') return { id, action: 'input_items' };
  return undefined;
}

/**
 * `GET /v1/responses/{id}` (the Response as it was answered), `DELETE /v1/responses/{id}` and
 * `GET /v1/responses/{id}/input_items` (https://platform.openai.com/docs/api-reference/responses/get): for the caller
 * that stored the Response only; for any other, or once it has expired or been deleted, 404. Free, and unrecorded.
 */
function serveStoredResponse(req: IncomingMessage, res: ServerResponse, call: AiCall, id: string, action: 'retrieve' | 'delete' | 'input_items'): void {
  req.resume();
  const { requestId, runtime } = call;
  const owner = responseOwner(call);
  const earlier = earlierOwner(call);
  const now = runtime.now();
  const params = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const answer = async (): Promise<unknown> => {
    if (action === 'delete') {
      if (!(await fromStore(call, id, runtime.responses.delete(id, owner, now, earlier)))) throw responseNotFound(id);
      return { id, object: 'response', deleted: true };
    }
    if (action === 'input_items') {
      if (req.method !== 'GET') throw new AiError(405, 'invalid_request_error', 'method_not_allowed', 'use GET', null, { allow: 'GET' });
      const query = readInputItemsQuery(params);
      const chain = await fromStore(call, id, runtime.responses.chain(id, owner, now, earlier));
      if (chain.found === 'none') throw responseNotFound(id);
      if (chain.found === 'broken') throw responseChainBroken(id);
      if (chain.found === 'too_long') throw responseChainTooLong(id, runtime.responses.maxChain, null);
      // The input items as the request saw them: the earlier turns' input and output, then its own input; the page
      // shows reasoning's encrypted_content only if this list's `include` asks (inputItemsPage).
      return inputItemsPage([...turnsOf(chain.responses.slice(0, -1)), ...chain.responses.at(-1)!.input], query);
    }
    // OpenAI's retrieve takes `include` too: a value it does not define is a 400 naming it, as on a create.
    const include = includeOfQuery(params);
    checkInclude(include);
    // `stream=true` replays the events of a Response being made in the background, which Keygate does not run: said,
    // rather than a JSON body a streaming client reads no event from.
    if (params.get('stream') === 'true') throw new AiError(400, 'invalid_request_error', 'unsupported_parameter', "Keygate keeps no events of a stored response to stream again (it runs no background responses): retrieve it without 'stream'.", 'stream');
    // The Response's own row: it is whole, whatever became of the earlier ones of its chain.
    const stored = await fromStore(call, id, runtime.responses.find(id, owner, now, earlier));
    if (!stored) throw responseNotFound(id);
    // As it was answered, or with what this retrieve's `include` asks for.
    return responseAsIncluded(stored.response, included(stored) || includesEncryptedReasoning(include));
  };
  answer().then(
    (value) => sendJson(res, call, requestId, value),
    (error: unknown) => sendAiError(res, error instanceof AiError ? error : new AiError(500, 'api_error', 'internal_error', 'the stored response could not be read'), requestId),
  );
}

/**
 * What a read or delete of stored Responses gives, or, if the store did not answer (StoreReadError: PostgreSQL down,
 * say), a 503 the client may retry (responsesStoreUnavailable) and a warning for the operator. Any other failure (a
 * fault of the gateway's own) goes on as it is: a retry would not mend it.
 */
function fromStore<T>(call: AiCall, id: string, reading: Promise<T>): Promise<T> {
  return reading.catch((error: unknown) => {
    if (!(error instanceof StoreReadError)) throw error;
    call.runtime.onStoreReadError?.(error);
    throw responsesStoreUnavailable(id);
  });
}

/** Whether a stored Response was answered with its reasoning items' `encrypted_content`. */
const included = (stored: StoredResponse): boolean => includesEncryptedReasoning(stored.include);

/** The input, then output, items of stored Responses of a chain, in their order, the output as kept (`encrypted_content` included). */
const turnsOf = (responses: readonly StoredResponse[]): ResponsesInputItem[] =>
  responses.flatMap((stored) => [...stored.input, ...(outputAsIncluded(stored.response.output, true) as unknown as ResponsesInputItem[])]);

/**
 * The stored Response a Responses API request continues, as its chain's items, read in one query: a 400
 * (`previous_response_not_found`) if the caller has none by that id or its chain lost an earlier Response, and
 * (`response_chain_too_long`) if the chain is as long as Keygate keeps.
 */
async function previousResponse(call: AiCall, id: string): Promise<PreviousResponse> {
  const { responses } = call.runtime;
  const chain = await fromStore(call, id, responses.chain(id, responseOwner(call), call.runtime.now(), earlierOwner(call)));
  if (chain.found === 'none') throw previousResponseNotFound(id);
  if (chain.found === 'broken') throw previousResponseChainBroken(id);
  if (chain.found === 'too_long' || chain.responses.length >= responses.maxChain) throw responseChainTooLong(id, responses.maxChain, 'previous_response_id');
  return { id, items: turnsOf(chain.responses) };
}

/**
 * Keeps a Response a Responses API request asked to store (`store`, true by default) before the client may see it
 * whole, so that its next call finds it on any worker or node. A store that fails does not cost the client the
 * answer its provider already made, and billed: it gets it, said truthfully to be unstored (`store: false`).
 */
async function keepResponse(call: AiCall, request: ResponsesChatRequest, response: ResponseObject): Promise<ResponseObject> {
  const input = request[RESPONSE_INPUT];
  if (!input) return response;
  const { app, team } = appOf(call);
  try {
    const include = includesEncrypted(request) ? { include: [ENCRYPTED_REASONING_INCLUDE] } : {};
    await call.runtime.responses.save({ owner: responseOwner(call), earlier: earlierOwner(call), app: app ?? null, team: team ?? null, route: call.route }, { response, input, ...include }, call.runtime.now(), call.snapshot.responsesRetentionMs);
    return response;
  } catch (error) {
    call.runtime.onStoreError(error as Error);
    return { ...response, store: false };
  }
}

/**
 * A Responses API answer's body once its Response is kept (keepResponse), as the client included it (without
 * `encrypted_content` unless it asked): the same text, or the unstored Response's.
 */
async function keepAnswer(call: AiCall, request: ResponsesChatRequest, body: string): Promise<string> {
  const response = JSON.parse(body) as ResponseObject;
  const kept = await keepResponse(call, request, response);
  const shown = responseAsIncluded(kept, includesEncrypted(request));
  return shown === response ? body : JSON.stringify(shown);
}

/**
 * A Responses API request on a gateway that stores no Responses (`ai.responses.store: false`, for operators who must
 * keep no conversations): answered as one that asked `store: false`, which its Response says; one that continues a
 * stored Response cannot be, and is refused with what to send instead.
 */
function unstored(body: Record<string, unknown>): Record<string, unknown> {
  if (previousResponseIdOf(body) !== undefined) {
    throw new ResponsesRequestError('previous_response_id', "This gateway stores no responses (its ai.responses.store is false): send the whole conversation in 'input' instead of 'previous_response_id'.", 'previous_response_not_supported');
  }
  return { ...body, store: false };
}

/**
 * An error the gateway did not expect, as the client is told it: a 500, but for a stack overrun, a 400. Every body is
 * refused past MAX_NESTING_DEPTH as soon as it is parsed (refuseDeepNesting), so no request should overrun the stack
 * any more; should one still (JSON nested inside a string, say), it is the request's fault, not the gateway's.
 */
function unexpected(error: unknown): AiError {
  if (error instanceof RangeError && error.message.includes('call stack')) {
    return new AiError(400, 'invalid_request_error', 'nesting_too_deep', 'the request nests objects or arrays too deeply to be sent on (thousands of levels)');
  }
  return new AiError(500, 'api_error', 'internal_error', 'the request failed inside the gateway');
}

/** Whether a chat request is a Responses API request whose answer is to be stored. */
const toStore = (request: ChatRequest): request is ResponsesChatRequest => RESPONSE_INPUT in request;

/**
 * The unified API on an AI route: `POST …/chat/completions`, `POST …/responses`, `POST …/embeddings` and
 * `GET …/models` in OpenAI's shapes, whatever the provider. Picks the provider by alias weights, falls back on
 * errors, timeouts and 429s, switches keys the provider refuses, and accounts for every token and cent.
 */
export function handleAi(req: IncomingMessage, res: ServerResponse, operation: string, call: AiCall): void {
  const { requestId } = call;
  if (operation === 'models' || operation.startsWith('models/')) {
    try {
      if (req.method !== 'GET') throw new AiError(405, 'invalid_request_error', 'method_not_allowed', 'use GET');
      if (operation !== 'models') return retrieveModel(res, call, requestId, operation.slice('models/'.length));
      return listModels(res, call, requestId);
    } catch (error) {
      return sendAiError(res, error instanceof AiError ? error : unexpected(error), requestId);
    }
  }
  if (operation === 'messages/count_tokens') return countTokens(req, res, call);
  if (operation.startsWith('responses/')) {
    const stored = storedResponseAction(operation, req.method);
    if (stored) return serveStoredResponse(req, res, call, stored.id, stored.action);
  }
  // Every other call is recorded, those that fail too.
  const trace: CallTrace = { cancel: new Cancellation(), started: call.runtime.now(), model: '', target: undefined, recorded: false, spent: undefined, held: undefined };
  call.runtime.underWay.started();
  // A client that leaves before its answer: the provider's tokens are no longer worth generating, nor a fallback.
  // (A client gone already, while a first-seen key was checked, closed before this listener.)
  const leave = () => trace.cancel.cancel(new CallCancelled('the client closed the connection before the answer'));
  if (res.destroyed) leave();
  else {
    res.once('close', () => {
      if (!res.writableFinished) leave();
      // The call's record releases what it held in the turn that counts its cost instead; a call whose client left is
      // recorded once its provider call has stopped (a stream's partial cost, estimated: the tokenizer may load first).
      // Released here, the hold would leave a moment in which neither counts and another call of the app could pass
      // its budget check. This is the backstop for a call never recorded.
      if (trace.held) setTimeout(() => releaseSpend(call, trace), UNRECORDED_HOLD_MS).unref();
    });
  }
  // Ends the call with its error, once (a callback may report after another did), and never throws.
  let failed = false;
  const fail = (error: unknown) => {
    if (failed) return;
    failed = true;
    const failure =
      error instanceof AiError ? error
      : error instanceof CallCancelled ? new AiError(499, 'api_error', 'client_closed_request', error.message)
      : unexpected(error);
    // The gateway's own failure, for an operator to see (not the request's: a 400 for a request nested too deeply).
    if (!(error instanceof AiError) && failure.status === 500) call.runtime.onUnexpected?.(requestId, error);
    // Nothing goes on once the call has failed: a provider call still running (a stream accepted just before the
    // gateway failed to answer) would be generated, billed and buffered for no one.
    trace.cancel.cancel(new CallCancelled('the call failed'));
    try {
      if (!trace.recorded) recordFailure(call, trace, failure.status);
      if (operation.startsWith('messages')) return sendAnthropicError(res, failure, requestId);
      sendAiError(res, operation === 'responses' ? toResponsesError(failure) : failure, requestId);
    } catch {
      res.destroy();
    }
  };
  const known = operation === 'chat/completions' || operation === 'responses' || operation === 'messages' || operation === 'embeddings';
  // An operation the unified API lacks is a 404 whatever its method: `GET /v1/responses/{id}` asks for a stored response.
  if (!known || req.method !== 'POST') {
    req.resume();
    return fail(!known ? new AiError(404, 'invalid_request_error', 'unknown_url', unknownOperation(operation)) : new AiError(405, 'invalid_request_error', 'method_not_allowed', 'use POST'));
  }
  // The rest of the call runs from the body's `end` event on, without a promise unless a step must wait (a budget
  // read from the store, a Retry-After, a stream): a non-streamed answer is sent from the provider socket's callback.
  readJson(req, call.maxBodySize, operation, (error, body) => {
    if (error) return fail(error);
    try {
      const pending = operation === 'embeddings' ? embeddings(body!, res, call, trace) : chat(body!, res, call, trace, CHAT_FORMATS[operation] ?? 'openai', fail);
      if (pending) pending.catch(fail);
    } catch (failure) {
      fail(failure);
    }
  });
}

/**
 * `POST /v1/messages/count_tokens` (Anthropic's token counting, free and unrecorded): the request's prompt as the
 * gateway's tokenizer counts it, tools included, for a model the caller may use. An estimate whatever the
 * provider, said so in `x-keygate-usage-estimated`.
 */
function countTokens(req: IncomingMessage, res: ServerResponse, call: AiCall): void {
  const { requestId } = call;
  const fail = (error: unknown) => {
    if (error instanceof CallCancelled) return void res.destroy();
    sendAnthropicError(res, error instanceof AiError ? error : unexpected(error), requestId);
  };
  if (req.method !== 'POST') {
    req.resume();
    return fail(new AiError(405, 'invalid_request_error', 'method_not_allowed', 'use POST'));
  }
  readJson(req, call.maxBodySize, 'messages/count_tokens', (error, body) => {
    if (error) return fail(error);
    try {
      // The same fields as a message, but no max_tokens: nothing is generated.
      const request = messagesToChat({ max_tokens: 1, ...body });
      const targets = resolveModel(call.snapshot, request.model, (t) => [...t]);
      if (!targets || !mayUse(call, request.model, targets)) throw modelNotFound(request.model);
      loadTokenizer()
        .then(() => {
          const text = JSON.stringify({ input_tokens: estimatePromptTokens(request.messages) + definitionTokens(request, estimateTokens) });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': requestId, 'request-id': requestId, 'x-keygate-usage-estimated': 'true', ...call.responseHeaders });
          res.end(text);
        })
        .catch(fail);
    } catch (failure) {
      fail(failure);
    }
  });
}

/** Errors on `/v1/messages` take Anthropic's shape (`{"type":"error","error":{type,message}}`), status kept. */
export function sendAnthropicError(res: ServerResponse, error: AiError, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, body } = toAnthropicError(error);
  const text = JSON.stringify({ ...body, request_id: requestId });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': requestId, 'request-id': requestId, ...error.headers });
  res.end(text);
}

/** The names the caller may use: the list `GET /v1/models` answers, sorted. */
function visibleModels(call: AiCall): string[] {
  const app = call.principal?.app ? call.catalog.apps.get(call.principal.app) : undefined;
  const names = new Set<string>();
  for (const alias of call.snapshot.aliases.keys()) names.add(alias);
  for (const model of call.routeModels ?? []) names.add(model);
  for (const model of app?.models ?? []) if (model !== '*') names.add(model);
  // A caller free to name any model sees every current catalog model of the configured providers, as provider/model.
  const free = (list: readonly string[] | undefined) => !list || list.includes('*');
  if (free(call.routeModels) && free(app?.models)) {
    for (const [name, provider] of call.snapshot.providers) {
      for (const model of call.snapshot.catalog.list({ provider: provider.catalogKey, includeDeprecated: false })) names.add(`${name}/${model.id}`);
    }
  }
  return [...names].filter(usableBy(call)).sort();
}

/**
 * Whether the caller may call a model name: it resolves to targets (an app's list may hold any name, which would
 * answer 404), the caller may use it, and, under a budget in money, one of its targets has a price (pricedTargets
 * refuses it otherwise).
 */
function usableBy(call: AiCall): (name: string) => boolean {
  const app = call.principal?.app ? call.catalog.apps.get(call.principal.app) : undefined;
  const teamBudget = app?.team ? call.catalog.teams.get(app.team)?.budget : undefined;
  const priced = inMoney(app?.budget) || inMoney(teamBudget) ? (targets: readonly AiTarget[]) => targets.some((target) => isPriced(call, target)) : () => true;
  return (name) => {
    const targets = resolveModel(call.snapshot, name, (t) => [...t]) ?? [];
    return targets.length > 0 && mayUse(call, name, targets) && priced(targets);
  };
}

const modelObject = (id: string) => ({ id, object: 'model', created: 0, owned_by: 'keygate' });

function sendJson(res: ServerResponse, call: AiCall, requestId: string, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': requestId, ...call.responseHeaders });
  res.end(body);
}

function listModels(res: ServerResponse, call: AiCall, requestId: string): void {
  sendJson(res, call, requestId, { object: 'list', data: visibleModels(call).map(modelObject) });
}

/**
 * `GET /v1/models/{model}`: a model the list shows (ids with a `/`, `openai/gpt-4o`, included), or the bare id of a
 * current catalog model of a configured provider, which the list shows as `provider/model`, when the caller may call
 * it; 404 otherwise, for a name no catalog knows too (`openai/no-such-model` resolves, and would be sent on).
 */
function retrieveModel(res: ServerResponse, call: AiCall, requestId: string, encoded: string): void {
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch {
    id = encoded;
  }
  const bareCatalogId = !id.includes('/') && [...call.snapshot.providers.values()].some((provider) => {
    const model = call.snapshot.catalog.lookup(provider.catalogKey, id);
    return model !== undefined && model.deprecated !== true;
  });
  if (!(bareCatalogId ? usableBy(call)(id) : visibleModels(call).includes(id))) throw modelNotFound(id);
  sendJson(res, call, requestId, modelObject(id));
}

interface Prepared {
  /** The targets that may answer, in the config's order (inTurn orders them for a call). */
  targets: readonly AiTarget[];
  /** An alias's targets shared by weight, when it has more than one: those of `targets` are ordered by inTurn. */
  weighted: readonly AliasTarget[] | undefined;
  app: string | undefined;
  team: string | undefined;
  /** The prompt's estimated tokens (four bytes of UTF-8 a token, images as imageTokens says): what the limits are checked with. */
  promptTokens: number;
  /**
   * The least the prompt's tokens can be: without its images, which one provider counts at a small fraction of
   * another's (an image by URL at 85 tokens by OpenAI's low detail, 1,600 by the estimate), for leastPromptCost.
   */
  leastTokens: number;
  /** What the prompt was counted against the app's tokens per minute (chargeTokens), to give back if a later check refuses the call. */
  charged?: { cost: number; countedIn: number };
  /** The least its prompt can cost (leastPromptCost), once priced. */
  leastPromptUsd?: number;
  /** The app and the team whose budgets in money the call counts against, if any: what it holds while it runs (holdSpend). */
  moneyApp: string | undefined;
  moneyTeam: string | undefined;
}

/**
 * Model resolution, permissions, budgets and the token-per-minute limit: all before any provider is called. A
 * promise only when a check must wait (a budget's tally read from the store, a shared rate limiter).
 */
function prepare(requested: string, promptTokens: number, call: AiCall, leastTokens = promptTokens, kind: ModelKind = 'chat'): Prepared | Promise<Prepared> {
  const admitted = admit(requested, call, kind);
  return admitted instanceof Promise ? admitted.then((ready) => chargeTokens(call, ready, promptTokens, leastTokens)) : chargeTokens(call, admitted, promptTokens, leastTokens);
}

/**
 * What refuses a call whatever its prompt: a model it may not use (or that does not exist), a budget already spent.
 * Its prompt is not counted yet (promptTokens 0): chargeTokens does. A promise only if a budget's tally is read.
 */
function admit(requested: string, call: AiCall, kind: ModelKind = 'chat'): Prepared | Promise<Prepared> {
  const { runtime } = call;
  // In the config's order: the weights choose among an alias's targets only once a provider is to be called (inTurn),
  // so that a cache hit, or a call refused, takes no target's turn.
  const found = resolveModel(call.snapshot, requested, (t) => t as AiTarget[]);
  if (!found || !mayUse(call, requested, found)) throw modelNotFound(requested);
  const resolved = targetsOfKind(call, found, kind, requested);
  const appName = call.principal?.app;
  const app = appName ? call.catalog.apps.get(appName) : undefined;
  const team = app?.team;
  const teamBudget = team ? call.catalog.teams.get(team)?.budget : undefined;
  const moneyApp = inMoney(app?.budget) ? appName : undefined;
  const moneyTeam = inMoney(teamBudget) ? team : undefined;
  const targets = moneyApp !== undefined || moneyTeam !== undefined ? pricedTargets(call, resolved, requested) : resolved;
  const weighted = call.snapshot.aliases.get(requested)?.targets;
  const prepared: Prepared = { targets, weighted: weighted && weighted.length > 1 ? weighted : undefined, app: appName, team, promptTokens: 0, leastTokens: 0, charged: undefined, moneyApp, moneyTeam };
  const budgets = enforceBudgets(call, appName, team, runtime.now());
  return budgets ? budgets.then(() => prepared) : prepared;
}

/** An admitted call's prompt, counted: charged to its app's token-per-minute limit, or refused by it (429). */
function chargeTokens(call: AiCall, prepared: Prepared, promptTokens: number, leastTokens = promptTokens): Prepared | Promise<Prepared> {
  prepared.promptTokens = promptTokens;
  prepared.leastTokens = leastTokens;
  const appName = prepared.app;
  const tpm = appName ? call.catalog.apps.get(appName)?.budget?.tokensPerMinute : undefined;
  if (!appName || tpm === undefined) return prepared;
  const cost = Math.min(promptTokens, tpm);
  const allowed = (decision: RateLimitDecision) => {
    if (decision.allowed) {
      if (decision.countedIn !== undefined) prepared.charged = { cost, countedIn: decision.countedIn };
      return prepared;
    }
    throw new AiError(429, 'rate_limit_error', 'rate_limit_exceeded', `app "${appName}" is limited to ${tpm} tokens per minute`, null, { 'retry-after': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) });
  };
  const decision = call.runtime.limiter.hit(`tpm\n${appName}`, tpm, 60_000, cost);
  return decision instanceof Promise ? decision.then(allowed) : allowed(decision);
}

/**
 * Refuses the call (429 budget_exceeded) when its app or team has spent a budget of this period. Each check answers
 * at once from the spend this node knows (no promise); only a stale tally waits for the store.
 */
function enforceBudgets(call: AiCall, appName: string | undefined, team: string | undefined, now: number, from = 0): Promise<void> | undefined {
  const { runtime } = call;
  const budget = appName ? call.catalog.apps.get(appName)?.budget : undefined;
  const teamBudget = team ? call.catalog.teams.get(team)?.budget : undefined;
  for (let i = from; i < 4; i++) {
    const pending =
      i === 0 ? (appName ? enforceBudget(runtime, 'app', appName, 'day', budget?.dailyUsd, now) : undefined)
      : i === 1 ? (appName ? enforceBudget(runtime, 'app', appName, 'month', budget?.monthlyUsd, now) : undefined)
      : i === 2 ? (team ? enforceBudget(runtime, 'team', team, 'day', teamBudget?.dailyUsd, now) : undefined)
      : team ? enforceBudget(runtime, 'team', team, 'month', teamBudget?.monthlyUsd, now) : undefined;
    if (pending) return pending.then(() => enforceBudgets(call, appName, team, now, i + 1));
  }
  return undefined;
}

/** The kind of model a target's is, as the catalog lists it; undefined for a model it does not list. */
function kindOf(call: AiCall, target: AiTarget): ModelKind | undefined {
  const provider = call.snapshot.providers.get(target.provider);
  return provider === undefined ? undefined : call.snapshot.catalog.priced(provider.catalogKey, target.model)?.kind;
}

/**
 * The targets that can answer an operation of `kind`: an embedding model is no chat model, nor the reverse (a
 * provider would refuse the call, each in its own words, or Bedrock's Converse try an embedding model). A model the
 * catalog does not list is tried. A 400 unsupported_model when no target is left.
 */
function targetsOfKind(call: AiCall, targets: readonly AiTarget[], kind: ModelKind, requested: string): readonly AiTarget[] {
  const fits = (target: AiTarget) => (kindOf(call, target) ?? kind) === kind;
  if (targets.every(fits)) return targets;
  const kept = targets.filter(fits);
  if (kept.length === 0) {
    const message = kind === 'chat' ? `The model \`${requested}\` is an embedding model: it answers /v1/embeddings, not chat.` : `The model \`${requested}\` is a chat model: it makes no embeddings.`;
    throw new AiError(400, 'invalid_request_error', 'unsupported_model', message, 'model');
  }
  return kept;
}

/**
 * The targets a call to a provider tries, in order: an alias's weighted targets first, the one whose turn it is by
 * their weights leading (smooth weighted round robin), then the rest as the config lists them. Taken only once the
 * call goes to a provider, so that the turns follow the calls the providers were sent.
 */
function inTurn(call: AiCall, prepared: Prepared): readonly AiTarget[] {
  const weighted = prepared.weighted;
  if (!weighted) return prepared.targets;
  const all: readonly AiTarget[] = weighted;
  // In the alias's order, which prepared.targets keeps: those a check left out (no price, another kind) take no turn.
  const shared = weighted.filter((target) => prepared.targets.includes(target));
  return [...weightedOrder(call.runtime, shared), ...prepared.targets.filter((target) => !all.includes(target))];
}

/** Whether a budget is in money: a call counted against it must have a price. */
const inMoney = (budget: { dailyUsd?: number; monthlyUsd?: number } | undefined): boolean => budget?.dailyUsd !== undefined || budget?.monthlyUsd !== undefined;

/** Whether the catalog prices a target's model (a price of 0 included), or it is Ollama's, which runs on the operator's own machines. */
function isPriced(call: AiCall, target: AiTarget): boolean {
  const provider = call.snapshot.providers.get(target.provider);
  return provider !== undefined && (provider.config.type === 'ollama' || call.snapshot.catalog.priced(provider.catalogKey, target.model) !== undefined);
}

/**
 * The targets a call under a money budget may go to: those whose model the catalog prices (a price of 0 included),
 * and Ollama's, which run on the operator's own machines. A model the catalog does not list costs 0, so a call to
 * one would pass every budget unseen: a 400 model_not_priced when no target is priced.
 */
function pricedTargets(call: AiCall, targets: readonly AiTarget[], requested: string): readonly AiTarget[] {
  const priced = (target: AiTarget) => isPriced(call, target);
  if (targets.every(priced)) return targets;
  const kept = targets.filter(priced);
  if (kept.length === 0) {
    throw new AiError(400, 'invalid_request_error', 'model_not_priced', `The model \`${requested}\` has no price in the model catalog, and a budget in money applies to this app or its team: an administrator must add the model's prices to the catalog (a price of 0 for one that costs nothing).`, 'model');
  }
  return kept;
}

/**
 * Before a provider is called (after a cache miss: a cached answer costs nothing), under a budget in money: refuses
 * a call whose prompt alone would pass what is left, or whose room calls under way hold (checkBeforeProvider);
 * otherwise holds what the call may cost (holdSpend), in the same turn as the check, so that no other call's check
 * falls between them. The figures are those the call's admission just made sure of: no wait for the store here,
 * where calls that waited together would all pass.
 */
function refuseOrHold(call: AiCall, trace: CallTrace, prepared: Prepared, request: ChatRequest | undefined, choices = 1): Promise<void> | undefined {
  if (prepared.moneyApp === undefined && prepared.moneyTeam === undefined) return undefined;
  // The most the prompt could cost, at the catalog's highest input price: its least is priced only if this would pass a budget.
  const most = (prepared.promptTokens * call.snapshot.catalog.maxInputPerMillion) / 1_000_000;
  const now = call.runtime.now();
  try {
    checkBeforeProvider(call, prepared, now, most);
  } catch (error) {
    refundPrompt(call, prepared);
    throw error;
  }
  holdSpend(call, trace, prepared, request, choices);
  const { sharedBudgets } = call.runtime;
  return sharedBudgets && trace.held ? holdShared(call, trace, prepared, sharedBudgets, trace.held, now, most) : undefined;
}

/** A call refused before it was made: its prompt no longer counts against the app's tokens per minute. */
function refundPrompt(call: AiCall, prepared: Prepared): void {
  const { charged } = prepared;
  if (charged && prepared.app) void Promise.resolve(call.runtime.limiter.refund(`tpm\n${prepared.app}`, 60_000, charged.cost, charged.countedIn)).catch(() => undefined);
}

/** A budget in money of a call's app or team, with the spend this node knows of its period. */
interface MoneyBudget {
  scope: 'app' | 'team';
  name: string;
  period: 'day' | 'month';
  limit: number;
  recorded: number;
}

/** The budgets in money of the call's app and its team that have a limit, with the spend this node knows of each. */
function moneyBudgets(call: AiCall, prepared: Prepared, now: number): MoneyBudget[] {
  return budgetPeriods(call, prepared.app, prepared.team).map((b) => ({ ...b, recorded: call.runtime.spend.spentKnown(b.scope, b.name, b.period, now) }));
}

/**
 * The call's check and hold again, against what the calls under way of every process and node hold (SharedBudgets):
 * this node's check passed, but calls on other workers and nodes may hold the room. Refused, the call gives back
 * its hold and its prompt's tokens; Redis away, it goes on with this node's check and hold alone.
 */
async function holdShared(call: AiCall, trace: CallTrace, prepared: Prepared, sharedBudgets: SharedBudgets, held: Held, now: number, most: number): Promise<void> {
  const budgets = moneyBudgets(call, prepared, now);
  const least = leastPromptCost(call, prepared);
  const checks = budgets.map((b) => ({ scope: b.scope, spendKey: sharedBudgets.spendKey(b.scope, b.name, b.period, periodStart(b.period, now)), limit: b.limit, recorded: b.recorded, most, least }));
  const outcome = await sharedBudgets.hold(held.app, held.team, held.usd, checks);
  if (outcome === undefined) return;
  if ('id' in outcome) {
    // Released meanwhile (the call ended while Redis answered): the shared hold goes too.
    if (trace.held === held) held.shared = outcome;
    else sharedBudgets.release(outcome);
    return;
  }
  releaseSpend(call, trace);
  refundPrompt(call, prepared);
  // Refused as this process refuses, with every process's spend and holds.
  const { scope, name, period, limit } = budgets[outcome.check]!;
  const { recorded, held: heldByAll } = outcome;
  switch (outcome.reason) {
    case 'spent':
      throw budgetSpent(scope, name, period, limit, recorded);
    case 'prompt':
      throw promptPastBudget(call, prepared, scope, name, period, limit, recorded);
    case 'held':
      throw heldRoom(scope, name, period, limit, recorded, heldByAll);
    case 'heldPrompt':
      throw promptPastHolds(call, prepared, scope, name, period, limit, recorded, heldByAll);
  }
}

/** refuseOrHold's check of each budget in money of the app and its team, from the figures this node knows. */
function checkBeforeProvider(call: AiCall, prepared: Prepared, now: number, most: number): void {
  const { app: appName, team } = prepared;
  const budget = appName ? call.catalog.apps.get(appName)?.budget : undefined;
  const teamBudget = team ? call.catalog.teams.get(team)?.budget : undefined;
  if (appName) {
    checkWithPrompt(call, prepared, 'app', appName, 'day', budget?.dailyUsd, now, most);
    checkWithPrompt(call, prepared, 'app', appName, 'month', budget?.monthlyUsd, now, most);
  }
  if (team) {
    checkWithPrompt(call, prepared, 'team', team, 'day', teamBudget?.dailyUsd, now, most);
    checkWithPrompt(call, prepared, 'team', team, 'month', teamBudget?.monthlyUsd, now, most);
  }
}

/**
 * The least a call's prompt can cost: its estimated tokens at the lowest per-token price among its targets, cached
 * input's included (a whole prompt may be a cache read). Priced once a call, and only when a budget is near.
 */
function leastPromptCost(call: AiCall, prepared: Prepared): number {
  if (prepared.leastPromptUsd !== undefined) return prepared.leastPromptUsd;
  const { snapshot } = call;
  let perMillion = Infinity;
  for (const target of prepared.targets) {
    const providerType = snapshot.providers.get(target.provider)?.catalogKey;
    const price = providerType ? snapshot.catalog.priced(providerType, target.model) : undefined;
    perMillion = Math.min(perMillion, price ? Math.min(price.inputPerMillion, price.cachedInputPerMillion ?? price.inputPerMillion) : 0);
  }
  prepared.leastPromptUsd = perMillion === Infinity ? 0 : (prepared.leastTokens * perMillion) / 1_000_000;
  return prepared.leastPromptUsd;
}

/**
 * Holds what the call may cost at most (its prompt, and the longest answer it allows, at the dearest of its
 * targets) against the budgets in money of its app and team while it runs: concurrent calls count it as spent
 * (enforceBudget), so that calls made at once cannot each pass the check and together spend past the limit by
 * as many answers. Released when the call is recorded, its real cost counted instead. The answer's limit is the one
 * each target is sent (outputLimitFor; the model's own when none), for each of its `choices` (`n`), each billed; a
 * call without a chat `request` (embeddings) answers nothing billed by the token.
 */
function holdSpend(call: AiCall, trace: CallTrace, prepared: Prepared, request: ChatRequest | undefined, choices: number): void {
  const { moneyApp: app, moneyTeam: team } = prepared;
  let usd = 0;
  for (const target of prepared.targets) {
    const provider = call.snapshot.providers.get(target.provider);
    const model = provider && call.snapshot.catalog.priced(provider.catalogKey, target.model);
    if (!provider || !model) continue;
    const limit = request === undefined ? 0 : outputLimitFor(request, provider.adapter, target.model, model);
    const output = limit === undefined ? model.maxOutputTokens : Math.min(limit, model.maxOutputTokens);
    usd = Math.max(usd, (prepared.promptTokens * model.inputPerMillion + choices * output * model.outputPerMillion) / 1_000_000);
  }
  if (!(usd > 0)) return;
  call.runtime.spend.hold(app, team, usd);
  trace.held = { app, team, usd };
}

/** How long a hold may outlive its call's client before it is released without the call's record (handleAi). */
const UNRECORDED_HOLD_MS = 60_000;

function releaseSpend(call: AiCall, trace: CallTrace): void {
  const { held } = trace;
  if (!held) return;
  trace.held = undefined;
  call.runtime.spend.release(held.app, held.team, held.usd);
  if (held.shared) call.runtime.sharedBudgets?.release(held.shared);
}

/**
 * The most output a chat request lets a target bill: the limit its adapter sends (billedOutputLimit), which for
 * Claude is the older `max_tokens` with the thinking budget added (a hold of `max_tokens` alone let fifty concurrent
 * reasoning calls each pass a budget that a hold of what they were sent allowed one of); else the request's own,
 * `max_completion_tokens` or `max_tokens`. None: the model's own output limit bounds it.
 */
const outputLimitFor = (request: ChatRequest, adapter: ProviderAdapter, model: string, catalogModel: CatalogModel): number | undefined =>
  adapter.billedOutputLimit ? adapter.billedOutputLimit(request, model, catalogModel) : (request.max_completion_tokens ?? request.max_tokens);

/** Room held by calls under way comes back as they end: a retry may pass. */
const RETRY_SOON: Readonly<Record<string, string>> = { 'retry-after': '1' };

/** A budget as it was set, to the billionth of a dollar that costs are kept in ($0.100419, not $0.1). */
const budgetName = (period: 'day' | 'month', limit: number) => `${period === 'day' ? 'daily' : 'monthly'} budget of $${dollars(limit, 9)}`;

/**
 * An amount for a budget's message: to the millionth of a dollar, or to its first three significant digits when
 * those go further (what a small prompt costs, $0.00000015), at most to the billionth; never in exponent form,
 * trailing zeros cut ($5, $0.35, $5.000431). `decimals` gives an exact amount as many as it needs, up to that many.
 */
function dollars(usd: number, decimals = Math.min(9, Math.max(6, 2 - Math.floor(Math.log10(usd))))): string {
  if (!(usd > 0)) return '0';
  return usd.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: decimals });
}

/**
 * Whether `usd` reaches `limit` (`past`: goes beyond it), in billionths of a dollar, to which every cost is rounded:
 * sums of costs in floating point fall short of the sum by a rounding ($0.01 + $0.06 is 0.06999999999999999), which
 * let a budget spent to the cent take one more call.
 */
const reaches = (usd: number, limit: number): boolean => Math.round(usd * 1e9) >= Math.round(limit * 1e9);
const past = (usd: number, limit: number): boolean => Math.round(usd * 1e9) > Math.round(limit * 1e9);

/** A period's budget spent: refused until the period turns, and told not to retry. */
function refuseSpent(scope: 'app' | 'team', name: string, period: 'day' | 'month', limit: number, recorded: number): void {
  if (reaches(recorded, limit)) throw budgetSpent(scope, name, period, limit, recorded);
}

function budgetSpent(scope: 'app' | 'team', name: string, period: 'day' | 'month', limit: number, recorded: number): AiError {
  return new AiError(429, 'insufficient_quota', 'budget_exceeded', `${scope} "${name}" has spent its ${budgetName(period, limit)} ($${dollars(recorded)} so far)`, null, NO_RETRY);
}

/**
 * Refuses the call (429 budget_exceeded) when `name` has spent `limit` this period; a promise only if the store must
 * be read.
 */
function enforceBudget(runtime: AiRuntime, scope: 'app' | 'team', name: string, period: 'day' | 'month', limit: number | undefined, now: number): Promise<void> | undefined {
  if (limit === undefined) return undefined;
  const known = runtime.spend.spentNow(scope, name, period, now);
  if (known === undefined) return runtime.spend.spent(scope, name, period, now).then((recorded) => refuseSpent(scope, name, period, limit, recorded), () => {
    // The period's first read failed (a re-sync that fails serves the last figure): nothing to check against.
    throw new AiError(503, 'api_error', 'budget_unavailable', `the ${period === 'day' ? 'daily' : 'monthly'} budget of ${scope} "${name}" cannot be checked: the store did not answer; try again shortly`, null, { 'retry-after': '1' });
  });
  refuseSpent(scope, name, period, limit, known);
  return undefined;
}

/**
 * Refuses a call about to reach a provider (429 budget_exceeded) when `name` has spent `limit` this period, or its
 * prompt's least cost (priced only if its most would pass) passes what is left: both for good (no retry). Then what
 * calls under way hold counts as spent (holdSpend): when it leaves no room, or not room for the prompt, the call is
 * refused with Retry-After, as the room comes back when they end.
 */
function checkWithPrompt(call: AiCall, prepared: Prepared, scope: 'app' | 'team', name: string, period: 'day' | 'month', limit: number | undefined, now: number, most: number): void {
  if (limit === undefined) return;
  const { spend } = call.runtime;
  const recorded = spend.spentKnown(scope, name, period, now);
  refuseSpent(scope, name, period, limit, recorded);
  if (past(recorded + most, limit) && past(recorded + leastPromptCost(call, prepared), limit)) throw promptPastBudget(call, prepared, scope, name, period, limit, recorded);
  const held = spend.heldBy(scope, name);
  if (held === 0) return;
  const spent = recorded + held;
  if (reaches(spent, limit)) throw heldRoom(scope, name, period, limit, recorded, held);
  if (past(spent + most, limit) && past(spent + leastPromptCost(call, prepared), limit)) throw promptPastHolds(call, prepared, scope, name, period, limit, recorded, held);
}

/** A prompt whose least cost passes what is left of a budget: refused for good. */
function promptPastBudget(call: AiCall, prepared: Prepared, scope: 'app' | 'team', name: string, period: 'day' | 'month', limit: number, recorded: number): AiError {
  return new AiError(429, 'insufficient_quota', 'budget_exceeded', `${scope} "${name}" has $${dollars(limit - recorded)} left of its ${budgetName(period, limit)}, and this call's prompt alone costs at least $${dollars(leastPromptCost(call, prepared))}`, null, NO_RETRY);
}

/** A budget whose room calls under way hold: refused with Retry-After, as the room comes back when they end. */
function heldRoom(scope: 'app' | 'team', name: string, period: 'day' | 'month', limit: number, recorded: number, held: number): AiError {
  return new AiError(429, 'insufficient_quota', 'budget_exceeded', `${scope} "${name}" has $${dollars(limit - recorded)} left of its ${budgetName(period, limit)}, held by calls under way that may cost up to $${dollars(held)}; try again when they end`, null, RETRY_SOON);
}

/** A prompt that does not fit beside what calls under way hold: refused with Retry-After, as the room comes back. */
function promptPastHolds(call: AiCall, prepared: Prepared, scope: 'app' | 'team', name: string, period: 'day' | 'month', limit: number, recorded: number, held: number): AiError {
  return new AiError(429, 'insufficient_quota', 'budget_exceeded', `${scope} "${name}" has $${dollars(limit - recorded - held)} left of its ${budgetName(period, limit)} besides what calls under way hold ($${dollars(held)}), and this call's prompt alone costs at least $${dollars(leastPromptCost(call, prepared))}; try again when they end`, null, RETRY_SOON);
}

/** A target that answered, with its answer and what to cut out of it before it goes on. */
interface Served<T> {
  result: T;
  target: AiTarget;
  /** The secrets of the key that served (and of the provider's headers): the answer must not quote them. */
  redaction: SecretRedaction;
  /** The targets tried, when one failed before this one answered (ATTEMPTS_HEADER); undefined when the first answered. */
  attempts: string | undefined;
}

/**
 * Tries each target, and for each target each usable key, until one answers. A refused key is set aside; a
 * 429 or 5xx moves on (waiting out a short Retry-After on the same target once); a 400 is the caller's and ends
 * the call at once. `run` makes one try and calls back once; so does `attempt`, with the target that answered or
 * the error the caller gets. No promise: the first try starts at once, and the next from the failed one's callback.
 */
function attempt<T>(call: AiCall, trace: CallTrace, targets: readonly AiTarget[], run: (ctx: CallContext, target: AiTarget, done: Done<T>) => void, answered: Done<Served<T>>, settledLater = false): void {
  const { runtime, snapshot } = call;
  let last: ProviderFailure | undefined;
  let t = 0;
  let k = 0;
  let waited = false;
  /** The target's tries send the stand-in for every thought signature: the provider refused one (CallContext.withoutSignatures). */
  let signaturesOff = false;
  /** When the first circuit of the targets skipped because theirs was open closes (0: none skipped). */
  let skippedUntil = 0;
  /** The target's keys in the order this call tries them (KeyTurns), once it has come to the target. */
  let keys: readonly SnapshotKey[] | undefined;
  /** The target whose half-open try this call holds (TargetCircuits), by index: it tries that target's keys without asking again. */
  let trying = -1;
  /** The targets left after a failure, each with its status (ATTEMPTS_HEADER); undefined while none has failed. */
  let attempts: string | undefined;
  /** The current target's last failure, for `attempts` once the call leaves it. */
  let failedHere: ProviderFailure | undefined;
  /** How many targets `attempts` lists: an error carries the list only when it names more than the one that failed. */
  let listed = 0;
  const leaveTarget = () => {
    if (failedHere === undefined) return;
    attempts = withAttempt(attempts, targets[t]!.provider, targets[t]!.model, failedHere.status);
    listed += 1;
    failedHere = undefined;
  };
  /** Gives the try back when the call leaves its target without the provider's word on it (a refused key, the gateway's own refusal). */
  const releaseTry = () => {
    if (trying === -1) return;
    if (learnsFrom(call, targets[trying]!)) runtime.circuits.release(targets[trying]!);
    trying = -1;
  };
  /** The call's end: a try it still holds, the provider's word on it not had, is given back. */
  const done: Done<Served<T>> = (error, served) => {
    if (error) releaseTry();
    answered(error, served);
  };
  const nextTarget = () => {
    releaseTry();
    leaveTarget();
    t += 1;
    k = 0;
    waited = false;
    signaturesOff = false;
    keys = undefined;
  };
  const next = (): void => {
    for (; t < targets.length; nextTarget()) {
      const target = targets[t]!;
      const provider = snapshot.providers.get(target.provider);
      if (!provider) continue;
      // A provider's model that keeps failing is skipped, rather than have every call wait for its failure (a timeout).
      if (trying !== t) {
        const openUntil = runtime.circuits.openUntil(target, runtime.now(), snapshot.timeoutMs || 60_000);
        if (openUntil > 0) {
          skippedUntil = skippedUntil === 0 ? openUntil : Math.min(skippedUntil, openUntil);
          continue;
        }
        if (openUntil === HALF_OPEN_TRY) trying = t;
      }
      keys ??= provider.config.type === 'ollama' && provider.keys.length === 0 ? [{ id: `${target.provider}:none`, priority: 0, secret: '', redaction: provider.keyless }] : runtime.keyTurns.order(target.provider, target.model, provider.keys, runtime.now(), runtime.setAside);
      for (; k < keys.length; k++) {
        // Not even a connection for a client that has gone (during a Retry-After wait, say).
        const cancelled = trace.cancel.reason;
        if (cancelled) return done(cancelled);
        const key = keys[k]!;
        if ((runtime.setAside.get(key.id)?.until ?? 0) > runtime.now()) continue;
        // Deleted since the call began (the keyless stand-in of an empty pool never was pooled).
        if (provider.keys.length > 0 && !isPooled(runtime, key.id)) continue;
        const ctx: CallContext = { provider: provider.config, credential: { id: key.id, secret: key.secret }, model: target.model, stream: false, now: runtime.now(), catalogModel: snapshot.catalog.priced(provider.catalogKey, target.model) };
        if (signaturesOff) ctx.withoutSignatures = true;
        trace.target = target;
        return run(ctx, target, (error, result) => {
          if (!error) {
            // A stream accepted at its head may still fail before it says anything: its caller settles the circuit.
            if (!settledLater && learnsFrom(call, target)) runtime.circuits.succeeded(target);
            trying = -1;
            return done(undefined, { result: result as T, target, redaction: key.redaction, attempts: attempts === undefined ? undefined : withAttempt(attempts, target.provider, target.model, 200) });
          }
          // The key was deleted during the try (before an embeddings request's later part): on with the next, as
          // past a key deleted before its try; no word on the provider, for its circuit or the call's failure.
          if (error instanceof KeyLeftPool) {
            k += 1;
            return retry();
          }
          if (!(error instanceof ProviderCallError)) return done(error);
          const failure = withoutSecret(error.failure, key.redaction);
          last = failure;
          failedHere = failure;
          // A model an alias names that its provider no longer serves (retired, renamed) is the operator's to fix,
          // not the caller's request: the alias's next target may serve the call. Asked by name, it is the caller's 404.
          const modelGone = target.alias !== undefined && !failure.retryable && saysModelIsGone(failure);
          // The provider's own failures count against its circuit, as does a model gone (every call would pay a round
          // trip to learn it again); a refusal of the request (the caller's fault), a rate limit and a generation it
          // says failed (often of this request's prompt or tools) show it answers. A refused key, and a refusal the
          // gateway made without calling it, say nothing.
          if (!failure.credentialProblem && !error.local) {
            if (failsCircuit(failure) || modelGone) {
              if (isCurrent(runtime, provider)) runtime.circuits.failed(target, runtime.now(), snapshot.circuitFailures, snapshot.circuitCooldownMs);
              trying = -1;
            } else if ((!failure.retryable || failure.status === 429 || failure.code === GENERATION_FAILED) && isCurrent(runtime, provider)) {
              runtime.circuits.succeeded(target);
              trying = -1;
            }
          }
          // A thought signature another model, project or key of the provider's made: this target's tries go on with
          // the stand-in, the same key first. Once: a refusal of the stand-in is answered as any 400.
          if (failure.signatureRefused && !signaturesOff) {
            signaturesOff = true;
            return retry();
          }
          if (failure.credentialProblem) {
            const reason = failure.credentialProblem;
            if (reason !== 'denied') {
              const now = runtime.now();
              const until = now + (reason === 'invalid' ? 600_000 : (failure.retryAfterMs ?? 3_600_000));
              // Not by a call on a config since changed: its fix (a base URL) is to find the keys usable.
              if (isCurrent(runtime, provider)) {
                if ((runtime.setAside.get(key.id)?.until ?? 0) <= now) runtime.onKeySetAside?.(target.provider, key.id, reason, until);
                runtime.setAside.set(key.id, { until, reason, told: reason === 'quota' && failure.retryAfterMs !== undefined });
              }
            }
            k += 1;
            return retry();
          }
          if (modelGone) {
            last = aliasModelGone(failure, target);
            nextTarget();
            return retry();
          }
          if (!failure.retryable) {
            leaveTarget();
            return done(withAttempts(clientError(failure), listed > 1 ? attempts : undefined));
          }
          if (failure.status === 429) {
            // A rate limit is the key's (its account's or project's): the next key of the pool that is not limited
            // too may pass at once, and later calls start with the others until the provider's Retry-After.
            const now = runtime.now();
            runtime.keyTurns.limited(key.id, now, failure.retryAfterMs);
            const other = keys!.findIndex((next, i) => i > k && !runtime.keyTurns.isLimited(next.id, now) && (runtime.setAside.get(next.id)?.until ?? 0) <= now);
            if (other !== -1) {
              k = other;
              return retry();
            }
          }
          if (failure.status === 429 && !waited && failure.retryAfterMs !== undefined && failure.retryAfterMs <= MAX_RETRY_WAIT_MS) {
            // The same key again after the wait; a client that leaves meanwhile ends the wait, and the check above the call.
            waited = true;
            trace.cancel.pause(failure.retryAfterMs).then(next).catch((error: unknown) => done(error as Error));
            return;
          }
          nextTarget();
          retry();
        });
      }
    }
    // A client that went away while the last try failed: its call ends as cancelled, whatever the providers said.
    const cancelled = trace.cancel.reason;
    if (cancelled) return done(cancelled);
    if (!last) return done(noProviderAvailable(call, targets, skippedUntil));
    done(withAttempts(clientError(last), listed > 1 ? attempts : undefined));
  };
  // The next try once the failed one's callback is over: undici counts its connection busy until then.
  const retry = () =>
    queueMicrotask(() => {
      try {
        next();
      } catch (error) {
        done(error as Error);
      }
    });
  next();
}

/**
 * An alias's target whose provider said its model is not there, as the call's failure should it be the last: the
 * gateway's config is wrong, not the caller's request, so a 502 rather than the provider's 404, which would tell the
 * caller that the alias it named does not exist.
 */
function aliasModelGone(failure: ProviderFailure, target: AiTarget): ProviderFailure {
  return { ...failure, status: 502, type: 'api_error', code: 'provider_model_not_found', message: `it does not serve the model \`${target.model}\` that the alias \`${target.alias}\` names (${failure.message}); an administrator must correct the alias`, retryable: true };
}

/**
 * The 503 of a call that found no target to try, with when to come back where the gateway knows: the first circuit of
 * its targets to close, or the first of their keys set aside out of quota to come back (the provider's Retry-After).
 * With neither, no key is left to call with (pools empty, or every key refused) until an administrator acts: the
 * client is told not to retry (`x-should-retry: false`, which the official SDKs heed).
 */
function noProviderAvailable(call: AiCall, targets: readonly AiTarget[], skippedUntil: number): AiError {
  const { runtime, snapshot } = call;
  const now = runtime.now();
  let quotaUntil = 0;
  let quotaUntold = false;
  for (const target of targets) {
    for (const key of snapshot.providers.get(target.provider)?.keys ?? []) {
      const aside = runtime.setAside.get(key.id);
      if (aside?.reason !== 'quota' || aside.until <= now || !isPooled(runtime, key.id)) continue;
      // Only a time the provider told is one to tell the client: the gateway's own guess (an hour) is no promise.
      if (!aside.told) quotaUntold = true;
      else if (quotaUntil === 0 || aside.until < quotaUntil) quotaUntil = aside.until;
    }
  }
  const back = quotaUntil === 0 ? skippedUntil : skippedUntil === 0 ? quotaUntil : Math.min(quotaUntil, skippedUntil);
  if (back === 0 && quotaUntold) return new AiError(503, 'api_error', 'no_provider_available', 'every API key that serves this model is out of quota or credit, and its provider did not say until when; an administrator must add credit or keys', null, NO_RETRY);
  if (back === 0) return new AiError(503, 'api_error', 'no_provider_available', 'no provider with a usable API key serves this model; an administrator must add keys', null, NO_RETRY);
  const seconds = Math.max(1, Math.ceil((back - now) / 1000));
  const message = back === quotaUntil
    ? `every API key that serves this model is out of quota or rate limited, as its provider said, until the first comes back; try again in ${seconds}s`
    : `every provider model that serves this model has failed repeatedly and is skipped for now; try again in ${seconds}s`;
  return new AiError(503, 'api_error', 'no_provider_available', message, null, { 'retry-after': String(seconds) });
}

/**
 * Whether a provider's failure counts against its circuit: the provider's own (a 5xx, a timeout, a broken connection),
 * not a generation it says failed, which is an answer, often to one request's prompt or tools.
 */
const failsCircuit = (failure: ProviderFailure): boolean => failure.retryable && failure.status >= 500 && failure.code !== GENERATION_FAILED;

/** `attempt` with a provider call that is a promise, as a promise. */
function attemptAsync<T>(call: AiCall, trace: CallTrace, targets: readonly AiTarget[], run: (ctx: CallContext, target: AiTarget) => Promise<T>, settledLater = false): Promise<Served<T>> {
  return new Promise((resolve, reject) => {
    attempt<T>(
      call,
      trace,
      targets,
      (ctx, target, done) => run(ctx, target).then((result) => done(undefined, result), done),
      (error, served) => (error ? reject(error) : resolve(served!)),
      settledLater,
    );
  });
}

/** Whether what the call meets at `target` may be kept: its provider's config is still the current one. */
const learnsFrom = (call: AiCall, target: AiTarget): boolean => isCurrent(call.runtime, call.snapshot.providers.get(target.provider));

/**
 * How a stream that ended before it said anything leaves its target's circuit: a failure of the provider's (a 5xx,
 * a timeout, a connection that broke) counts against it, as it would have before the head; anything else is an
 * answer. A client that left, or a key refused in the stream, tells nothing: a half-open try it held is given back.
 */
function settleSilentStream(call: AiCall, target: AiTarget, error: Error | undefined): void {
  const { runtime, snapshot } = call;
  // A call on a provider's config since changed tells nothing of the current one's circuit (changed-providers.ts).
  if (!learnsFrom(call, target)) return;
  if (error instanceof CallCancelled || (error instanceof ProviderCallError && error.failure.credentialProblem)) return runtime.circuits.release(target);
  const failed = error instanceof ProviderCallError ? failsCircuit(error.failure) : error !== undefined;
  if (failed) runtime.circuits.failed(target, runtime.now(), snapshot.circuitFailures, snapshot.circuitCooldownMs);
  else runtime.circuits.succeeded(target);
}

/**
 * The text a completion's tokens were spent on: its messages (a refusal's words too) and tool calls' arguments (or
 * input), to count when no usage came.
 */
function completionText(completion: ClientCompletion): string {
  // Read with care: a provider's completion may lack what its shape promises (then render refuses it, below).
  const callText = (t: ToolCall | CustomToolCall) => (t.type === 'custom' ? (t.custom?.input ?? '') : (t.function?.arguments ?? ''));
  return (completion.choices ?? []).map((c) => (c.message?.reasoning_content ?? '') + (c.message?.content ?? '') + (c.message?.refusal ?? '') + (c.message?.tool_calls ?? []).map(callText).join('')).join('');
}

/**
 * The provider's usage as the record's tokens; undefined, for the gateway to count them itself, when it gave none
 * or gave counts that are not counts. One such call must not put `undefined` or NaN into a usage row (which the
 * store refuses, failing the whole batch and every batch after it) nor into the spend a budget compares against.
 */
function usageOf(usage: Usage | undefined): Tokens | undefined {
  if (!usage || typeof usage !== 'object') return undefined;
  const input = countOf(usage.prompt_tokens);
  const completion = countOf(usage.completion_tokens);
  if (input === undefined || completion === undefined) return undefined;
  const output = completion + reasoningApart(usage, input, completion);
  // DeepSeek tells its cache hits as `prompt_cache_hit_tokens` (https://api-docs.deepseek.com/api/create-chat-completion).
  const cached = countOf(usage.prompt_tokens_details?.cached_tokens) ?? countOf(usage.prompt_cache_hit_tokens) ?? 0;
  const writes = cacheWritesOf(usage[CACHE_WRITES]);
  const tokens: Tokens = writes ? { input, output, cached: Math.min(cached, input), writes } : { input, output, cached: Math.min(cached, input) };
  const usd = usage.cost === undefined ? undefined : chargedUsd(usage.cost);
  if (usd !== undefined) tokens.usd = usd;
  return tokens;
}

/**
 * The cache writes a usage reports, if their counts are token counts: a provider's odd number (negative, a fraction)
 * is dropped rather than failing, after the provider has answered and billed, the pricing of the answer.
 */
function cacheWritesOf(writes: CacheWrites | undefined): CacheWrites | undefined {
  if (!writes) return undefined;
  return countOf(writes.fiveMinute) !== undefined && countOf(writes.oneHour) !== undefined ? writes : undefined;
}

/**
 * The shape a chat call came in, and its answer goes out in: OpenAI's; OpenAI's with the deprecated `function_call`
 * for a call that offered `functions` (legacy-functions.ts); OpenAI's Responses API's; or Anthropic's.
 */
type ChatFormat = 'openai' | 'openai-functions' | 'anthropic' | 'responses';

/** The format of each chat operation but `chat/completions`: Anthropic's Messages API, OpenAI's Responses API. */
const CHAT_FORMATS: Readonly<Record<string, ChatFormat>> = { messages: 'anthropic', responses: 'responses' };

/** What writes a stream in another format than Chat Completions' chunks: the Anthropic and Responses ingresses' translators. */
type ChunkEvents = Pick<ChatChunksToMessageEvents, 'push' | 'end' | 'fail' | 'failed'>;

/**
 * A chat completion, asked for in OpenAI's format (`/chat/completions`), OpenAI's Responses API's (`/responses`) or
 * Anthropic's (`/messages`): the same routing, fallbacks and accounting, only the shapes in and out differ. A
 * promise only once a step had to wait; `fail` ends the call from a provider socket's callback.
 */
function chat(body: Record<string, unknown>, res: ServerResponse, call: AiCall, trace: CallTrace, format: ChatFormat, fail: (error: unknown) => void): Promise<void> | undefined {
  if (typeof body.model === 'string') trace.model = body.model;
  if (format === 'responses') {
    const sealed = sealedReasoningOf(call);
    if (!call.snapshot.responsesStore) return chatWith(responsesToChat(unstored(body), undefined, sealed), res, call, trace, format, fail);
    // A Responses API request that continues a stored Response: what refuses it whatever its prompt (its model, a
    // spent budget) is checked before its chain, up to 1,000 sealed rows, is read in one query; what needs the
    // prompt's size (the token-per-minute limit, its cost against what a budget has left) after, the chain counted.
    const previous = previousResponseIdOf(body);
    if (previous !== undefined) {
      if (typeof body.model !== 'string' || body.model === '') throw new ResponsesRequestError('model', "Missing required parameter: 'model'.", 'missing_required_parameter');
      const admitted = admit(body.model, call);
      const continued = (ready: Prepared) => previousResponse(call, previous).then((chain) => chatWith(responsesToChat(body, chain, sealed), res, call, trace, format, fail, ready));
      return admitted instanceof Promise ? admitted.then(continued) : continued(admitted);
    }
    return chatWith(responsesToChat(body, undefined, sealed), res, call, trace, format, fail);
  }
  // Told before validateChat rewrites the deprecated `functions` as tools.
  const answerFormat = format === 'openai' && offersFunctions(body) ? 'openai-functions' : format;
  return chatWith(format === 'anthropic' ? withBetaFeatures(messagesToChat(body), res.req.headers['anthropic-beta']) : validateChat(body), res, call, trace, answerFormat, fail);
}

/** `chat` once its request is in the unified shape; `admitted` if its model and budgets were checked already (admit). */
function chatWith(request: ChatRequest, res: ServerResponse, call: AiCall, trace: CallTrace, answerFormat: ChatFormat, fail: (error: unknown) => void, admitted?: Prepared): Promise<void> | undefined {
  const images = promptMediaTokens(request.messages);
  const promptEstimate = estimatePromptTokens(request.messages, quickTokenCount, images) + definitionTokens(request, quickTokenCount);
  const leastTokens = promptEstimate - images;
  const prepared = admitted ? chargeTokens(call, admitted, promptEstimate, leastTokens) : prepare(request.model, promptEstimate, call, leastTokens);
  const go = (ready: Prepared) => (request.stream ? streamChat(res, call, trace, answerFormat, request, ready, promptEstimate) : answerChat(res, call, trace, answerFormat, request, ready, fail));
  return prepared instanceof Promise ? prepared.then(go) : go(prepared);
}

/**
 * Whose cache entries a call may be answered from: its app's; a caller that is no app (an outside issuer's user,
 * say) its own, by who vouched for it and as whom; calls on a route without authentication share one space.
 */
function cacheSpace(principal: Principal | undefined): string {
  if (!principal) return '';
  return principal.app !== undefined ? JSON.stringify(['app', principal.app]) : JSON.stringify(['subject', principal.via, principal.subject]);
}

/**
 * The response cache's space for a call: its cacheSpace, an app's with when the app was made, so that an app made
 * again under a deleted one's name is answered from none of the first one's entries while they live.
 */
function cacheSpaceOf(call: AiCall): string {
  const app = call.principal?.app;
  return app === undefined ? cacheSpace(call.principal) : JSON.stringify(['app', app, call.catalog.apps.get(app)?.createdAt ?? null]);
}

/**
 * Whose a stored Response (and a reasoning item's `encrypted_content`) is: the caller's space in the response cache
 * (cacheSpaceOf: its app with when the app was made, or an outside issuer's user); on a route without
 * authentication, that route's, so that an id seen on one open route does not reach another route's Responses. An
 * app made again under a deleted one's name is another owner: it reads none of the first one's Responses (deleted
 * with it, or saved by a call still under way then), and a reasoning token sealed for the first opens nothing for it.
 */
function responseOwner(call: AiCall): string {
  return call.principal ? cacheSpaceOf(call) : JSON.stringify(['route', call.route]);
}

/**
 * The rows an app stored before its owner named its creation (under `["app", name]`), which are its own if saved
 * since it was made (EarlierOwner); none for a caller that is no app. Reasoning tokens sealed for such an owner are
 * not read so: they carry no time, and one comes back without Claude's thinking.
 */
function earlierOwner(call: AiCall): EarlierOwner | undefined {
  const app = call.principal?.app;
  const createdAt = app === undefined ? undefined : call.catalog.apps.get(app)?.createdAt;
  return createdAt === undefined ? undefined : { owner: cacheSpace(call.principal), since: createdAt };
}

/** The call's reasoning items' `encrypted_content`, sealed for and opened as its responseOwner: another owner's does not open. */
const sealedReasoningOf = (call: AiCall): EncryptedReasoning => call.runtime.sealedReasoningFor(responseOwner(call));

/** `render`'s text, or undefined when the completion is not in the shape its format promised. */
function renderOrNot(format: ChatFormat, request: ChatRequest, completion: ClientCompletion | CachedCompletion, sealed: EncryptedReasoning | undefined, createdAt: number, wantsReasoningBack = false): string | undefined {
  try {
    return render(format, request, completion, sealed, createdAt, wantsReasoningBack);
  } catch {
    return undefined;
  }
}

/**
 * The completion in the client's format: OpenAI's as it is (or as cached), the others translated. `wantsReasoningBack`
 * is the answering provider's `reasoningBack` (sendsReasoningBack); a cached completion keeps its own. A Response's
 * reasoning carries Claude's thinking sealed (`sealed`): kept whole for the store (keepAnswer shows it as included),
 * shown as the client included it otherwise; its `created_at` is `createdAt` (Unix seconds).
 */
function render(format: ChatFormat, request: ChatRequest, completion: ClientCompletion | CachedCompletion, sealed: EncryptedReasoning | undefined, createdAt: number, wantsReasoningBack: boolean): string {
  if (format === 'openai') return 'body' in completion ? cachedBody(completion) : JSON.stringify(completion);
  const parsed = 'body' in completion ? cachedCompletion(completion) : completion;
  if (format === 'responses') {
    const response = chatToResponse(parsed, request.model, responseEchoOf(request), undefined, sealed, createdAt);
    return JSON.stringify(toStore(request) ? response : responseAsIncluded(response, includesEncrypted(request)));
  }
  // A request in the legacy functions' form or Anthropic's offers no custom tool: no answer to it has a custom call.
  const functionCalls = parsed as ChatCompletion;
  if (format === 'openai-functions') return JSON.stringify(toFunctionCallCompletion(functionCalls));
  const hidden = hiddenReasoningFor(request, 'body' in completion ? completion.reasoningBack === true : wantsReasoningBack);
  return JSON.stringify(chatToMessages(functionCalls, request.model, stopsOf(request), thinkingAsked(request), hidden));
}

/** Whether a choice of the completion failed, as OpenRouter and others say with `finish_reason: "error"`. */
const anyChoiceFailed = (completion: ClientCompletion): boolean => Array.isArray(completion.choices) && completion.choices.some((choice) => failedChoice(choice?.finish_reason));

/** The request's stop sequences, as a list. */
const stopsOf = (request: ChatRequest): readonly string[] => (request.stop === undefined ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop);

/** A cached completion's text as it was kept (the provider's bytes, often), with an id of its own put in its id's place. */
const cachedBody = ({ body, idAt }: CachedCompletion): string => (idAt ? withIdAt(body, idAt, newCompletionId()) : body);

/**
 * A completion read back from the cache, with an id of its own, its stop sequence and cache writes put back where the
 * JSON left them out.
 */
function cachedCompletion({ body, stopped, writes, blocks }: CachedCompletion): ClientCompletion {
  const completion = JSON.parse(body) as ClientCompletion;
  completion.id = newCompletionId();
  const first = completion.choices[0];
  if (first) Object.assign(first, stopped);
  if (first && blocks) first.message[ANTHROPIC_BLOCKS] = blocks;
  if (writes && completion.usage) completion.usage[CACHE_WRITES] = writes;
  return completion;
}

/**
 * The completion as the cache keeps it: the provider's bytes when they are OpenAI's shape, or its JSON, and whether
 * the host that answered wants its reasoning back. Read with care, as in completionText: a provider's completion may
 * lack the choices its shape promises.
 */
function toCache(completion: ClientCompletion, raw: Buffer | undefined, wantsReasoningBack: boolean, estimated: boolean): CachedCompletion {
  const first: ClientCompletion['choices'][number] | undefined = Array.isArray(completion.choices) ? completion.choices[0] : undefined;
  const stopped: StopSequence = typeof first === 'object' && first !== null ? { ...(STOP_SEQUENCE in first ? { [STOP_SEQUENCE]: first[STOP_SEQUENCE] } : {}), ...(first[WINDOW_EXCEEDED] ? { [WINDOW_EXCEEDED]: true as const } : {}) } : {};
  const writes = typeof completion.usage === 'object' && completion.usage !== null ? completion.usage[CACHE_WRITES] : undefined;
  const blocks = typeof first === 'object' && first !== null && typeof first.message === 'object' && first.message !== null ? first.message[ANTHROPIC_BLOCKS] : undefined;
  const body = raw?.toString('utf8') ?? JSON.stringify(completion);
  const idAt = idSpanOf(body);
  return { body, ...(idAt ? { idAt } : {}), stopped, ...(writes ? { writes } : {}), ...(blocks ? { blocks } : {}), ...(wantsReasoningBack ? { reasoningBack: true as const } : {}), ...(estimated ? { estimated: true as const } : {}) };
}

/**
 * What changes the answer that a request's JSON leaves out, for its cache key: an Anthropic-format client's
 * extended thinking, its earlier turns' thinking blocks, its effort and its beta features, and the tool results it
 * flagged `is_error` (symbols: such a result's text reads as an unflagged one beginning "Error: ", but Anthropic and
 * Bedrock are sent the flag). Empty for any other request.
 */
function keyBeyondJsonOf(request: ChatRequest): string {
  const thinking = request[THINKING];
  const effort = request[OUTPUT_CONFIG]?.effort;
  const betas = request[ANTHROPIC_BETA];
  const media = mediaMarksOf(request);
  const marked = request.messages.some((message) => ANTHROPIC_BLOCKS in message || message[TOOL_ERROR]);
  if (thinking === undefined && effort === undefined && betas === undefined && media === undefined && !marked) return '';
  const perMessage = request.messages.map((message) => [message[ANTHROPIC_BLOCKS] ?? null, message[TOOL_ERROR] ?? null]);
  return JSON.stringify([thinking ?? null, perMessage, effort ?? null, betas ?? null, ...(media ? [media] : [])]);
}

/**
 * What an ingress marked on a request's images and files beside their JSON, which changes what the Anthropic and
 * Bedrock adapters send: the tool result each came in (TOOL_RESULT_OF), a name the gateway made up (UNTITLED),
 * citations asked for (CITATIONS), a document's context (DOCUMENT_CONTEXT). Undefined for a request with none.
 */
function mediaMarksOf(request: ChatRequest): unknown[] | undefined {
  let marks: unknown[] | undefined;
  request.messages.forEach((message, i) => {
    if (!Array.isArray(message.content)) return;
    message.content.forEach((part, j) => {
      if (part.type === 'text') {
        if (part[DOCUMENT_CONTEXT]) (marks ??= []).push([i, j, 'context']);
        return;
      }
      const mark = [part[TOOL_RESULT_OF] ?? null, part.type === 'file' ? [part[UNTITLED] ?? null, part[CITATIONS] ?? null] : null];
      if (mark[0] !== null || (mark[1] as unknown[] | null)?.some((m) => m !== null)) (marks ??= []).push([i, j, mark]);
    });
  });
  return marks;
}

/** A chat call's record and its cost; the answer's tokens count against the app's token-per-minute limit too. */
function recordChat(call: AiCall, trace: CallTrace, prepared: Prepared, request: ChatRequest, target: AiTarget | undefined, status: number, tokens: Tokens, estimated: boolean, ttftMs: number | null, cacheHit: boolean): number {
  const { runtime, snapshot } = call;
  const providerType = target ? snapshot.providers.get(target.provider)?.catalogKey : undefined;
  const cost = cacheHit || !target || !providerType ? 0 : costOf(priceOf(call, providerType, target.model), tokens);
  recordCall(call, trace, { app: prepared.app, team: prepared.team, provider: target?.provider ?? null, model: target?.model ?? request.model, tokens, estimated, cost, ttftMs, status, cacheHit });
  // The token-per-minute window was charged the prompt estimate up front; the answer's tokens count too, whether
  // they fit or not: an answer that overflows the window is what makes the next call wait, or calls of short
  // prompts and long answers would never be refused.
  // So do the prompt's tokens the estimate missed, as the provider counted them (a prompt is counted before the call
  // at four bytes a token: a provider's tokenizer, or what the estimate leaves out, can count many more).
  const tpm = prepared.app ? call.catalog.apps.get(prepared.app)?.budget?.tokensPerMinute : undefined;
  const counted = cacheHit ? 0 : tokens.output + Math.max(0, tokens.input - prepared.promptTokens);
  if (tpm !== undefined && counted > 0) void Promise.resolve(runtime.limiter.charge(`tpm\n${prepared.app}`, 60_000, Math.min(counted, tpm))).catch(() => undefined);
  return cost;
}

/**
 * The model a cached answer is kept under: the name asked for, and for an alias what it stands for, so that an alias
 * moved to other models (PUT /config) is not answered from what its old ones said until their entries expire.
 */
function cachedName(call: AiCall, requested: string): string {
  const alias = call.snapshot.aliases.get(requested);
  return alias ? `${requested}\n${alias.signature}` : requested;
}

/** A non-streamed completion: from the cache, or from the first target that answers, sent from its socket's callback. */
function answerChat(res: ServerResponse, call: AiCall, trace: CallTrace, format: ChatFormat, request: ChatRequest, prepared: Prepared, fail: (error: unknown) => void): Promise<void> | undefined {
  const { runtime, snapshot } = call;
  const cacheKey = snapshot.cacheTtlMs > 0 ? ResponseCache.keyOf(cacheSpaceOf(call), cachedName(call, request.model), request, keyBeyondJsonOf(request)) : undefined;
  const cached = cacheKey ? runtime.cache.get(cacheKey, runtime.now(), snapshot.cacheTtlMs) : undefined;
  // An entry cached from the other format's call that this one's cannot be rendered from counts as a miss.
  // Only a Response seals (and the owner is a JSON text): no other format pays for it.
  const sealed = format === 'responses' ? sealedReasoningOf(call) : undefined;
  // A Response was made when its call began, by the gateway's clock, as a streamed one's `created_at` says.
  const createdAt = Math.floor(trace.started / 1000);
  const out = cached === undefined ? undefined : renderOrNot(format, request, cached, sealed, createdAt);
  if (out !== undefined) {
    recordChat(call, trace, prepared, request, undefined, 200, NO_TOKENS, false, null, true);
    const hit = (body: string) => {
      res.writeHead(200, {
        'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': call.requestId, ...requestIdHeader(format, call.requestId), 'x-keygate-cache': 'hit', 'x-keygate-cost-usd': '0.000000000',
        // The answer's usage is the first call's, as the gateway counted it when the provider told none.
        ...(cached?.estimated ? { 'x-keygate-usage-estimated': 'true' } : {}),
        ...call.responseHeaders,
      });
      res.end(body);
    };
    // A Response answered from the cache is a Response of its own, stored as any other.
    if (toStore(request)) return keepAnswer(call, request, out).then(hit);
    hit(out);
    return undefined;
  }
  const options = { dispatcher: runtime.agents.for(snapshot.timeoutMs), timeoutMs: snapshot.timeoutMs, cancel: trace.cancel };
  const send = () =>
    attempt<ChatAnswer>(
      call,
      trace,
      inTurn(call, prepared),
      (ctx, tried, done) => {
        const provider = snapshot.providers.get(ctx.provider.name)!;
        chatAnswer(provider.adapter, request, ctx, options, (error, answer) => {
          // An answer the provider made, and bills, that failed (a generation ended in error).
          if (error) keepBilled(call, trace, tried, provider.catalogKey, error);
          done(error, answer);
        });
      },
      (error, served) => {
        if (error) return fail(error);
        // A failed try's spend before the one that answered: a record of its own.
        if (trace.spent) {
          recordSpend(call, trace, trace.spent);
          trace.spent = undefined;
        }
        const { result: answer, target, redaction } = served!;
        const result = answer.completion;
        const reported = usageOf(result.usage);
        // Only a Messages API answer, or a cache entry one may be answered from, needs to know (hiddenReasoningFor).
        const wantsReasoningBack = (format === 'anthropic' || cacheKey !== undefined) && snapshot.providers.get(target.provider)?.config.reasoningBack === true;
        const finish = () => {
          const tokens = reported ?? { input: estimatePromptTokens(request.messages) + definitionTokens(request, estimateTokens), output: estimateTokens(completionText(result)), cached: 0 };
          const whole: ClientCompletion = reported ? result : { ...result, usage: { prompt_tokens: tokens.input, completion_tokens: tokens.output, total_tokens: tokens.input + tokens.output } };
          let completion = oneToolCallAsked(request) ? withOneToolCall(whole) : whole;
          // A completion the provider sent in OpenAI's shape, usage included, goes out as the provider's own bytes.
          let passThrough = reported && format === 'openai' && completion === whole ? answer.raw : undefined;
          // A completion not in the shape its format promised (a choice without a message, say) is the provider's
          // failure: its tokens were spent and are recorded, and nothing goes into the cache.
          let body = passThrough ?? renderOrNot(format, request, completion, sealed, createdAt, wantsReasoningBack);
          // A 200 may quote the key too (an `error` member beside the choices): then it goes out, and into the
          // cache, re-serialised with the key cut.
          if (body !== undefined && redaction.answers.quotedIn(body)) {
            completion = redaction.answers.cutJson(completion);
            passThrough = undefined;
            body = renderOrNot(format, request, completion, sealed, createdAt, wantsReasoningBack);
          }
          const cost = recordChat(call, trace, prepared, request, target, body === undefined ? 502 : 200, tokens, !reported, null, false);
          if (body === undefined) return fail(new AiError(502, 'api_error', 'provider_bad_response', 'the provider answered with a completion that cannot be read'));
          // A choice the provider says failed (OpenRouter's finish_reason "error") is not an answer to keep for the TTL.
          if (cacheKey && Array.isArray(completion.choices) && completion.choices.length > 0 && !anyChoiceFailed(completion) && isCurrent(runtime, snapshot.providers.get(target.provider))) runtime.cache.set(cacheKey, toCache(completion, passThrough, wantsReasoningBack, !reported), runtime.now(), snapshot.cacheTtlMs);
          // A Response to store is kept before it is sent: the client's next call may continue it at once.
          if (toStore(request)) return void keepAnswer(call, request, body as string).then((kept) => sendAnswer(res, call, served!, cost, !reported, kept, requestIdHeader(format, call.requestId)), fail);
          sendAnswer(res, call, served!, cost, !reported, body, requestIdHeader(format, call.requestId));
        };
        // Without the provider's usage the tokens are counted, with the tokenizer (loaded on first need).
        if (!reported) return void loadTokenizer().then(finish).catch(fail);
        try {
          finish();
        } catch (failure) {
          fail(failure);
        }
      },
    );
  const holding = refuseOrHold(call, trace, prepared, request, request.n ?? 1);
  if (holding) return holding.then(send);
  send();
  return undefined;
}

/** A streamed completion: each provider event translated and written as it comes, the call recorded at its end. */
async function streamChat(res: ServerResponse, call: AiCall, trace: CallTrace, format: ChatFormat, request: ChatRequest, prepared: Prepared, promptEstimate: number): Promise<void> {
  const { requestId, runtime, snapshot } = call;
  const { started } = trace;
  const record = (target: AiTarget | undefined, status: number, tokens: Tokens, estimated: boolean, ttftMs: number | null) => recordChat(call, trace, prepared, request, target, status, tokens, estimated, ttftMs, false);
  const wantUsage = request.stream_options?.include_usage === true;
  const { httpVersionMajor: major, httpVersionMinor: minor } = res.req;
  const chunked = major > 1 || (major === 1 && minor >= 1);
  const holding = refuseOrHold(call, trace, prepared, request, request.n ?? 1);
  if (holding) await holding;
  const targets = inTurn(call, prepared);
  const lastTarget = targets[targets.length - 1];
  const { result: stream, target, redaction, attempts } = await attemptAsync(call, trace, targets, (ctx, tried) => {
    const provider = snapshot.providers.get(ctx.provider.name)!;
    // With another target after this one, the client is sent nothing until the model says something: a stream that
    // fails before (an OpenAI-format host's `error` event right after its head) falls back rather than break off.
    const holdUntilContent = tried !== lastTarget;
    return openChatStream(provider.adapter, request, ctx, { dispatcher: runtime.agents.for(snapshot.timeoutMs), timeoutMs: snapshot.timeoutMs, cancel: trace.cancel, holdUntilContent }).catch((error: unknown) => {
      // A whole completion sent instead of a stream: no client gets it, but it was made and billed.
      keepBilled(call, trace, tried, provider.catalogKey, error);
      throw error;
    });
  }, true);
  if (trace.spent) {
    recordSpend(call, trace, trace.spent);
    trace.spent = undefined;
  }
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': requestId,
    ...requestIdHeader(format, requestId),
    'x-keygate-provider': target.provider,
    'x-keygate-model': headerText(target.model),
    ...attemptsHeader(attempts),
    // A trailer needs chunked encoding, which an HTTP/1.0 client does not get: Node refuses to send the head.
    ...(chunked ? { trailer: 'x-keygate-cost-usd' } : {}),
    ...call.responseHeaders,
  });
  // The head goes out with the first event when that is already here (one write, one packet for the client);
  // otherwise on its own once this turn of the event loop is over, so the client knows the call was accepted.
  // (`res.headersSent` is already true after writeHead, sent or not: whether an event went is what counts.)
  let wroteEvent = false;
  setImmediate(() => {
    if (!wroteEvent && !res.destroyed) res.flushHeaders();
  });
  let ttft: number | null = null;
  /** A chunk with OpenAI's `usage` went to the client (a host may tell it elsewhere only: Groq's `x_groq.usage`). */
  let toldUsage = false;
  /** The model said something (saysSomething): the target answered, for its circuit. */
  let said = false;
  let text = '';
  // The last chunk's id, created and model: an estimated usage chunk carries them like the rest of the stream.
  let last: TranslatedChunk | undefined;
  const events: ChunkEvents | undefined =
    format === 'anthropic' ? new ChatChunksToMessageEvents(request.model, { inputTokens: promptEstimate, stops: stopsOf(request), thinking: thinkingAsked(request), hiddenReasoning: hiddenReasoningFor(request, snapshot.providers.get(target.provider)?.config.reasoningBack === true) })
    : format === 'responses' ? new ChatChunksToResponseEvents(request.model, responseEchoOf(request), { createdAt: Math.floor(started / 1000), sealed: sealedReasoningOf(call), included: includesEncrypted(request) })
    : undefined;
  // A client that has not taken what it was sent pauses the provider (the sink's `false`) until it has, for up to
  // ai.sendTimeout; one that takes nothing longer is closed, which cancels the call (handleAi) as a client that left.
  let paused = false;
  const resume = () => {
    paused = false;
    stream.resume();
  };
  // A provider's own event text goes on as it is unless it quotes the key (an OpenRouter-style mid-stream `error`).
  const send = (data: string): boolean => {
    wroteEvent = true;
    const more = res.write(redaction.answers.quotedIn(data) ? redaction.answers.cutEvent(data) : data);
    if (!more && !paused) {
      paused = true;
      resumeWhenDrained(res, snapshot.sendTimeoutMs, resume);
    }
    return more;
  };
  const oneCall = oneToolCallAsked(request) ? oneToolCallPerChoice() : undefined;
  // Each read's chunks are written from the provider socket's own callback; a full client buffer pauses the provider.
  const streamed = await new Promise<number>((resolve) => {
    stream.pipe({
      chunk(chunk: TranslatedChunk) {
        if (!said && saysSomething(chunk)) {
          said = true;
          if (learnsFrom(call, target)) runtime.circuits.succeeded(target);
        }
        if (ttft === null && chunk.choices.length > 0) ttft = runtime.now() - started;
        last = chunk;
        for (const choice of chunk.choices) text += (choice.delta.reasoning_content ?? '') + (choice.delta.content ?? '') + (choice.delta.refusal ?? '') + (choice.delta.tool_calls ?? []).map((t) => t.function?.arguments ?? t.custom?.input ?? '').join('');
        // The tool calls after a choice's first are left out here, once their tokens are counted above (one-tool-call.ts).
        const kept = oneCall ? oneCall(chunk) : chunk;
        if (events) {
          let more = true;
          for (const event of events.push(kept)) more = send(event) && more;
          return more;
        }
        const out: TranslatedChunk = format === 'openai-functions' ? toFunctionCallChunk(kept) : kept;
        // A translated chunk that says nothing in OpenAI's terms (an Anthropic thinking block's start or signature) is left out.
        if (out[SOURCE_TEXT] === undefined && !out.usage && out.choices.length > 0 && out.choices.every(saysNothing)) return true;
        // The gateway always asks for usage; the client sees the usage chunk only if it asked too.
        if (out.usage && !wantUsage) {
          if (out.choices.length === 0) return true;
          return send(`data: ${JSON.stringify({ ...out, usage: undefined })}\n\n`);
        }
        if (out.usage) toldUsage = true;
        return send(`data: ${out[SOURCE_TEXT] ?? JSON.stringify(out)}\n\n`);
      },
      end(error) {
        if (!said) settleSilentStream(call, target, error);
        if (!error) {
          // A client that asked for usage gets a usage chunk (below) when none it was sent had one: the provider's
          // counts told in a member of its own, or the gateway's estimate when the provider sent none.
          if (!events && !(wantUsage && !toldUsage)) res.write('data: [DONE]\n\n');
          return resolve(200);
        }
        if (error instanceof CallCancelled) return resolve(499);
        const told = streamFailureFor(error, redaction);
        // An Anthropic-format client's error event takes its type from what the provider's status meant (529: overloaded).
        if (events) for (const event of events.fail(told.message, anthropicErrorTypeFor(told.providerStatus), told.code)) send(event);
        else res.write(`data: ${JSON.stringify({ error: { message: told.message, type: told.type, param: null, code: told.code } })}\n\n`);
        resolve(502);
      },
    });
  });
  // A stream the client was told failed (a choice that failed, in Anthropic's format an error event) is recorded so.
  const status = streamed === 200 && events?.failed ? 502 : streamed;
  const reported = usageOf(stream.usage());
  if (!reported) await loadTokenizer();
  const tokens = reported ?? { input: estimatePromptTokens(request.messages) + definitionTokens(request, estimateTokens), output: estimateTokens(text), cached: 0 };
  if (events && status === 200) {
    const usage: Usage = { prompt_tokens: tokens.input, completion_tokens: tokens.output, total_tokens: tokens.input + tokens.output, prompt_tokens_details: { cached_tokens: tokens.cached } };
    if (tokens.writes) usage[CACHE_WRITES] = tokens.writes;
    // The reasoning part of the output, which a Response's usage tells, as the provider counted it.
    const details = reported ? stream.usage()?.completion_tokens_details : undefined;
    if (details) usage.completion_tokens_details = details;
    // The closing events repeat the answer whole (a Response's `response.completed`): they go through `send` too.
    if (events instanceof ChatChunksToResponseEvents && toStore(request)) {
      // The Response is kept before its terminal event: a client that continues it on seeing that event finds it;
      // kept as the client is sent it, a key the model quoted cut.
      const finished = events.finish(usage)!;
      for (const event of finished.events) send(event);
      const response = redaction.answers.quotedIn(JSON.stringify(finished.response)) ? redaction.answers.cutJson(finished.response) : finished.response;
      send(events.terminal(await keepResponse(call, request, response)));
    } else for (const event of events.end(usage)) send(event);
  }
  if (!events && status === 200 && wantUsage && !toldUsage) {
    const usage = reported ? stream.usage() : { prompt_tokens: tokens.input, completion_tokens: tokens.output, total_tokens: tokens.input + tokens.output };
    send(`data: ${JSON.stringify({ id: last?.id ?? `chatcmpl-${requestId}`, object: 'chat.completion.chunk', created: last?.created ?? Math.floor(started / 1000), model: last?.model ?? target.model, choices: [], usage })}\n\n`);
    res.write('data: [DONE]\n\n');
  }
  const cost = record(target, status, tokens, !reported, ttft);
  if (chunked) res.addTrailers({ 'x-keygate-cost-usd': cost.toFixed(9) });
  res.end();
}

/**
 * What a client is told of a stream that failed after its head: that it failed, in the provider's words when the
 * provider said why (an `error` event: overloaded, a rate limit, a server error), without its secrets or the
 * operator's account names; the status the failure would have had as an answer decides the error's type.
 */
function streamFailureFor(error: Error, redaction: SecretRedaction): { message: string; type: string; code: string; providerStatus: number } {
  if (!(error instanceof ProviderCallError)) return { message: 'the provider stream failed', type: 'api_error', code: 'provider_stream_error', providerStatus: 502 };
  const failure = withoutSecret(error.failure, redaction);
  const told = clientError(failure);
  // A denial's words can name the operator's account (clientError): the gateway's own then, as for an answer.
  const words = failure.credentialProblem ? told.message : providerWords(failure.message);
  const code = failure.code !== null && STREAM_FAILURE_CODES.has(failure.code) ? failure.code : 'provider_stream_error';
  return { message: `the provider stream failed: ${words}`, type: told.type, code, providerStatus: failure.status };
}

/** The gateway's own codes for how a stream failed, told in its error event; any other failure is `provider_stream_error`. */
const STREAM_FAILURE_CODES: ReadonlySet<string> = new Set(['provider_timeout', 'provider_stream_incomplete']);

/** A streamed choice with nothing for an OpenAI-format client: no finish, and a delta without any member. */
function saysNothing(choice: TranslatedChunk['choices'][number]): boolean {
  if (choice.finish_reason != null) return false;
  for (const _member in choice.delta) return false;
  return true;
}

const NO_EXTRA: Readonly<Record<string, string>> = {};

/** Anthropic's clients read the request's id from `request-id` (the SDK's `_request_id`); OpenAI's from `x-request-id`. */
function requestIdHeader(format: ChatFormat, requestId: string): Readonly<Record<string, string>> {
  return format === 'anthropic' ? { 'request-id': requestId } : NO_EXTRA;
}

/** The header that lists the targets tried, for an answer a fallback made; none for one the first target made. */
const attemptsHeader = (attempts: string | undefined): Readonly<Record<string, string>> => (attempts === undefined ? NO_EXTRA : { [ATTEMPTS_HEADER]: attempts });

/**
 * A provider's answer, non-streamed, with the headers that say who served it (and which targets failed before it),
 * what it cost and whether its usage is estimated.
 */
function sendAnswer(res: ServerResponse, call: AiCall, served: Served<unknown>, cost: number, estimated: boolean, body: string | Buffer, extra: Readonly<Record<string, string>> = NO_EXTRA): void {
  const { target } = served;
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
    'x-request-id': call.requestId,
    ...extra,
    'x-keygate-provider': target.provider,
    'x-keygate-model': headerText(target.model),
    ...attemptsHeader(served.attempts),
    'x-keygate-cost-usd': cost.toFixed(9),
    ...(estimated ? { 'x-keygate-usage-estimated': 'true' } : {}),
    ...call.responseHeaders,
  });
  res.end(body);
}

/** Tokens of embedding inputs: text counted with `count`, token-id arrays by their length. */
function embeddingTokens(inputs: ReadonlyArray<unknown>, count: (text: string) => number): number {
  return inputs.reduce<number>((sum, item) => sum + (typeof item === 'string' ? count(item) : Array.isArray(item) ? item.length : 1), 0);
}

/** A part of an embeddings request sent in parts that its provider answered: its inputs and its answer. */
interface AnsweredPart {
  input: EmbeddingsRequest['input'];
  answer: EmbeddingsResponse;
}

/**
 * The parts of an embeddings request one target answered, kept across its tries: a try with another key (the first
 * one's deleted, refused or rate limited) sends only the parts left. `status` is the last try's failure, for the
 * record of their spend should the call leave the target with them (keptPartsSpent).
 */
interface KeptParts {
  target: AiTarget;
  parts: Map<number, AnsweredPart>;
  status: number;
}

/**
 * The tokens and cost of the parts of an embeddings request `target` answered: summed as the provider reported
 * them, or counted by the gateway (and said to be estimated) when a part reported none, as Gemini's do not.
 */
async function embeddingsSpend(call: AiCall, target: AiTarget, parts: readonly AnsweredPart[]): Promise<{ tokens: Tokens; estimated: boolean; cost: number }> {
  const reported = parts.map((part) => countOf(part.answer.usage?.prompt_tokens));
  let input: number;
  if (reported.every((count) => count !== undefined)) input = reported.reduce<number>((sum, count) => sum + count!, 0);
  else {
    await loadTokenizer();
    input = parts.reduce((sum, part) => sum + embeddingTokens(Array.isArray(part.input) ? part.input : [part.input], estimateTokens), 0);
  }
  const tokens = { input, output: 0, cached: 0 };
  const providerType = call.snapshot.providers.get(target.provider)!.catalogKey;
  return { tokens, estimated: reported.some((count) => count === undefined), cost: costOf(priceOf(call, providerType, target.model), tokens) };
}

/** The status a failed try's own record shows: what the client would have been answered, had it been the last. */
function failedStatus(error: unknown): number {
  if (error instanceof ProviderCallError) return clientError(error.failure).status;
  if (error instanceof CallCancelled) return 499;
  return error instanceof AiError ? error.status : 500;
}

async function embeddings(parsed: Record<string, unknown>, res: ServerResponse, call: AiCall, trace: CallTrace): Promise<void> {
  if (typeof parsed.model === 'string') trace.model = parsed.model;
  const request = validateEmbeddings(parsed);
  const inputs = Array.isArray(request.input) ? request.input : [request.input];
  const estimate = embeddingTokens(inputs, quickTokenCount);
  const prepared = await prepare(request.model, estimate, call, estimate, 'embedding');
  const { runtime, snapshot } = call;
  // Embeddings are the same for the same input: with `ai.cache`, the caller's same request is answered again.
  const cacheKey = snapshot.cacheTtlMs > 0 ? ResponseCache.keyOf(cacheSpaceOf(call), cachedName(call, request.model), request, 'embeddings') : undefined;
  const cached = cacheKey ? runtime.cache.get(cacheKey, runtime.now(), snapshot.cacheTtlMs) : undefined;
  if (cached) {
    recordCall(call, trace, { app: prepared.app, team: prepared.team, provider: null, model: request.model, tokens: NO_TOKENS, estimated: false, cost: 0, ttftMs: null, status: 200, cacheHit: true });
    res.writeHead(200, {
      'content-type': 'application/json', 'content-length': Buffer.byteLength(cached.body), 'x-request-id': call.requestId, 'x-keygate-cache': 'hit', 'x-keygate-cost-usd': '0.000000000',
      ...(cached.estimated ? { 'x-keygate-usage-estimated': 'true' } : {}),
      ...call.responseHeaders,
    });
    res.end(cached.body);
    return;
  }
  const holding = refuseOrHold(call, trace, prepared, undefined);
  if (holding) await holding;
  let kept: KeptParts | undefined;
  // Parts the call leaves unused (for another target, or no answer at all) were embedded, and billed, all the same.
  const keptPartsSpent = async () => {
    if (kept && kept.parts.size > 0) keepSpend(call, trace, { target: kept.target, ...(await embeddingsSpend(call, kept.target, [...kept.parts.values()])), status: kept.status });
    kept = undefined;
  };
  const served = await attemptAsync(call, trace, inTurn(call, prepared), async (ctx, tried) => {
    if (kept && kept.target !== tried) await keptPartsSpent();
    const own = (kept ??= { target: tried, parts: new Map(), status: 0 });
    const provider = snapshot.providers.get(ctx.provider.name)!;
    const options: EmbeddingsCallOptions = {
      dispatcher: runtime.agents.for(snapshot.timeoutMs),
      timeoutMs: snapshot.timeoutMs,
      cancel: trace.cancel,
      answered: new Map([...own.parts].map(([at, part]) => [at, part.answer])),
      onPart: (at, input, answer) => void own.parts.set(at, { input, answer }),
      // Each part asks, as each try of a chat call does: a key deleted once the call began is not sent again.
      beforePart: () => {
        if (provider.keys.length > 0 && !isPooled(runtime, ctx.credential.id)) throw new KeyLeftPool(ctx.credential.id);
      },
    };
    return callEmbeddings(provider.adapter, request, ctx, options).catch((error: unknown) => {
      own.status = failedStatus(error);
      throw error;
    });
  }).catch(async (error: unknown) => {
    await keptPartsSpent();
    throw error;
  });
  const { result, target, redaction } = served;
  if (trace.spent) {
    recordSpend(call, trace, trace.spent);
    trace.spent = undefined;
  }
  const reported = countOf(result.usage?.prompt_tokens);
  if (reported === undefined) await loadTokenizer();
  const input = reported ?? embeddingTokens(inputs, estimateTokens);
  const providerType = snapshot.providers.get(target.provider)!.catalogKey;
  const tokens = { input, output: 0, cached: 0 };
  const cost = costOf(priceOf(call, providerType, target.model), tokens);
  recordCall(call, trace, { app: prepared.app, team: prepared.team, provider: target.provider, model: target.model, tokens, estimated: reported === undefined, cost, ttftMs: null, status: 200, cacheHit: false });
  // OpenAI's shape always carries usage: the estimate when the provider reported none, and a header says so.
  const answer = reported !== undefined ? result : { ...result, usage: { prompt_tokens: input, total_tokens: input } };
  const text = JSON.stringify(answer);
  const body = redaction.answers.quotedIn(text) ? JSON.stringify(redaction.answers.cutJson(answer)) : text;
  // Kept as the client is sent it (a key the provider quoted cut), and only when it is embeddings, one per input: a
  // host's 200 that holds an error instead would be served again after the host recovered.
  if (cacheKey && Array.isArray(answer.data) && answer.data.length === inputs.length && isCurrent(runtime, snapshot.providers.get(target.provider))) runtime.cache.set(cacheKey, { body, stopped: {}, ...(reported === undefined ? { estimated: true as const } : {}) }, runtime.now(), snapshot.cacheTtlMs);
  sendAnswer(res, call, served, cost, reported === undefined, body);
}
