import type { IncomingHttpHeaders } from 'node:http';
import type { ChatRequest, EmbeddingsRequest } from '../../chat-types.js';
import { failureFor, type CallContext, type ProviderAdapter, type ProviderFailure, type UpstreamCall } from '../provider.js';
import { COHERE_MAX_TEXTS, toCohereEmbed, fromCohereEmbed } from './cohere-embed.js';
import { toCohereChat } from './cohere-request.js';
import { fromCohereChat } from './cohere-response.js';
import { cohereStreamTranslator } from './cohere-stream.js';

const base = (ctx: CallContext) => ctx.provider.baseUrl.replace(/\/$/, '');
const headers = (ctx: CallContext, accept: string) => ({ 'content-type': 'application/json', accept, ...ctx.provider.headers, authorization: `Bearer ${ctx.credential.secret}` });

/**
 * Cohere's errors (https://docs.cohere.com/reference/errors) are `{"message"}`: 401 and 498 mean a bad key, 402 an
 * account out of credit, 429 a rate limit.
 */
function parseCohereError(status: number, body: string, responseHeaders: IncomingHttpHeaders): ProviderFailure {
  let message = `Cohere answered ${status}`;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string' && parsed.message) message = parsed.message;
  } catch {
    // not JSON: keep the generic message
  }
  if (status === 498) return { ...failureFor(401, message, responseHeaders), status };
  if (status === 402) return { status, type: 'insufficient_quota', code: 'insufficient_quota', message, credentialProblem: 'quota', retryable: true };
  return failureFor(status, message, responseHeaders);
}

/** Cohere's v2 API (https://docs.cohere.com/reference/about): POST /v2/chat and /v2/embed with a Bearer key. */
export const CohereProvider: ProviderAdapter = {
  type: 'cohere',
  defaultBaseUrl: 'https://api.cohere.com',
  chatCall(request: ChatRequest, ctx: CallContext): UpstreamCall {
    return { method: 'POST', url: `${base(ctx)}/v2/chat`, headers: headers(ctx, ctx.stream ? 'text/event-stream' : 'application/json'), body: JSON.stringify(toCohereChat(request, ctx)) };
  },
  parseChat: fromCohereChat,
  streamTranslator: cohereStreamTranslator,
  embeddingsCall(request: EmbeddingsRequest, ctx: CallContext): UpstreamCall {
    return { method: 'POST', url: `${base(ctx)}/v2/embed`, headers: headers(ctx, 'application/json'), body: JSON.stringify(toCohereEmbed(request, ctx)) };
  },
  maxEmbeddingInputs: () => COHERE_MAX_TEXTS,
  parseEmbeddings: fromCohereEmbed,
  parseError: parseCohereError,
};
