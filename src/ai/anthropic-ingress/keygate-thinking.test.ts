import { describe, expect, it } from 'vitest';
import { THINKING, type ChatMessage, type ChatRequest } from '../chat-types.js';
import { hiddenReasoningFor } from './keygate-thinking.js';

const question: ChatMessage = { role: 'user', content: 'Weather in Paris?' };
const calls: ChatMessage = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] };
const result: ChatMessage = { role: 'tool', tool_call_id: 'call_1', content: '21' };
const request = (messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'deep', messages, ...extra });

describe('the reasoning handed back to a client that asked for no thinking', () => {
  it('is none from a host that does not want it back', () => {
    expect(hiddenReasoningFor(request([question, calls, result]), false)).toBeUndefined();
  });

  it('is none beside the thinking the client asked for, which it gets as it asked', () => {
    expect(hiddenReasoningFor(request([question, calls, result], { [THINKING]: { type: 'adaptive' } }), true)).toBeUndefined();
  });

  it('is an answer’s that calls tools, when the turn has called none yet', () => {
    expect(hiddenReasoningFor(request([question]), true)).toBe('tool-calls');
    expect(hiddenReasoningFor(request([question], { [THINKING]: { type: 'disabled' } }), true)).toBe('tool-calls');
    expect(hiddenReasoningFor(request([question, calls, result, { role: 'assistant', content: '21°C.' }, { role: 'user', content: 'And Rome?' }]), true)).toBe('tool-calls');
  });

  it('is any answer’s, when the turn since the last user message has called tools', () => {
    expect(hiddenReasoningFor(request([question, calls, result]), true)).toBe('turn');
  });
});
