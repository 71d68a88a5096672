import type { ChatRequest } from '../../chat-types.js';
import { openAIStyleAdapter } from '../openai/openai-style.js';
import type { CallContext } from '../provider.js';
import { withThinkingToggle } from './thinking-toggle.js';

/**
 * OpenAI's newer `max_completion_tokens` as the `max_tokens` every OpenAI-compatible host documents (DeepSeek,
 * Together, Fireworks and Perplexity know no other); a body that names both keeps its `max_tokens`.
 */
function withMaxTokens(body: Record<string, unknown>): Record<string, unknown> {
  if (body.max_completion_tokens === undefined) return body;
  const { max_completion_tokens: limit, ...rest } = body;
  return { ...rest, max_tokens: rest.max_tokens ?? limit };
}

/** The body for the host: `max_tokens` as it knows it, and DeepSeek's thinking switch for its client's thinking. */
function forHost(body: Record<string, unknown>, ctx: CallContext, request: ChatRequest): Record<string, unknown> {
  return withMaxTokens(withThinkingToggle(request, body, ctx));
}

/**
 * Any host of OpenAI's API, by configuration alone: Groq, Together, DeepSeek, Fireworks, OpenRouter, xAI,
 * Perplexity, vLLM, LM Studio. `baseUrl` is the part before `/v1` (for example https://api.groq.com/openai). The
 * history's `reasoning_content` goes back to them, DeepSeek wants it, but to the hosts known to refuse it (Groq,
 * Cerebras) and a provider set `reasoningBack: false` (sendsReasoningBack). DeepSeek is sent its `thinking` switch
 * when an Anthropic-format client turned thinking off or asked for it, or an OpenAI-format one asked for
 * `reasoning_effort: "none"` (thinking-toggle.ts).
 */
export const OpenAICompatibleProvider = openAIStyleAdapter({ type: 'openai-compatible', adjust: forHost, wantsReasoningBack: true });
