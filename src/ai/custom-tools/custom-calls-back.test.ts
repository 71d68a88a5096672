import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk, ChunkToolCallDelta } from '../chat-types.js';
import { CustomCallChunks, customCallsBack } from './custom-calls-back.js';

const names = new Set(['apply_patch']);
const completion = (calls: Array<{ name: string; arguments: string }>): ChatCompletion => ({
  id: 'c1',
  object: 'chat.completion',
  created: 1,
  model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: calls.map((fn, i) => ({ id: `call_${i}`, type: 'function', function: fn })) }, finish_reason: 'tool_calls' }],
});

describe("a provider's answer to custom tools sent as functions", () => {
  it('gives each call of a custom tool back as a custom call, its input the decoded string; other calls as they are', () => {
    const answer = customCallsBack(completion([{ name: 'get_weather', arguments: '{"city":"Paris"}' }, { name: 'apply_patch', arguments: '{"input":"line\\nline"}' }]), names);
    expect(answer.choices[0]!.message.tool_calls).toEqual([
      { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: 'line\nline' } },
    ]);
  });

  it('passes arguments that hold no string input as the raw text', () => {
    const answer = customCallsBack(completion([{ name: 'apply_patch', arguments: '{"patch":"x"}' }]), names);
    expect(answer.choices[0]!.message.tool_calls![0]).toEqual({ id: 'call_0', type: 'custom', custom: { name: 'apply_patch', input: '{"patch":"x"}' } });
  });

  it('is the same completion when no call is of a custom tool', () => {
    const plain = completion([{ name: 'get_weather', arguments: '{}' }]);
    expect(customCallsBack(plain, names)).toBe(plain);
  });
});

const chunk = (calls: ChunkToolCallDelta[] | undefined, finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => ({
  id: 'c1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'm',
  choices: [{ index: 0, delta: calls ? { tool_calls: calls } : {}, finish_reason: finish }],
});

describe("a provider's stream with custom tools sent as functions", () => {
  it('streams a custom call as custom deltas whose input is the decoded text, fragment by fragment', () => {
    const chunks = new CustomCallChunks(names).push([
      chunk([{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'apply_patch', arguments: '' } }]),
      chunk([{ index: 0, function: { arguments: '{"input": "a\\' } }]),
      chunk([{ index: 0, function: { arguments: 'nb"}' } }]),
      chunk(undefined, 'tool_calls'),
    ]);
    expect(chunks.map((c) => c.choices[0]!.delta)).toEqual([
      { tool_calls: [{ index: 0, id: 'toolu_1', type: 'custom', custom: { name: 'apply_patch', input: '' } }] },
      { tool_calls: [{ index: 0, custom: { input: 'a' } }] },
      { tool_calls: [{ index: 0, custom: { input: '\nb' } }] },
      {},
    ]);
    expect(chunks[3]!.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('gives a call whose arguments come whole in its first delta (as Gemini sends them) its whole input at once', () => {
    const chunks = new CustomCallChunks(names).push([chunk([{ index: 0, id: 'call_1', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"x"}' } }]), chunk(undefined, 'tool_calls')]);
    expect(chunks[0]!.choices[0]!.delta.tool_calls).toEqual([{ index: 0, id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: 'x' } }]);
  });

  it('flushes held-back input in the finishing chunk, and passes function calls as they are', () => {
    const weather = chunk([{ index: 1, id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{}' } }]);
    const chunks = new CustomCallChunks(names).push([chunk([{ index: 0, id: 'call_1', type: 'function', function: { name: 'apply_patch', arguments: '{"x":1,"input":"late"}' } }]), weather, chunk(undefined, 'tool_calls')]);
    expect(chunks[0]!.choices[0]!.delta.tool_calls).toEqual([{ index: 0, id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: '' } }]);
    expect(chunks[1]).toBe(weather);
    expect(chunks[2]!.choices[0]).toMatchObject({ delta: { tool_calls: [{ index: 0, custom: { input: 'late' } }] }, finish_reason: 'tool_calls' });
  });

  it('flushes held-back input in one more chunk when the stream ends without a finish', () => {
    const calls = new CustomCallChunks(names);
    calls.push([chunk([{ index: 0, id: 'call_1', type: 'function', function: { name: 'apply_patch', arguments: '{"x":1,"input":"late"}' } }])]);
    const last = calls.end([]);
    expect(last).toHaveLength(1);
    expect(last[0]!.choices[0]).toMatchObject({ delta: { tool_calls: [{ index: 0, custom: { input: 'late' } }] }, finish_reason: null });
  });

  it('adds no chunk when the stream ends without a finish but nothing was held back', () => {
    const calls = new CustomCallChunks(names);
    calls.push([chunk([{ index: 0, id: 'call_1', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"hi"}' } }])]);
    expect(calls.end([])).toEqual([]);
  });
});
