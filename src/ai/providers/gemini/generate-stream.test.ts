import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { THOUGHT_SUMMARY, promptTokensFor, startGeminiEmulator, thoughtSignatureFor, type GeminiEmulator } from '../../../../test/emulators/gemini.js';
import type { ChatCompletionChunk, ChatRequest } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { GeminiProvider } from './index.js';
import { callChatStream } from '../../../../test/provider-calls.js';

const KEY = 'test-gemini-key';
let emulator: GeminiEmulator;
const ctx = (overrides: Partial<CallContext> = {}): CallContext => ({
  provider: { name: 'google', type: 'gemini', baseUrl: emulator.url },
  credential: { id: 'key-1', secret: KEY },
  model: 'gemini-2.5-flash',
  stream: true,
  now: 1_700_000_000_000,
  ...overrides,
});
async function stream(request: Partial<ChatRequest>) {
  const { chunks, usage } = await callChatStream(GeminiProvider, { model: 'gemini', messages: [{ role: 'user', content: 'The quick brown fox' }], stream: true, ...request }, ctx());
  const all: ChatCompletionChunk[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return { all, choiceChunks: all.filter((c) => c.choices.length > 0), usage: usage() };
}
const tools: ChatRequest['tools'] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } },
];

beforeAll(async () => {
  emulator = await startGeminiEmulator({ apiKey: KEY });
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.setMode('normal'));

describe('a Gemini stream', () => {
  it('asks for streamGenerateContent as server-sent events', async () => {
    await stream({});
    expect(emulator.lastRequest()!.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('arrives as several content chunks in order, after one role chunk and before one finish chunk', async () => {
    const { choiceChunks } = await stream({});
    expect(choiceChunks.filter((c) => c.choices[0]?.delta.role !== undefined)).toHaveLength(1);
    expect(choiceChunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const texts = choiceChunks.slice(1, -1).map((c) => c.choices[0]?.delta.content);
    expect(texts.length).toBeGreaterThan(3);
    expect(texts.join('')).toBe('Echo: The quick brown fox');
    expect(choiceChunks.filter((c) => c.choices[0]?.finish_reason !== null)).toEqual([choiceChunks.at(-1)]);
    expect(choiceChunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
  });

  it('streams the thoughts asked for with reasoning_effort as reasoning_content deltas, before the answer', async () => {
    const { choiceChunks } = await stream({ reasoning_effort: 'medium' });
    const reasoning = choiceChunks.flatMap((c) => (c.choices[0]?.delta.reasoning_content === undefined ? [] : [c.choices[0].delta.reasoning_content]));
    expect(reasoning.join('')).toBe(THOUGHT_SUMMARY);
    expect(choiceChunks.findIndex((c) => c.choices[0]?.delta.reasoning_content !== undefined)).toBeLessThan(choiceChunks.findIndex((c) => (c.choices[0]?.delta.content ?? '') !== ''));
    expect(choiceChunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: The quick brown fox');
  });

  it('keeps one id, created time and model on every chunk', async () => {
    const { all } = await stream({});
    expect(new Set(all.map((c) => `${c.created} ${c.model}`))).toEqual(new Set(['1700000000 gemini-2.5-flash']));
    expect(new Set(all.map((c) => c.id)).size).toBe(1);
  });

  it('ends with a usage chunk with no choices, carrying the last event’s counts', async () => {
    const { all, usage } = await stream({});
    const prompt = promptTokensFor(emulator.lastRequest()!.body);
    const output = Math.ceil('Echo: The quick brown fox'.length / 4);
    const expected = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output, prompt_tokens_details: { cached_tokens: 0 } };
    expect(all.at(-1)).toMatchObject({ choices: [], usage: expected });
    expect(all.filter((c) => c.usage)).toHaveLength(1);
    expect(usage).toEqual(expected);
  });

  it('reports MAX_TOKENS as the finish reason length', async () => {
    const { choiceChunks } = await stream({ max_tokens: 3 });
    expect(choiceChunks.at(-1)?.choices[0]?.finish_reason).toBe('length');
  });

  it('streams each function call whole, with its own index and complete JSON arguments, the thought signature with the call that has one', async () => {
    const { choiceChunks } = await stream({ messages: [{ role: 'user', content: 'Use get_weather and get_time' }], tools });
    const deltas = choiceChunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas).toEqual([
      { index: 0, id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":21}' }, extra_content: { google: { thought_signature: thoughtSignatureFor('get_weather', 'gemini-2.5-flash') } } },
      { index: 1, id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: 'function', function: { name: 'get_time', arguments: '{"zone":"Paris"}' } },
    ]);
    expect(choiceChunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('reports a SAFETY finish as content_filter', async () => {
    emulator.setMode('safety');
    const { choiceChunks } = await stream({});
    expect(choiceChunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, 'content_filter']);
  });

  it('streams a json_schema answer as JSON content', async () => {
    const { choiceChunks } = await stream({ response_format: { type: 'json_schema', json_schema: { name: 'place', schema: { type: 'object', properties: { city: { type: 'string' } } } } } });
    expect(JSON.parse(choiceChunks.map((c) => c.choices[0]?.delta.content ?? '').join(''))).toEqual({ city: 'Paris' });
  });

  it('throws the failure an error event carries', () => {
    const translator = GeminiProvider.streamTranslator(ctx());
    const event = `data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })}\r\n\r\n`;
    expect(() => translator.push(Buffer.from(event))).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 503, code: 'unavailable', retryable: true }) }));
  });
});

describe('the Gemini stream translator', () => {
  const events = [
    { candidates: [{ content: { role: 'model', parts: [{ text: 'Café ' }] }, index: 0 }], usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 }, responseId: 'r1' },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'crème 🍰' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 }, responseId: 'r1' },
  ];
  const wire = events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join('');

  it('translates events split at arbitrary byte boundaries, even inside a character', () => {
    const translator = GeminiProvider.streamTranslator(ctx());
    const bytes = Buffer.from(wire);
    const out: ChatCompletionChunk[] = [];
    for (let i = 0; i < bytes.length; i += 5) out.push(...translator.push(bytes.subarray(i, i + 5)));
    out.push(...translator.end());
    expect(out.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Café crème 🍰');
    expect(out.every((c) => c.id === 'r1')).toBe(true);
    expect(out.at(-1)?.usage).toEqual({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('reports no usage for a stream cut before its finish: the counts so far are not what the call cost', () => {
    const translator = GeminiProvider.streamTranslator(ctx());
    translator.push(Buffer.from(`data: ${JSON.stringify({ ...events[0], usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 2, totalTokenCount: 11 } })}\r\n\r\n`));
    expect(() => translator.end()).toThrow(ProviderCallError);
    expect(translator.usage()).toBeUndefined();
  });

  it('fails a stream that ends before every candidate has its finishReason, Gemini having no end event of its own', () => {
    const translator = GeminiProvider.streamTranslator(ctx());
    translator.push(Buffer.from(`data: ${JSON.stringify(events[0])}\r\n\r\n`));
    expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_stream_incomplete', retryable: true }) }));
  });

  it('fails a stream of two candidates asked for that ends once the one that began has its finishReason', () => {
    const translator = GeminiProvider.streamTranslator(ctx({ choices: 2 }));
    translator.push(Buffer.from(wire));
    expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_stream_incomplete', retryable: true }) }));
    expect(translator.usage()).toBeUndefined();
  });

  it('fails a stream whose second candidate began but has no finishReason when the first has', () => {
    const translator = GeminiProvider.streamTranslator(ctx());
    const second = { candidates: [{ content: { role: 'model', parts: [{ text: 'Tea' }] }, index: 1 }], responseId: 'r1' };
    translator.push(Buffer.from([events[0], second, events[1]].map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join('')));
    expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ code: 'provider_stream_incomplete' }) }));
  });

  it('takes a prompt Gemini blocked as the answer to every candidate asked for', () => {
    const translator = GeminiProvider.streamTranslator(ctx({ choices: 2 }));
    const out = translator.push(Buffer.from(`data: ${JSON.stringify({ promptFeedback: { blockReason: 'SAFETY' }, responseId: 'r1' })}\r\n\r\n`));
    expect(out.at(-1)!.choices[0]!.finish_reason).toBe('content_filter');
    expect(() => translator.end()).not.toThrow();
  });

  it('hands the words of the same read before an error event on with the failure', () => {
    const error = { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } };
    let thrown: unknown;
    try {
      GeminiProvider.streamTranslator(ctx()).push(Buffer.from([events[0], error].map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join('')));
    } catch (failure) {
      thrown = failure;
    }
    expect(thrown).toBeInstanceOf(ProviderCallError);
    expect((thrown as ProviderCallError).before.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'Café ']);
  });

  it('fails a stream Gemini ends with MALFORMED_FUNCTION_CALL, retryably, with the tokens it billed, rather than finishing it with stop', () => {
    const translator = GeminiProvider.streamTranslator(ctx());
    const event = { candidates: [{ finishReason: 'MALFORMED_FUNCTION_CALL', index: 0 }], usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 }, responseId: 'r3' };
    expect(() => translator.push(Buffer.from(`data: ${JSON.stringify(event)}\r\n\r\n`))).toThrow(
      expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_generation_failed', retryable: true }), billed: expect.objectContaining({ prompt_tokens: 9 }) }),
    );
  });

  it('reports the usage of a prompt Gemini blocked, which ends without candidates', () => {
    const translator = GeminiProvider.streamTranslator(ctx());
    const out = translator.push(Buffer.from(`data: ${JSON.stringify({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 }, responseId: 'r2' })}\r\n\r\n`));
    expect(out.at(-1)?.choices[0]?.finish_reason).toBe('content_filter');
    expect(translator.usage()).toMatchObject({ prompt_tokens: 9, completion_tokens: 0 });
  });
});
