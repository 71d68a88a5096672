import type { EmbeddingsRequest, EmbeddingsResponse } from '../../chat-types.js';
import { base64Of } from '../embedding-encoding.js';
import { isVectorList, unreadableEmbeddings } from '../unreadable-embeddings.js';
import type { GeminiBatchEmbedResponse } from './wire-types.js';
import { embeddingTexts } from '../embedding-texts.js';

const textsOf = (input: EmbeddingsRequest['input']): string[] => embeddingTexts(input, 'Gemini');

/** An OpenAI embeddings request as one batchEmbedContents request (https://ai.google.dev/api/embeddings#method:-models.batchembedcontents), one entry per input. */
export function toBatchEmbedRequest(request: EmbeddingsRequest, modelName: string) {
  return {
    requests: textsOf(request.input).map((text) => ({
      model: modelName,
      content: { parts: [{ text }] },
      ...(request.dimensions !== undefined ? { outputDimensionality: request.dimensions } : {}),
    })),
  };
}

/**
 * A vector scaled to length 1, or the same one if it is that already (or all zeros). OpenAI's embeddings are of
 * length 1 and clients compare them by dot product; Gemini's are only at their full size: one shortened with
 * `outputDimensionality` "needs to be normalized" (https://ai.google.dev/gemini-api/docs/embeddings, "Ensuring
 * quality for smaller dimensions").
 */
function unitLength(values: number[]): number[] {
  let squares = 0;
  for (const value of values) squares += value * value;
  const length = Math.sqrt(squares);
  if (length === 0 || Math.abs(length - 1) < 1e-6) return values;
  return values.map((value) => value / length);
}

/**
 * Gemini's embeddings in OpenAI's shape, each of length 1 (unitLength), without usage: Gemini reports no token
 * counts for embeddings, so the gateway counts the input with its tokenizer and marks the call's usage as estimated.
 */
export function fromBatchEmbedResponse(response: GeminiBatchEmbedResponse | null, model: string, request?: EmbeddingsRequest): EmbeddingsResponse {
  // "embeddings: The embeddings for each request, in the same order as provided in the batch request", each a
  // ContentEmbedding `{values: number[]}` (https://ai.google.dev/api/embeddings#batchembedcontentsresponse).
  const vectors = Array.isArray(response?.embeddings) ? response.embeddings.map((embedding) => (embedding as { values?: unknown } | null)?.values) : undefined;
  if (!isVectorList(vectors)) throw unreadableEmbeddings();
  return {
    object: 'list',
    data: vectors.map((vector, index) => {
      const values = unitLength(vector);
      return { object: 'embedding', index, embedding: request?.encoding_format === 'base64' ? base64Of(values) : values };
    }),
    model,
  };
}
