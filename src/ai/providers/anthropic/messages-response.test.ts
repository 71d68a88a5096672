import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED_DATA, REDACTED_THINKING_TRIGGER, inputTokensFor, signatureFor, startAnthropicEmulator, thinkingFor, type AnthropicEmulator } from '../../../../test/emulators/anthropic.js';
import { ANTHROPIC_BLOCKS, CACHE_WRITES, STOP_SEQUENCE, THINKING, type ChatRequest, type ToolCall } from '../../chat-types.js';
import { callChat } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { chatToMessages } from '../../anthropic-ingress/chat-to-messages.js';
import { AnthropicProvider, JSON_RESPONSE_TOOL } from './index.js';
import { fromAnthropicMessage } from './messages-response.js';
import type { AnthropicMessageResponse } from './wire-types.js';

const KEY = 'test-anthropic-key';
let emulator: AnthropicEmulator;
const ctx = (): CallContext => ({
  provider: { name: 'claude', type: 'anthropic', baseUrl: emulator.url },
  credential: { id: 'key-1', secret: KEY },
  model: 'claude-sonnet-4-5',
  stream: false,
  now: 1_700_000_000_000,
});
const chat = (request: Partial<ChatRequest>) => callChat(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: 'Hello there' }], ...request }, ctx());
const weather: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];

beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: KEY });
});
afterAll(() => emulator.stop());

describe('an Anthropic answer', () => {
  it('comes back as an OpenAI chat completion with the text as the content', async () => {
    const completion = await chat({});
    expect(completion).toMatchObject({
      id: 'msg_emulator',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'claude-sonnet-4-5',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Echo: Hello there' }, finish_reason: 'stop' }],
    });
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
  });

  it('reports input and output tokens as prompt and completion tokens', async () => {
    const completion = await chat({});
    const prompt = inputTokensFor(emulator.lastRequest()!.body);
    const completionTokens = Math.ceil('Echo: Hello there'.length / 4);
    expect(completion.usage).toEqual({ prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('counts cache reads and cache writes in the prompt tokens, and cache reads as cached tokens', async () => {
    const cached = await startAnthropicEmulator({ apiKey: KEY, cacheReadInputTokens: 1000, cacheCreation: { fiveMinute: 150, oneHour: 50 } });
    try {
      const completion = await callChat(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: 'Hello there' }] }, { ...ctx(), provider: { name: 'claude', type: 'anthropic', baseUrl: cached.url } });
      const input = inputTokensFor(cached.lastRequest()!.body);
      expect(completion.usage?.prompt_tokens).toBe(input + 1000 + 200);
      expect(completion.usage?.prompt_tokens_details).toEqual({ cached_tokens: 1000 });
      expect(completion.usage?.total_tokens).toBe(input + 1200 + (completion.usage?.completion_tokens ?? 0));
      // The writes, priced above plain input, go with the usage by the lifetime of their entries.
      expect(completion.usage?.[CACHE_WRITES]).toEqual({ fiveMinute: 150, oneHour: 50 });
      expect(JSON.stringify(completion.usage)).not.toContain('150');
    } finally {
      await cached.stop();
    }
  });

  it('reports max_tokens as the finish reason length', async () => {
    const completion = await chat({ messages: [{ role: 'user', content: 'Tell me a long story about a lighthouse keeper' }], max_tokens: 2 });
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Echo: Te' } });
  });

  it('reports a stop sequence as the finish reason stop, keeping the sequence out of the JSON', async () => {
    const completion = await chat({ messages: [{ role: 'user', content: 'one two three' }], stop: ['four', 'three'] });
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Echo: one two ' } });
    expect(completion.choices[0]?.[STOP_SEQUENCE]).toBe('three');
    expect(JSON.stringify(completion)).not.toContain('three');
  });

  it('says no stop sequence ended an answer that ended by itself', async () => {
    const completion = await chat({ stop: ['nowhere'] });
    expect(STOP_SEQUENCE in completion.choices[0]!).toBe(false);
  });

  it('reports a tool_use block as a tool call with its input as JSON arguments', async () => {
    const completion = await chat({ messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: weather });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe('Let me check.');
    expect(choice.message.tool_calls).toEqual([{ id: expect.stringMatching(/^toolu_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    expect(JSON.parse((choice.message.tool_calls![0] as ToolCall).function.arguments)).toEqual({ city: 'Paris' });
  });

  it('takes a tool result back and answers with text', async () => {
    const first = await chat({ messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: weather });
    const assistant = first.choices[0]!.message;
    const call = assistant.tool_calls![0]!;
    const second = await chat({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: assistant.content, tool_calls: assistant.tool_calls as ToolCall[] },
        { role: 'tool', tool_call_id: call.id, content: 'Sunny, 18°C' },
      ],
      tools: weather,
    });
    expect(second.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'The tool answered: Sunny, 18°C' } });
    expect(emulator.lastRequest()!.body.messages[2].content[0]).toMatchObject({ type: 'tool_result', tool_use_id: call.id });
  });

  it('answers a json_schema request through a forced tool and returns its input as the JSON content', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' }, population: { type: 'integer' } }, required: ['city', 'population'] };
    const completion = await chat({ response_format: { type: 'json_schema', json_schema: { name: 'city_facts', schema } } });
    const body = emulator.lastRequest()!.body;
    expect(body.tools).toEqual([{ name: JSON_RESPONSE_TOOL, description: expect.stringContaining('city_facts'), input_schema: schema }]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: JSON_RESPONSE_TOOL });
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: '{"city":"Paris","population":21}' } });
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
  });

  it('lets the model still call the client’s tools when it must answer in a json_schema', async () => {
    await chat({ tools: weather, response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: {} } } } });
    const body = emulator.lastRequest()!.body;
    expect(body.tools.map((t: { name: string }) => t.name)).toEqual(['get_weather', JSON_RESPONSE_TOOL]);
    expect(body.tool_choice).toEqual({ type: 'any' });
  });

  it.each([
    ['required' as const, { type: 'any' }],
    [{ type: 'function' as const, function: { name: 'get_weather' } }, { type: 'tool', name: 'get_weather' }],
  ])('leaves the json_schema tool out when the client forces its own tools (tool_choice %j): the answer is a call of one', async (choice, sentChoice) => {
    await chat({ tools: weather, tool_choice: choice, response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: {} } } } });
    const body = emulator.lastRequest()!.body;
    expect(body.tools.map((t: { name: string }) => t.name)).toEqual(['get_weather']);
    expect(body.tool_choice).toEqual(sentChoice);
  });

  it('asks for a JSON object in the system prompt for json_object', async () => {
    await chat({ messages: [{ role: 'system', content: 'You list facts.' }, { role: 'user', content: 'Facts about Paris' }], response_format: { type: 'json_object' } });
    expect(emulator.lastRequest()!.body.system).toMatch(/^You list facts\.\n\nRespond with a single valid JSON object/);
  });

  it('accepts images and answers about them', async () => {
    const completion = await chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } }] }] });
    expect(completion.choices[0]?.message.content).toBe('Echo: What is this?');
  });

  it('gives the thinking of an answer to reasoning_effort as reasoning_content', async () => {
    const completion = await chat({ reasoning_effort: 'low' });
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Echo: Hello there', reasoning_content: thinkingFor('Hello there') });
    expect(JSON.parse(JSON.stringify(completion)).choices[0].message).toEqual({ role: 'assistant', content: 'Echo: Hello there', reasoning_content: thinkingFor('Hello there') });
  });

  it('counts thinking within the output tokens, as Anthropic bills and reports it', async () => {
    const completion = await chat({ reasoning_effort: 'low' });
    const output = Math.ceil((thinkingFor('Hello there') + 'Echo: Hello there').length / 4);
    expect(completion.usage).toMatchObject({ completion_tokens: output });
  });

  it('keeps an answer’s blocks in Anthropic’s order, thinking and redacted thinking with their signature and data', async () => {
    const completion = await chat({ [THINKING]: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: REDACTED_THINKING_TRIGGER }] });
    const thinking = thinkingFor(REDACTED_THINKING_TRIGGER);
    expect(completion.choices[0]?.message[ANTHROPIC_BLOCKS]).toEqual([
      { type: 'thinking', thinking, signature: signatureFor(thinking) },
      { type: 'redacted_thinking', data: REDACTED_DATA },
      { type: 'text', text: `Echo: ${REDACTED_THINKING_TRIGGER}` },
    ]);
  });

  it('keeps no blocks and no reasoning_content for an answer without thinking', async () => {
    const message = (await chat({})).choices[0]!.message;
    expect(ANTHROPIC_BLOCKS in message).toBe(false);
    expect(message).not.toHaveProperty('reasoning_content');
  });

  it('keeps the blocks of an answer whose text came apart, and an Anthropic client gets them as they came', () => {
    const content = [
      { type: 'text', text: 'Paris is ' },
      { type: 'text', text: 'the capital.', citations: [{ type: 'char_location', cited_text: 'Paris is the capital of France.', document_index: 0, start_char_index: 0, end_char_index: 31 }] },
    ];
    const completion = fromAnthropicMessage({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content, stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 4 } } as AnthropicMessageResponse, 0);
    expect(completion.choices[0]!.message.content).toBe('Paris is the capital.');
    expect(chatToMessages(completion, 'claude').content).toEqual(content);
  });

  it('keeps the blocks of an answer of one text block with citations, which OpenAI\'s content cannot hold', () => {
    const content = [{ type: 'text', text: 'The grass is green.', citations: [{ type: 'char_location', cited_text: 'The grass is green.', document_index: 0, document_title: null, start_char_index: 0, end_char_index: 19 }] }];
    const completion = fromAnthropicMessage({ id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content, stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 4 } } as AnthropicMessageResponse, 0);
    expect(completion.choices[0]!.message[ANTHROPIC_BLOCKS]).toEqual(content);
  });
});
