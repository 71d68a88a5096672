import type { IncomingHttpHeaders } from 'node:http';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import { TEXT_BLOCK, type ChatCompletionChunk, type ChatRequest, type ClientCompletion, type EmbeddingsRequest, type EmbeddingsResponse, type TextBlockDelta, type Usage } from './chat-types.js';
import { CustomCallChunks, customCallsBack, customToolsAsFunctions, NO_CUSTOM_TOOLS, type FunctionToolsRequest } from './custom-tools/index.js';
import { isJsonObject } from './json-object.js';
import type { CallContext, ProviderAdapter, ProviderFailure, StreamTranslator, UpstreamCall } from './providers/provider.js';
import { parseUrl } from '../parse-url.js';

export class ProviderCallError extends Error {
  override name = 'ProviderCallError';
  readonly failure: ProviderFailure;
  /** The usage of an answer the provider made, and billed, that the gateway could not use (a completion sent to a stream request). */
  readonly billed: Usage | undefined;
  /**
   * A stream's failure (an `error` event): the chunks its translator made of the same read before it, which go to the
   * client before the failure does (the model's last words and the error often come in one read).
   */
  before: ChatCompletionChunk[] = [];
  /** Made by the gateway before any provider was called (an adapter that cannot translate the request): says nothing of the provider. */
  local = false;
  constructor(failure: ProviderFailure, billed?: Usage) {
    const clean = wellFormed(failure);
    super(clean.message);
    this.failure = clean;
    this.billed = billed;
  }
}

const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The failure with its text fields as text. They come from the provider's error body, which is its own: an
 * object where OpenAI's shape has a string (`"message": {"detail": …}`) failed the gateway where it reads them
 * (cutting the key out of the message), past any handler, in the provider socket's callback.
 */
function wellFormed(failure: ProviderFailure): ProviderFailure {
  const { status, message, type, code, param } = failure;
  const statusWell = Number.isInteger(status) && status >= 400 && status <= 599;
  if (statusWell && typeof message === 'string' && typeof type === 'string' && (code === null || typeof code === 'string') && (param == null || typeof param === 'string')) return failure;
  return {
    ...failure,
    // A status read from what the provider sent that is no HTTP error status: the provider's failure, as a 502.
    ...(statusWell ? {} : { status: 502, retryable: true }),
    message: textOrNull(message) ?? `the provider answered ${failure.status}`,
    type: textOrNull(type) ?? (failure.status >= 500 ? 'api_error' : 'invalid_request_error'),
    code: textOrNull(code),
    ...(param === undefined ? {} : { param: textOrNull(param) }),
  };
}

export interface CallOptions {
  dispatcher?: Dispatcher;
  /** Time allowed for the response head, and between body chunks. */
  timeoutMs?: number;
  /**
   * Lets the caller stop the call (its client went away, say): a call not yet answered rejects with the
   * CallCancelled it is given; a stream already accepted ends with it (its sink's `end`).
   */
  cancel?: Cancellation;
  /**
   * A stream counts as answered only from its first chunk that says something, as for adapters that fail after their
   * head (`failsAfterHead`): set when another target would serve the call should this one fail before it.
   */
  holdUntilContent?: boolean;
}

/** Why a call was stopped by its caller: not the provider's failure, so no other target is tried for it. */
export class CallCancelled extends Error {
  override name = 'CallCancelled';
}

/**
 * A caller's handle to stop its provider calls, one after another (fallbacks, key switches). Cheaper than an
 * AbortSignal, whose EventTarget listener cost some 4 µs a call on the request path.
 */
export class Cancellation {
  #reason: CallCancelled | undefined;
  #stop: ((reason: CallCancelled) => void) | undefined;

  /** Stops the call under way, and every later one at its start. */
  cancel(reason: CallCancelled): void {
    this.#reason ??= reason;
    this.#stop?.(this.#reason);
  }

  /** Why the calls were cancelled; undefined while they may go on. */
  get reason(): CallCancelled | undefined {
    return this.#reason;
  }

  /** A call starting: `stop` aborts it, at once if the caller already cancelled. */
  started(stop: (reason: CallCancelled) => void): void {
    this.#stop = stop;
    if (this.#reason) stop(this.#reason);
  }

  /** Waits `ms` between calls (a provider's Retry-After), or only until the caller cancels. */
  pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.started(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** The rejection for an error of the dispatcher: the caller's own cancellation as it is, else the provider's failure. */
const failureOf = (error: Error): Error => (error instanceof CallCancelled ? error : unreachable(error));

/** A stream that failed before it counted as answered: what its provider said (an `error` event's failure), or as `failureOf`. */
const failedBeforeAnswer = (error: Error): Error => (error instanceof ProviderCallError ? error : failureOf(error));

function unreachable(error: unknown): ProviderCallError {
  const code = (error as { code?: string }).code ?? '';
  const timeout = /TIMEOUT/.test(code);
  return new ProviderCallError({ status: timeout ? 504 : 502, type: 'api_error', code: timeout ? 'provider_timeout' : 'provider_unreachable', message: timeout ? 'the provider did not answer in time' : 'the provider could not be reached', retryable: true });
}

/** A provider's whole answer, read into memory. */
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Whole answers larger than this are refused rather than held in memory. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** Origin and path of each provider URL, parsed once: a URL object per call costs more than the call's own work. */
const endpoints = new Map<string, { origin: string; path: string }>();

function endpointOf(url: string): { origin: string; path: string } {
  let endpoint = endpoints.get(url);
  if (!endpoint) {
    const parsed = parseUrl(url);
    // A base URL no parser takes (stored before the config's check of it): the provider's fault, as a missing one is,
    // so that an alias moves on to its next target. Not quoted: it may hold a credential.
    if (!parsed) throw madeLocally(new ProviderCallError({ status: 500, type: 'api_error', code: 'provider_misconfigured', message: "the provider's base URL is not a valid URL; an administrator must correct it", retryable: true }));
    endpoint = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    // Provider URLs are few (one per provider, model or deployment); the bound only guards against a pathological config.
    if (endpoints.size >= 1024) endpoints.clear();
    endpoints.set(url, endpoint);
  }
  return endpoint;
}

/** How a call without a promise ends: with its result, or with the error that stopped it. */
export type Done<T> = (error: Error | undefined, result?: T) => void;

/**
 * One request whose answer is read whole, on undici's dispatcher directly: no response stream, no promise per
 * chunk, and none for the call either (the AI route's answers go out from the socket's own callback). Ends with a
 * ProviderCallError when the provider cannot be reached, times out or answers 4xx/5xx.
 */
function exchange(adapter: ProviderAdapter, call: UpstreamCall, options: CallOptions, done: Done<Answer>): void {
  let endpoint: { origin: string; path: string };
  try {
    endpoint = endpointOf(call.url);
  } catch (error) {
    return done(error as Error);
  }
  const { origin, path } = endpoint;
  // undici hands an exception thrown by `onResponseEnd` to `onResponseError`: the call ends once, whatever follows.
  let ended = false;
  const end: Done<Answer> = (error, answer) => {
    if (ended) return;
    ended = true;
    done(error, answer);
  };
  const timeout = options.timeoutMs ?? 60_000;
  const cancel = options.cancel;
  let status = 0;
  let headers: IncomingHttpHeaders = {};
  const chunks: Buffer[] = [];
  let size = 0;
  (options.dispatcher ?? getGlobalDispatcher()).dispatch(
    { origin, path, method: call.method, headers: call.headers, body: call.body ?? null, headersTimeout: timeout, bodyTimeout: timeout },
    {
      onRequestStart(controller) {
        cancel?.started((reason) => controller.abort(reason));
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders as IncomingHttpHeaders;
      },
      onResponseData(controller, chunk) {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) controller.abort(new Error('the provider answer is too large'));
        else chunks.push(chunk);
      },
      onResponseEnd() {
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        if (status >= 400) end(new ProviderCallError(adapter.parseError(status, body.toString('utf8'), headers)));
        // A redirect is not followed (the key would go with it, wherever it points): the provider's failure, which
        // the next target may answer, and no answer to serve, bill or cache.
        else if (status >= 300) end(new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: `the provider answered ${status}, a redirect, which the gateway does not follow: check its base URL`, retryable: true }));
        else end(undefined, { status, headers, body });
      },
      onResponseError(_controller, error) {
        end(failureOf(error));
      },
    },
  );
}

/**
 * The answer's body as a JSON object. Any other body (not JSON, or `null`, an array, a string) is the provider's
 * failure, and another provider may do better; read as an answer, it would fail the call from the socket's
 * callback, where no one hears of it and the client waits for ever.
 */
function jsonOf(answer: Answer): object {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (isJsonObject(parsed)) return parsed;
  throw new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: 'the provider answered with a body that is not a JSON object', retryable: true });
}

/** A chat completion in OpenAI's shape (custom calls included), and the provider's own bytes when they are exactly that completion. */
export interface ChatAnswer {
  completion: ClientCompletion;
  /** Set when the adapter passed the provider's body through unchanged: those bytes can be sent as they are. */
  raw: Buffer | undefined;
}

/** Adapters that send OpenAI's tools as they are, custom tools included: every other one translates them. */
const PASSES_TOOLS_THROUGH = new Set(['openai', 'azure-openai']);

/**
 * OpenAI-compatible hosts (DeepSeek, vLLM, Groq, Ollama's /v1, LM Studio…) take function tools as OpenAI does, but
 * few know custom tools, and Codex sends `apply_patch` as one: custom tools go to them as functions, and whatever
 * else a host may know (`allowed_tools`, a tool of its own) is sent as it is, for the host to take or refuse.
 */
const TRANSLATES_CUSTOM_TOOLS_ONLY = new Set(['openai-compatible']);

/**
 * The request as `adapter` is to be sent it, when not as it is: with custom tools (free-text input) as function tools
 * for an adapter that knows only those (customToolsAsFunctions), and an `allowed_tools` choice as the tools it allows.
 * Undefined for one that passes OpenAI's tools through, and for a request with nothing to translate. A 400 for what
 * cannot be translated (another kind of tool) rather than the TypeError (500) that reading `.function` off it would be.
 */
function translatedFor(adapter: ProviderAdapter, request: ChatRequest): FunctionToolsRequest | undefined {
  return PASSES_TOOLS_THROUGH.has(adapter.type) ? undefined : customToolsAsFunctions(request, adapter.type, TRANSLATES_CUSTOM_TOOLS_ONLY.has(adapter.type));
}

/** A stream translator whose function calls to custom tools come out as custom calls (CustomCallChunks). */
function customCallsTranslator(translator: StreamTranslator, customNames: ReadonlySet<string>): StreamTranslator {
  if (customNames.size === 0) return translator;
  const calls = new CustomCallChunks(customNames);
  // The chunks before a stream's failure are translated as the others are.
  const translated = (read: () => ChatCompletionChunk[], then: (chunks: ChatCompletionChunk[]) => ChatCompletionChunk[]) => {
    try {
      return then(read());
    } catch (error) {
      if (error instanceof ProviderCallError && error.before.length > 0) error.before = calls.push(error.before);
      throw error;
    }
  };
  return { push: (bytes) => translated(() => translator.push(bytes), (chunks) => calls.push(chunks)), end: () => translated(() => translator.end(), (chunks) => calls.end(chunks)), usage: () => translator.usage() };
}

/**
 * A failure the gateway made before calling the provider, marked so (ProviderCallError.local) when it is a
 * ProviderCallError. One of status 5xx (an adapter's provider_misconfigured: no baseUrl, no region) reads 502, the
 * provider could not be reached: the status its client is answered, and the one x-keygate-attempts gives a target
 * whose provider never answered, rather than a 500 no provider said.
 */
function madeLocally(error: unknown): Error {
  if (!(error instanceof ProviderCallError)) return error as Error;
  const local = error.failure.status >= 500 && error.failure.status !== 502 ? new ProviderCallError({ ...error.failure, status: 502 }, error.billed) : error;
  local.local = true;
  return local;
}


/**
 * One non-streaming chat completion through `adapter`, with the provider's bytes when they need no translation;
 * `done` is called once, from the provider socket's callback (or at once if the adapter refuses the call).
 */
export function chatAnswer(adapter: ProviderAdapter, request: ChatRequest, ctx: CallContext, options: CallOptions, done: Done<ChatAnswer>): void {
  let answered = false;
  const answer: Done<Answer> = (error, reply) => {
    answered = true;
    if (error) return done(error);
    let result: ChatAnswer;
    try {
      const parsed = jsonOf(reply!);
      const completion = customCallsBack(adapter.parseChat(parsed, callCtx), sent?.customNames ?? NO_CUSTOM_TOOLS);
      result = { completion, raw: completion === parsed ? reply!.body : undefined };
    } catch (failure) {
      return done(failure as Error);
    }
    done(undefined, result);
  };
  let sent: FunctionToolsRequest | undefined;
  // One object for the call and its answer: an adapter keys what it sent by it (Bedrock's document names).
  const callCtx = { ...ctx, stream: false };
  try {
    sent = translatedFor(adapter, request);
    exchange(adapter, adapter.chatCall(sent?.request ?? request, callCtx), options, answer);
  } catch (error) {
    // The adapter refused the call, or the dispatcher did (a header it will not send): the call's failure, as any
    // other. What `done` itself threw, once called, goes on up.
    if (answered) throw error;
    done(madeLocally(error));
  }
}

/** One non-streaming chat completion through `adapter`, in OpenAI's shape, as a promise. */
export function callChat(adapter: ProviderAdapter, request: ChatRequest, ctx: CallContext, options: CallOptions = {}): Promise<ClientCompletion> {
  return new Promise((resolve, reject) => chatAnswer(adapter, request, ctx, options, (error, answer) => (error ? reject(error) : resolve(answer!.completion))));
}

/** Where a streamed completion's chunks go, as they arrive. */
export interface ChunkSink {
  /** One chunk in OpenAI's shape; `false` pauses the provider's stream until `resume()` is called. */
  chunk(chunk: ChatCompletionChunk): boolean;
  /** The stream is over: complete, or failed with `error` (the provider dropped it, sent garbage, or timed out). */
  end(error?: Error): void;
}

/** A streamed completion the provider accepted: its chunks go to one sink, synchronously as each read arrives. */
export interface ChatStream {
  /** Starts delivery: chunks that came with the head go to the sink at once, before this returns. */
  pipe(sink: ChunkSink): void;
  /** Undoes a pause asked for by the sink. */
  resume(): void;
  /** The usage the provider reported, once it has. */
  usage(): Usage | undefined;
}

/**
 * One streamed chat completion on undici's dispatcher: resolves once the provider accepted the call (its status
 * is known, so a failure can still fall back), then hands each read's chunks to the sink from the socket's own
 * callback: no response stream, no promise per event. Rejects with a ProviderCallError like `exchange`.
 */
export function openChatStream(adapter: ProviderAdapter, request: ChatRequest, ctx: CallContext, options: CallOptions = {}): Promise<ChatStream> {
  const streamCtx = { ...ctx, stream: true, choices: request.n ?? 1 };
  const timeout = options.timeoutMs ?? 60_000;
  const cancel = options.cancel;
  // Inside the executor, so that an adapter refusing the call (a misconfigured provider) rejects, as the other calls do.
  return new Promise((resolve, reject) => {
    let sent: FunctionToolsRequest | undefined;
    let call: UpstreamCall;
    let endpoint: { origin: string; path: string };
    try {
      sent = translatedFor(adapter, request);
      call = adapter.chatCall(sent?.request ?? request, streamCtx);
      endpoint = endpointOf(call.url);
    } catch (error) {
      return reject(madeLocally(error));
    }
    const { origin, path } = endpoint;
    const translator = customCallsTranslator(adapter.streamTranslator(streamCtx), sent?.customNames ?? NO_CUSTOM_TOOLS);
    let controller: Dispatcher.DispatchController | undefined;
    let sink: ChunkSink | undefined;
    // Chunks (and the end) that arrive before a sink is attached: the head and the first events often share a read.
    let early: ChatCompletionChunk[] = [];
    let ended = false;
    let failure: Error | undefined;
    // A status of 400 or more: the body is the provider's error, read whole.
    let errorStatus = 0;
    /** A 2xx (or 3xx) head that is no stream: read, then refused as a bad answer another target may make good. */
    let notStream = false;
    /** The stream was handed over: the call counts as answered. From the head on, or when holding (`failsAfterHead`, `holdUntilContent`) from its first chunk that says something. */
    let resolved = false;
    const holding = adapter.failsAfterHead === true || options.holdUntilContent === true;
    let errorHeaders: IncomingHttpHeaders = {};
    const errorChunks: Buffer[] = [];
    let errorSize = 0;
    /** Hands chunks to the sink (or keeps them until there is one); returns what the sink threw, if it did. */
    const deliver = (chunks: ChatCompletionChunk[]): Error | undefined => {
      if (!sink) {
        for (const chunk of chunks) early.push(chunk);
        if (!resolved && chunks.some(saysSomething)) {
          resolved = true;
          resolve(stream);
        }
        return undefined;
      }
      let more = true;
      try {
        for (const chunk of chunks) more = sink.chunk(chunk) && more;
      } catch (error) {
        return error as Error;
      }
      if (!more) controller?.pause();
      return undefined;
    };
    const finish = (error?: Error) => {
      if (sink) sink.end(error);
      else {
        ended = true;
        failure = error;
      }
    };
    const stream: ChatStream = {
      pipe(target) {
        sink = target;
        const pending = early;
        early = [];
        const error = pending.length > 0 ? deliver(pending) : undefined;
        if (ended) target.end(failure ?? error);
        else if (error) controller?.abort(error);
      },
      resume: () => controller?.resume(),
      usage: () => translator.usage(),
    };
    (options.dispatcher ?? getGlobalDispatcher()).dispatch(
      { origin, path, method: call.method, headers: call.headers, body: call.body ?? null, headersTimeout: timeout, bodyTimeout: timeout },
      {
        onRequestStart(c) {
          controller = c;
          cancel?.started((reason) => c.abort(reason));
        },
        onResponseStart(_c, statusCode, headers) {
          if (statusCode >= 400) {
            errorStatus = statusCode;
            errorHeaders = headers as IncomingHttpHeaders;
          } else if (!isStreamAnswer(statusCode, headers as IncomingHttpHeaders)) {
            notStream = true;
          } else {
            if (!holding) {
              resolved = true;
              resolve(stream);
            }
          }
        },
        onResponseData(c, bytes) {
          // Read to its end (bounded), so that the connection is kept: a completion's usage is what the provider billed.
          if (errorStatus || notStream) {
            errorSize += bytes.length;
            if (errorSize > MAX_ANSWER_BYTES) c.abort(new Error('the provider answer is too large'));
            else errorChunks.push(bytes);
            return;
          }
          let chunks: ChatCompletionChunk[];
          try {
            chunks = translator.push(bytes);
          } catch (error) {
            // An event that does not parse: the stream is broken, whatever follows (the provider's failure, should
            // that come before the call counts as answered, not an unreachable provider). What the same read said
            // before a failure the provider reported goes first to a stream already handed over; one still held
            // (nothing sent) falls back whole instead.
            const failure = error instanceof ProviderCallError ? error : unreadableStream();
            c.abort((resolved && failure.before.length > 0 ? deliver(failure.before) : undefined) ?? failure);
            return;
          }
          const error = chunks.length > 0 ? deliver(chunks) : undefined;
          if (error) c.abort(error);
        },
        onResponseEnd() {
          if (notStream) return reject(notAStreamError(billedIn(adapter, Buffer.concat(errorChunks), streamCtx)));
          if (errorStatus) {
            const text = Buffer.concat(errorChunks).toString('utf8');
            reject(new ProviderCallError(adapter.parseError(errorStatus, text, errorHeaders)));
            return;
          }
          let last: ChatCompletionChunk[];
          try {
            last = translator.end();
          } catch (error) {
            const failure = error instanceof ProviderCallError ? error : unreadableStream();
            if (!resolved) return reject(failure);
            return finish((failure.before.length > 0 ? deliver(failure.before) : undefined) ?? failure);
          }
          const error = last.length > 0 ? deliver(last) : undefined;
          finish(error);
          // A stream that ended saying nothing (an empty answer) is an answer all the same.
          if (!resolved) {
            resolved = true;
            resolve(stream);
          }
        },
        onResponseError(_c, error) {
          // Before the call counts as answered: it failed, and another target may serve it. After: the stream broke,
          // unless the host broke the connection, or went quiet, past the event that ends its answer (a finish
          // reason, Anthropic's message_delta), before `[DONE]` or `message_stop`: that answer is whole, and ends as
          // the stream would have, had it closed there.
          if (!resolved) return reject(failedBeforeAnswer(error));
          if (!isHostBreak(error)) return finish(brokenStream(error));
          let last: ChatCompletionChunk[];
          try {
            last = translator.end();
          } catch (failure) {
            // A failure the host told before it broke off (a failed generation) is the stream's end, as at a clean close;
            // an answer left unfinished is the break's.
            if (!(failure instanceof ProviderCallError) || failure.failure.code === 'provider_stream_incomplete') return finish(brokenStream(error));
            return finish((failure.before.length > 0 ? deliver(failure.before) : undefined) ?? failure);
          }
          finish(last.length > 0 ? deliver(last) : undefined);
        },
      },
    );
  });
}

/** Whether a chunk carries what the model said (text, reasoning, a tool call, a finish, usage): not only the role of an opening. */
export function saysSomething(chunk: ChatCompletionChunk): boolean {
  if (chunk.usage) return true;
  for (const choice of chunk.choices) {
    if (choice.finish_reason != null) return true;
    const delta = choice.delta as Record<string | symbol, unknown>;
    for (const key of Reflect.ownKeys(delta)) {
      // Empty members say nothing: OpenAI opens with `{"role":"assistant","content":"","refusal":null}`.
      const value = delta[key];
      if (key === 'role' || value == null || value === '' || (Array.isArray(value) && value.length === 0)) continue;
      // A text block's start (TEXT_BLOCK without a citation) comes before its words: the answer has not begun yet.
      if (key === TEXT_BLOCK && (value as TextBlockDelta).citation === undefined) continue;
      return true;
    }
  }
  return false;
}

/** Content types no provider streams in: a page (a proxy's, a login's) or a JSON document (an error said with a 200). */
const NOT_STREAM_TYPES = /^\s*(?:text\/html|application\/(?:[\w.+-]+\+)?json)\b/i;

/**
 * Whether the head of a stream request's answer begins a stream: a 2xx whose content type is not one no provider
 * streams in. A 200 page from a proxy, or a redirect, read as a stream would be an empty answer, billed and final;
 * as a bad answer it falls back to the next target, as the same answer to a whole request does.
 */
function isStreamAnswer(status: number, headers: IncomingHttpHeaders): boolean {
  if (status < 200 || status >= 300) return false;
  const type = headers['content-type'];
  return typeof type !== 'string' || !NOT_STREAM_TYPES.test(type);
}

/**
 * What a stream's sink is told of an error that broke it once it counted as answered: a pause between chunks longer
 * than the timeout (undici's BodyTimeoutError) as the timeout it is, as a head that came too late is; any other as it came.
 */
function brokenStream(error: Error): Error {
  if ((error as { code?: string }).code !== 'UND_ERR_BODY_TIMEOUT') return error;
  return new ProviderCallError({ status: 504, type: 'api_error', code: 'provider_timeout', message: 'the provider sent nothing for longer than the timeout (ai.timeout)', retryable: true });
}

/** An error of the host's side of a stream: the connection closed or reset under it, or nothing came for longer than the timeout. */
function isHostBreak(error: Error): boolean {
  const code = (error as { code?: string }).code;
  return code === 'UND_ERR_SOCKET' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ECONNRESET';
}

const unreadableStream = () => new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: 'the provider sent a stream event that cannot be read', retryable: true });

const notAStreamError = (billed: Usage | undefined) => new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: 'the provider answered a stream request with no stream', retryable: true }, billed);

/**
 * The usage of a whole completion a provider sent to a stream request (a host that ignores `stream`): it was made,
 * and billed, though no client gets it. Undefined for any other body (a page, an error said with a 200).
 */
function billedIn(adapter: ProviderAdapter, body: Buffer, ctx: CallContext): Usage | undefined {
  try {
    return adapter.parseChat(jsonOf({ status: 200, headers: {}, body }), { ...ctx, stream: false }).usage ?? undefined;
  } catch {
    return undefined;
  }
}

export interface EmbeddingsCallOptions extends CallOptions {
  /**
   * Told of each part answered (by its place among the parts), as it is, when a request goes in parts: should a later
   * part fail, the provider has still done, and billed, those before it.
   */
  onPart?: (at: number, input: EmbeddingsRequest['input'], answer: EmbeddingsResponse) => void;
  /** The parts an earlier try of the same model answered, by their place: kept, not sent again. */
  answered?: ReadonlyMap<number, EmbeddingsResponse>;
  /** Called before each part is sent: what it throws fails the request as the part's failure would (its key deleted meanwhile, say). */
  beforePart?: () => void;
}

/** How many parts of one embeddings request are in flight at once: Titan's one text a call makes 2,048 calls of one request. */
const EMBEDDING_PARTS_AT_ONCE = 4;

/**
 * An embeddings request through `adapter`, in OpenAI's shape. Past what the model takes a call (its adapter's
 * `maxEmbeddingInputs`), the inputs go in parts, a few at a time (each stopped by the caller's cancellation like any
 * call), and the answers are joined in order. The first part to fail fails the whole request, so no client gets a
 * partial answer: no part is started after it, and it is thrown once the parts under way have settled, each one
 * answered told to `onPart` (the provider billed it). A part `answered` already (by a try with another key) is not
 * sent again; `beforePart` may stop the parts not yet sent.
 */
export async function callEmbeddings(adapter: ProviderAdapter, request: EmbeddingsRequest, ctx: CallContext, options: EmbeddingsCallOptions = {}): Promise<EmbeddingsResponse> {
  const most = adapter.maxEmbeddingInputs?.(ctx.model);
  const inputs = request.input;
  // A bare array of numbers is one input (its token ids), not many.
  if (most === undefined || !Array.isArray(inputs) || typeof inputs[0] === 'number' || inputs.length <= most) return embedOnce(adapter, request, ctx, options);
  const count = Math.ceil(inputs.length / most);
  const parts = new Array<EmbeddingsResponse>(count);
  let next = 0;
  let failure: { error: unknown } | undefined;
  // A Cancellation stops one call at a time: each of the parts under way at once has its own, all stopped together
  // when the caller cancels (the client gone: none of them is worth finishing).
  const slots = Array.from({ length: Math.min(EMBEDDING_PARTS_AT_ONCE, count) }, () => new Cancellation());
  options.cancel?.started((reason) => {
    for (const slot of slots) slot.cancel(reason);
  });
  const worker = async (slot: Cancellation) => {
    while (next < count && !failure) {
      const at = next++;
      const earlier = options.answered?.get(at);
      if (earlier) {
        parts[at] = earlier;
        continue;
      }
      const input = inputs.slice(at * most, (at + 1) * most) as EmbeddingsRequest['input'];
      try {
        options.beforePart?.();
        const answer = await embedOnce(adapter, { ...request, input }, ctx, { ...options, cancel: slot });
        parts[at] = answer;
        options.onPart?.(at, input, answer);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(slots.map(worker));
  if (failure) throw failure.error;
  return joinEmbeddings(parts, most);
}

async function embedOnce(adapter: ProviderAdapter, request: EmbeddingsRequest, ctx: CallContext, options: CallOptions): Promise<EmbeddingsResponse> {
  if (!adapter.embeddingsCall || !adapter.parseEmbeddings) {
    throw madeLocally(new ProviderCallError({ status: 400, type: 'invalid_request_error', code: 'unsupported_operation', message: `provider type ${adapter.type} has no embeddings API`, retryable: false }));
  }
  let call: UpstreamCall;
  try {
    call = adapter.embeddingsCall(request, { ...ctx, stream: false });
  } catch (error) {
    throw madeLocally(error);
  }
  const answer = await new Promise<Answer>((resolve, reject) => exchange(adapter, call, options, (error, reply) => (error ? reject(error) : resolve(reply!))));
  const parsed = jsonOf(answer);
  return oneVectorPerInput(adapter.parseEmbeddings(parsed, ctx, request), request.input);
}

/** How many inputs an embeddings request holds: a text, or one array of token ids, is one. */
const inputCount = (input: EmbeddingsRequest['input']): number => (typeof input === 'string' || typeof input[0] === 'number' ? 1 : input.length);

/**
 * The answer, if it holds one vector for each input, indexed 0 to n - 1 as OpenAI's are, in that order
 * (https://platform.openai.com/docs/api-reference/embeddings/object: `index`, "the index of the embedding in the list
 * of embeddings"). Otherwise the client's vectors would not match its texts, and a request sent in parts would be
 * joined with holes: the provider's bad response, which another target may answer.
 */
function oneVectorPerInput(answer: EmbeddingsResponse, input: EmbeddingsRequest['input']): EmbeddingsResponse {
  const asked = inputCount(input);
  if (answer.data.length === asked) {
    // A host that numbers none of its vectors gives them in the inputs' order: numbered so, as OpenAI's clients read them.
    if (answer.data.every((item) => item.index === undefined)) return { ...answer, data: answer.data.map((item, index) => ({ ...item, index })) };
    // Each vector in its input's place, whatever order the host listed them in: clients read them by position too.
    const placed: Array<EmbeddingsResponse['data'][number] | undefined> = new Array(asked);
    for (const item of answer.data) {
      if (!Number.isInteger(item.index) || item.index < 0 || item.index >= asked || placed[item.index] !== undefined) {
        throw new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: `the provider answered an embedding with the index ${String(item.index)}, repeated or not one of the ${asked} inputs`, retryable: true });
      }
      placed[item.index] = item;
    }
    return answer.data.every((item, i) => item.index === i) ? answer : { ...answer, data: placed as EmbeddingsResponse['data'] };
  }
  throw new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: `the provider answered ${answer.data.length} embeddings for ${asked} inputs`, retryable: true });
}

/**
 * The answers to the parts of one request, of `size` inputs each but the last, as one answer: each vector indexed
 * by its input's place in the whole request; usage summed when every part reported it, else none (estimated).
 */
function joinEmbeddings(parts: readonly EmbeddingsResponse[], size: number): EmbeddingsResponse {
  const data = parts.flatMap((part, i) => part.data.map((item) => ({ ...item, index: i * size + item.index })));
  const usages = parts.map((part) => part.usage);
  const usage = usages.every((u) => u !== undefined)
    ? usages.reduce((sum, u) => ({ prompt_tokens: sum.prompt_tokens + u.prompt_tokens, total_tokens: sum.total_tokens + u.total_tokens }), { prompt_tokens: 0, total_tokens: 0 })
    : undefined;
  return { object: 'list', data, model: parts[0]!.model, ...(usage ? { usage } : {}) };
}
