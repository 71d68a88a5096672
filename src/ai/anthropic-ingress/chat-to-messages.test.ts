import { describe, expect, it } from 'vitest';
import { ANTHROPIC_BLOCKS, CACHE_WRITES, STOP_SEQUENCE, type ChatCompletion, type FinishReason, type Usage } from '../chat-types.js';
import { chatToMessages } from './chat-to-messages.js';

const completion = (message: ChatCompletion['choices'][number]['message'], finishReason: FinishReason | null = 'stop', usage: ChatCompletion['usage'] = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 }): ChatCompletion => ({
  id: 'chatcmpl-abc123',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
  usage,
});

describe('a chat completion as a Message', () => {
  it('answers text as one text block, with the requested model and end_turn', () => {
    expect(chatToMessages(completion({ role: 'assistant', content: 'Hello there.' }), 'my-claude-alias')).toEqual({
      id: 'msg_abc123',
      type: 'message',
      role: 'assistant',
      model: 'my-claude-alias',
      content: [{ type: 'text', text: 'Hello there.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  });

  it('refuses a choice the provider says failed (OpenRouter’s finish_reason "error"), which no Message can say', () => {
    expect(() => chatToMessages(completion({ role: 'assistant', content: 'Half an ans' }, 'error' as FinishReason), 'claude')).toThrow('the provider answered with a choice that failed');
  });

  it('keeps an id that is already an Anthropic message id', () => {
    expect(chatToMessages({ ...completion({ role: 'assistant', content: 'Hi' }), id: 'msg_01XYZ' }, 'claude').id).toBe('msg_01XYZ');
  });

  it('answers tool calls as tool_use blocks after the text, with tool_use as the stop reason', () => {
    const message = chatToMessages(
      completion(
        {
          role: 'assistant',
          content: 'Checking both.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        'tool_calls',
      ),
      'claude',
    );
    expect(message.content).toEqual([
      { type: 'text', text: 'Checking both.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('has no text block when a tool call comes alone', () => {
    const message = chatToMessages(completion({ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'now', arguments: '{}' } }] }, 'tool_calls'), 'claude');
    expect(message.content).toEqual([{ type: 'tool_use', id: 'call_1', name: 'now', input: {} }]);
  });

  it('gives a tool call whose arguments are not a JSON object the input {}', () => {
    const calls = [
      { id: 'call_1', type: 'function' as const, function: { name: 'a', arguments: '{"city": "Par' } },
      { id: 'call_2', type: 'function' as const, function: { name: 'b', arguments: '' } },
      { id: 'call_3', type: 'function' as const, function: { name: 'c', arguments: '[1,2]' } },
    ];
    const message = chatToMessages(completion({ role: 'assistant', content: null, tool_calls: calls }, 'tool_calls'), 'claude');
    expect(message.content.map((block) => (block.type === 'tool_use' ? block.input : undefined))).toEqual([{}, {}, {}]);
  });

  it('calls a stop with tool calls tool_use, since Anthropic clients run tools only then', () => {
    const message = chatToMessages(completion({ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'now', arguments: '{}' } }] }, 'stop'), 'claude');
    expect(message.stop_reason).toBe('tool_use');
  });

  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
  ] as const)('maps finish reason %s to stop reason %s', (finishReason, stopReason) => {
    expect(chatToMessages(completion({ role: 'assistant', content: 'x' }, finishReason), 'claude').stop_reason).toBe(stopReason);
  });

  it('answers stop_sequence with the sequence when the provider said the answer stopped on one', () => {
    const stopped = completion({ role: 'assistant', content: 'one two ' });
    stopped.choices[0]![STOP_SEQUENCE] = 'three';
    expect(chatToMessages(stopped, 'claude')).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'three' });
  });

  it('answers stop_sequence with a null sequence when the provider did not say which', () => {
    const stopped = completion({ role: 'assistant', content: 'one two ' });
    stopped.choices[0]![STOP_SEQUENCE] = null;
    expect(chatToMessages(stopped, 'claude')).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: null });
  });

  it('answers an empty completion with no content blocks, as Anthropic refuses empty text blocks sent back', () => {
    expect(chatToMessages(completion({ role: 'assistant', content: '' }), 'claude').content).toEqual([]);
  });

  it('answers a refusal as its text', () => {
    expect(chatToMessages(completion({ role: 'assistant', content: null, refusal: 'I can’t help with that.' }, 'content_filter'), 'claude').content).toEqual([{ type: 'text', text: 'I can’t help with that.' }]);
  });

  it('answers an OpenAI refusal, which ends as stop, with stop_reason refusal, its words the text block', () => {
    const message = chatToMessages(completion({ role: 'assistant', content: null, refusal: 'I’m sorry, I can’t help with that.' }, 'stop'), 'claude');
    expect(message.content).toEqual([{ type: 'text', text: 'I’m sorry, I can’t help with that.' }]);
    expect(message).toMatchObject({ stop_reason: 'refusal', stop_sequence: null });
  });

  it('counts cached prompt tokens as cache reads, apart from input tokens', () => {
    const usage = { prompt_tokens: 1200, completion_tokens: 30, total_tokens: 1230, prompt_tokens_details: { cached_tokens: 1024 } };
    expect(chatToMessages(completion({ role: 'assistant', content: 'x' }, 'stop', usage), 'claude').usage).toEqual({ input_tokens: 176, output_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 1024 });
  });

  it('counts cache writes apart from input tokens, in all and by the lifetime of their entries, as the provider reported them', () => {
    const usage: Usage = { prompt_tokens: 1300, completion_tokens: 30, total_tokens: 1330, prompt_tokens_details: { cached_tokens: 200 }, [CACHE_WRITES]: { fiveMinute: 700, oneHour: 300 } };
    expect(chatToMessages(completion({ role: 'assistant', content: 'x' }, 'stop', usage), 'claude').usage).toEqual({
      input_tokens: 100,
      output_tokens: 30,
      cache_creation_input_tokens: 1000,
      cache_read_input_tokens: 200,
      cache_creation: { ephemeral_5m_input_tokens: 700, ephemeral_1h_input_tokens: 300 },
    });
  });

  it('counts in the output tokens the reasoning a host counts apart from its completion tokens, as xAI does', () => {
    const usage = { prompt_tokens: 11, completion_tokens: 5, total_tokens: 80, completion_tokens_details: { reasoning_tokens: 64 } };
    expect(chatToMessages(completion({ role: 'assistant', content: 'x' }, 'stop', usage), 'grok').usage.output_tokens).toBe(69);
  });

  it('reports zero tokens when the completion has no usage', () => {
    const { usage: _, ...unmetered } = completion({ role: 'assistant', content: 'x' });
    expect(chatToMessages(unmetered, 'claude').usage).toEqual({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it('answers with an Anthropic provider’s blocks as they came, thinking first and in their order', () => {
    const blocks = [
      { type: 'thinking', thinking: 'Paris first.', signature: 'sig-1' },
      { type: 'redacted_thinking', data: 'opaque' },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ];
    const message = { role: 'assistant' as const, content: 'Let me check.', reasoning_content: 'Paris first.', tool_calls: [{ id: 'toolu_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }], [ANTHROPIC_BLOCKS]: blocks };
    expect(chatToMessages(completion(message, 'tool_calls'), 'claude')).toMatchObject({ content: blocks, stop_reason: 'tool_use' });
  });

  it('leaves another provider’s reasoning_content out when the client asked for no thinking', () => {
    expect(chatToMessages(completion({ role: 'assistant', content: '42', reasoning_content: 'Thinking…' }), 'deepseek').content).toEqual([{ type: 'text', text: '42' }]);
    expect(chatToMessages(completion({ role: 'assistant', content: '42', reasoning_content: 'Thinking…' }), 'deepseek', [], { on: false }).content).toEqual([{ type: 'text', text: '42' }]);
  });

  it('answers another provider’s reasoning_content as a thinking block before the text, signed as Keygate’s, when the client asked for thinking', () => {
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    expect(chatToMessages(completion({ role: 'assistant', content: 'Let me check.', reasoning_content: 'Paris first.', tool_calls: [call] }, 'tool_calls'), 'deepseek', [], { on: true }).content).toEqual([
      { type: 'thinking', thinking: 'Paris first.', signature: 'keygate:v1' },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
    ]);
  });

  it('answers omitted thinking with its text empty, carried in the signature instead', () => {
    const [block] = chatToMessages(completion({ role: 'assistant', content: '42', reasoning_content: 'Six times seven.' }), 'deepseek', [], { on: true, omitted: true }).content;
    expect(block).toEqual({ type: 'thinking', thinking: '', signature: `keygate:v1:${Buffer.from('Six times seven.').toString('base64')}` });
  });

  describe('asked for no thinking, from a host that wants its reasoning back', () => {
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    const hidden = { type: 'thinking', thinking: '', signature: `keygate:v1:${Buffer.from('Paris first.').toString('base64')}` };

    it('hands back the reasoning of an answer that calls tools, in a thinking block whose text is empty', () => {
      const message = chatToMessages(completion({ role: 'assistant', content: 'Let me check.', reasoning_content: 'Paris first.', tool_calls: [call] }, 'tool_calls'), 'deepseek', [], undefined, 'tool-calls');
      expect(message.content).toEqual([hidden, { type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }]);
    });

    it('leaves out the reasoning of an answer that calls no tools in a turn that called none', () => {
      expect(chatToMessages(completion({ role: 'assistant', content: '42', reasoning_content: 'Paris first.' }), 'deepseek', [], undefined, 'tool-calls').content).toEqual([{ type: 'text', text: '42' }]);
    });

    it('hands back the reasoning of any answer in a turn that called tools, the one that ends it too', () => {
      expect(chatToMessages(completion({ role: 'assistant', content: 'It is 21°C.', reasoning_content: 'Paris first.' }), 'deepseek', [], { on: false }, 'turn').content).toEqual([hidden, { type: 'text', text: 'It is 21°C.' }]);
    });
  });
});
