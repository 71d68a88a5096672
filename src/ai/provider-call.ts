import { request as undiciRequest, type Dispatcher } from 'undici';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from './chat-types.js';
import type { CallContext, ProviderAdapter, ProviderFailure } from './providers/provider.js';

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

async function send(adapter: ProviderAdapter, call: ReturnType<ProviderAdapter['chatCall']>, options: CallOptions) {
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
    const code = (error as { code?: string }).code ?? '';
    const timeout = /TIMEOUT/.test(code);
    throw new ProviderCallError({ status: timeout ? 504 : 502, type: 'api_error', code: timeout ? 'provider_timeout' : 'provider_unreachable', message: timeout ? 'the provider did not answer in time' : 'the provider could not be reached', retryable: true });
  }
  if (response.statusCode >= 400) {
    const text = await response.body.text().catch(() => '');
    throw new ProviderCallError(adapter.parseError(response.statusCode, text, response.headers));
  }
  return response;
}

/** One non-streaming chat completion through `adapter`, in OpenAI's shape. */
export async function callChat(adapter: ProviderAdapter, request: ChatRequest, ctx: CallContext, options: CallOptions = {}): Promise<ChatCompletion> {
  const response = await send(adapter, adapter.chatCall(request, { ...ctx, stream: false }), options);
  return adapter.parseChat(await response.body.json(), ctx);
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
  const response = await send(adapter, adapter.embeddingsCall(request, { ...ctx, stream: false }), options);
  return adapter.parseEmbeddings(await response.body.json(), ctx, request);
}
