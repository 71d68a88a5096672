import type { EmbeddingsRequest, EmbeddingsResponse } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { cannotServe } from '../cannot-serve.js';
import { COHERE_MAX_TEXTS, cohereInputType } from '../cohere/cohere-embed.js';
import { base64Of } from '../embedding-encoding.js';
import { isVectorList, unreadableEmbeddings } from '../unreadable-embeddings.js';
import { embeddingTexts } from '../embedding-texts.js';

type Family = 'titan-v1' | 'titan-v2' | 'cohere-v3';

function familyOf(model: string): Family {
  // A cross-region inference profile prefixes the model id with its geography ("us.", "eu.", "apac.", "jp.", "us-gov."…).
  const id = model.replace(/^(?:[a-z]{2,4}|us-gov|global)\./, '');
  if (id.startsWith('amazon.titan-embed-text-v1')) return 'titan-v1';
  if (id.startsWith('amazon.titan-embed-text-v2')) return 'titan-v2';
  if (/^cohere\.embed-(english|multilingual)-v3/.test(id)) return 'cohere-v3';
  throw new ProviderCallError({ status: 400, type: 'invalid_request_error', code: 'unsupported_operation', message: `Bedrock model ${model} has no embeddings API the gateway speaks: use amazon.titan-embed-text-v1 or -v2, or cohere.embed-english-v3 or -multilingual-v3`, retryable: false });
}

function unsupported(message: string, param = 'input'): ProviderCallError {
  return cannotServe(param, message, 'unsupported_input');
}

/** The most texts one InvokeModel call to `model` embeds: Titan one, Cohere Embed 96; callEmbeddings sends more in parts. */
export function invokeEmbeddingsLimit(model: string): number | undefined {
  try {
    return familyOf(model) === 'cohere-v3' ? COHERE_MAX_TEXTS : 1;
  } catch {
    return undefined; // no embedding model: toInvokeEmbeddings says so
  }
}

const textsOf = (input: EmbeddingsRequest['input']): string[] => embeddingTexts(input, 'Bedrock');

/**
 * The InvokeModel body (POST /model/{modelId}/invoke) for `model`, in its own documented format:
 * - Amazon Titan Text Embeddings (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html):
 *   one text a call; V2 `{inputText, dimensions?, normalize}`, V1 `{inputText}` alone;
 * - Cohere Embed v3 (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html): 1 to 96 texts,
 *   `{texts, input_type}`.
 * What Bedrock would refuse is refused here, before the call: more than one text for Titan, more than 96 for
 * Cohere, `dimensions` where the model has a fixed length.
 */
export function toInvokeEmbeddings(request: EmbeddingsRequest, model: string): Record<string, unknown> {
  const texts = textsOf(request.input);
  const family = familyOf(model);
  if (family !== 'titan-v2' && request.dimensions !== undefined) throw unsupported(`${model} has a fixed vector length: leave out "dimensions"`, 'dimensions');
  if (family === 'cohere-v3') {
    if (texts.length > COHERE_MAX_TEXTS) throw unsupported(`Cohere Embed takes at most ${COHERE_MAX_TEXTS} texts a call, and this call has ${texts.length}`);
    return { texts, input_type: cohereInputType(request) };
  }
  if (texts.length !== 1) throw unsupported(`Titan embeds one text a call, and this call has ${texts.length}`);
  if (family === 'titan-v1') return { inputText: texts[0] };
  return { inputText: texts[0], ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}), normalize: true };
}

interface TitanAnswer {
  embedding?: unknown;
  inputTextTokenCount?: number;
}
interface CohereAnswer {
  embeddings?: unknown;
}

/**
 * An InvokeModel answer in OpenAI's shape: Titan's `{embedding, inputTextTokenCount}` with its token count as the
 * usage; Cohere's `{embeddings: [[…]]}` with none (the gateway then counts and marks the usage as estimated).
 */
export function fromInvokeEmbeddings(body: unknown, model: string, request?: EmbeddingsRequest): EmbeddingsResponse {
  const encode = (values: number[]) => (request?.encoding_format === 'base64' ? base64Of(values) : values);
  if (familyOf(model) !== 'cohere-v3') {
    const answer = (body ?? {}) as TitanAnswer;
    if (!isVectorList([answer.embedding])) throw unreadableEmbeddings();
    const tokens = answer.inputTextTokenCount;
    return {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: encode(answer.embedding as number[]) }],
      model,
      ...(typeof tokens === 'number' ? { usage: { prompt_tokens: tokens, total_tokens: tokens } } : {}),
    };
  }
  const answer = (body ?? {}) as CohereAnswer;
  if (!isVectorList(answer.embeddings)) throw unreadableEmbeddings();
  return { object: 'list', data: answer.embeddings.map((values, index) => ({ object: 'embedding', index, embedding: encode(values) })), model };
}
