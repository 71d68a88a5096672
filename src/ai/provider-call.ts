import type { IncomingHttpHeaders } from 'node:http';
import { getGlobalDispatcher, request as undiciRequest, type Dispatcher } from 'undici';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from './chat-types.js';
import type { CallContext, ProviderAdapter, ProviderFailure, UpstreamCall } from './providers/provider.js';

export class ProviderCallError extends Error {
  override name = 'ProviderCallError';
  constructor(readonly failure: ProviderFailure) {
    super(failure.message);
  }
}

export interface CallOptions {
  dispatcher?: Dispatcher;
  /** Time allowed for the response head, and between body chunks. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

function unreachable(error: unknown): ProviderCallError {
  const code = (error as { code?: string }).code ?? '';
  const timeout = /TIMEOUT/.test(code);
  return new ProviderCallError({ status: timeout ? 504 : 502, type: 'api_error', code: timeout ? 'provider_timeout' : 'provider_unreachable', message: timeout ? 'the provider did not answer in time' : 'the provider could not be reached', retryable: true });
}

async function send(adapter: ProviderAdapter, call: UpstreamCall, options: CallOptions) {
  let response: Dispatcher.ResponseData;
  try {
    response = await undiciRequest(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      dispatcher: options.dispatcher,
      headersTimeout: options.timeoutMs ?? 60_000,
      bodyTimeout: options.timeoutMs ?? 60_000,
      signal: options.signal,
    });
  } catch (error) {
    throw unreachable(error);
  }
  if (response.statusCode >= 400) {
    const text = await response.body.text().catch(() => '');
    throw new ProviderCallError(adapter.parseError(response.statusCode, text, response.headers));
  }
  return response;
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
    const parsed = new URL(url);
    endpoint = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    // Provider URLs are few (one per provider, model or deployment); the bound only guards against a pathological config.
    if (endpoints.size >= 1024) endpoints.clear();
    endpoints.set(url, endpoint);
  }
  return endpoint;
}

/**
 * One request whose answer is read whole, on undici's dispatcher directly: no response stream, no promise per
 * chunk. Rejects with a ProviderCallError when the provider cannot be reached, times out or answers 4xx/5xx.
 */
function exchange(adapter: ProviderAdapter, call: UpstreamCall, options: CallOptions): Promise<Answer> {
  const { origin, path } = endpointOf(call.url);
  const timeout = options.timeoutMs ?? 60_000;
  const signal = options.signal;
  return new Promise((resolve, reject) => {
    let status = 0;
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let onAbort: (() => void) | undefined;
    const settle = () => {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    };
    (options.dispatcher ?? getGlobalDispatcher()).dispatch(
      { origin, path, method: call.method, headers: call.headers, body: call.body ?? null, headersTimeout: timeout, bodyTimeout: timeout },
      {
        onRequestStart(controller) {
          if (!signal) return;
          if (signal.aborted) return controller.abort(signal.reason);
          onAbort = () => controller.abort(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
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
          settle();
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          if (status >= 400) reject(new ProviderCallError(adapter.parseError(status, body.toString('utf8'), headers)));
          else resolve({ status, headers, body });
        },
        onResponseError(_controller, error) {
          settle();
          reject(unreachable(error));
        },
      },
    );
  });
}

/** The answer's body as JSON; a body that is not JSON is the provider's failure, and another provider may do better. */
function jsonOf(answer: Answer): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: 'the provider answered with a body that is not JSON', retryable: true });
  }
}

/** A chat completion in OpenAI's shape, and the provider's own bytes when they are exactly that completion. */
export interface ChatAnswer {
  completion: ChatCompletion;
  /** Set when the adapter passed the provider's body through unchanged: those bytes can be sent as they are. */
  raw: Buffer | undefined;
}

/** One non-streaming chat completion through `adapter`, with the provider's bytes when they need no translation. */
export async function callChatAnswer(adapter: ProviderAdapter, request: ChatRequest, ctx: CallContext, options: CallOptions = {}): Promise<ChatAnswer> {
  const answer = await exchange(adapter, adapter.chatCall(request, { ...ctx, stream: false }), options);
  const parsed = jsonOf(answer);
  const completion = adapter.parseChat(parsed, ctx);
  return { completion, raw: completion === parsed ? answer.body : undefined };
}

/** One non-streaming chat completion through `adapter`, in OpenAI's shape. */
export async function callChat(adapter: ProviderAdapter, request: ChatRequest, ctx: CallContext, options: CallOptions = {}): Promise<ChatCompletion> {
  return (await callChatAnswer(adapter, request, ctx, options)).completion;
}

/**
 * One streamed chat completion: resolves once the provider accepted the call (its status is known, so a failure
 * can still fall back), then yields OpenAI chunks as the provider's events arrive.
 */
export async function callChatStream(adapter: ProviderAdapter, request: ChatRequest, ctx: CallContext, options: CallOptions = {}) {
  const streamCtx = { ...ctx, stream: true };
  const response = await send(adapter, adapter.chatCall(request, streamCtx), options);
  const translator = adapter.streamTranslator(streamCtx);
  async function* chunks(): AsyncGenerator<ChatCompletionChunk> {
    for await (const bytes of response.body) {
      for (const chunk of translator.push(bytes as Buffer)) yield chunk;
    }
    for (const chunk of translator.end()) yield chunk;
  }
  return { chunks: chunks(), usage: () => translator.usage(), body: response.body };
}

export async function callEmbeddings(adapter: ProviderAdapter, request: EmbeddingsRequest, ctx: CallContext, options: CallOptions = {}): Promise<EmbeddingsResponse> {
  if (!adapter.embeddingsCall || !adapter.parseEmbeddings) {
    throw new ProviderCallError({ status: 400, type: 'invalid_request_error', code: 'unsupported_operation', message: `provider type ${adapter.type} has no embeddings API`, retryable: false });
  }
  const answer = await exchange(adapter, adapter.embeddingsCall(request, { ...ctx, stream: false }), options);
  const parsed = jsonOf(answer);
  return adapter.parseEmbeddings(parsed, ctx, request);
}
