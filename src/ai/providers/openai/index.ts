import { openAIStyleAdapter } from './openai-style.js';

/**
 * OpenAI refuses a member it does not know, as `top_k`, which the unified request carries for other providers. The
 * body is the adapter's own copy: cut in place, and only when there (a copy per call showed in the AI route's profile).
 */
function withoutTopK(body: Record<string, unknown>): Record<string, unknown> {
  if ('top_k' in body) delete body.top_k;
  return withoutReasoningContent(body);
}

/**
 * The assistant messages without `reasoning_content`, which the gateway answers with for Anthropic and Gemini models
 * (and DeepSeek with its own) and clients send back in their history: OpenAI defines no such member of a message
 * and refuses it. OpenAI-compatible hosts keep it, since DeepSeek wants its reasoning back. The messages are the
 * request's own: a message that has it is copied, not changed, for a fallback to another provider.
 */
export function withoutReasoningContent(body: Record<string, unknown>): Record<string, unknown> {
  const messages = body.messages as Array<Record<string, unknown>>;
  if (!messages.some((message) => message.reasoning_content !== undefined)) return body;
  body.messages = messages.map((message) => {
    if (message.reasoning_content === undefined) return message;
    const { reasoning_content: _reasoning, ...rest } = message;
    return rest;
  });
  return body;
}

/** OpenAI (https://platform.openai.com/docs/api-reference): the unified API's own wire format, less `top_k`. */
export const OpenAIProvider = openAIStyleAdapter({ type: 'openai', defaultBaseUrl: 'https://api.openai.com', adjust: withoutTopK });
export { openAIStyleAdapter, type OpenAIStyleOptions } from './openai-style.js';
