import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../chat-types.js';
import { choiceLogprobsOf, logprobsConfig, logprobsPerText } from './logprobs.js';
import type { GeminiGenerationConfig } from './wire-types.js';

const configFor = (asked: Record<string, unknown>): GeminiGenerationConfig => {
  const config: GeminiGenerationConfig = {};
  logprobsConfig({ model: 'm', messages: [], ...asked } as ChatRequest, config);
  return config;
};

describe("Gemini's log probabilities", () => {
  it('asks for them only with logprobs: true, and for top candidates with top_logprobs', () => {
    expect(configFor({ logprobs: true })).toEqual({ responseLogprobs: true });
    expect(configFor({ logprobs: true, top_logprobs: 3 })).toEqual({ responseLogprobs: true, logprobs: 3 });
    expect(configFor({ logprobs: false, top_logprobs: 3 })).toEqual({});
    expect(configFor({})).toEqual({});
  });

  it('splits an event\'s tokens among its text parts, each token going with the part its text begins in', () => {
    const all = choiceLogprobsOf({ chosenCandidates: [{ token: 'A ', logProbability: -0.1 }, { token: 'B', logProbability: -0.2 }, { token: 'C', logProbability: -0.3 }] });
    const [first, second] = logprobsPerText(all, ['A ', 'BC']);
    expect(first!.content!.map((step) => step.token)).toEqual(['A ']);
    expect(second!.content!.map((step) => step.token)).toEqual(['B', 'C']);
    expect(logprobsPerText(null, ['A'])).toEqual([null]);
  });

  it('answers none when Gemini gave none', () => {
    expect(choiceLogprobsOf(undefined)).toBeNull();
    expect(choiceLogprobsOf({})).toBeNull();
  });
});
