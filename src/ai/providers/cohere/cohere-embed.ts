import type { EmbeddingsRequest, EmbeddingsResponse } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { cannotServe } from '../cannot-serve.js';
import { base64Of } from '../embedding-encoding.js';
import { isVectorList, unreadableEmbeddings } from '../unreadable-embeddings.js';
import type { CallContext } from '../provider.js';
import { embeddingTexts } from '../embedding-texts.js';

/** The most texts one call to Cohere's Embed takes, directly or on Bedrock: a request with more goes in parts. */
export const COHERE_MAX_TEXTS = 96;

const INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering'];

/**
 * What the texts are for, which Cohere's v3 and later embedding models require: the request's `input_type` (not
 * OpenAI's, a client sends it as an extra member), else `search_document`, what most stored embeddings are.
 */
export function cohereInputType(request: EmbeddingsRequest): string {
  const wanted = request.input_type ?? 'search_document';
  if (!INPUT_TYPES.includes(wanted)) {
    throw new ProviderCallError({ status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', message: `input_type: Cohere takes ${INPUT_TYPES.join(', ')}`, param: 'input_type', retryable: false });
  }
  return wanted;
}

/**
 * Cohere's embedding models before Embed v4 (embed-english-v3.0, embed-multilingual-light-v3.0…), whose vectors have
 * one length: `output_dimension` "is only available for embed-v4 and newer models" (https://docs.cohere.com/reference/embed).
 */
const FIXED_LENGTH = /^embed-(?:english|multilingual)(?:-light)?-v[1-3](?:\.|$)/;

/**
 * OpenAI's embeddings request as Cohere's Embed v2 (https://docs.cohere.com/reference/embed): at most 96 texts
 * (callEmbeddings sends more in parts), embedded as `input_type` says, as floats; `dimensions` becomes
 * `output_dimension`. The floats go back as base64 when `encoding_format` asks for it (the `openai` SDK asks by
 * default).
 */
export function toCohereEmbed(request: EmbeddingsRequest, ctx: CallContext): Record<string, unknown> {
  const input = embeddingTexts(request.input, 'Cohere');
  if (request.dimensions !== undefined && FIXED_LENGTH.test(ctx.model)) {
    throw cannotServe('dimensions', `dimensions: ${ctx.model} has a fixed vector length; leave out "dimensions", or use embed-v4.0 or later`);
  }
  return { model: ctx.model, texts: input, input_type: cohereInputType(request), embedding_types: ['float'], ...(request.dimensions ? { output_dimension: request.dimensions } : {}) };
}

interface CohereEmbedResponse {
  embeddings?: { float?: unknown };
  meta?: { billed_units?: { input_tokens?: number } };
}

export function fromCohereEmbed(body: unknown, ctx: CallContext, request?: EmbeddingsRequest): EmbeddingsResponse {
  const response = body as CohereEmbedResponse | null;
  // Asked for `embedding_types: ["float"]`, Cohere answers them under `embeddings.float` (https://docs.cohere.com/reference/embed).
  const vectors = response?.embeddings?.float;
  if (!isVectorList(vectors)) throw unreadableEmbeddings();
  const tokens = response?.meta?.billed_units?.input_tokens ?? 0;
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding: request?.encoding_format === 'base64' ? base64Of(embedding) : embedding })),
    model: ctx.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
