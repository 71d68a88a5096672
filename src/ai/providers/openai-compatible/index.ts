import { openAIStyleAdapter } from '../openai/openai-style.js';

/**
 * Any host of OpenAI's API, by configuration alone: Groq, Together, DeepSeek, Fireworks, OpenRouter, xAI,
 * Perplexity, vLLM, LM Studio. `baseUrl` is the part before `/v1` (for example https://api.groq.com/openai).
 */
export const OpenAICompatibleProvider = openAIStyleAdapter({ type: 'openai-compatible' });
