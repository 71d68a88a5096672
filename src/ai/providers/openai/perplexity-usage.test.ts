import { describe, expect, it } from 'vitest';
import { withPerplexityTokens } from './perplexity-usage.js';

describe("Perplexity's usage", () => {
  /** Sonar Deep Research's, as Perplexity's pricing guide shows one (https://docs.perplexity.ai/getting-started/pricing). */
  const deepResearch = { prompt_tokens: 33, completion_tokens: 11_395, total_tokens: 11_428, citation_tokens: 19_028, num_search_queries: 21, reasoning_tokens: 193_947, cost: { total_cost: 0.816 } };

  it('counts citation tokens with the prompt and reasoning tokens with the completion, told as a reasoning model tells them', () => {
    expect(withPerplexityTokens(deepResearch)).toEqual({
      ...deepResearch,
      prompt_tokens: 33 + 19_028,
      completion_tokens: 11_395 + 193_947,
      total_tokens: 33 + 19_028 + 11_395 + 193_947,
      completion_tokens_details: { reasoning_tokens: 193_947 },
    });
  });

  it('keeps a usage that tells neither, or tells them as null, as it is', () => {
    const sonar = { prompt_tokens: 9, completion_tokens: 20, total_tokens: 29, citation_tokens: null, reasoning_tokens: null, num_search_queries: 1 };
    expect(withPerplexityTokens(sonar as never)).toBe(sonar);
  });

  it('keeps a usage whose own counts are not counts as it is, for the gateway to count the tokens itself', () => {
    const odd = { prompt_tokens: '9', completion_tokens: 20, total_tokens: 29, citation_tokens: 100 };
    expect(withPerplexityTokens(odd as never)).toBe(odd);
  });
});
