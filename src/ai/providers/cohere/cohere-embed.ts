import type { EmbeddingsRequest, EmbeddingsResponse } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { base64Of } from '../embedding-encoding.js';
import type { CallContext } from '../provider.js';

/**
 * OpenAI's embeddings request as Cohere's Embed v2 (https://docs.cohere.com/reference/embed): texts embedded as
 * `search_document` (what most stored embeddings are), as floats; `dimensions` becomes `output_dimension`. The
 * floats go back as base64 when `encoding_format` asks for it (the `openai` SDK asks by default).
 */
export function toCohereEmbed(request: EmbeddingsRequest, ctx: CallContext): Record<string, unknown> {
  const input = typeof request.input === 'string' ? [request.input] : request.input;
  if (!input.every((item): item is string => typeof item === 'string')) {
    throw new ProviderCallError({ status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', message: 'input: Cohere embeds text, not token arrays', param: 'input', retryable: false });
  }
  return { model: ctx.model, texts: input, input_type: 'search_document', embedding_types: ['float'], ...(request.dimensions ? { output_dimension: request.dimensions } : {}) };
}

interface CohereEmbedResponse {
  embeddings?: { float?: number[][] };
  meta?: { billed_units?: { input_tokens?: number } };
}

export function fromCohereEmbed(body: unknown, ctx: CallContext, request?: EmbeddingsRequest): EmbeddingsResponse {
  const response = body as CohereEmbedResponse;
  const tokens = response.meta?.billed_units?.input_tokens ?? 0;
  return {
    object: 'list',
    data: (response.embeddings?.float ?? []).map((embedding, index) => ({ object: 'embedding', index, embedding: request?.encoding_format === 'base64' ? base64Of(embedding) : embedding })),
    model: ctx.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
