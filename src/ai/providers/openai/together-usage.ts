import type { Usage } from '../../chat-types.js';
import { isProviderOf } from '../api-host.js';
import type { CallContext } from '../provider.js';

/**
 * Together's API hosts: its serverless API under both of its domains (the docs' examples call `api.together.ai`,
 * Keygate's default base URL is `api.together.xyz`) and its dedicated model inference (`api-inference.together.ai`,
 * https://docs.together.ai/docs/dedicated-endpoints/requests).
 */
const TOGETHER_HOSTS = new Set(['api.together.ai', 'api.together.xyz', 'api-inference.together.ai']);

/** Whether the call goes to Together: `catalog: together`, or a base URL on one of Together's API hosts. */
export const isTogether = (ctx: CallContext): boolean => isProviderOf(ctx.provider, ['together'], TOGETHER_HOSTS);

/** Together's member of a usage beside OpenAI's: the prompt tokens read from its cache, told at the top. */
type TogetherUsage = Usage & { cached_tokens?: unknown };

/**
 * A usage with the prompt tokens Together read from its cache where OpenAI's clients and the gateway's record read
 * them, `prompt_tokens_details.cached_tokens`. Together reports them there for reasoning models, but "some models
 * return `cached_tokens` at the top level of `usage` instead" (https://docs.together.ai/docs/inference/chat/prompt-caching,
 * Check cached tokens; its changelog of July 8, 2026 says the same), and bills them at the model's cached input rate.
 * OpenAI's member wins where both tell cache reads, as in Together's own example (a 0 there beside Together's count
 * does not); Together's member stays as it sent it.
 * The usage itself when the top-level count is none, 0, or not a count.
 */
export function withTogetherCachedTokens(usage: Usage): Usage {
  const cached = (usage as TogetherUsage).cached_tokens;
  if (!Number.isSafeInteger(cached) || (cached as number) <= 0) return usage;
  // A count of its own above 0 wins; one of 0 beside Together's count tells nothing the count does not.
  const told = usage.prompt_tokens_details?.cached_tokens;
  if (typeof told === 'number' && told > 0) return usage;
  return { ...usage, prompt_tokens_details: { ...usage.prompt_tokens_details, cached_tokens: cached as number } };
}
