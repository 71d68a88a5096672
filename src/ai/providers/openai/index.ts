import { openAIStyleAdapter } from './openai-style.js';

/**
 * OpenAI refuses a member it does not know, as `top_k`, which the unified request carries for other providers. The
 * body is the adapter's own copy: cut in place, and only when there (a copy per call showed in the AI route's profile).
 */
function withoutTopK(body: Record<string, unknown>): Record<string, unknown> {
  if ('top_k' in body) delete body.top_k;
  return body;
}

/** OpenAI (https://platform.openai.com/docs/api-reference): the unified API's own wire format, less `top_k`. */
export const OpenAIProvider = openAIStyleAdapter({ type: 'openai', defaultBaseUrl: 'https://api.openai.com', adjust: withoutTopK });
export { openAIStyleAdapter, type OpenAIStyleOptions } from './openai-style.js';
