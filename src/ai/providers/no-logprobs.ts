import type { ChatRequest } from '../chat-types.js';
import { cannotServe } from './cannot-serve.js';

/**
 * OpenAI's `logprobs: true` (with or without `top_logprobs`), to a provider whose adapter translates no such thing (`name`,
 * as the client is told): a 400 naming the parameter, as OpenAI answers for a model without them, rather than an
 * answer whose `logprobs` is null, which a client that asked for them may read as a list. It is one the next target
 * of an alias may take (an OpenAI-format host): the call moves on, and the caller gets the 400 only if no target does.
 * False or null asks for nothing and passes.
 */
export function refuseLogprobs(request: ChatRequest | Record<string, unknown>, name: string): void {
  // top_logprobs goes only with logprobs: true (validateChat): the one parameter to name.
  if ((request as { logprobs?: unknown }).logprobs !== true) return;
  throw cannotServe('logprobs', `logprobs: ${name} returns no log probabilities through the gateway`);
}
