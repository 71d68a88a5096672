import { describe, expect, it } from 'vitest';
import { CACHE_WRITES, PROMPT_USAGE, STOP_SEQUENCE, THINKING_DELTA, type ChatCompletionChunk, type ChunkToolCallDelta, type FinishReason, type Usage } from '../chat-types.js';
import { ChatChunksToMessageEvents } from './chunks-to-message-events.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];
const chunk = (delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk => ({
  id: 'chatcmpl-stream1',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
});
const tool = (call: ChunkToolCallDelta) => chunk({ tool_calls: [call] });
const usageChunk = (usage: Usage): ChatCompletionChunk => ({ id: 'chatcmpl-stream1', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini', choices: [], usage });
const usage = (prompt: number, completion: number): Usage => ({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

/** Runs chunks through a translator and reads each event back, checking it is one `event:`/`data:` pair whose names agree. */
function translate(chunks: ChatCompletionChunk[], endUsage?: Usage, translator = new ChatChunksToMessageEvents('claude-sonnet-4-5', { inputTokens: 9 })) {
  const raw = [...chunks.flatMap((c) => translator.push(c)), ...translator.end(endUsage)];
  return raw.map((text) => {
    const match = /^event: ([a-z_]+)\ndata: (.+)\n\n$/.exec(text);
    expect(match, text).not.toBeNull();
    const data = JSON.parse(match![2]!) as { type: string } & Record<string, unknown>;
    expect(data.type).toBe(match![1]);
    return data;
  });
}

/** Anthropic's stream grammar: blocks numbered from 0, each started, then its deltas, then stopped before the next. */
function expectWellFormed(events: Array<{ type: string } & Record<string, unknown>>) {
  expect(events[0]?.type).toBe('message_start');
  expect(events.slice(-2).map((e) => e.type)).toEqual(['message_delta', 'message_stop']);
  let open: number | undefined;
  let next = 0;
  for (const event of events.slice(1, -2)) {
    if (event.type === 'content_block_start') {
      expect(open).toBeUndefined();
      expect(event.index).toBe(next++);
      open = event.index as number;
    } else {
      expect(event.index).toBe(open);
      if (event.type === 'content_block_stop') open = undefined;
    }
  }
  expect(open).toBeUndefined();
}

const messageStart = (inputTokens: number) => ({
  type: 'message_start',
  message: { id: 'msg_stream1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: inputTokens, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
});

describe('chat chunks as Anthropic stream events', () => {
  it('turn a text answer into message_start, one text block, message_delta and message_stop', () => {
    const events = translate([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo!' }), chunk({}, 'stop'), usageChunk(usage(10, 2))]);
    expect(events).toEqual([
      messageStart(9),
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo!' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { input_tokens: 10, output_tokens: 2, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
      { type: 'message_stop' },
    ]);
  });

  it('turn text then two tool calls into a text block and two tool_use blocks with their argument fragments', () => {
    const events = translate([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Let me check.' }),
      tool({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }),
      tool({ index: 0, function: { arguments: '{"city":' } }),
      tool({ index: 0, function: { arguments: '"Paris"}' } }),
      tool({ index: 1, id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '' } }),
      tool({ index: 1, function: { arguments: '{"city":"Rome"}' } }),
      chunk({}, 'tool_calls'),
      usageChunk(usage(40, 25)),
    ]);
    expect(events).toEqual([
      messageStart(9),
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me check.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_2', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city":"Rome"}' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 40, output_tokens: 25, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
      { type: 'message_stop' },
    ]);
    expectWellFormed(events);
  });

  describe('tool calls whose fragments a host interleaves (0, 1, 0, 1)', () => {
    const interleaved = [
      chunk({ role: 'assistant', content: '' }),
      tool({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }),
      tool({ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"zone":' } }),
      tool({ index: 0, function: { arguments: '"Paris"}' } }),
      tool({ index: 1, function: { arguments: '"CET"}' } }),
      chunk({}, 'tool_calls'),
    ];
    /** Each tool_use block's name and its input_json_deltas joined. */
    const callsIn = (events: ReturnType<typeof translate>) =>
      events
        .filter((e) => e.type === 'content_block_start')
        .map((start) => [(start.content_block as { name: string }).name, events.filter((e) => e.type === 'content_block_delta' && e.index === start.index).map((e) => (e.delta as { partial_json: string }).partial_json).join('')]);

    it('keep every fragment, each call in a block of its own, the blocks never overlapping', () => {
      const events = translate(interleaved);
      expect(callsIn(events)).toEqual([
        ['get_weather', '{"city":"Paris"}'],
        ['get_time', '{"zone":"CET"}'],
      ]);
      expectWellFormed(events);
    });

    it('give a call that waited its fragments when the answer ends before the open call is whole', () => {
      const cut = [...interleaved.slice(0, 3), tool({ index: 0, function: { arguments: '"Par' } }), tool({ index: 1, function: { arguments: '"CET"}' } }), chunk({}, 'length')];
      expect(callsIn(translate(cut))).toEqual([
        ['get_weather', '{"city":"Par'],
        ['get_time', '{"zone":"CET"}'],
      ]);
    });
  });

  it('turn a lone tool call, arriving whole, into one tool_use block at index 0', () => {
    const events = translate([chunk({ role: 'assistant', content: '' }), chunk({ tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'now', arguments: '{}' } }] }, 'tool_calls')], usage(7, 3));
    expect(events).toEqual([
      messageStart(9),
      { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'call_9', name: 'now', input: {} } },
      { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 7, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
      { type: 'message_stop' },
    ]);
  });

  it('start a new text block for text after a tool call', () => {
    const events = translate([tool({ index: 0, id: 'call_1', function: { name: 'now', arguments: '{}' } }), chunk({ content: 'Done.' }), chunk({}, 'stop')]);
    expect(events.filter((e) => e.type === 'content_block_start').map((e) => [e.index, (e.content_block as { type: string }).type])).toEqual([
      [0, 'tool_use'],
      [1, 'text'],
    ]);
    expectWellFormed(events);
  });

  it('prefer the usage given to end over the provider’s usage chunk', () => {
    const events = translate([chunk({ content: 'x' }, 'stop'), usageChunk(usage(10, 2))], usage(11, 4));
    expect(events.at(-2)?.usage).toEqual({ input_tokens: 11, output_tokens: 4, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it('report cached prompt tokens as cache reads', () => {
    const events = translate([chunk({ content: 'x' }, 'stop')], { ...usage(1100, 4), prompt_tokens_details: { cached_tokens: 1000 } });
    expect(events.at(-2)?.usage).toEqual({ input_tokens: 100, output_tokens: 4, cache_creation_input_tokens: 0, cache_read_input_tokens: 1000 });
  });

  it('report cache writes by the lifetime of their entries in message_start and message_delta, as the provider reported them', () => {
    const writes = { [CACHE_WRITES]: { fiveMinute: 20, oneHour: 10 } };
    const first = chunk({ role: 'assistant', content: '' });
    first[PROMPT_USAGE] = { ...usage(70, 0), ...writes };
    const events = translate([first, chunk({ content: 'x' }, 'stop')], { ...usage(70, 4), ...writes });
    const counted = { input_tokens: 40, cache_creation_input_tokens: 30, cache_read_input_tokens: 0, cache_creation: { ephemeral_5m_input_tokens: 20, ephemeral_1h_input_tokens: 10 } };
    expect(events[0]?.message).toMatchObject({ usage: { ...counted, output_tokens: 0 } });
    expect(events.at(-2)?.usage).toEqual({ ...counted, output_tokens: 4 });
  });

  it('report zero output tokens when nothing was counted', () => {
    expect(translate([chunk({ content: 'x' }, 'stop')]).at(-2)?.usage).toEqual({ output_tokens: 0 });
  });

  it('take message_start’s input tokens from a usage on the first chunk', () => {
    const first = { ...chunk({ role: 'assistant', content: '' }), usage: usage(33, 0) };
    expect(translate([first, chunk({}, 'stop')])[0]).toEqual(messageStart(33));
  });

  it('take message_start’s input tokens from the prompt usage the provider counted before answering, over the estimate', () => {
    const first = chunk({ role: 'assistant', content: '' });
    first[PROMPT_USAGE] = { ...usage(1040, 0), prompt_tokens_details: { cached_tokens: 1000 } };
    expect(translate([first, chunk({}, 'stop')])[0]).toMatchObject({ message: { usage: { input_tokens: 40, output_tokens: 0, cache_read_input_tokens: 1000 } } });
  });

  it('end with an error event, not end_turn, when the provider says the choice failed (OpenRouter’s finish_reason "error")', () => {
    const translator = new ChatChunksToMessageEvents('claude-sonnet-4-5', { inputTokens: 9 });
    const events = translate([chunk({ content: 'Half an ans' }), chunk({}, 'error' as FinishReason), chunk({ content: 'more' })], usage(10, 2), translator);
    expect(events.map((e) => e.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'error']);
    expect(translator.failed).toBe(true);
  });

  it('map a length finish to max_tokens and stop the open block', () => {
    const events = translate([chunk({ content: 'cut sh' }), chunk({}, 'length')]);
    expect(events.at(-2)?.delta).toEqual({ stop_reason: 'max_tokens', stop_sequence: null });
    expectWellFormed(events);
  });

  it('end a streamed OpenAI refusal, which ends as stop, with stop_reason refusal, its fragments the text block', () => {
    const events = translate([chunk({ role: 'assistant', content: null, refusal: '' }), chunk({ refusal: 'I’m sorry, ' }), chunk({ refusal: 'I can’t help with that.' }), chunk({}, 'stop')]);
    expect(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta)).toEqual([
      { type: 'text_delta', text: 'I’m sorry, ' },
      { type: 'text_delta', text: 'I can’t help with that.' },
    ]);
    expect(events.find((e) => e.type === 'message_delta')!.delta).toEqual({ stop_reason: 'refusal', stop_sequence: null });
    expectWellFormed(events);
  });

  it('report the stop sequence the finishing choice stopped on in message_delta', () => {
    const finish = chunk({}, 'stop');
    finish.choices[0]![STOP_SEQUENCE] = 'END';
    expect(translate([chunk({ content: 'x' }), finish]).at(-2)?.delta).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
  });

  it('stop a block left open by a stream that ended without a finish chunk', () => {
    const events = translate([chunk({ content: 'partial' })]);
    expect(events.map((e) => e.type)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  });

  it('still make a whole message of a stream with no chunks', () => {
    expect(translate([]).map((e) => e.type)).toEqual(['message_start', 'message_delta', 'message_stop']);
  });

  it('use the id given instead of the chunk’s', () => {
    expect(translate([chunk({ content: 'x' })], undefined, new ChatChunksToMessageEvents('claude', { id: 'msg_fixed' }))[0]).toMatchObject({ message: { id: 'msg_fixed', model: 'claude' } });
  });

  it('ignore choices other than the first', () => {
    const both: ChatCompletionChunk = { ...chunk({ content: 'A' }), choices: [...chunk({ content: 'A' }).choices, { index: 1, delta: { content: 'B' }, finish_reason: null }] };
    const texts = translate([both]).flatMap((e) => (e.type === 'content_block_delta' ? [(e.delta as { text: string }).text] : []));
    expect(texts).toEqual(['A']);
  });

  it('end a failed stream with one error event and nothing after it', () => {
    const translator = new ChatChunksToMessageEvents('claude');
    translator.push(chunk({ content: 'x' }));
    expect(translator.fail('the provider stream failed')).toEqual(['event: error\ndata: {"type":"error","error":{"type":"api_error","message":"the provider stream failed"}}\n\n']);
    expect(translator.end()).toEqual([]);
    expect(translator.push(chunk({ content: 'y' }))).toEqual([]);
  });

  it('make nothing more once ended', () => {
    const translator = new ChatChunksToMessageEvents('claude');
    translator.end();
    expect([...translator.push(chunk({ content: 'late' })), ...translator.end()]).toEqual([]);
  });

  it('streams an Anthropic provider’s thinking as Anthropic does, numbered with the text and tool blocks after it', () => {
    const events = translate([
      chunk({ role: 'assistant', content: '' }),
      chunk({ [THINKING_DELTA]: { block: { type: 'thinking', thinking: '' } } }),
      chunk({ reasoning_content: 'Paris ', [THINKING_DELTA]: { thinking: 'Paris ' } }),
      chunk({ reasoning_content: 'first.', [THINKING_DELTA]: { thinking: 'first.' } }),
      chunk({ [THINKING_DELTA]: { signature: 'sig-1' } }),
      chunk({ [THINKING_DELTA]: { block: { type: 'redacted_thinking', data: 'opaque' } } }),
      chunk({ content: 'Let me check.' }),
      tool({ index: 0, id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }),
      chunk({}, 'tool_calls'),
    ]);
    expectWellFormed(events);
    expect(events.slice(1, -2)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Paris ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'first.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig-1' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'redacted_thinking', data: 'opaque' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'text_delta', text: 'Let me check.' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '{"city":"Paris"}' } },
      { type: 'content_block_stop', index: 3 },
    ]);
  });

  it('leaves another provider’s reasoning_content out of the events when the client asked for no thinking', () => {
    const events = translate([chunk({ role: 'assistant', content: '' }), chunk({ reasoning_content: 'Thinking…' }), chunk({ content: '42' }), chunk({}, 'stop')]);
    expect(events.filter((e) => e.type === 'content_block_start').map((e) => (e.content_block as { type: string }).type)).toEqual(['text']);
  });

  it('streams another provider’s reasoning as a thinking block signed as Keygate’s, numbered with the blocks after it, when the client asked for thinking', () => {
    const translator = new ChatChunksToMessageEvents('claude-sonnet-4-5', { thinking: { on: true } });
    const events = translate(
      [
        chunk({ role: 'assistant', content: '' }),
        chunk({ reasoning_content: 'Paris ' }),
        chunk({ reasoning_content: 'first.' }),
        chunk({ content: 'Let me check.' }),
        tool({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }),
        chunk({}, 'tool_calls'),
      ],
      undefined,
      translator,
    );
    expectWellFormed(events);
    expect(events.slice(1, -2)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Paris ' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'first.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'keygate:v1' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Let me check.' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'content_block_stop', index: 2 },
    ]);
  });

  it('signs a thinking block still open when the stream ends', () => {
    const events = translate([chunk({ reasoning_content: 'Hmm.' })], undefined, new ChatChunksToMessageEvents('claude', { thinking: { on: true } }));
    expectWellFormed(events);
    expect(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta)).toEqual([
      { type: 'thinking_delta', thinking: 'Hmm.' },
      { type: 'signature_delta', signature: 'keygate:v1' },
    ]);
  });

  it('streams omitted thinking without thinking deltas, its text in the signature', () => {
    const translator = new ChatChunksToMessageEvents('claude', { thinking: { on: true, omitted: true } });
    const events = translate([chunk({ reasoning_content: 'Six ' }), chunk({ reasoning_content: 'times seven.' }), chunk({ content: '42' }), chunk({}, 'stop')], undefined, translator);
    expectWellFormed(events);
    expect(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta)).toEqual([
      { type: 'signature_delta', signature: `keygate:v1:${Buffer.from('Six times seven.').toString('base64')}` },
      { type: 'text_delta', text: '42' },
    ]);
  });

  describe('asked for no thinking, from a host that wants its reasoning back', () => {
    const signed = (reasoning: string) => ({ type: 'signature_delta', signature: `keygate:v1:${Buffer.from(reasoning).toString('base64')}` });

    it('holds the reasoning until the first tool call, then streams it just before, as a thinking block without text', () => {
      const translator = new ChatChunksToMessageEvents('claude', { hiddenReasoning: 'tool-calls' });
      const events = translate(
        [
          chunk({ role: 'assistant', content: null, reasoning_content: '' }),
          chunk({ reasoning_content: 'Paris ' }),
          chunk({ reasoning_content: 'first.' }),
          chunk({ content: 'Let me check.' }),
          tool({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }),
          chunk({}, 'tool_calls'),
        ],
        undefined,
        translator,
      );
      expectWellFormed(events);
      expect(events.slice(1, -2)).toEqual([
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me check.' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: '', signature: '' } },
        { type: 'content_block_delta', index: 1, delta: signed('Paris first.') },
        { type: 'content_block_stop', index: 1 },
        { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} } },
        { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } },
        { type: 'content_block_stop', index: 2 },
      ]);
    });

    it('hands back reasoning that comes after the tool calls began, in a block of its own at the end', () => {
      const translator = new ChatChunksToMessageEvents('claude', { hiddenReasoning: 'tool-calls' });
      const events = translate([chunk({ reasoning_content: 'First.' }), tool({ index: 0, id: 'call_1', type: 'function', function: { name: 'now', arguments: '{}' } }), chunk({ reasoning_content: 'Then.' }), chunk({}, 'tool_calls')], undefined, translator);
      expectWellFormed(events);
      expect(events.filter((e) => e.type === 'content_block_start').map((e) => (e.content_block as { type: string }).type)).toEqual(['thinking', 'tool_use', 'thinking']);
      expect(events.filter((e) => (e.delta as { type?: string } | undefined)?.type === 'signature_delta').map((e) => e.delta)).toEqual([signed('First.'), signed('Then.')]);
    });

    it('leaves out the reasoning of an answer that calls no tools in a turn that called none', () => {
      const events = translate([chunk({ reasoning_content: 'Thinking…' }), chunk({ content: '42' }), chunk({}, 'stop')], undefined, new ChatChunksToMessageEvents('claude', { hiddenReasoning: 'tool-calls' }));
      expect(events.filter((e) => e.type === 'content_block_start').map((e) => (e.content_block as { type: string }).type)).toEqual(['text']);
    });

    it('streams the reasoning of any answer in a turn that called tools as a thinking block without text, as it comes', () => {
      const translator = new ChatChunksToMessageEvents('claude', { thinking: { on: false }, hiddenReasoning: 'turn' });
      const events = translate([chunk({ reasoning_content: 'Six ' }), chunk({ reasoning_content: 'times seven.' }), chunk({ content: '42' }), chunk({}, 'stop')], undefined, translator);
      expectWellFormed(events);
      expect(events.filter((e) => e.type === 'content_block_start').map((e) => (e.content_block as { type: string }).type)).toEqual(['thinking', 'text']);
      expect(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta)).toEqual([signed('Six times seven.'), { type: 'text_delta', text: '42' }]);
    });
  });

  describe('reasoning that comes between a tool call’s argument fragments', () => {
    const between = [
      chunk({ reasoning_content: 'First.' }),
      tool({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }),
      chunk({ reasoning_content: 'Then.' }),
      tool({ index: 0, function: { arguments: 'ty":"Paris"}' } }),
      chunk({}, 'tool_calls'),
    ];
    const signed = (reasoning: string) => ({ type: 'signature_delta', signature: `keygate:v1:${Buffer.from(reasoning).toString('base64')}` });

    it.each([
      ['asked for no thinking, in a turn that called tools', { hiddenReasoning: 'turn' as const }, [signed('First.'), signed('Then.')]],
      ['asked for no thinking, in a turn that called none', { hiddenReasoning: 'tool-calls' as const }, [signed('First.'), signed('Then.')]],
      ['asked for thinking', { thinking: { on: true } }, [{ type: 'thinking_delta', thinking: 'First.' }, { type: 'signature_delta', signature: 'keygate:v1' }, { type: 'thinking_delta', thinking: 'Then.' }, { type: 'signature_delta', signature: 'keygate:v1' }]],
    ])('keeps every fragment of the call, its reasoning going in a block after it (%s)', (_case, options, thinking) => {
      const events = translate(between, undefined, new ChatChunksToMessageEvents('claude', options));
      expectWellFormed(events);
      expect(events.filter((e) => e.type === 'content_block_start').map((e) => (e.content_block as { type: string }).type)).toEqual(['thinking', 'tool_use', 'thinking']);
      const deltas = events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta as { type: string });
      expect(deltas.filter((delta) => delta.type === 'input_json_delta')).toEqual([
        { type: 'input_json_delta', partial_json: '{"ci' },
        { type: 'input_json_delta', partial_json: 'ty":"Paris"}' },
      ]);
      expect(deltas.filter((delta) => delta.type !== 'input_json_delta')).toEqual(thinking);
    });
  });

  describe('text that comes between a tool call’s argument fragments', () => {
    const weather = tool({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } });
    /** Each block's type, with a tool_use block's name, and its deltas' text or arguments joined. */
    const blocksIn = (events: ReturnType<typeof translate>) =>
      events
        .filter((e) => e.type === 'content_block_start')
        .map((start) => {
          const block = start.content_block as { type: string; name?: string };
          const deltas = events.filter((e) => e.type === 'content_block_delta' && e.index === start.index).map((e) => e.delta as { text?: string; partial_json?: string });
          return [block.name ?? block.type, deltas.map((delta) => delta.text ?? delta.partial_json).join('')];
        });

    it('keeps every fragment of the call, the text going in a block of its own once the arguments are whole', () => {
      const events = translate([weather, chunk({ content: 'Checking ' }), chunk({ content: 'the weather.' }), tool({ index: 0, function: { arguments: 'ty":"Paris"}' } }), chunk({}, 'tool_calls')]);
      expect(events.slice(1, -2)).toEqual([
        { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'call_1', name: 'get_weather', input: {} } },
        { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"ci' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: 'ty":"Paris"}' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Checking the weather.' } },
        { type: 'content_block_stop', index: 1 },
      ]);
      expectWellFormed(events);
    });

    it('gives the text that waited when the answer ends before the call’s arguments are whole', () => {
      const events = translate([weather, chunk({ content: 'Checking the weather.' }), tool({ index: 0, function: { arguments: 'ty":"Par' } }), chunk({}, 'length')]);
      expect(blocksIn(events)).toEqual([
        ['get_weather', '{"city":"Par'],
        ['text', 'Checking the weather.'],
      ]);
      expectWellFormed(events);
    });

    it('keeps reasoning that came after the waiting text after it, where it came, when the client asked for thinking', () => {
      const translator = new ChatChunksToMessageEvents('claude-sonnet-4-5', { thinking: { on: true } });
      const events = translate([weather, chunk({ content: 'Checking.' }), chunk({ reasoning_content: 'Then Rome.' }), tool({ index: 0, function: { arguments: 'ty":"Paris"}' } }), chunk({}, 'tool_calls')], undefined, translator);
      expect(blocksIn(events)).toEqual([
        ['get_weather', '{"city":"Paris"}'],
        ['text', 'Checking.'],
        ['thinking', ''],
      ]);
      const thinking = events.find((e) => e.type === 'content_block_delta' && (e.delta as { type: string }).type === 'thinking_delta');
      expect(thinking?.delta).toEqual({ type: 'thinking_delta', thinking: 'Then Rome.' });
      expectWellFormed(events);
    });

    it('keeps the text in its place among the calls that started while the open one was not whole', () => {
      const events = translate([
        weather,
        chunk({ content: 'Paris, ' }),
        tool({ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } }),
        chunk({ content: 'then its time.' }),
        tool({ index: 0, function: { arguments: 'ty":"Paris"}' } }),
        chunk({}, 'tool_calls'),
      ]);
      expect(blocksIn(events)).toEqual([
        ['get_weather', '{"city":"Paris"}'],
        ['text', 'Paris, '],
        ['get_time', '{"zone":"CET"}'],
        ['text', 'then its time.'],
      ]);
      expectWellFormed(events);
    });
  });
});
