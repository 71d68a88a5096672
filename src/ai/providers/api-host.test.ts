import { describe, expect, it } from 'vitest';
import { apiHostOf, isProviderOf } from './api-host.js';

describe('the host a base URL reaches', () => {
  it('is read as the URL parser reads it, whatever the spelling', () => {
    expect(apiHostOf('HTTPS://API.DeepSeek.com.:443/')).toBe('api.deepseek.com');
    expect(apiHostOf('https://user:pw@api.together.xyz/v1')).toBe('api.together.xyz');
  });

  it('is empty for a base URL that is no URL', () => {
    expect(apiHostOf('not a url')).toBe('');
    expect(apiHostOf('')).toBe('');
  });

  it('is the same when asked again, and for each of more base URLs than it remembers', () => {
    const urls = Array.from({ length: 600 }, (_, i) => `https://h${i}.example.com/v1`);
    for (const url of urls) expect(apiHostOf(url)).toBe(new URL(url).hostname);
    for (const url of urls) expect(apiHostOf(url)).toBe(new URL(url).hostname);
    expect(apiHostOf('HTTPS://API.DeepSeek.com.:443/')).toBe('api.deepseek.com');
  });
});

describe("a provider known as a host's", () => {
  const hosts: ReadonlySet<string> = new Set(['openrouter.ai']);

  it('is one priced from the host\'s catalog key, its type when it names no catalog', () => {
    expect(isProviderOf({ type: 'openai-compatible', catalog: 'openrouter', baseUrl: 'https://gateway.example.com' }, ['openrouter'], hosts)).toBe(true);
    expect(isProviderOf({ type: 'vllm' }, ['vllm'], new Set())).toBe(true);
  });

  it("is one whose base URL reaches the host's, however spelled", () => {
    expect(isProviderOf({ type: 'openai-compatible', baseUrl: 'HTTPS://OpenRouter.ai.:443/api' }, ['openrouter'], hosts)).toBe(true);
  });

  it('is no other, whatever its base URL or catalog key holds', () => {
    expect(isProviderOf({ type: 'openai-compatible', catalog: 'groq', baseUrl: 'https://openrouter.ai.example.com/api' }, ['openrouter'], hosts)).toBe(false);
    expect(isProviderOf({ type: 'openai-compatible', catalog: 'openrouter-mirror' }, ['openrouter'], hosts)).toBe(false);
  });
});
