import { describe, expect, it } from 'vitest';
import { ANTHROPIC_BLOCKS, type AnthropicBlock, type ClientCompletion } from './chat-types.js';
import { oneToolCallPerChoice, withOneToolCall } from './one-tool-call.js';
import { SOURCE_TEXT, type TranslatedChunk } from './providers/index.js';

const call = (id: string) => ({ id, type: 'function' as const, function: { name: id, arguments: '{}' } });

describe('one tool call per choice', () => {
  it('keeps the first call of each choice that has several, and leaves the rest of the completion as it was', () => {
    const completion = {
      id: 'c', object: 'chat.completion', created: 1, model: 'm', usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
      choices: [
        { index: 0, message: { role: 'assistant', content: null, tool_calls: [call('a'), call('b')] }, finish_reason: 'tool_calls' },
        { index: 1, message: { role: 'assistant', content: 'no calls' }, finish_reason: 'stop' },
      ],
    } as ClientCompletion;
    const one = withOneToolCall(completion);
    expect(one.choices[0]!.message.tool_calls).toEqual([call('a')]);
    expect(one.choices[1]).toBe(completion.choices[1]);
    expect(one.usage).toBe(completion.usage);
    expect(completion.choices[0]!.message.tool_calls).toHaveLength(2);
  });

  it("drops the later calls' tool_use blocks from the answer's own blocks, which an Anthropic-format client is answered with", () => {
    const blocks: AnthropicBlock[] = [{ type: 'tool_use', id: 'a', name: 'a', input: {} }, { type: 'text', text: 'and also' }, { type: 'tool_use', id: 'b', name: 'b', input: {} }];
    const completion = { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'and also', tool_calls: [call('a'), call('b')], [ANTHROPIC_BLOCKS]: blocks }, finish_reason: 'tool_calls' }] } as ClientCompletion;
    expect(withOneToolCall(completion).choices[0]!.message[ANTHROPIC_BLOCKS]).toEqual([blocks[0], blocks[1]]);
  });

  it('gives back the same completion when no choice has more than one call', () => {
    const completion = { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call('a')] }, finish_reason: 'tool_calls' }] } as ClientCompletion;
    expect(withOneToolCall(completion)).toBe(completion);
  });

  it("drops the deltas of a choice's later calls, keeps its first call's and its text, and writes such a chunk anew", () => {
    const one = oneToolCallPerChoice();
    const first = chunk([{ index: 0, id: 'a' }]);
    expect(one(first)).toBe(first);
    const later = one(chunk([{ index: 1, id: 'b' }], 'text'));
    expect(later.choices[0]!.delta).toEqual({ content: 'text' });
    expect(later[SOURCE_TEXT]).toBeUndefined();
    const both = one(chunk([{ index: 0 }, { index: 1 }]));
    expect(both.choices[0]!.delta.tool_calls!.map((c) => c.index)).toEqual([0]);
  });

  it('keeps the call whose index came first, whatever it is: a host in front of Claude may number its only call 1', () => {
    const one = oneToolCallPerChoice();
    const only = chunk([{ index: 1, id: 'toolu_1' }]);
    expect(one(only)).toBe(only);
    const more = chunk([{ index: 1 }]);
    expect(one(more)).toBe(more);
    expect(one(chunk([{ index: 2, id: 'toolu_2' }])).choices[0]!.delta).toEqual({});
  });

  it("keeps each choice's first call when a chunk holds several choices' calls", () => {
    const one = oneToolCallPerChoice();
    const both = chunk([{ index: 0, id: 'a' }, { index: 1, id: 'b' }]);
    both.choices.push({ index: 1, delta: { tool_calls: [{ index: 0, id: 'c', function: { arguments: '{}' } }] }, finish_reason: null });
    const kept = one(both);
    expect(kept.choices.map((choice) => choice.delta.tool_calls?.map((call) => call.id))).toEqual([['a'], ['c']]);
    // The next chunk's deltas of choice 1's call go on.
    const next = chunk([]);
    next.choices = [{ index: 1, delta: { tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }, finish_reason: null }];
    expect(one(next)).toBe(next);
  });
});

/** A chunk of choice 0 with these tool-call deltas (and text), carrying its own text as a host's chunk does. */
function chunk(calls: Array<{ index: number; id?: string }>, content?: string): TranslatedChunk {
  const made: TranslatedChunk = { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { ...(content ? { content } : {}), tool_calls: calls.map((c) => ({ ...c, function: { arguments: '{}' } })) }, finish_reason: null }] };
  Object.defineProperty(made, SOURCE_TEXT, { value: JSON.stringify(made) });
  return made;
}
