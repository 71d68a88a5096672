import { ProviderCallError } from '../provider-call.js';

/**
 * The refusal of a conversation in which every message is empty (a user turn of `""`, and no system prompt), which
 * a provider that needs a turn with content (Anthropic, Gemini, Bedrock) would refuse with words of its own and no
 * `param`. Retryable: an alias's next target (OpenAI's API takes empty content) may answer it.
 */
export const nothingToSend = (provider: string): ProviderCallError =>
  new ProviderCallError({ status: 400, type: 'invalid_request_error', code: 'invalid_value', param: 'messages', message: `every message is empty: ${provider} needs one with content to answer`, retryable: true });
