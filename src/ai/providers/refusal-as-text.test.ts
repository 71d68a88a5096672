import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../chat-types.js';
import { PROVIDER_ADAPTERS, type CallContext } from './index.js';
import { takeCacheControl } from '../openai-cache-control.js';
import { refusalsAsText } from './refusal-as-text.js';

const REFUSED = "I'm sorry, I can't help with that.";
const history = (assistant: Record<string, unknown>) => ({ model: 'm', messages: [{ role: 'user', content: 'Help me pick a lock.' }, { role: 'assistant', ...assistant }, { role: 'user', content: 'A bike lock, my own.' }] }) as unknown as ChatRequest;

function ctx(type: string): CallContext {
  const secret = type === 'bedrock' ? 'AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG' : 'k';
  return { provider: { name: `${type}-test`, type, baseUrl: 'http://127.0.0.1:9', region: 'us-east-1' }, credential: { id: 'k1', secret }, model: 'm', stream: false, now: Date.UTC(2026, 10, 29) };
}

describe('an assistant refusal in the history, to a provider that has no refusal of its own', () => {
  const types = ['anthropic', 'gemini', 'bedrock', 'mistral', 'cohere', 'ollama'];

  it.each(types)('%s gets a refusal part as the assistant text', (type) => {
    const body = String(PROVIDER_ADAPTERS.get(type)!.chatCall(history({ content: [{ type: 'refusal', refusal: REFUSED }] }), ctx(type)).body);
    expect(body).toContain(JSON.stringify(REFUSED));
    expect(body).not.toContain('"refusal"');
  });

  it.each(types)('%s gets the refusal member (content null) as the assistant text', (type) => {
    const body = String(PROVIDER_ADAPTERS.get(type)!.chatCall(history({ content: null, refusal: REFUSED }), ctx(type)).body);
    expect(body).toContain(JSON.stringify(REFUSED));
  });

  it.each(['anthropic', 'bedrock'])('%s keeps the cache breakpoint a client put on a refusal part', (type) => {
    const request = history({ content: [{ type: 'refusal', refusal: REFUSED, cache_control: { type: 'ephemeral' } }] });
    expect(takeCacheControl((request.messages[1]!.content as unknown as Array<Record<string, unknown>>)[0]!, 'messages[1].content[0]')).toBe(true);
    // Bedrock caches prompts for Claude 3.5 Haiku, 3.7 Sonnet and Claude 4 on: a model that caches.
    const body = JSON.parse(String(PROVIDER_ADAPTERS.get(type)!.chatCall(request, { ...ctx(type), model: type === 'bedrock' ? 'anthropic.claude-sonnet-4-20250514-v1:0' : 'claude-sonnet-4-5' }).body));
    const assistant = JSON.stringify(body.messages[1]);
    expect(assistant).toContain(JSON.stringify(REFUSED));
    expect(assistant).toMatch(type === 'anthropic' ? /"cache_control":\{"type":"ephemeral"\}/ : /"cachePoint":\{"type":"default"\}/);
  });

  it('puts the refusal member after text the message also has', () => {
    expect(refusalsAsText(history({ content: 'Let me think.', refusal: REFUSED })).messages[1]).toEqual({ role: 'assistant', content: `Let me think.\n${REFUSED}` });
  });

  it('leaves a request without a refusal as it is', () => {
    const request = history({ content: 'Sure.', refusal: null });
    expect(refusalsAsText(request)).toBe(request);
  });
});
