import type { ProviderFailure } from './provider.js';

/**
 * The code of a generation the provider itself says failed (Cohere's ERROR, Mistral's `error`, Gemini's and Bedrock's
 * failure reasons, DeepSeek's `insufficient_system_resource`).
 */
export const GENERATION_FAILED = 'provider_generation_failed';

/**
 * A generation the provider ended as failed, `saying` how in its own words: a 502 that is retryable, so that another
 * target may answer. It is an answer all the same, often to this request's prompt or tools (Gemini's
 * MALFORMED_FUNCTION_CALL): it tells nothing against the provider's health, and opens no circuit.
 */
export function generationFailure(saying: string): ProviderFailure {
  return { status: 502, type: 'api_error', code: GENERATION_FAILED, message: saying, retryable: true };
}
