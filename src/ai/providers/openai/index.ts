import { openAIStyleAdapter } from './openai-style.js';

/** OpenAI (https://platform.openai.com/docs/api-reference): the unified API's own wire format. */
export const OpenAIProvider = openAIStyleAdapter({ type: 'openai', defaultBaseUrl: 'https://api.openai.com' });
export { openAIStyleAdapter, type OpenAIStyleOptions } from './openai-style.js';
