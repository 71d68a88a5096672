import { openAIStyleAdapter } from './openai-style.js';

/** OpenAI refuses a member it does not know, as `top_k`, which the unified request carries for other providers. */
function withoutTopK({ top_k: _topK, ...body }: Record<string, unknown>): Record<string, unknown> {
  return body;
}

/** OpenAI (https://platform.openai.com/docs/api-reference): the unified API's own wire format, less `top_k`. */
export const OpenAIProvider = openAIStyleAdapter({ type: 'openai', defaultBaseUrl: 'https://api.openai.com', adjust: withoutTopK });
export { openAIStyleAdapter, type OpenAIStyleOptions } from './openai-style.js';
