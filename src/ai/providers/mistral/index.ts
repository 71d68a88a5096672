import type { IncomingHttpHeaders } from 'node:http';
import type { ChatCompletionChunk, EmbeddingsRequest } from '../../chat-types.js';
import { openAIStyleAdapter } from '../openai/index.js';
import { failureFor, type CallContext, type ProviderAdapter, type ProviderFailure, type StreamTranslator, type UpstreamCall } from '../provider.js';
import { mappedTranslator } from '../stream-events.js';
import { adjustForMistral } from './mistral-request.js';
import { fromMistralChat, fromMistralChunk, generationFailed, generationError } from './mistral-response.js';
import { embeddingTexts } from '../embedding-texts.js';
import { reasoningRefusedAsUnsupported } from '../no-reasoning.js';

const openAIFormat = openAIStyleAdapter({ type: 'mistral', defaultBaseUrl: 'https://api.mistral.ai', adjust: adjustForMistral });

/**
 * Mistral puts usage on its last chunk, beside the finish reason; OpenAI sends it in a chunk of its own with no
 * choices. The last chunk is split in two so that every provider's stream ends the same way.
 */
function mistralStreamTranslator(ctx: CallContext): StreamTranslator {
  const inner = openAIFormat.streamTranslator(ctx);
  const split = (chunks: ChatCompletionChunk[]) => {
    const out: ChatCompletionChunk[] = [];
    for (const chunk of chunks.map(fromMistralChunk)) {
      // A failed generation ends the stream as a failure, with the usage Mistral bills for it beside it; the chunks of
      // the same read before it go first.
      if (generationFailed(chunk.choices)) throw Object.assign(generationError(chunk.usage ?? undefined), { before: out });
      if (!chunk.usage || chunk.choices.length === 0) {
        out.push(chunk);
        continue;
      }
      const { usage, ...rest } = chunk;
      out.push(rest, { ...rest, choices: [], usage });
    }
    return out;
  };
  return mappedTranslator(inner, split);
}

/**
 * Mistral's embeddings (https://docs.mistral.ai/api/#tag/embeddings): `dimensions` is `output_dimension`, no `user`;
 * `input` a text or texts, so token arrays are refused before calling, and an alias moves on to a target that takes them.
 */
function mistralEmbeddingsCall(request: EmbeddingsRequest, ctx: CallContext): UpstreamCall {
  embeddingTexts(request.input, 'Mistral');
  const call = (openAIFormat.embeddingsCall as NonNullable<ProviderAdapter['embeddingsCall']>)(request, ctx);
  const body = { model: ctx.model, input: request.input, ...(request.encoding_format ? { encoding_format: request.encoding_format } : {}), ...(request.dimensions ? { output_dimension: request.dimensions } : {}) };
  return { ...call, body: JSON.stringify(body) };
}

/** A 422 carries pydantic's `{"message": {"detail": [{loc, msg}]}}`: it is told as "body.stream_options: Extra inputs…". */
function parseMistralError(status: number, body: string, headers: IncomingHttpHeaders): ProviderFailure {
  try {
    const parsed = JSON.parse(body) as { message?: { detail?: Array<{ loc?: unknown[]; msg?: string }> }; detail?: Array<{ loc?: unknown[]; msg?: string }>; code?: unknown };
    const detail = (typeof parsed.message === 'object' ? parsed.message?.detail : undefined) ?? parsed.detail;
    if (Array.isArray(detail) && detail.length > 0) {
      const message = detail.map((d) => `${(d.loc ?? []).join('.')}: ${d.msg ?? 'invalid'}`).join('; ');
      return failureFor(status, message, headers, typeof parsed.code === 'string' ? parsed.code : null);
    }
  } catch {
    // not JSON: the OpenAI-format parser keeps a generic message
  }
  // A model without adjustable reasoning refusing `reasoning_effort`: an alias may move on to one that reasons.
  return reasoningRefusedAsUnsupported(openAIFormat.parseError(status, body, headers));
}

/** Mistral AI (https://docs.mistral.ai/api/): /v1/chat/completions and /v1/embeddings, OpenAI-like, Bearer key. */
export const MistralProvider: ProviderAdapter = { ...openAIFormat, parseChat: fromMistralChat, streamTranslator: mistralStreamTranslator, embeddingsCall: mistralEmbeddingsCall, parseError: parseMistralError };
export { mistralToolCallId } from './mistral-request.js';
