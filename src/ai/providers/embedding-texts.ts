import type { EmbeddingsRequest } from '../chat-types.js';
import { cannotServe } from './cannot-serve.js';

/**
 * An embeddings request's input as a provider that embeds text only takes it: a text, or texts. Token arrays,
 * OpenAI's other inputs, are refused before calling, retryably (cannotServe), so an alias moves on to a target that
 * embeds them.
 */
export function embeddingTexts(input: EmbeddingsRequest['input'], provider: string): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) return input as string[];
  throw cannotServe('input', `"input" must be a string or an array of strings: ${provider} embeds text, not token arrays`, 'unsupported_input');
}
