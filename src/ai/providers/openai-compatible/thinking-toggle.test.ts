import { describe, expect, it } from 'vitest';
import { ModelCatalog } from '../../catalog/index.js';
import { THINKING, type ChatRequest } from '../../chat-types.js';
import type { CallContext } from '../provider.js';
import { takesThinkingToggle, thinkingToggleFor, withThinkingToggle } from './thinking-toggle.js';

const catalog = ModelCatalog.shipped();
const deepseek = { name: 'deepseek', type: 'openai-compatible', baseUrl: 'https://api.deepseek.com', thinkingToggle: true };

function ctx(model: string, provider: CallContext['provider'] = deepseek): CallContext {
  return { provider, credential: { id: 'k', secret: 's' }, model, stream: false, now: 0, catalogModel: catalog.priced('deepseek', model) };
}

function asking(thinking: Record<string, unknown> | undefined): ChatRequest {
  const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'Hi' }] };
  if (thinking) request[THINKING] = thinking;
  return request;
}

describe('takesThinkingToggle: which providers are DeepSeek’s API', () => {
  it('knows DeepSeek by its catalog key or by the host its base URL reaches, however spelt', () => {
    expect(takesThinkingToggle({ type: 'openai-compatible', catalog: 'deepseek', baseUrl: 'http://127.0.0.1:9' })).toBe(true);
    for (const baseUrl of ['https://api.deepseek.com', 'https://API.DeepSeek.com.:443/', 'https://me@api.deepseek.com'])
      expect(takesThinkingToggle({ type: 'openai-compatible', baseUrl }), baseUrl).toBe(true);
  });

  it('takes no other host, nor another type at DeepSeek’s host', () => {
    for (const baseUrl of ['https://api.deepseek.com.example.org', 'https://api.deepseek.com@example.org', 'https://xapi.deepseek.com', 'http://127.0.0.1:8000'])
      expect(takesThinkingToggle({ type: 'openai-compatible', baseUrl }), baseUrl).toBe(false);
    expect(takesThinkingToggle({ type: 'openai-compatible', catalog: 'groq', baseUrl: 'https://api.groq.com/openai' })).toBe(false);
    expect(takesThinkingToggle({ type: 'openai', catalog: 'deepseek', baseUrl: 'https://api.deepseek.com' })).toBe(false);
  });
});

describe('thinkingToggleFor: the switch DeepSeek is sent for an Anthropic-format client’s thinking', () => {
  it('turns thinking off for a client that disabled it, on any model but deepseek-reasoner', () => {
    for (const model of ['deepseek-v4-flash', 'deepseek-v4-pro', 'deepseek-chat', 'a-model-the-catalog-lacks']) expect(thinkingToggleFor(asking({ type: 'disabled' }), {}, ctx(model)), model).toEqual({ type: 'disabled' });
    expect(thinkingToggleFor(asking({ type: 'disabled' }), {}, ctx('deepseek-reasoner'))).toBeUndefined();
  });

  it('turns thinking on for a client that asked for it, on the models the catalog says reason', () => {
    for (const thinking of [{ type: 'enabled', budget_tokens: 2048 }, { type: 'adaptive' }]) {
      expect(thinkingToggleFor(asking(thinking), {}, ctx('deepseek-v4-pro'))).toEqual({ type: 'enabled' });
      expect(thinkingToggleFor(asking(thinking), {}, ctx('deepseek-reasoner'))).toEqual({ type: 'enabled' });
      expect(thinkingToggleFor(asking(thinking), {}, ctx('deepseek-chat'))).toBeUndefined();
      expect(thinkingToggleFor(asking(thinking), {}, ctx('a-model-the-catalog-lacks'))).toBeUndefined();
    }
  });

  it('sends nothing for a client that asked nothing, or that sent its own switch, or to another host', () => {
    expect(thinkingToggleFor(asking(undefined), {}, ctx('deepseek-v4-flash'))).toBeUndefined();
    expect(thinkingToggleFor(asking({ type: 'disabled' }), { thinking: { type: 'enabled' } }, ctx('deepseek-v4-flash'))).toBeUndefined();
    expect(thinkingToggleFor(asking({ type: 'disabled' }), {}, ctx('deepseek-v4-flash', { name: 'vllm', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:8000' }))).toBeUndefined();
  });
});

describe('withThinkingToggle: an OpenAI-format client’s reasoning_effort "none" to DeepSeek', () => {
  const none = { model: 'm', messages: [{ role: 'user', content: 'Hi' }], reasoning_effort: 'none' };

  it('is the switch turned off, the effort DeepSeek does not document gone, on any model but deepseek-reasoner', () => {
    for (const model of ['deepseek-v4-flash', 'deepseek-chat', 'a-model-the-catalog-lacks']) expect(withThinkingToggle(asking(undefined), { ...none }, ctx(model)), model).toEqual({ model: 'm', messages: none.messages, thinking: { type: 'disabled' } });
    expect(withThinkingToggle(asking(undefined), { ...none }, ctx('deepseek-reasoner'))).toEqual(none);
  });

  it('is left as it is beside a switch of the client’s own, or to another host; other efforts are left to DeepSeek', () => {
    const own = { ...none, thinking: { type: 'enabled' } };
    expect(withThinkingToggle(asking(undefined), { ...own }, ctx('deepseek-v4-flash'))).toEqual(own);
    expect(withThinkingToggle(asking(undefined), { ...none }, ctx('deepseek-v4-flash', { name: 'vllm', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:8000' }))).toEqual(none);
    for (const effort of ['minimal', 'low', 'high', 'max']) expect(withThinkingToggle(asking(undefined), { ...none, reasoning_effort: effort }, ctx('deepseek-v4-flash')), effort).toEqual({ ...none, reasoning_effort: effort });
  });

  it('keeps an Anthropic-format client’s switch as it was: its effort, when it has one, goes with it', () => {
    expect(withThinkingToggle(asking({ type: 'enabled', budget_tokens: 1024 }), { model: 'm', reasoning_effort: 'low' }, ctx('deepseek-v4-pro'))).toEqual({ model: 'm', reasoning_effort: 'low', thinking: { type: 'enabled' } });
  });
});
