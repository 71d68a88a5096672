import { ProviderCallError } from '../provider-call.js';

/**
 * A 200 whose body holds no embeddings in the provider's documented shape (a proxy's JSON, an API that changed):
 * the provider's failure, 502 `provider_bad_response`, which another target may answer, as for a body that is not
 * JSON at all; never a failure inside the gateway, nor an answer without its vectors.
 */
export function unreadableEmbeddings(): ProviderCallError {
  return new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: 'the provider answered with embeddings in an unknown shape', retryable: true });
}

/** Whether `value` is a list of vectors, each a list of numbers, as every provider's embeddings API answers them. */
export function isVectorList(value: unknown): value is number[][] {
  return Array.isArray(value) && value.every((vector) => Array.isArray(vector) && vector.every((n) => typeof n === 'number'));
}
