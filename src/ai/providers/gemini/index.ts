import type { EmbeddingsRequest } from '../../chat-types.js';
import type { CallContext, ProviderAdapter } from '../provider.js';
import { fromBatchEmbedResponse, toBatchEmbedRequest } from './embed-contents.js';
import { geminiFailure } from './gemini-error.js';
import { toGeminiRequest } from './generate-request.js';
import { fromGeminiResponse } from './generate-response.js';
import { geminiStreamTranslator } from './generate-stream.js';
import type { GeminiBatchEmbedResponse, GeminiGenerateResponse } from './wire-types.js';

/** The API version in the path unless the provider's `apiVersion` names another (v1 lacks some fields). */
const GEMINI_API_VERSION = 'v1beta';

const base = (ctx: CallContext) => ctx.provider.baseUrl.replace(/\/$/, '');
const created = (ctx: CallContext) => Math.floor(ctx.now / 1000);
/** The model's resource name: a bare id is under `models/`; `tunedModels/…` and `models/…` stay as they are. */
const modelName = (ctx: CallContext) => (ctx.model.includes('/') ? ctx.model : `models/${ctx.model}`);
const endpoint = (ctx: CallContext, method: string) => `${base(ctx)}/${ctx.provider.apiVersion ?? GEMINI_API_VERSION}/${modelName(ctx).split('/').map(encodeURIComponent).join('/')}:${method}`;
const headers = (ctx: CallContext, accept: string) => ({ 'content-type': 'application/json', accept, ...ctx.provider.headers, 'x-goog-api-key': ctx.credential.secret });

/**
 * Google's Gemini API (https://ai.google.dev/api): generateContent, streamGenerateContent with `alt=sse`, and
 * batchEmbedContents, with the key in `x-goog-api-key` (never in the URL, where logs would keep it).
 * `parseEmbeddings` reports no usage (Gemini counts none for embeddings): the gateway estimates it.
 */
export const GeminiProvider = {
  type: 'gemini',
  failsAfterHead: true,
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  chatCall(request, ctx) {
    return {
      method: 'POST',
      url: ctx.stream ? `${endpoint(ctx, 'streamGenerateContent')}?alt=sse` : endpoint(ctx, 'generateContent'),
      headers: headers(ctx, ctx.stream ? 'text/event-stream' : 'application/json'),
      body: JSON.stringify(toGeminiRequest(request, ctx.model, ctx.catalogModel, ctx.withoutSignatures)),
    };
  },
  parseChat: (body, ctx) => fromGeminiResponse(body as GeminiGenerateResponse, created(ctx), ctx.model),
  streamTranslator: (ctx) => geminiStreamTranslator(created(ctx), ctx.model, ctx.choices),
  // batchEmbedContents refuses more: "at most 100 requests can be in one batch" (Google's answer, quoted in
  // weaviate/weaviate#11277 and vercel/ai#16575; https://ai.google.dev/api/embeddings states no limit).
  maxEmbeddingInputs: () => 100,
  embeddingsCall(request, ctx) {
    return { method: 'POST', url: endpoint(ctx, 'batchEmbedContents'), headers: headers(ctx, 'application/json'), body: JSON.stringify(toBatchEmbedRequest(request, modelName(ctx))) };
  },
  parseEmbeddings: (body: unknown, ctx: CallContext, request?: EmbeddingsRequest) => fromBatchEmbedResponse(body as GeminiBatchEmbedResponse, ctx.model, request),
  parseError: geminiFailure,
} satisfies ProviderAdapter;

export { SIGNATURE_NOT_KEPT } from './generate-request.js';
