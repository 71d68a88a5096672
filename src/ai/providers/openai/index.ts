import type { CallContext } from '../provider.js';
import { openAIStyleAdapter } from './openai-style.js';

/**
 * OpenAI refuses a member it does not know, as `top_k`, which the unified request carries for other providers. The
 * body is the adapter's own copy: cut in place, and only when there (a copy per call showed in the AI route's profile).
 */
function withoutTopK(body: Record<string, unknown>): Record<string, unknown> {
  if ('top_k' in body) delete body.top_k;
  return body;
}

/**
 * Whether an OpenAI model takes `reasoning_effort` beside function tools on Chat Completions: GPT-5.2 and later
 * refuse the pair ("Function tools with reasoning_effort are not supported for gpt-5.4 in /v1/chat/completions.
 * Please use /v1/responses instead."), which the effort the gateway derives from an Anthropic-format client's
 * thinking must not cause. Earlier reasoning models (o-series, GPT-5, GPT-5.1) take it. Azure's deployments of
 * these models are named after them, or the rule cannot tell.
 */
export const takesEffortWithTools = (ctx: CallContext): boolean => !/^gpt-(?:5\.(?:[2-9]|\d{2,})|[6-9])/.test(ctx.model);

/**
 * OpenAI (https://platform.openai.com/docs/api-reference): the unified API's own wire format, less `top_k` and the
 * history's `reasoning_content`, neither of which OpenAI defines.
 */
export const OpenAIProvider = openAIStyleAdapter({ type: 'openai', defaultBaseUrl: 'https://api.openai.com', adjust: withoutTopK, takesEffortWithTools });
export { openAIStyleAdapter, withToolCallTypes, type OpenAIStyleOptions } from './openai-style.js';
