import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inputTokensFor, signatureFor, startAnthropicEmulator, thinkingFor, type AnthropicEmulator } from '../../../../test/emulators/anthropic.js';
import { CACHE_WRITES, PROMPT_USAGE, STOP_SEQUENCE, THINKING_DELTA, type ChatCompletionChunk, type ChatRequest } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { AnthropicProvider } from './index.js';
import { callChatStream } from '../../../../test/provider-calls.js';

const KEY = 'test-anthropic-key';
let emulator: AnthropicEmulator;
const ctx = (): CallContext => ({
  provider: { name: 'claude', type: 'anthropic', baseUrl: emulator.url },
  credential: { id: 'key-1', secret: KEY },
  model: 'claude-sonnet-4-5',
  stream: true,
  now: 1_700_000_000_000,
});
async function chunksOf(request: Partial<ChatRequest>): Promise<ChatCompletionChunk[]> {
  const { chunks } = await callChatStream(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: 'The quick brown fox' }], stream: true, ...request }, ctx());
  const all: ChatCompletionChunk[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}
const withChoice = (chunks: ChatCompletionChunk[]) => chunks.filter((c) => c.choices.length > 0);
const weather: ChatRequest['tools'] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } },
];

beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: KEY });
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.setMode('normal'));

describe('an Anthropic stream', () => {
  it('streams thinking as reasoning_content deltas before the answer', async () => {
    const chunks = withChoice(await chunksOf({ reasoning_effort: 'medium' }));
    const reasoning = chunks.flatMap((c) => (c.choices[0]?.delta.reasoning_content === undefined ? [] : [c.choices[0].delta.reasoning_content]));
    expect(reasoning.length).toBeGreaterThan(1);
    expect(reasoning.join('')).toBe(thinkingFor('The quick brown fox'));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: The quick brown fox');
  });

  it('marks the thinking block’s start, its text and its signature for the Anthropic ingress, in Anthropic’s order', async () => {
    const chunks = withChoice(await chunksOf({ reasoning_effort: 'low' }));
    const marks = chunks.flatMap((c) => {
      const mark = c.choices[0]?.delta[THINKING_DELTA];
      return mark ? [mark] : [];
    });
    const thinking = thinkingFor('The quick brown fox');
    expect(marks[0]).toEqual({ block: { type: 'thinking', thinking: '' } });
    expect(marks.slice(1, -1).map((m) => m.thinking).join('')).toBe(thinking);
    expect(marks.at(-1)).toEqual({ signature: signatureFor(thinking) });
    // The signature comes before the first text.
    const signatureAt = chunks.findIndex((c) => c.choices[0]?.delta[THINKING_DELTA]?.signature !== undefined);
    expect(signatureAt).toBeLessThan(chunks.findIndex((c) => (c.choices[0]?.delta.content ?? '') !== ''));
  });

  it('asks Anthropic to stream', async () => {
    await chunksOf({});
    expect(emulator.lastRequest()!.body.stream).toBe(true);
    expect(emulator.lastRequest()!.headers.accept).toBe('text/event-stream');
  });

  it('arrives as several content chunks in order, after one role chunk and before one finish chunk', async () => {
    const chunks = withChoice(await chunksOf({}));
    const roles = chunks.filter((c) => c.choices[0]?.delta.role !== undefined);
    expect(roles).toHaveLength(1);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const texts = chunks.slice(1, -1).map((c) => c.choices[0]?.delta.content);
    expect(texts.length).toBeGreaterThan(3);
    expect(texts.join('')).toBe('Echo: The quick brown fox');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason !== null)).toEqual([chunks.at(-1)]);
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
  });

  it("gives the role chunk the prompt's tokens as message_start counted them, cache reads included", async () => {
    const cached = await startAnthropicEmulator({ apiKey: KEY, cacheReadInputTokens: 100, cacheCreation: { fiveMinute: 20, oneHour: 0 } });
    try {
      const { chunks } = await callChatStream(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: 'Hello' }], stream: true }, { ...ctx(), provider: { name: 'claude', type: 'anthropic', baseUrl: cached.url } });
      const first = (await chunks.next()).value as ChatCompletionChunk;
      for await (const _chunk of chunks) {
        // read to the end
      }
      const input = inputTokensFor(cached.lastRequest()!.body);
      expect(first[PROMPT_USAGE]).toEqual({ prompt_tokens: input + 120, completion_tokens: 0, total_tokens: input + 120, prompt_tokens_details: { cached_tokens: 100 }, [CACHE_WRITES]: { fiveMinute: 20, oneHour: 0 } });
      expect(JSON.stringify(first)).not.toContain('prompt_tokens');
    } finally {
      await cached.stop();
    }
  });

  it('gives the finish chunk the stop sequence the answer stopped on, and no other chunk', async () => {
    const chunks = withChoice(await chunksOf({ stop: ['brown'] }));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: The quick ');
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ finish_reason: 'stop' });
    expect(chunks.map((c) => c.choices[0]?.[STOP_SEQUENCE])).toEqual([...chunks.slice(1).map(() => undefined), 'brown']);
  });

  it('keeps one id, created time and model on every chunk', async () => {
    const chunks = await chunksOf({});
    expect(new Set(chunks.map((c) => `${c.id} ${c.created} ${c.model}`))).toEqual(new Set(['msg_emulator_stream 1700000000 claude-sonnet-4-5']));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  });

  it('ends with a usage chunk that has no choices', async () => {
    const { chunks, usage } = await callChatStream(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: 'The quick brown fox' }] }, ctx());
    const all: ChatCompletionChunk[] = [];
    for await (const chunk of chunks) all.push(chunk);
    const prompt = inputTokensFor(emulator.lastRequest()!.body);
    const completion = Math.ceil('Echo: The quick brown fox'.length / 4);
    const expected = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: 0 } };
    expect(all.at(-1)).toMatchObject({ choices: [], usage: expected });
    expect(all.filter((c) => c.usage)).toHaveLength(1);
    expect(usage()).toEqual(expected);
  });

  it('reports max_tokens as the finish reason length', async () => {
    const chunks = withChoice(await chunksOf({ max_tokens: 3 }));
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });

  it('streams tool call arguments as deltas that join into valid JSON, the first tool call at index 0 after a text block', async () => {
    const chunks = withChoice(await chunksOf({ messages: [{ role: 'user', content: 'Weather?' }], tools: weather }));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toEqual({ index: 0, id: expect.stringMatching(/^toolu_/), type: 'function', function: { name: 'get_weather', arguments: '' } });
    const argumentDeltas = deltas.slice(1);
    expect(argumentDeltas.length).toBeGreaterThan(1);
    expect(argumentDeltas.every((d) => d.index === 0 && d.id === undefined)).toBe(true);
    expect(JSON.parse(argumentDeltas.map((d) => d.function?.arguments).join(''))).toEqual({ city: 'Paris', days: 21 });
    expect(chunks.map((c) => c.choices[0]?.delta.content).join('')).toBe('Let me check.');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('gives each streamed tool call its own index', async () => {
    const chunks = withChoice(await chunksOf({ messages: [{ role: 'user', content: 'Use get_weather and get_time' }], tools: weather }));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const calls = new Map<number, { name?: string; args: string }>();
    for (const d of deltas) {
      const call = calls.get(d.index) ?? { args: '' };
      if (d.function?.name) call.name = d.function.name;
      call.args += d.function?.arguments ?? '';
      calls.set(d.index, call);
    }
    expect([...calls.entries()].map(([i, c]) => [i, c.name, JSON.parse(c.args)])).toEqual([
      [0, 'get_weather', { city: 'Paris', days: 21 }],
      [1, 'get_time', { zone: 'Paris' }],
    ]);
  });

  it('streams a json_schema answer as content, not as a tool call', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const chunks = withChoice(await chunksOf({ response_format: { type: 'json_schema', json_schema: { name: 'place', schema } } }));
    expect(chunks.some((c) => c.choices[0]?.delta.tool_calls)).toBe(false);
    expect(JSON.parse(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''))).toEqual({ city: 'Paris' });
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('throws a retryable failure when an error event arrives mid-stream', async () => {
    emulator.setMode('stream-error');
    const received: ChatCompletionChunk[] = [];
    const consume = async () => {
      const { chunks } = await callChatStream(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: 'The quick brown fox' }] }, ctx());
      for await (const chunk of chunks) received.push(chunk);
    };
    const error = await consume().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject({ status: 529, type: 'api_error', code: 'overloaded_error', message: 'Overloaded', retryable: true });
    expect(received[0]?.choices[0]?.delta.role).toBe('assistant');
  });
});

describe('the Anthropic stream translator', () => {
  const events = [
    { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, usage: { input_tokens: 10, cache_read_input_tokens: 4, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Café ' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'crème 🍰' } },
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 6 } },
    { type: 'message_stop' },
  ];
  const wire = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');

  it('translates events split at arbitrary byte boundaries, even inside a character', () => {
    const translator = AnthropicProvider.streamTranslator(ctx());
    const bytes = Buffer.from(wire);
    const out: ChatCompletionChunk[] = [];
    for (let i = 0; i < bytes.length; i += 5) out.push(...translator.push(bytes.subarray(i, i + 5)));
    out.push(...translator.end());
    expect(out.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Café crème 🍰');
    expect(out.at(-1)?.usage).toEqual({ prompt_tokens: 14, completion_tokens: 6, total_tokens: 20, prompt_tokens_details: { cached_tokens: 4 } });
  });

  it('hands the words of the same read before an error event on with the failure', () => {
    const translator = AnthropicProvider.streamTranslator(ctx());
    const error = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };
    const read = wire.slice(0, wire.indexOf('event: content_block_stop')) + `event: error\ndata: ${JSON.stringify(error)}\n\n`;
    let thrown: unknown;
    try {
      translator.push(Buffer.from(read));
    } catch (failure) {
      thrown = failure;
    }
    expect(thrown).toBeInstanceOf(ProviderCallError);
    expect((thrown as ProviderCallError).failure).toMatchObject({ status: 529, message: 'Overloaded' });
    expect((thrown as ProviderCallError).before.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Café crème 🍰');
  });

  it('gives a call of a tool without parameters, whose block stops with no input or an empty one, arguments {}', () => {
    const start = (index: number, id: string) => ({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: 'get_time', input: {} } });
    const toolEvents = [start(0, 'toolu_1'), { type: 'content_block_stop', index: 0 }, start(1, 'toolu_2'), { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } }, { type: 'content_block_stop', index: 1 }];
    const chunks = AnthropicProvider.streamTranslator(ctx()).push(Buffer.from(toolEvents.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('')));
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect([0, 1].map((index) => calls.filter((call) => call.index === index).map((call) => call.function?.arguments).join(''))).toEqual(['{}', '{}']);
  });

  it('still reports the usage when the stream is cut after message_delta, before message_stop', () => {
    const translator = AnthropicProvider.streamTranslator(ctx());
    translator.push(Buffer.from(wire.slice(0, wire.indexOf('event: message_stop'))));
    expect(translator.end().at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 14, completion_tokens: 6 } });
    expect(translator.usage()).toMatchObject({ prompt_tokens: 14, completion_tokens: 6 });
  });

  it("reports no usage when the stream is cut before message_delta: message_start's one output token is not the answer's", () => {
    const translator = AnthropicProvider.streamTranslator(ctx());
    const out = translator.push(Buffer.from(wire.slice(0, wire.indexOf('event: message_delta'))));
    expect(() => translator.end()).toThrow(ProviderCallError);
    expect(out.some((c) => c.usage)).toBe(false);
    expect(translator.usage()).toBeUndefined();
  });

  it('fails a stream that ends before the message_delta that says why the answer stopped', () => {
    const translator = AnthropicProvider.streamTranslator(ctx());
    translator.push(Buffer.from(wire.slice(0, wire.indexOf('event: message_delta'))));
    expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_stream_incomplete', retryable: true }) }));
  });
});
