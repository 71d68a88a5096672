import { describe, expect, it } from 'vitest';
import { PROVIDER_ADAPTERS } from './index.js';
import { sendsReasoningBack } from './reasoning-back.js';

const compatible = PROVIDER_ADAPTERS.get('openai-compatible')!;

describe('sendsReasoningBack: which providers are sent the history’s reasoning_content', () => {
  it('sends it to an OpenAI-compatible host, DeepSeek or any other (vLLM, a host of your own)', () => {
    expect(sendsReasoningBack(compatible, { type: 'openai-compatible', catalog: 'deepseek', baseUrl: 'https://api.deepseek.com' })).toBe(true);
    expect(sendsReasoningBack(compatible, { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:8000' })).toBe(true);
  });

  it('sends none to Groq or Cerebras, which refuse the field, known by catalog key or by API host', () => {
    expect(sendsReasoningBack(compatible, { type: 'openai-compatible', catalog: 'groq', baseUrl: 'http://127.0.0.1:9' })).toBe(false);
    expect(sendsReasoningBack(compatible, { type: 'openai-compatible', baseUrl: 'https://api.groq.com/openai' })).toBe(false);
    expect(sendsReasoningBack(compatible, { type: 'openai-compatible', catalog: 'cerebras' })).toBe(false);
    expect(sendsReasoningBack(compatible, { type: 'openai-compatible', baseUrl: 'https://API.cerebras.ai' })).toBe(false);
    // A host whose name only begins like theirs is not theirs.
    expect(sendsReasoningBack(compatible, { type: 'openai-compatible', baseUrl: 'https://api.groq.com.example.org' })).toBe(true);
  });

  it('knows their host however its base URL spells it: a port, capitals, a root dot, a backslash, user info', () => {
    for (const baseUrl of ['https://api.groq.com:443/openai', 'https://API.GROQ.COM/openai', 'https://api.groq.com./openai', 'https://api.groq.com\\openai', 'https://me@api.groq.com/openai', 'https://api.cerebras.ai.:443'])
      expect(sendsReasoningBack(compatible, { type: 'openai-compatible', baseUrl }), baseUrl).toBe(false);
    for (const baseUrl of ['http://api.groq.com.evil', 'https://api.groq.com@example.org/openai', 'https://xapi.groq.com', 'https://api.groq.co'])
      expect(sendsReasoningBack(compatible, { type: 'openai-compatible', baseUrl }), baseUrl).toBe(true);
  });

  it('sends none to a type whose adapter wants none (OpenAI, Azure, Anthropic…)', () => {
    for (const type of ['openai', 'azure-openai', 'anthropic', 'gemini', 'mistral', 'cohere', 'bedrock', 'ollama']) expect(sendsReasoningBack(PROVIDER_ADAPTERS.get(type)!, { type }), type).toBe(false);
  });

  it("follows the provider's own reasoningBack setting, whatever the host", () => {
    expect(sendsReasoningBack(compatible, { type: 'openai-compatible', catalog: 'groq', reasoningBack: true })).toBe(true);
    expect(sendsReasoningBack(compatible, { type: 'openai-compatible', catalog: 'deepseek', reasoningBack: false })).toBe(false);
    expect(sendsReasoningBack(PROVIDER_ADAPTERS.get('openai')!, { type: 'openai', reasoningBack: true })).toBe(true);
  });
});
