import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { promptTokensFor, startGeminiEmulator, thoughtSignatureFor, type GeminiEmulator } from '../../../../test/emulators/gemini.js';
import type { ChatRequest, ToolCall } from '../../chat-types.js';
import { callChat } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { fromGeminiResponse } from './generate-response.js';
import { GeminiProvider } from './index.js';

const KEY = 'test-gemini-key';
let emulator: GeminiEmulator;
const ctx = (url = emulator.url): CallContext => ({
  provider: { name: 'google', type: 'gemini', baseUrl: url },
  credential: { id: 'key-1', secret: KEY },
  model: 'gemini-2.5-flash',
  stream: false,
  now: 1_700_000_000_000,
});
const chat = (request: Partial<ChatRequest>) => callChat(GeminiProvider, { model: 'gemini', messages: [{ role: 'user', content: 'Hello there' }], ...request }, ctx());
const tools: ChatRequest['tools'] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } } } },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } },
];

beforeAll(async () => {
  emulator = await startGeminiEmulator({ apiKey: KEY });
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.setMode('normal'));

describe('a Gemini answer', () => {
  it('comes back as an OpenAI chat completion with the text as the content', async () => {
    const completion = await chat({});
    expect(completion).toMatchObject({
      id: expect.stringMatching(/^resp_emulator_/),
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'gemini-2.5-flash',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Echo: Hello there' }, finish_reason: 'stop' }],
    });
  });

  it('reports Gemini’s token counts as usage', async () => {
    const completion = await chat({});
    const prompt = promptTokensFor(emulator.lastRequest()!.body);
    const output = Math.ceil('Echo: Hello there'.length / 4);
    expect(completion.usage).toEqual({ prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('reports cachedContentTokenCount as cached tokens', async () => {
    const cached = await startGeminiEmulator({ apiKey: KEY, cachedContentTokenCount: 64 });
    try {
      const completion = await callChat(GeminiProvider, { model: 'gemini', messages: [{ role: 'user', content: 'Hello there' }] }, ctx(cached.url));
      expect(completion.usage?.prompt_tokens_details).toEqual({ cached_tokens: 64 });
    } finally {
      await cached.stop();
    }
  });

  it('reports MAX_TOKENS as the finish reason length', async () => {
    const completion = await chat({ messages: [{ role: 'user', content: 'Tell me a long story about a lighthouse keeper' }], max_tokens: 2 });
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Echo: Te' } });
  });

  it('reports a stop sequence as the finish reason stop', async () => {
    const completion = await chat({ messages: [{ role: 'user', content: 'one two three' }], stop: 'three' });
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Echo: one two ' } });
  });

  it('reports a SAFETY finish as content_filter', async () => {
    emulator.setMode('safety');
    const completion = await chat({});
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null } });
  });

  it('reports a blocked prompt as one empty choice finished by content_filter', async () => {
    emulator.setMode('blocked-prompt');
    const completion = await chat({});
    expect(completion.choices).toEqual([{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter', logprobs: null }]);
  });

  it('fails a generation Gemini ended with MALFORMED_FUNCTION_CALL, retryably, with the tokens it billed, rather than passing an empty stop', async () => {
    emulator.setMode('malformed-function-call');
    const failure = await chat({ tools }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ failure: { status: 502, code: 'provider_generation_failed', retryable: true }, billed: { prompt_tokens: promptTokensFor(emulator.lastRequest()!.body) } });
    expect((failure as Error).message).toMatch(/MALFORMED_FUNCTION_CALL/);
  });

  it('reads a candidate without an index as the first, as Google leaves a zero out, and answers the choices in index order', () => {
    const candidate = (text: string, index?: number) => ({ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', ...(index !== undefined ? { index } : {}) });
    const completion = fromGeminiResponse({ candidates: [candidate('second', 1), candidate('first')] }, 0, 'gemini-2.5-flash');
    expect(completion.choices.map((choice) => [choice.index, choice.message.content])).toEqual([[0, 'first'], [1, 'second']]);
  });

  it('fails an answer whose candidate does not say how it ended', () => {
    const answer = { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }] };
    expect(() => fromGeminiResponse(answer, 0, 'gemini-2.5-flash')).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_generation_failed' }) }));
  });

  it('fails an answer with neither candidates nor a block reason', () => {
    expect(() => fromGeminiResponse({ usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 } }, 0, 'gemini-2.5-flash')).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_generation_failed' }) }));
  });

  it('answers with one choice per candidate when n asks for several', async () => {
    const completion = await chat({ n: 2 });
    expect(emulator.lastRequest()!.body.generationConfig).toEqual({ candidateCount: 2 });
    expect(completion.choices.map((c) => [c.index, c.message.content])).toEqual([
      [0, 'Echo: Hello there'],
      [1, 'Echo: Hello there'],
    ]);
  });

  it('reports function calls as tool calls with generated ids, JSON arguments, the thought signature a call has, and the finish reason tool_calls', async () => {
    const completion = await chat({ messages: [{ role: 'user', content: 'Use get_weather and get_time' }], tools });
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: null } });
    expect(completion.choices[0]!.message.tool_calls).toEqual([
      { id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":21}' }, extra_content: { google: { thought_signature: thoughtSignatureFor('get_weather', 'gemini-2.5-flash') } } },
      { id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: 'function', function: { name: 'get_time', arguments: '{"zone":"Paris"}' } },
    ]);
  });

  it('keeps the id Gemini gives a function call as its tool call id', () => {
    const completion = GeminiProvider.parseChat({ candidates: [{ content: { role: 'model', parts: [{ functionCall: { id: 'fc-paris', name: 'get_weather', args: { city: 'Paris' } } }] }, finishReason: 'STOP' }] }, ctx());
    expect(completion.choices[0]!.message.tool_calls!.map((call) => call.id)).toEqual(['fc-paris']);
  });

  it('gives every tool call an id of its own, across the turns of a conversation as within one answer', async () => {
    const ask = { messages: [{ role: 'user' as const, content: 'Use get_weather and get_time' }], tools };
    const ids = [...(await chat(ask)).choices[0]!.message.tool_calls!, ...(await chat(ask)).choices[0]!.message.tool_calls!].map((c) => c.id);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
  });

  it('calls only the function a named tool_choice allows', async () => {
    const completion = await chat({ messages: [{ role: 'user', content: 'Use get_weather and get_time' }], tools, tool_choice: { type: 'function', function: { name: 'get_time' } } });
    expect(completion.choices[0]?.message.tool_calls?.map((c) => (c as ToolCall).function.name)).toEqual(['get_time']);
  });

  it('takes a tool result back and answers with text', async () => {
    const first = await chat({ messages: [{ role: 'user', content: 'Weather?' }], tools });
    const assistant = first.choices[0]!.message;
    const second = await chat({
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: assistant.content, tool_calls: assistant.tool_calls as ToolCall[] },
        { role: 'tool', tool_call_id: assistant.tool_calls![0]!.id, content: '{"sky":"clear"}' },
      ],
      tools,
    });
    expect(second.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'The tool answered: {"sky":"clear"}' } });
  });

  it('answers a json_schema request with JSON that follows the schema', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' }, population: { type: 'integer' } }, required: ['city'], additionalProperties: false };
    const completion = await chat({ response_format: { type: 'json_schema', json_schema: { name: 'city', schema } } });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ city: 'Paris', population: 21 });
  });

  it('accepts images and answers about them', async () => {
    const completion = await chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } }] }] });
    expect(completion.choices[0]?.message.content).toBe('Echo: What is this?');
  });

  it('leaves the model’s thoughts out of the content', () => {
    const completion = GeminiProvider.parseChat({ candidates: [{ content: { parts: [{ text: 'pondering…', thought: true }, { text: '42' }] }, finishReason: 'STOP' }] }, ctx());
    expect(completion.choices[0]?.message.content).toBe('42');
  });

  it('counts thinking tokens as completion tokens, and tells them as reasoning tokens', () => {
    const completion = GeminiProvider.parseChat({ candidates: [{ content: { parts: [{ text: '42' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, thoughtsTokenCount: 20, totalTokenCount: 35 } }, ctx());
    expect(completion.usage).toEqual({ prompt_tokens: 10, completion_tokens: 25, total_tokens: 35, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 20 } });
  });

  it('gives the thoughts Gemini returned (when asked, includeThoughts) as reasoning_content', () => {
    const completion = GeminiProvider.parseChat({ candidates: [{ content: { parts: [{ text: 'pondering…', thought: true }, { text: ' still.', thought: true }, { text: '42' }] }, finishReason: 'STOP' }] }, ctx());
    expect(completion.choices[0]?.message).toEqual({ role: 'assistant', content: '42', reasoning_content: 'pondering… still.' });
  });

  it('gives an answer without thoughts no reasoning_content', () => {
    const completion = GeminiProvider.parseChat({ candidates: [{ content: { parts: [{ text: '42' }] }, finishReason: 'STOP' }] }, ctx());
    expect(completion.choices[0]?.message).not.toHaveProperty('reasoning_content');
  });
});
