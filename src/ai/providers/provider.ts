import type { IncomingHttpHeaders } from 'node:http';
import type { CatalogModel } from '../catalog/index.js';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResponse, Usage } from '../chat-types.js';
import { rateLimitResetMs } from './rate-limit-reset.js';

/** One configured provider account: where it is and how to reach it (its API keys live in the key pool). */
export interface ProviderConfig {
  name: string;
  type: string;
  baseUrl: string;
  /** Azure OpenAI `api-version`; Anthropic `anthropic-version`; Gemini API version. */
  apiVersion?: string;
  /** AWS region (Bedrock). */
  region?: string;
  /** OpenAI-format hosts: the path between the base URL and `/chat/completions` or `/embeddings` (`/v1` unless set). */
  pathPrefix?: string;
  /** Static extra headers (an organisation id, a project id). */
  headers?: Record<string, string>;
  /**
   * Whether the history's `reasoning_content` is sent on (sendsReasoningBack, decided when the config is compiled);
   * absent (a context made by hand), as the adapter's `wantsReasoningBack` says.
   */
  reasoningBack?: boolean;
  /** DeepSeek's API, which takes its `thinking` switch (takesThinkingToggle, decided when the config is compiled). */
  thinkingToggle?: boolean;
  /** Whose catalog entries describe its models (`perplexity` for an `openai-compatible` host), when not its type's. */
  catalog?: string;
}

/** A secret from the provider's key pool: an API key, or for Bedrock also `ACCESS_KEY_ID:SECRET_ACCESS_KEY`. */
export interface ProviderCredential {
  id: string;
  secret: string;
}

export interface CallContext {
  provider: ProviderConfig;
  credential: ProviderCredential;
  /** The provider's own model id (after alias resolution). */
  model: string;
  stream: boolean;
  /**
   * How many choices a streamed request asked for (its `n`; 1 when it did not say): its stream is whole once each of
   * them has its finish reason, not once those that began have. A host that breaks off between two choices has not
   * given the answer asked for.
   */
  choices?: number;
  /** Milliseconds since the epoch, for request signing (SigV4). */
  now: number;
  /**
   * The catalog's entry for the model, when it has one: the adapters that map `reasoning_effort` read whether it
   * reasons and its output limit from it.
   */
  catalogModel?: CatalogModel;
  /**
   * Send no thought signature the history carries (Gemini's stand-in instead): the provider refused one, which another
   * model, project or key of Gemini's made (ProviderFailure.signatureRefused).
   */
  withoutSignatures?: boolean;
}

/** The HTTP request an adapter wants sent to its provider. */
export interface UpstreamCall {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** A provider's failure, kept in OpenAI's terms and stripped of anything secret. */
export interface ProviderFailure {
  status: number;
  /** OpenAI error `type`: invalid_request_error, authentication_error, rate_limit_error, api_error… */
  type: string;
  code: string | null;
  message: string;
  /** The request parameter the provider blamed, when it said (OpenAI's `param`). */
  param?: string | null;
  /** From Retry-After / retry-after-ms, when the provider said. */
  retryAfterMs?: number;
  /**
   * The key is unknown to the provider (`invalid`) or out of quota (`quota`): set it aside and use the next one. Or
   * the key may not make this call (`denied`: a 403, a model its account cannot use; a 402 for this call's size):
   * the next key is tried, and none is set aside, since the same request would be denied with every key.
   */
  credentialProblem?: 'invalid' | 'quota' | 'denied';
  /** Worth trying another target (429, 5xx, timeouts); a 400 is the caller's and is not. */
  retryable: boolean;
  /** The provider refused a thought signature of the history: the same call without them (CallContext.withoutSignatures) may pass. */
  signatureRefused?: boolean;
}

/**
 * Set on a chunk that is exactly a provider event's JSON, unchanged: that text, which the gateway can send on
 * as it is instead of serializing the chunk again. A translator that changes a chunk makes a new object (which
 * does not inherit it: it is not enumerable), never edits one in place.
 */
export const SOURCE_TEXT: unique symbol = Symbol('SOURCE_TEXT');

/** A chunk as translators return it: maybe with the provider's own text for it. */
export type TranslatedChunk = ChatCompletionChunk & { [SOURCE_TEXT]?: string };

/** Turns a provider's streamed bytes into OpenAI chunks, event by event. */
export interface StreamTranslator {
  push(bytes: Buffer): ChatCompletionChunk[];
  /** Called once the provider's stream ended: any last chunks (a final usage chunk, say). */
  end(): ChatCompletionChunk[];
  /** The usage the provider reported, once it has. */
  usage(): Usage | undefined;
}

/**
 * A provider is data and small functions: how to build its request, read its response, its stream and its
 * errors. Adding one is a folder under src/ai/providers with an index.ts exporting its adapter.
 */
export interface ProviderAdapter {
  readonly type: string;
  /** The base URL used when a provider of this type names none. */
  readonly defaultBaseUrl?: string;
  /**
   * The host wants every assistant message's `reasoning_content` back in later requests, as DeepSeek does: it refuses
   * a turn that called tools without it (https://api-docs.deepseek.com/guides/thinking_mode). The adapter sends it
   * on; and a `/v1/messages` client that asked for no thinking is handed such a turn's reasoning all the same, in
   * thinking blocks that show no text, so that it comes back (anthropic-ingress/keygate-thinking.ts). Absent: the
   * adapter sends none.
   */
  readonly wantsReasoningBack?: boolean;
  /**
   * The host can say a streamed call failed after its 200 head, before the model said anything (Anthropic's
   * `error` event, overloaded; Bedrock's stream exceptions; Gemini's `error` chunk): such a stream counts as
   * answered only from its first chunk that says something, so that a failure before it still falls back.
   * Absent: from the head, as OpenAI's streams do.
   */
  readonly failsAfterHead?: boolean;
  /**
   * The most output tokens a chat call to `model` may bill, where the adapter sends a limit other than the request's
   * own (`max_completion_tokens`, else `max_tokens`): Claude's `max_tokens` with a thinking budget added. Undefined:
   * no limit is sent, and the model's own bounds it. Absent: the request's own limit. Budget holds are sized by it.
   */
  billedOutputLimit?(request: ChatRequest, model: string, catalogModel?: CatalogModel): number | undefined;
  chatCall(request: ChatRequest, ctx: CallContext): UpstreamCall;
  /** The answer to the call `chatCall` made, given the same `ctx` object (what the request was sent with is keyed by it). */
  parseChat(body: unknown, ctx: CallContext): ChatCompletion;
  /** The stream's translator for the call `chatCall` made, given the same `ctx` object. */
  streamTranslator(ctx: CallContext): StreamTranslator;
  embeddingsCall?(request: EmbeddingsRequest, ctx: CallContext): UpstreamCall;
  /** The most inputs one embeddings call to `model` takes: a request with more is sent as several calls (callEmbeddings). */
  maxEmbeddingInputs?(model: string): number | undefined;
  /** `request` is the client's: some providers need it to honour `encoding_format` or to estimate usage. */
  parseEmbeddings?(body: unknown, ctx: CallContext, request?: EmbeddingsRequest): EmbeddingsResponse;
  parseError(status: number, body: string, headers: IncomingHttpHeaders): ProviderFailure;
}

/** The longest Retry-After taken: a key set aside longer, or a client told to wait longer, is a provider's mistake. */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * Retry-After as seconds (decimals too, as some hosts send) or an HTTP date, or OpenAI's retry-after-ms, at most a
 * day (MAX_RETRY_AFTER_MS); undefined when absent or unreadable.
 */
export function retryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const ms = headers['retry-after-ms'];
  if (typeof ms === 'string' && /^\d+(\.\d+)?$/.test(ms)) return Math.min(Math.ceil(Number(ms)), MAX_RETRY_AFTER_MS);
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.min(Math.ceil(Number(text) * 1000), MAX_RETRY_AFTER_MS);
  // An HTTP date names its weekday (RFC 9110 §5.6.7); anything else Date.parse might take is no Retry-After.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/**
 * How long a rate limit asks to wait: its Retry-After (retryAfterMs), else when OpenAI's `x-ratelimit-reset-*` headers
 * say the spent limit resets (rateLimitResetMs), which is all many of OpenAI's 429s say; at most a day. Not for a
 * quota or credit spent: those headers tell when the rate limits' windows reset, not when credit comes back.
 */
export function rateLimitRetryAfterMs(headers: IncomingHttpHeaders, now = Date.now()): number | undefined {
  const ms = retryAfterMs(headers, now) ?? rateLimitResetMs(headers);
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

/**
 * A 429 that says the account is out of quota or credit, not a rate limit, by the provider's code or error type
 * (`insufficient_quota`, `billing_hard_limit_reached`…)…
 */
const QUOTA_CODE = /quota|billing|insufficient|credit/i;
/**
 * …or by its words for it, read narrowly: OpenAI's own per-minute limit message ends with a link to its billing page.
 */
const QUOTA_WORDS = /exceeded your current quota|insufficient[ _](?:quota|credits?|balance|funds)|credit balance|out of credits?|billing (?:hard )?limit|used all (?:the |your )?available credits|spending limit|(?:does not|doesn't) have any credits/i;

/**
 * The usual mapping from an HTTP status to OpenAI's error type and what the gateway should do about it. `code` is
 * the provider's own (null when it gave none, as OpenAI often does); its error type only helps tell a quota.
 */
export function failureFor(status: number, message: string, headers: IncomingHttpHeaders, code: string | null = null, providerType: string | null = null): ProviderFailure {
  const retryAfter = retryAfterMs(headers);
  if (status === 401) return { status, type: 'authentication_error', code: code ?? 'invalid_api_key', message, credentialProblem: 'invalid', retryable: true };
  // A 403 refuses this call to this key (a model the key's account may not use, a prompt a host's moderation flags, a
  // region): another key or provider may take it, and the key still serves other calls. Not set aside: one request
  // would otherwise set aside every key of the pool.
  // A 403 that says the account has no credit (xAI's "team doesn't have any credits yet") is the key's quota.
  if (status === 403 && QUOTA_WORDS.test(message)) return { status, type: 'insufficient_quota', code: code ?? 'insufficient_quota', message, retryAfterMs: retryAfter, credentialProblem: 'quota', retryable: true };
  if (status === 403) return { status, type: 'permission_error', code: code ?? 'permission_denied', message, credentialProblem: 'denied', retryable: true };
  // Payment required: the key's account is out of credit (OpenRouter's "insufficient credits"), or cannot pay for this
  // call's size ("requires more credits, or fewer max_tokens … can only afford"), which a smaller call, or another
  // account's key, may.
  if (status === 402) {
    const forThisCall = /fewer max_tokens|can only afford/i.test(message);
    return { status, type: 'insufficient_quota', code: code ?? 'insufficient_quota', message, retryAfterMs: retryAfter, credentialProblem: forThisCall ? 'denied' : 'quota', retryable: true };
  }
  if (status === 408) return { status: 504, type: 'api_error', code: code ?? 'provider_timeout', message, retryable: true };
  // Groq's 498 capacity_exceeded (its flex tier full: "add jittered backoff and retries"): overloaded for now, a 503.
  if (status === 498) return { status: 503, type: 'api_error', code: code ?? 'provider_overloaded', message, retryAfterMs: retryAfter, retryable: true };
  if (status === 429) {
    const quota = QUOTA_CODE.test(`${code ?? ''} ${providerType ?? ''}`) || QUOTA_WORDS.test(message);
    return { status, type: quota ? 'insufficient_quota' : 'rate_limit_error', code: code ?? (quota ? 'insufficient_quota' : 'rate_limit_exceeded'), message, retryAfterMs: quota ? retryAfter : rateLimitRetryAfterMs(headers), credentialProblem: quota ? 'quota' : undefined, retryable: true };
  }
  if (status === 404) return { status, type: 'invalid_request_error', code: code ?? 'model_not_found', message, retryable: false };
  if (status >= 500) return { status, type: 'api_error', code, message, retryAfterMs: retryAfter, retryable: true };
  return { status, type: 'invalid_request_error', code, message, retryable: false };
}
