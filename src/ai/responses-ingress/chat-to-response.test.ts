import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ClientCompletion, FinishReason } from '../chat-types.js';
import { chatToResponse, responseUsageFor } from './chat-to-response.js';
import { responseEchoOf, responsesToChat } from './responses-to-chat.js';

const completion = (message: ChatCompletion['choices'][number]['message'], finishReason: FinishReason | null = 'stop', usage: ChatCompletion['usage'] = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 }): ChatCompletion => ({
  id: 'chatcmpl-abc123',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
  usage,
});
const echo = responseEchoOf(responsesToChat({ model: 'fast', input: 'Hi' }));

describe('a chat completion as a Response', () => {
  it('answers text as one completed message item with an output_text part, and the whole Response around it', () => {
    const before = Math.floor(Date.now() / 1000);
    expect(chatToResponse(completion({ role: 'assistant', content: 'Hello there.' }), 'fast', echo, 'resp_1')).toEqual({
      id: 'resp_1',
      object: 'response',
      created_at: expect.toSatisfy((at: number) => at >= before && at <= Math.floor(Date.now() / 1000)),
      status: 'completed',
      background: false,
      error: null,
      incomplete_details: null,
      instructions: null,
      max_output_tokens: null,
      model: 'fast',
      output: [{ type: 'message', id: expect.stringMatching(/^msg_[0-9a-f]{32}$/), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello there.', annotations: [] }] }],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: { effort: null, summary: null },
      store: true,
      temperature: null,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: null,
      truncation: 'disabled',
      usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 17 },
      user: null,
      metadata: {},
    });
  });

  it('gives the Response an id starting resp_ when none is given', () => {
    expect(chatToResponse(completion({ role: 'assistant', content: 'Hi' }), 'fast', echo).id).toMatch(/^resp_[0-9a-f]{32}$/);
  });

  it('echoes what the request set', () => {
    const request = responsesToChat({ model: 'fast', input: 'Hi', instructions: 'Be brief.', temperature: 0.2, metadata: { a: 'b' }, max_output_tokens: 100 });
    expect(chatToResponse(completion({ role: 'assistant', content: 'Hi' }), 'fast', responseEchoOf(request))).toMatchObject({ instructions: 'Be brief.', temperature: 0.2, metadata: { a: 'b' }, max_output_tokens: 100 });
  });

  it('answers tool calls as function_call items after the text, their call_id the tool call id', () => {
    const response = chatToResponse(
      completion(
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_rome', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        'tool_calls',
      ),
      'fast',
      echo,
    );
    expect(response.status).toBe('completed');
    expect(response.output.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call']);
    expect(response.output[1]).toEqual({ type: 'function_call', id: expect.stringMatching(/^fc_/), call_id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' });
    expect(response.output[2]).toMatchObject({ call_id: 'call_rome', arguments: '{"city":"Rome"}' });
  });

  it('answers tool calls without text with function_call items only', () => {
    const response = chatToResponse(completion({ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] }, 'tool_calls'), 'fast', echo);
    expect(response.output.map((item) => item.type)).toEqual(['function_call']);
  });

  it("puts the provider's reasoning first, as a reasoning item whose summary is its text", () => {
    const response = chatToResponse(completion({ role: 'assistant', content: 'Paris.', reasoning_content: 'The capital of France is Paris.' }), 'fast', echo);
    expect(response.output[0]).toEqual({ type: 'reasoning', id: expect.stringMatching(/^rs_/), summary: [{ type: 'summary_text', text: 'The capital of France is Paris.' }] });
    expect(response.output[1]).toMatchObject({ type: 'message' });
  });

  it('is incomplete, for max_output_tokens, when the answer was cut at the length limit, its message too', () => {
    const response = chatToResponse(completion({ role: 'assistant', content: 'Echo: a long' }, 'length'), 'fast', echo);
    expect(response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    expect(response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
  });

  it('marks the call an answer was cut in incomplete, and the message and calls before it completed', () => {
    const calls = [
      { id: 'call_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_2', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Pa' } },
    ];
    const response = chatToResponse(completion({ role: 'assistant', content: 'Looking.', tool_calls: calls }, 'length'), 'fast', echo);
    expect(response.output.map((item) => [item.type, 'status' in item ? item.status : undefined])).toEqual([
      ['message', 'completed'],
      ['function_call', 'completed'],
      ['function_call', 'incomplete'],
    ]);
    expect(chatToResponse(completion({ role: 'assistant', content: null, tool_calls: calls }, 'tool_calls'), 'fast', echo).output.map((item) => ('status' in item ? item.status : undefined))).toEqual(['completed', 'completed']);
  });

  it("is incomplete, for content_filter, when the provider's filter stopped it", () => {
    expect(chatToResponse(completion({ role: 'assistant', content: '' }, 'content_filter'), 'fast', echo)).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' }, output: [] });
  });

  it('answers a refusal as a refusal part', () => {
    expect(chatToResponse(completion({ role: 'assistant', content: null, refusal: 'I cannot help with that.' }), 'fast', echo).output[0]).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] });
  });

  it('refuses a choice the provider says failed (OpenRouter’s finish_reason "error"), which no Response can say', () => {
    expect(() => chatToResponse(completion({ role: 'assistant', content: 'Half an ans' }, 'error' as FinishReason), 'fast', echo)).toThrow('the provider answered with a choice that failed');
  });

  it("dates a Response when it is made, not at the provider's `created` (its clock, or a cached completion's time)", () => {
    const made = chatToResponse({ ...completion({ role: 'assistant', content: 'Hi' }), created: 1_000 }, 'fast', echo);
    expect(made.created_at).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) - 1);
  });
});

describe('a chat usage as a Response usage', () => {
  it('keeps cached tokens inside the input tokens and reasoning tokens inside the output tokens', () => {
    expect(responseUsageFor({ prompt_tokens: 100, completion_tokens: 40, total_tokens: 140, prompt_tokens_details: { cached_tokens: 60 }, completion_tokens_details: { reasoning_tokens: 25 } })).toEqual({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 60 },
      output_tokens: 40,
      output_tokens_details: { reasoning_tokens: 25 },
      total_tokens: 140,
    });
  });

  it('counts in the output tokens the reasoning a host counts apart from its completion tokens, as xAI does', () => {
    const usage = responseUsageFor({ prompt_tokens: 11, completion_tokens: 5, total_tokens: 80, completion_tokens_details: { reasoning_tokens: 64 } });
    expect(usage).toMatchObject({ input_tokens: 11, output_tokens: 69, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 80 });
  });

  it('is zeros when the provider reported none', () => {
    expect(responseUsageFor(undefined)).toEqual({ input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 });
  });
});

describe("a chat completion's custom tool calls as a Response", () => {
  it('answers a custom call as a custom_tool_call item with a ctc_ id, its call_id the call id and its input the text', () => {
    const answer: ClientCompletion = { ...completion({ role: 'assistant', content: null }, 'tool_calls') };
    answer.choices[0]!.message.tool_calls = [{ id: 'call_9', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' } }];
    expect(chatToResponse(answer, 'fast', echo, 'resp_1').output).toEqual([
      { type: 'custom_tool_call', id: expect.stringMatching(/^ctc_[0-9a-f]{32}$/), call_id: 'call_9', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch', status: 'completed' },
    ]);
  });
});
