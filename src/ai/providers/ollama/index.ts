import type { IncomingHttpHeaders } from 'node:http';
import type { ChatRequest, EmbeddingsRequest } from '../../chat-types.js';
import { failureFor, type CallContext, type ProviderAdapter, type ProviderFailure, type UpstreamCall } from '../provider.js';
import { toOllamaChat, toOllamaEmbed } from './ollama-request.js';
import { fromOllamaChat, fromOllamaEmbed } from './ollama-response.js';
import { ollamaStreamTranslator } from './ollama-stream.js';
import { reasoningRefusedAsUnsupported } from '../no-reasoning.js';

const base = (ctx: CallContext) => ctx.provider.baseUrl.replace(/\/$/, '');

/** A local Ollama takes no key; one behind an authenticating proxy (or Ollama's cloud) takes a Bearer key. */
function headers(ctx: CallContext, accept: string): Record<string, string> {
  return { 'content-type': 'application/json', accept, ...ctx.provider.headers, ...(ctx.credential.secret ? { authorization: `Bearer ${ctx.credential.secret}` } : {}) };
}

/** Ollama's errors are `{"error": "..."}`; a model that cannot think refusing `think` is a retryable unsupported_parameter. */
function parseOllamaError(status: number, body: string, responseHeaders: IncomingHttpHeaders): ProviderFailure {
  let message = `Ollama answered ${status}`;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string' && parsed.error) message = parsed.error;
  } catch {
    // not JSON: keep the generic message
  }
  return reasoningRefusedAsUnsupported(failureFor(status, message, responseHeaders));
}

/** Ollama's native API (https://github.com/ollama/ollama/blob/main/docs/api.md): /api/chat and /api/embed. */
export const OllamaProvider: ProviderAdapter = {
  type: 'ollama',
  defaultBaseUrl: 'http://127.0.0.1:11434',
  chatCall(request: ChatRequest, ctx: CallContext): UpstreamCall {
    return { method: 'POST', url: `${base(ctx)}/api/chat`, headers: headers(ctx, ctx.stream ? 'application/x-ndjson' : 'application/json'), body: JSON.stringify(toOllamaChat(request, ctx)) };
  },
  parseChat: fromOllamaChat,
  streamTranslator: ollamaStreamTranslator,
  embeddingsCall(request: EmbeddingsRequest, ctx: CallContext): UpstreamCall {
    return { method: 'POST', url: `${base(ctx)}/api/embed`, headers: headers(ctx, 'application/json'), body: JSON.stringify(toOllamaEmbed(request, ctx)) };
  },
  parseEmbeddings: fromOllamaEmbed,
  parseError: parseOllamaError,
};
