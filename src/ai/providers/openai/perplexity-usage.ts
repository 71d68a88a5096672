import type { Usage } from '../../chat-types.js';
import { isProviderOf } from '../api-host.js';
import type { CallContext } from '../provider.js';

const NO_HOSTS: ReadonlySet<string> = new Set();

/** Whether the call goes to Perplexity: a provider priced from its catalog entries (`catalog: perplexity`). */
export const isPerplexity = (ctx: CallContext): boolean => isProviderOf(ctx.provider, ['perplexity'], NO_HOSTS);

/** Perplexity's members of a usage beside OpenAI's (https://docs.perplexity.ai/api-reference/chat-completions-post). */
type PerplexityUsage = Usage & { citation_tokens?: unknown; reasoning_tokens?: unknown };

/** A count Perplexity told, or 0 for none (null, as it says for a model without them) or one that is not a count. */
const countOf = (value: unknown): number => (Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : 0);

/**
 * A usage with the tokens Perplexity counts apart from `prompt_tokens` and `completion_tokens` (and `total_tokens`),
 * where OpenAI's clients and the gateway's record read them. Perplexity bills them (https://docs.perplexity.ai/getting-started/pricing):
 * "Input tokens comprise of Prompt tokens (user prompt) + Citation tokens (these are processed tokens from running
 * searches)", so `citation_tokens` go into `prompt_tokens`; `reasoning_tokens` are tokens the model generated while
 * it reasoned through the material, before the answer, so they go into `completion_tokens` and are told as OpenAI tells
 * a reasoning model's, in `completion_tokens_details.reasoning_tokens`. Perplexity's own members stay as it sent them,
 * `cost` among them (the record's cost, search fees included). The usage itself when it tells neither.
 */
export function withPerplexityTokens(usage: Usage): Usage {
  const { citation_tokens: citations, reasoning_tokens: reasoned } = usage as PerplexityUsage;
  const citation = countOf(citations);
  const reasoning = countOf(reasoned);
  if (citation === 0 && reasoning === 0) return usage;
  if (!Number.isSafeInteger(usage.prompt_tokens) || !Number.isSafeInteger(usage.completion_tokens)) return usage;
  const told: Usage = {
    ...usage,
    prompt_tokens: usage.prompt_tokens + citation,
    completion_tokens: usage.completion_tokens + reasoning,
    total_tokens: usage.prompt_tokens + citation + usage.completion_tokens + reasoning,
  };
  if (reasoning > 0) told.completion_tokens_details = { ...usage.completion_tokens_details, reasoning_tokens: (usage.completion_tokens_details?.reasoning_tokens ?? 0) + reasoning };
  return told;
}
