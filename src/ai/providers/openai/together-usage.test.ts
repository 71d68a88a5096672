import { describe, expect, it } from 'vitest';
import type { CallContext } from '../provider.js';
import { isTogether, withTogetherCachedTokens } from './together-usage.js';

describe("Together's cache reads", () => {
  /** The second call of Together's prompt-caching guide, its count told at the top (https://docs.together.ai/docs/inference/chat/prompt-caching). */
  const flat = { prompt_tokens: 3_417, completion_tokens: 64, total_tokens: 3_481, cached_tokens: 3_327 };

  it("are told where OpenAI tells them, Together's own member kept as it sent it", () => {
    expect(withTogetherCachedTokens(flat)).toEqual({ ...flat, prompt_tokens_details: { cached_tokens: 3_327 } });
  });

  it("are OpenAI's member's count where a usage tells both, as Together's own example reads them", () => {
    const both = { ...flat, prompt_tokens_details: { cached_tokens: 3_000 } };
    expect(withTogetherCachedTokens(both)).toBe(both);
  });

  it("are Together's count where OpenAI's member tells 0 beside it", () => {
    const zeroed = { ...flat, prompt_tokens_details: { cached_tokens: 0 } };
    expect(withTogetherCachedTokens(zeroed).prompt_tokens_details).toEqual({ cached_tokens: 3_327 });
  });

  it("fill in an OpenAI member that tells no cache reads of its own", () => {
    const details = { ...flat, prompt_tokens_details: { audio_tokens: 0 } as never };
    expect(withTogetherCachedTokens(details).prompt_tokens_details).toEqual({ audio_tokens: 0, cached_tokens: 3_327 });
  });

  it('leave a usage that tells none, 0, or something that is no count as it is', () => {
    for (const cached of [undefined, 0, -5, 1.5, '3327', null]) {
      const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cached_tokens: cached } as never;
      expect(withTogetherCachedTokens(usage)).toBe(usage);
    }
  });
});

describe('which calls go to Together', () => {
  const to = (provider: { baseUrl: string; catalog?: string }): CallContext => ({ provider: { name: 'p', type: 'openai-compatible', ...provider }, credential: { id: 'k', secret: 's' }, model: 'm', stream: false, now: 0 });

  it('are those of a provider priced from the Together catalog, wherever its base URL points', () => {
    expect(isTogether(to({ catalog: 'together', baseUrl: 'http://127.0.0.1:1' }))).toBe(true);
  });

  it("are those whose base URL reaches one of Together's API hosts, however spelled", () => {
    for (const baseUrl of ['https://api.together.xyz', 'https://api.together.ai/v1', 'HTTPS://API-Inference.Together.AI.:443/']) expect(isTogether(to({ baseUrl }))).toBe(true);
  });

  it('are no others', () => {
    for (const baseUrl of ['https://api.fireworks.ai/inference', 'https://together.ai.example.com', 'http://127.0.0.1:1']) expect(isTogether(to({ baseUrl }))).toBe(false);
    expect(isTogether(to({ catalog: 'fireworks', baseUrl: 'https://api.fireworks.ai/inference' }))).toBe(false);
  });
});
