import type { IncomingHttpHeaders } from 'node:http';
import { refuseCitations } from '../pdf-file.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResponse, ToolCall, Usage } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { SseParser } from '../../sse.js';
import { incompleteStream } from '../stream-events.js';
import { apiHostOf } from '../api-host.js';
import { vectorAs } from '../embedding-encoding.js';
import { isVectorList, unreadableEmbeddings } from '../unreadable-embeddings.js';
import { streamedFailure } from './stream-error.js';
import { groqUsageOf } from './groq-stream-usage.js';
import { groqErrorOf } from './groq-stream-error.js';
import { failedGenerationOf, giveOpenAIFinishReasons, withOpenAIFinishReasons } from './host-finish-reasons.js';
import { generationFailure } from '../generation-failed.js';
import { isPerplexity, withPerplexityTokens } from './perplexity-usage.js';
import { isTogether, withTogetherCachedTokens } from './together-usage.js';
import { hostFailedChoice } from './host-failed-choices.js';
import { reasoningEffortFor } from '../client-thinking.js';
import { SOURCE_TEXT, failureFor, type TranslatedChunk, type CallContext, type ProviderAdapter, type ProviderFailure, type StreamTranslator, type UpstreamCall } from '../provider.js';

/**
 * A host's embeddings answer, each vector as the client asked for it (vectorAs). An answer with no `data` list (a
 * completion, an error said with a 200) is no answer: a retryable 502, so that an alias moves on and nothing is cached.
 */
function embeddingsAnswer(body: unknown, request: EmbeddingsRequest | undefined): EmbeddingsResponse {
  const answer = (body ?? {}) as EmbeddingsResponse;
  const readable = (item: unknown) => typeof item === 'object' && item !== null && (typeof (item as { embedding?: unknown }).embedding === 'string' || isVectorList([(item as { embedding?: unknown }).embedding]));
  if (!Array.isArray(answer.data) || !answer.data.every(readable)) throw unreadableEmbeddings();
  const format = request?.encoding_format;
  const converted = answer.data.some((item) => vectorAs(format, item.embedding) !== item.embedding);
  return converted ? { ...answer, data: answer.data.map((item) => ({ ...item, embedding: vectorAs(format, item.embedding) as number[] | string })) } : answer;
}

/** What differs between hosts that speak OpenAI's wire format: where, and how to authenticate. */
export interface OpenAIStyleOptions {
  type: string;
  defaultBaseUrl?: string;
  chatPath?: (ctx: CallContext) => string;
  embeddingsPath?: (ctx: CallContext) => string;
  authHeaders?: (ctx: CallContext) => Record<string, string>;
  /** Adjusts the body for a host's quirks (a parameter it does not take); the body is the call's own copy, to change in place or replace. */
  adjust?: (body: Record<string, unknown>, ctx: CallContext, request: ChatRequest) => Record<string, unknown>;
  /**
   * Whether the call's model takes `reasoning_effort` beside function tools, for the effort the gateway derives from
   * an Anthropic-format client's thinking (OpenAI's newest models refuse the pair on Chat Completions); yes when absent.
   */
  takesEffortWithTools?: (ctx: CallContext) => boolean;
  /**
   * Whether the host wants the history's `reasoning_content` back (ProviderAdapter.wantsReasoningBack); otherwise it
   * is left out, as OpenAI refuses a member of a message it does not define. No when absent.
   */
  wantsReasoningBack?: boolean;
}

/**
 * What OpenAI's reasoning models refuse beside a reasoning effort other than `none`
 * (https://platform.openai.com/docs/guides/latest-model, parameter compatibility).
 */
const SAMPLING_BESIDE_NO_REASONING = ['temperature', 'top_p', 'logprobs', 'top_logprobs'] as const;

/**
 * Whether a host is Google's OpenAI-compatible API (the Gemini API's, or Vertex AI's), the one that takes a tool
 * call's `extra_content.google.thought_signature` back; any other is sent no such member, which OpenAI does not define.
 */
const takesThoughtSignatures = (baseUrl: string | undefined): boolean => {
  const host = apiHostOf(baseUrl ?? '');
  return host === 'generativelanguage.googleapis.com' || host === 'aiplatform.googleapis.com' || host.endsWith('-aiplatform.googleapis.com');
};

/** Whether a message has a tool call carrying `extra_content` (a Gemini thought signature, GoogleExtra). */
const signsCalls = (message: Record<string, unknown>): boolean =>
  Array.isArray(message.tool_calls) && (message.tool_calls as Array<Record<string, unknown>>).some((call) => call?.extra_content !== undefined);

/**
 * The assistant messages without the reasoning the gateway answers with, and clients send back in their history, that
 * the host is not sent: `reasoning_content` (Anthropic's and Gemini's thinking, DeepSeek's own reasoning) unless
 * `content` says it is, and tool calls' `extra_content` (Gemini's thought signatures) unless the host is Google's.
 * The messages are the request's own: a message that has either is copied, not changed, for a fallback to a host that
 * wants it back. A history with neither (every call of a plain chat) is only looked at.
 */
function withoutReasoning(body: Record<string, unknown>, content: boolean, baseUrl: string | undefined): void {
  const messages = body.messages as Array<Record<string, unknown>>;
  let cutContent = false;
  let cutSignatures = false;
  for (const message of messages) {
    if (!content && message.reasoning_content !== undefined) cutContent = true;
    if (!cutSignatures && signsCalls(message)) cutSignatures = true;
  }
  if (cutSignatures && takesThoughtSignatures(baseUrl)) cutSignatures = false;
  if (!cutContent && !cutSignatures) return;
  body.messages = messages.map((message) => {
    const cuts = (cutContent && message.reasoning_content !== undefined) || (cutSignatures && signsCalls(message));
    if (!cuts) return message;
    const { reasoning_content: reasoning, ...rest } = message;
    if (!cutContent && reasoning !== undefined) rest.reasoning_content = reasoning;
    if (cutSignatures && Array.isArray(rest.tool_calls)) {
      rest.tool_calls = (rest.tool_calls as Array<Record<string, unknown>>).map((call) => {
        if (call?.extra_content === undefined) return call;
        const { extra_content: _signature, ...kept } = call;
        return kept;
      });
    }
    return rest;
  });
}

/** Per choice, the tool calls a stream has begun: the index given to each id, and the index of the latest. */
type StreamedToolCalls = Map<number, { ids: Map<string, number>; latest: number }>;

/**
 * Fills in what streamed tool-call deltas lack and OpenAI's clients need. The `index`, which Google's OpenAI-compatible
 * API leaves out (each call whole, with its id, no index): a call with an id not seen before in its choice takes the
 * next index, one with a known id that id's, one with neither the latest call's. OpenAI's clients (the SDK's stream
 * helpers, and the gateway's Anthropic-format events) put deltas together by index: without one, every call of an
 * answer was read as one, its arguments run together. And the `type` of a call's first delta (the one with its id or
 * name), which Mistral leaves out: the SDK's stream helper throws "tool call snapshot missing `type`" without it.
 * Whether anything was filled in (the chunk is then no longer the host's text).
 */
function completeToolCalls(chunk: TranslatedChunk, seen: StreamedToolCalls): boolean {
  let filled = false;
  for (const choice of chunk.choices) {
    const calls = choice?.delta?.tool_calls;
    if (!Array.isArray(calls)) continue;
    let state = seen.get(choice.index);
    for (const call of calls) {
      if (typeof call !== 'object' || call === null) continue;
      if (state === undefined) seen.set(choice.index, (state = { ids: new Map(), latest: -1 }));
      const id = typeof call.id === 'string' && call.id !== '' ? call.id : undefined;
      if (call.type === undefined && (id !== undefined || typeof call.function?.name === 'string')) {
        call.type = 'function';
        filled = true;
      }
      if (typeof call.index === 'number') {
        if (id !== undefined) state.ids.set(id, call.index);
        state.latest = call.index;
        continue;
      }
      const known = id === undefined ? undefined : state.ids.get(id);
      const index = known ?? (id !== undefined || state.latest < 0 ? Math.max(state.latest, ...state.ids.values()) + 1 : state.latest);
      if (id !== undefined) state.ids.set(id, index);
      state.latest = index;
      (call as { index: number }).index = index;
      filled = true;
    }
  }
  return filled;
}

/**
 * A whole answer's tool calls with the `type` a host left out (Mistral's): OpenAI's clients skip a call without one
 * (the SDK's runTools). The answer itself when none lacks it, so that its bytes can go on as they are.
 */
export function withToolCallTypes<T extends ChatCompletion>(completion: T): T {
  const choices = Array.isArray(completion?.choices) ? completion.choices : [];
  const untyped = (call: ToolCall) => typeof call === 'object' && call !== null && call.type === undefined;
  if (!choices.some((choice) => Array.isArray(choice?.message?.tool_calls) && choice.message.tool_calls.some(untyped))) return completion;
  return {
    ...completion,
    choices: choices.map((choice) => {
      const calls = choice?.message?.tool_calls;
      if (!Array.isArray(calls) || !calls.some(untyped)) return choice;
      return { ...choice, message: { ...choice.message, tool_calls: calls.map((call) => (untyped(call) ? { ...call, type: 'function' as const } : call)) } };
    }),
  };
}

/**
 * How the call's host tells in OpenAI's members what its usage tells in its own, for the client and the record alike:
 * Perplexity's citation and reasoning tokens (perplexity-usage.ts), Together's cache reads at the top of its usage
 * (together-usage.ts). None for any other host, whose members are not read as theirs.
 */
function usageRetellingOf(ctx: CallContext): ((usage: Usage) => Usage) | undefined {
  if (isPerplexity(ctx)) return withPerplexityTokens;
  if (isTogether(ctx)) return withTogetherCachedTokens;
  return undefined;
}

/** The host's address, without a trailing `/`; a provider whose type has no default must set one. */
function base(ctx: CallContext): string {
  if (!ctx.provider.baseUrl) throw new ProviderCallError({ status: 500, type: 'api_error', code: 'provider_misconfigured', message: `the provider "${ctx.provider.name}" names no baseUrl; set it to the host's address (https://…)`, retryable: true });
  return ctx.provider.baseUrl.replace(/\/$/, '');
}

/** An error body of a host of OpenAI's API, as a failure: its message, code, type and param kept. */
/** OpenRouter's `error.metadata`: what the model's own provider said (`raw`, `provider_name`), or why moderation flagged the input (`reasons`). */
interface ErrorMetadata {
  raw?: unknown;
  provider_name?: unknown;
  reasons?: unknown;
}

/**
 * The words of the provider behind a host that relays errors (OpenRouter's "Provider returned error", its reason
 * only in `metadata.raw`, as that provider's body or text): its message, and whose it was.
 */
function relayedWords(metadata: ErrorMetadata): string | undefined {
  if (typeof metadata.raw !== 'string' || metadata.raw === '') return undefined;
  let words = metadata.raw;
  try {
    const inner = JSON.parse(metadata.raw) as { error?: { message?: unknown } | string; message?: unknown };
    const said = typeof inner.error === 'object' && inner.error ? inner.error.message : (inner.error ?? inner.message);
    if (typeof said === 'string' && said !== '') words = said;
  } catch {
    // not JSON: its text as it is
  }
  return typeof metadata.provider_name === 'string' && metadata.provider_name !== '' ? `${words} (${metadata.provider_name})` : words;
}

function parseError(status: number, text: string, headers: IncomingHttpHeaders): ProviderFailure {
  let message = `the provider answered ${status}`;
  let code: string | null = null;
  let type: string | null = null;
  let param: string | null = null;
  let metadata: ErrorMetadata | undefined;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string; code?: unknown; type?: string; param?: string | null; metadata?: ErrorMetadata } | string; message?: string };
    if (typeof parsed.error === 'object' && parsed.error) {
      message = parsed.error.message ?? message;
      // OpenAI's `code` may be null: it stays null for the client rather than take the type's value. OpenRouter's is
      // the HTTP status again, a number: no code, so that the status's own applies (402: insufficient_quota).
      code = typeof parsed.error.code === 'string' ? parsed.error.code : null;
      type = parsed.error.type ?? null;
      param = parsed.error.param ?? null;
      if (typeof parsed.error.metadata === 'object' && parsed.error.metadata !== null) metadata = parsed.error.metadata;
    } else if (typeof parsed.error === 'string') message = parsed.error;
    else if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the generic message rather than echo an HTML error page
  }
  // A host's moderation flagged the input (OpenRouter's 403, https://openrouter.ai/docs/api-reference/errors): the
  // caller's to know, with the categories, not a key's permission; another target of an alias may still take it.
  const reasons = Array.isArray(metadata?.reasons) ? metadata.reasons.filter((reason): reason is string => typeof reason === 'string') : [];
  if (status === 403 && reasons.length > 0) {
    return { status: 400, type: 'invalid_request_error', code: 'content_policy_violation', message: `the provider's moderation flagged the input (${reasons.join(', ')})`, retryable: true };
  }
  // A tool call the model wrote that the host could not read or check against its tool (Groq's 400 tool_use_failed,
  // its `failed_generation` holding the model's text): the model's failure, as Gemini's MALFORMED_FUNCTION_CALL is,
  // which another target may not make; the model's text is not passed on.
  if (code === 'tool_use_failed') return generationFailure(`the model's tool call could not be used (tool_use_failed): ${message}`);
  const failure = { ...failureFor(status, message, headers, code, type), param };
  // The relayed words are told, not read: they are about the account of the provider behind the host (a quota of
  // its own), not about this key, which they must not set aside.
  const relayed = metadata ? relayedWords(metadata) : undefined;
  return relayed === undefined ? failure : { ...failure, message: `${failure.message}: ${relayed}` };
}

/**
 * An adapter for any host of OpenAI's Chat Completions and Embeddings APIs: the request passes through with the
 * provider's model id, and usage is always asked for on streams (the gateway accounts for every token; the
 * client sees the usage chunk only if it asked). An Anthropic-format client's thinking becomes `reasoning_effort`
 * for the models the catalog says reason (reasoningEffortFor). The history's reasoning goes only to a host that
 * wants it back (`wantsReasoningBack`). A host's own finish reasons reach the client as OpenAI's (host-finish-reasons.ts),
 * a choice OpenRouter or vLLM failed with a 200 is their failure (host-failed-choices.ts), the tokens Perplexity
 * counts apart are counted in its usage (perplexity-usage.ts), and the cache reads Together tells at the top of its
 * usage are told where OpenAI tells them (together-usage.ts).
 */
export function openAIStyleAdapter(options: OpenAIStyleOptions): ProviderAdapter {
  const auth = options.authHeaders ?? ((ctx: CallContext) => ({ authorization: `Bearer ${ctx.credential.secret}` }));
  return {
    type: options.type,
    defaultBaseUrl: options.defaultBaseUrl,
    wantsReasoningBack: options.wantsReasoningBack ?? false,
    chatCall(request: ChatRequest, ctx: CallContext): UpstreamCall {
      refuseCitations(request, `the provider "${ctx.provider.name}"`);
      // Whether to stream is the gateway's call (ctx.stream), not whatever the body said. Always written out from
      // what the gateway parsed: a duplicate key means one thing to JSON.parse and maybe another to the provider.
      let body: Record<string, unknown> = { ...request, model: ctx.model, stream: ctx.stream };
      if (ctx.stream) body.stream_options = { ...(request.stream_options ?? {}), include_usage: true };
      else if ('stream_options' in body) delete body.stream_options;
      // An Anthropic-format client's thinking, as the effort it comes to (client-thinking.ts); never where it would be refused.
      if (body.reasoning_effort === undefined) {
        const effort = reasoningEffortFor(request, ctx.catalogModel);
        if (effort && !(request.tools?.length && options.takesEffortWithTools?.(ctx) === false)) {
          body.reasoning_effort = effort;
          // OpenAI's reasoning models take the sampling settings only with no reasoning (GPT-5.1 and later, effort
          // `none`) or not at all (earlier ones): the client asked for reasoning, so they go, as beside Claude's thinking.
          for (const setting of SAMPLING_BESIDE_NO_REASONING) delete body[setting];
        }
      }
      withoutReasoning(body, ctx.provider.reasoningBack ?? options.wantsReasoningBack ?? false, ctx.provider.baseUrl);
      if (options.adjust) body = options.adjust(body, ctx, request);
      return {
        method: 'POST',
        url: `${base(ctx)}${options.chatPath ? options.chatPath(ctx) : `${ctx.provider.pathPrefix ?? '/v1'}/chat/completions`}`,
        headers: { 'content-type': 'application/json', accept: ctx.stream ? 'text/event-stream' : 'application/json', ...ctx.provider.headers, ...auth(ctx) },
        body: JSON.stringify(body),
      };
    },
    parseChat(body: unknown, ctx: CallContext): ChatCompletion {
      const told = body as ChatCompletion;
      const retell = usageRetellingOf(ctx);
      const usage = told?.usage && retell ? retell(told.usage) : told?.usage;
      const completion = usage === told?.usage ? told : { ...told, usage };
      const failed = failedGenerationOf(Array.isArray(completion?.choices) ? completion.choices : []);
      // A generation the host ended as failed was made, and is billed, all the same: its usage goes with the failure.
      if (failed !== undefined) throw new ProviderCallError(generationFailure(failed), completion.usage ?? undefined);
      // A choice the host failed in a way of its own (OpenRouter's `error`, vLLM's `abort`) is its failure, not an answer.
      const hostFailed = hostFailedChoice(completion, ctx, parseError);
      if (hostFailed !== undefined) throw new ProviderCallError(hostFailed, completion.usage ?? undefined);
      return withToolCallTypes(withOpenAIFinishReasons(completion));
    },
    streamTranslator(ctx: CallContext): StreamTranslator {
      const retell = usageRetellingOf(ctx);
      const parser = new SseParser();
      let usage: Usage | undefined;
      const toolCalls: StreamedToolCalls = new Map();
      // How the stream ends: with `data: [DONE]`, or, from hosts that never send it, once every choice asked for (and
      // any other it began) has its finish reason (a usage chunk may follow).
      let done = false;
      const begun = new Set<number>();
      const finished = new Set<number>();
      // A generation the host ended as failed (DeepSeek's insufficient_system_resource, a choice OpenRouter ended with
      // `error` and no error of the chunk's own, vLLM's `abort`): nothing after it goes to the
      // client, and its failure is thrown once the stream has told the usage it bills (ProviderCallError.billed) or ended.
      let failed: ProviderFailure | undefined;
      // A failure the stream told (an error event, a failed generation), with the usage told so far (what the failed try
      // billed, for its record) and the chunks of the same read before it, which go to the client first.
      const streamFailure = (failure: ProviderFailure, before: ChatCompletionChunk[]) => {
        const error = new ProviderCallError(failure, usage);
        error.before = before;
        return error;
      };
      const translate = (events: ReturnType<SseParser['push']>): ChatCompletionChunk[] => {
        const out: ChatCompletionChunk[] = [];
        for (const event of events) {
          if (event.data === '[DONE]') done = true;
          if (event.data === '[DONE]' || event.data === '') continue;
          const chunk = JSON.parse(event.data) as TranslatedChunk;
          // Anything but an object cannot be read as an event (the stream's reader says so: provider_bad_response).
          if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk)) throw new TypeError('a stream event that is not an object');
          // OpenAI's member, else Groq's own (which the chunk keeps, as the host's member, for the client); what a host
          // tells in members of its own (Perplexity's tokens, Together's cache reads) told in OpenAI's, for the client
          // and the record alike.
          let retold = false;
          if (chunk.usage) {
            usage = retell ? retell(chunk.usage) : chunk.usage;
            retold = usage !== chunk.usage;
            chunk.usage = usage;
          } else usage = groqUsageOf(chunk) ?? usage;
          // A failure the host reports in the stream ends it as such: before the model said anything, another target may
          // answer. Groq's `x_groq.error` says only its words: a server's failure (500), as an OpenAI error of no known type.
          const groqError = groqErrorOf(chunk);
          if ('error' in chunk || (chunk as { object?: unknown }).object === 'error' || groqError !== undefined) {
            const failure = streamedFailure(groqError === undefined ? (chunk as unknown as Record<string, unknown>) : { error: groqError }, parseError);
            if (failure) {
              throw streamFailure(failure, out);
            }
          }
          if (failed) continue;
          // A chunk without choices (a usage chunk some hosts send so) goes on with none, written anew: clients read `choices`.
          if (!Array.isArray(chunk.choices)) {
            out.push({ ...chunk, choices: [] });
            continue;
          }
          const failedWith = failedGenerationOf(chunk.choices);
          failed = failedWith === undefined ? hostFailedChoice(chunk, ctx, parseError) : generationFailure(failedWith);
          if (failed) continue;
          // A choice without a delta (a host's annotation of a choice that says nothing) gets an empty one: every
          // reader of a chunk, the ingresses' translators too, reads the delta.
          let filled = false;
          for (const choice of chunk.choices) {
            begun.add(choice?.index);
            if (choice?.finish_reason != null) finished.add(choice.index);
            if (choice && choice.delta === undefined) {
              choice.delta = {};
              filled = true;
            }
          }
          const renamed = giveOpenAIFinishReasons(chunk);
          const completed = completeToolCalls(chunk, toolCalls);
          // One data line (several would be joined by newlines, which cannot go on as one): the chunk's own text, unless
          // its usage was retold, a finish reason renamed or a tool call's index or type filled in. Not enumerable, so
          // that a wrapping translator's `{ ...chunk, … }` makes a chunk without it.
          if (!retold && !renamed && !completed && !filled && !event.data.includes('\n')) Object.defineProperty(chunk, SOURCE_TEXT, { value: event.data });
          out.push(chunk);
        }
        if (failed && (done || usage !== undefined)) throw streamFailure(failed, out);
        return out;
      };
      return {
        push: (bytes) => translate(parser.push(bytes)),
        end: () => {
          const last = translate(parser.end());
          if (failed) throw streamFailure(failed, last);
          if (!done && finished.size < Math.max(begun.size, ctx.choices ?? 1)) throw incompleteStream(last);
          return last;
        },
        usage: () => usage,
      };
    },
    embeddingsCall(request: EmbeddingsRequest, ctx: CallContext): UpstreamCall {
      return {
        method: 'POST',
        url: `${base(ctx)}${options.embeddingsPath ? options.embeddingsPath(ctx) : `${ctx.provider.pathPrefix ?? '/v1'}/embeddings`}`,
        headers: { 'content-type': 'application/json', ...ctx.provider.headers, ...auth(ctx) },
        body: JSON.stringify({ ...request, model: ctx.model }),
      };
    },
    parseEmbeddings(body: unknown, _ctx: CallContext, request?: EmbeddingsRequest): EmbeddingsResponse {
      return embeddingsAnswer(body, request);
    },
    parseError,
  };
}
