import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../chat-types.js';
import { PROVIDER_ADAPTERS } from './index.js';
import type { CallContext } from './provider.js';

const ctx = (type: string): CallContext => ({
  provider: { name: 'up', type, baseUrl: 'http://127.0.0.1:1', region: 'us-east-1' },
  credential: { id: 'k1', secret: type === 'bedrock' ? 'AKIDEXAMPLE:secret' : 'sk-test' },
  model: type === 'bedrock' ? 'deepseek.r1-v1:0' : 'some-model',
  stream: false,
  now: 0,
});

/** A tool loop's history whose tool-calling turn carries its reasoning, as a client sends it back. */
const request: ChatRequest = {
  model: 'm',
  messages: [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: null, reasoning_content: 'I look it up.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] } as ChatMessage,
    { role: 'tool', tool_call_id: 'call_1', content: '21' },
  ],
  tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
};

describe('the hosts that want their reasoning back', () => {
  it.each([...PROVIDER_ADAPTERS.keys()])('are the ones sent the history’s reasoning_content (%s)', (type) => {
    const adapter = PROVIDER_ADAPTERS.get(type)!;
    const sent = adapter.chatCall(request, ctx(type)).body ?? '';
    expect(sent.includes('I look it up.')).toBe(adapter.wantsReasoningBack === true);
  });

  it('are the OpenAI-compatible hosts alone, DeepSeek among them', () => {
    expect([...PROVIDER_ADAPTERS].filter(([, adapter]) => adapter.wantsReasoningBack).map(([type]) => type)).toEqual(['openai-compatible']);
  });
});
