import type { ProviderFailure } from './provider.js';

/** A refusal of reasoning by a model that has none: Ollama's "… does not support thinking", Mistral's of `reasoning_effort`. */
const REASONING_REFUSED = /\b(?:does not support thinking|reasoning_effort\b[^.]*\bnot supported|not supported[^.]*\breasoning)/i;

/**
 * A 400 by which a model refuses the reasoning the client asked for (`reasoning_effort`, sent as the provider takes
 * it) as `unsupported_parameter`, retryable: the request is sound, and an alias's next target, one that reasons, may
 * answer it, as a model without log probabilities is passed over (no-logprobs.ts). Any other failure as it is.
 */
export function reasoningRefusedAsUnsupported(failure: ProviderFailure): ProviderFailure {
  if (failure.status !== 400 || !REASONING_REFUSED.test(failure.message)) return failure;
  return { ...failure, code: 'unsupported_parameter', param: 'reasoning_effort', retryable: true };
}
