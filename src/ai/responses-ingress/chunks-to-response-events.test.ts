import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, FinishReason } from '../chat-types.js';
import { ChatChunksToResponseEvents } from './chunks-to-response-events.js';
import { responseEchoOf, responsesToChat } from './responses-to-chat.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];
const chunk = (delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, delta, finish_reason: finishReason }],
});
const usageChunk = (prompt: number, completion: number): ChatCompletionChunk => ({ ...chunk({}), choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } });
const echo = responseEchoOf(responsesToChat({ model: 'fast', input: 'Hi', instructions: 'Be brief.' }));

interface Event {
  name: string;
  data: { type: string; sequence_number: number; [field: string]: unknown };
}

/** Parses `event: …\ndata: …\n\n` strings, checking that each event's name is its data's type. */
function parse(raw: string[]): Event[] {
  return raw.map((text) => {
    const match = /^event: (.+)\ndata: (.+)\n\n$/.exec(text);
    if (!match) throw new Error(`not one SSE event: ${JSON.stringify(text)}`);
    const event = { name: match[1]!, data: JSON.parse(match[2]!) as Event['data'] };
    expect(event.data.type).toBe(event.name);
    return event;
  });
}

/** Runs chunks through a new translator and ends it. */
function run(chunks: ChatCompletionChunk[], end: (events: ChatChunksToResponseEvents) => string[] = (events) => events.end()): Event[] {
  const events = new ChatChunksToResponseEvents('fast', echo, { id: 'resp_1', createdAt: 1_700_000_001 });
  return parse([...chunks.flatMap((c) => events.push(c)), ...end(events)]);
}
const names = (events: Event[]) => events.map((e) => e.name);

describe('chat chunks as the events of a streamed Response', () => {
  const text = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' }), chunk({ content: ' there.' }), chunk({}, 'stop'), usageChunk(12, 3)];

  it('streams text as the documented sequence, from response.created to response.completed', () => {
    expect(names(run(text))).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
  });

  it('numbers every event, from 0, one after the other', () => {
    const events = run(text);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('starts with the Response in progress, its echo, no output and no usage', () => {
    const [created, progress] = run(text);
    expect(created!.data.response).toMatchObject({ id: 'resp_1', object: 'response', created_at: 1_700_000_001, status: 'in_progress', model: 'fast', instructions: 'Be brief.', output: [], usage: null, error: null });
    expect(progress!.data.response).toEqual(created!.data.response);
  });

  it('says where each delta goes: the item, its output index and the content index', () => {
    const events = run(text);
    const added = events.find((e) => e.name === 'response.output_item.added')!.data;
    expect(added).toMatchObject({ output_index: 0, item: { type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
    const id = (added.item as { id: string }).id;
    expect(id).toMatch(/^msg_/);
    expect(events.find((e) => e.name === 'response.content_part.added')!.data).toMatchObject({ item_id: id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    expect(events.filter((e) => e.name === 'response.output_text.delta').map((e) => e.data)).toEqual([
      expect.objectContaining({ item_id: id, output_index: 0, content_index: 0, delta: 'Hello', logprobs: [] }),
      expect.objectContaining({ item_id: id, output_index: 0, content_index: 0, delta: ' there.', logprobs: [] }),
    ]);
    expect(events.find((e) => e.name === 'response.output_text.done')!.data).toMatchObject({ item_id: id, text: 'Hello there.' });
    expect(events.find((e) => e.name === 'response.output_item.done')!.data.item).toEqual({ type: 'message', id, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello there.', annotations: [] }] });
  });

  it('ends with the whole Response and the usage of the provider’s usage chunk', () => {
    const completed = run(text).at(-1)!.data.response as Record<string, unknown>;
    expect(completed).toMatchObject({ status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hello there.' }] }] });
    expect(completed.usage).toEqual({ input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 15 });
  });

  it('ends with the usage it is given, over the provider’s (the gateway’s count when the provider sent none)', () => {
    const events = run(text.slice(0, -1), (e) => e.end({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 }));
    expect((events.at(-1)!.data.response as { usage: unknown }).usage).toMatchObject({ input_tokens: 7, output_tokens: 2, total_tokens: 9 });
  });

  it('marks the streamed call an answer was cut in incomplete, the call before it completed', () => {
    const events = run([
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Pa' } }] }),
      chunk({}, 'length'),
    ]);
    const done = events.filter((event) => event.name === 'response.output_item.done').map((event) => (event.data.item as { call_id: string; status: string }));
    expect(done.map((item) => [item.call_id, item.status])).toEqual([
      ['call_1', 'completed'],
      ['call_2', 'incomplete'],
    ]);
    expect((events.at(-1)!.data.response as { output: Array<{ status: string }> }).output.map((item) => item.status)).toEqual(['completed', 'incomplete']);
  });

  it('keeps a streamed call completed when text follows it before the cut: the text was cut, not the call', () => {
    const events = run([chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }), chunk({ content: 'And then' }), chunk({}, 'length')]);
    const output = (events.at(-1)!.data.response as { output: Array<{ type: string; status: string }> }).output;
    expect(output.map((item) => [item.type, item.status])).toEqual([
      ['function_call', 'completed'],
      ['message', 'incomplete'],
    ]);
  });

  it('ends with response.incomplete, for max_output_tokens, an answer cut at the length limit', () => {
    const events = run([chunk({ content: 'Echo: a lo' }), chunk({}, 'length')]);
    expect(events.at(-1)!.name).toBe('response.incomplete');
    expect(events.at(-1)!.data.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [{ type: 'message', status: 'incomplete' }] });
  });

  it('streams tool calls as function_call items with argument deltas, done when the choice finishes', () => {
    const events = run([
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_rome', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(names(events).slice(2)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events[2]!.data).toMatchObject({ output_index: 0, item: { type: 'function_call', call_id: 'call_paris', name: 'get_weather', arguments: '', status: 'in_progress' } });
    expect(events.find((e) => e.name === 'response.function_call_arguments.done')!.data).toMatchObject({ output_index: 0, name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect((events.at(-1)!.data.response as { output: unknown[] }).output).toEqual([
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
      { type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_rome', name: 'get_weather', arguments: '{"city":"Rome"}', status: 'completed' },
    ]);
  });

  it('places an argument fragment that comes after a later call started in its own call', () => {
    const events = run([
      chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'a', arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'b', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect((events.at(-1)!.data.response as { output: Array<{ arguments: string }> }).output.map((item) => item.arguments)).toEqual(['{"x":1}', '{}']);
  });

  it('closes the message before a tool call that follows its text', () => {
    const events = run([chunk({ content: 'Checking.' }), chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }] }), chunk({}, 'tool_calls')]);
    const order = names(events);
    expect(order.indexOf('response.output_item.done')).toBeLessThan(order.lastIndexOf('response.output_item.added'));
    expect((events.at(-1)!.data.response as { output: Array<{ type: string }> }).output.map((item) => item.type)).toEqual(['message', 'function_call']);
  });

  it("streams the provider's reasoning as a reasoning item's summary text, before the message", () => {
    const events = run([chunk({ reasoning_content: 'Think' }), chunk({ reasoning_content: 'ing.' }), chunk({ content: 'Answer.' }), chunk({}, 'stop')]);
    expect(names(events).slice(2, 9)).toEqual([
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
    ]);
    expect(events.find((e) => e.name === 'response.reasoning_summary_text.done')!.data).toMatchObject({ output_index: 0, summary_index: 0, text: 'Thinking.' });
    expect((events.at(-1)!.data.response as { output: unknown[] }).output).toEqual([
      { type: 'reasoning', id: expect.stringMatching(/^rs_/), summary: [{ type: 'summary_text', text: 'Thinking.' }] },
      expect.objectContaining({ type: 'message', content: [{ type: 'output_text', text: 'Answer.', annotations: [] }] }),
    ]);
  });

  it('streams a refusal as a refusal part', () => {
    const events = run([chunk({ refusal: 'I cannot' }), chunk({ refusal: ' help.' }), chunk({}, 'stop')]);
    expect(names(events)).toContain('response.refusal.delta');
    expect(events.find((e) => e.name === 'response.refusal.done')!.data).toMatchObject({ refusal: 'I cannot help.' });
  });

  it('starts and completes an empty Response for a stream without chunks', () => {
    expect(names(run([]))).toEqual(['response.created', 'response.in_progress', 'response.completed']);
  });

  it('ends a stream that failed with an error event, then response.failed with what came so far', () => {
    const events = run([chunk({ content: 'Half' })], (e) => e.fail('the provider stream failed'));
    expect(names(events).slice(-2)).toEqual(['error', 'response.failed']);
    expect(events.at(-2)!.data).toMatchObject({ code: 'provider_stream_error', message: 'the provider stream failed', param: null });
    expect(events.at(-1)!.data.response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'the provider stream failed' }, output: [{ type: 'message', status: 'incomplete', content: [{ type: 'output_text', text: 'Half' }] }] });
  });

  it('says a failed Response is not stored, though the request asked it to be, since it is not kept', () => {
    expect(echo.store).toBe(true);
    const events = run([chunk({ content: 'Half' })], (e) => e.fail('the provider stream failed'));
    expect(events.at(-1)!.data.response).toMatchObject({ status: 'failed', store: false });
  });

  it('starts the Response before failing a stream that failed before its first chunk, as clients need', () => {
    expect(names(run([], (e) => e.fail('the provider stream failed')))).toEqual(['response.created', 'response.in_progress', 'error', 'response.failed']);
  });

  it('fails on a choice the provider says failed (OpenRouter’s finish_reason "error"), and says nothing more', () => {
    const events = new ChatChunksToResponseEvents('fast', echo);
    const pushed = parse(events.push(chunk({ content: 'Half an ans' }, 'error' as FinishReason)));
    expect(pushed.at(-1)!.name).toBe('response.failed');
    expect(events.failed).toBe(true);
    expect(events.end()).toEqual([]);
  });

  it('leaves out choices after the first', () => {
    const events = run([{ ...chunk({ content: 'one' }), choices: [{ index: 1, delta: { content: 'two' }, finish_reason: null }] }, chunk({ content: 'one' }), chunk({}, 'stop')]);
    expect(events.filter((e) => e.name === 'response.output_text.delta').map((e) => e.data.delta)).toEqual(['one']);
  });
});

describe("chat chunks' custom tool calls as the events of a streamed Response", () => {
  it('streams a custom call as a custom_tool_call item with custom_tool_call_input deltas, then its done events', () => {
    const events = run([
      chunk({ role: 'assistant', content: null }),
      chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: '' } }] }),
      chunk({ tool_calls: [{ index: 0, custom: { input: '*** Begin' } }] }),
      chunk({ tool_calls: [{ index: 0, custom: { input: ' Patch' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(names(events)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.delta',
      'response.custom_tool_call_input.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const added = events[2]!.data;
    expect(added.item).toEqual({ type: 'custom_tool_call', id: expect.stringMatching(/^ctc_[0-9a-f]{32}$/), call_id: 'call_1', name: 'apply_patch', input: '', status: 'in_progress' });
    const id = (added.item as { id: string }).id;
    expect(events[3]!.data).toEqual({ type: 'response.custom_tool_call_input.delta', sequence_number: 3, item_id: id, output_index: 0, delta: '*** Begin' });
    expect(events[5]!.data).toEqual({ type: 'response.custom_tool_call_input.done', sequence_number: 5, item_id: id, output_index: 0, input: '*** Begin Patch' });
    const done = { type: 'custom_tool_call', id, call_id: 'call_1', name: 'apply_patch', input: '*** Begin Patch', status: 'completed' };
    expect(events[6]!.data.item).toEqual(done);
    expect((events[7]!.data.response as { output: unknown[] }).output).toEqual([done]);
  });

  it('streams a custom call beside a function call, each in its own item', () => {
    const events = run([
      chunk({ tool_calls: [{ index: 0, id: 'call_f', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_c', type: 'custom', custom: { name: 'apply_patch', input: 'x' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    const output = (events.at(-1)!.data.response as { output: Array<{ type: string }> }).output;
    expect(output.map((item) => item.type)).toEqual(['function_call', 'custom_tool_call']);
    expect(output[1]).toMatchObject({ input: 'x', status: 'completed' });
  });
});
