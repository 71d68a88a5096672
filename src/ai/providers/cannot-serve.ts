import { ProviderCallError } from '../provider-call.js';

/**
 * A provider's refusal of what its API has no counterpart for (more than one choice, JSON mode without a schema, an
 * image by URL, token arrays to embed…), before calling. A 400, which no circuit counts; retryable, so that an alias's
 * next target, which may serve the request, is tried, as for `logprobs`: otherwise the same request to an alias of
 * two weighted providers failed or not by the draw. When no target can serve it, the last one's refusal is the answer.
 */
export const cannotServe = (param: string, message: string, code = 'unsupported_parameter'): ProviderCallError =>
  new ProviderCallError({ status: 400, type: 'invalid_request_error', code, message, param, retryable: true });
