import type { EmbeddingsRequest, EmbeddingsResponse } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { base64Of } from '../embedding-encoding.js';

/**
 * Bedrock's embedding models answer InvokeModel (POST /model/{modelId}/invoke), each in its own format:
 * - Amazon Titan Text Embeddings (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html):
 *   one text a call, `{inputText, dimensions?, normalize}` → `{embedding, inputTextTokenCount}`;
 * - Cohere Embed (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html): up to 96 texts,
 *   `{texts, input_type}` → `{embeddings: [[…]], response_type: "embeddings_floats"}`, with no token counts.
 */
type Family = 'titan' | 'cohere';

function familyOf(model: string): Family {
  // A cross-region inference profile prefixes the model id with its geography ("us.cohere.embed-…").
  const id = model.replace(/^(us|eu|apac|us-gov|global)\./, '');
  if (id.startsWith('amazon.titan-embed-text')) return 'titan';
  if (id.startsWith('cohere.embed-')) return 'cohere';
  throw new ProviderCallError({ status: 400, type: 'invalid_request_error', code: 'unsupported_operation', message: `Bedrock model ${model} has no embeddings API the gateway speaks: use an amazon.titan-embed-text or cohere.embed model`, retryable: false });
}

function unsupported(message: string): ProviderCallError {
  return new ProviderCallError({ status: 400, type: 'invalid_request_error', code: 'unsupported_input', message, retryable: false });
}

function textsOf(input: EmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) return input as string[];
  throw unsupported('"input" must be a string or an array of strings: Bedrock embeds text, not token arrays');
}

/** The InvokeModel body for `model`'s family. */
export function toInvokeEmbeddings(request: EmbeddingsRequest, model: string): Record<string, unknown> {
  const texts = textsOf(request.input);
  if (familyOf(model) === 'titan') {
    if (texts.length !== 1) throw unsupported(`Titan embeds one text a call, and this call has ${texts.length}: send them one at a time, or use a cohere.embed model`);
    return { inputText: texts[0], ...(request.dimensions !== undefined ? { dimensions: request.dimensions } : {}), normalize: true };
  }
  if (request.dimensions !== undefined) throw unsupported('Cohere Embed on Bedrock has a fixed vector length: leave out "dimensions"');
  return { texts, input_type: 'search_document' };
}

interface TitanAnswer {
  embedding?: number[];
  inputTextTokenCount?: number;
}
interface CohereAnswer {
  embeddings?: number[][];
}

function badAnswer(): ProviderCallError {
  return new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: 'the provider answered with embeddings in an unknown shape', retryable: true });
}

/** The answer in OpenAI's shape: Titan's token count as usage; Cohere's none (the gateway then estimates it). */
export function fromInvokeEmbeddings(body: unknown, model: string, request?: EmbeddingsRequest): EmbeddingsResponse {
  const encode = (values: number[]) => (request?.encoding_format === 'base64' ? base64Of(values) : values);
  if (familyOf(model) === 'titan') {
    const answer = body as TitanAnswer;
    if (!Array.isArray(answer.embedding)) throw badAnswer();
    const tokens = answer.inputTextTokenCount;
    return {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: encode(answer.embedding) }],
      model,
      ...(typeof tokens === 'number' ? { usage: { prompt_tokens: tokens, total_tokens: tokens } } : {}),
    };
  }
  const answer = body as CohereAnswer;
  if (!Array.isArray(answer.embeddings)) throw badAnswer();
  return { object: 'list', data: answer.embeddings.map((values, index) => ({ object: 'embedding', index, embedding: encode(values) })), model };
}
