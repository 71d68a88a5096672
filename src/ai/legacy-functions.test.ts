import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk } from './chat-types.js';
import { offersFunctions, toFunctionCallChunk, toFunctionCallCompletion, toToolForms } from './legacy-functions.js';

const WEATHER = { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

/** `body` as toToolForms leaves it. */
function mapped(body: Record<string, unknown>): Record<string, unknown> {
  toToolForms(body);
  return body;
}

describe('deprecated function calling in the tool forms', () => {
  it('offers functions as function tools, adding no parallel_tool_calls, which OpenAI\'s reasoning models refuse', () => {
    expect(mapped({ functions: [WEATHER] })).toEqual({ tools: [{ type: 'function', function: WEATHER }] });
  });

  it.each([[{ description: 'no name' }], [{ name: '' }], ['get_weather']])('refuses the function %j in the words the client used, naming functions[i].name', (fn) => {
    expect(() => mapped({ functions: [WEATHER, fn] })).toThrow(expect.objectContaining({ status: 400, param: 'functions[1].name' }));
  });

  it('keeps the parallel_tool_calls a client set', () => {
    expect(mapped({ functions: [WEATHER], parallel_tool_calls: true }).parallel_tool_calls).toBe(true);
  });

  it.each([
    ['none', 'none'],
    ['auto', 'auto'],
    [{ name: 'get_weather' }, { type: 'function', function: { name: 'get_weather' } }],
  ])('takes function_call %j as the tool_choice %j', (functionCall, toolChoice) => {
    expect(mapped({ functions: [WEATHER], function_call: functionCall })).toMatchObject({ tool_choice: toolChoice });
  });

  it('turns an assistant function_call into a tool call, and the function message after it into its result', () => {
    const body = mapped({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { role: 'function', name: 'get_weather', content: '{"celsius":21}' },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_fn_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_fn_1', content: '{"celsius":21}' },
    ]);
  });

  it('answers a function message to the tool call of its name, when the assistant made tool calls', () => {
    const body = mapped({
      messages: [
        { role: 'user', content: 'Weather and time in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_time', arguments: '{}' } }, { id: 'c2', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'function', name: 'get_weather', content: 'sunny' },
      ],
    });
    expect((body.messages as unknown[])[2]).toEqual({ role: 'tool', tool_call_id: 'c2', content: 'sunny' });
  });

  it('leaves a request without any deprecated member as it is', () => {
    const messages = [{ role: 'user', content: 'Hello' }];
    const body = mapped({ model: 'm', messages, tools: [{ type: 'function', function: WEATHER }] });
    expect(body).toEqual({ model: 'm', messages, tools: [{ type: 'function', function: WEATHER }] });
    expect(body.messages).toBe(messages);
  });

  it.each([
    ['functions beside tools', { functions: [WEATHER], tools: [] }, 'functions'],
    ['functions that are not an array', { functions: WEATHER }, 'functions'],
    ['a function without a name', { functions: [{ parameters: {} }] }, 'functions[0].name'],
    ['a function whose parameters are not an object', { functions: [WEATHER, { name: 'f', parameters: 'abc' }] }, 'functions[1].parameters'],
    ['function_call beside tool_choice', { function_call: 'auto', tool_choice: 'auto' }, 'function_call'],
    ['a function_call of "required", which only tool_choice has', { functions: [WEATHER], function_call: 'required' }, 'function_call'],
    ['a function_call without functions', { function_call: 'auto' }, 'function_call'],
    ['a function_call beside no functions at all', { function_call: 'none' }, 'function_call'],
    ['an empty list of functions', { functions: [], function_call: 'none' }, 'functions'],
    ['a function message without a name', { messages: [{ role: 'function', content: 'x' }] }, 'messages[0].name'],
    ['a function message no call asked for', { messages: [{ role: 'user', content: 'hi' }, { role: 'function', name: 'get_weather', content: 'x' }] }, 'messages[1]'],
    ['an assistant function_call whose arguments are an object', { messages: [{ role: 'assistant', function_call: { name: 'f', arguments: {} } }] }, 'messages[0].function_call'],
  ])('refuses %s with 400, naming the parameter', (_what, body, param) => {
    expect(() => toToolForms(body as Record<string, unknown>)).toThrow(expect.objectContaining({ status: 400, type: 'invalid_request_error', param }));
  });

  it('answers in the function_call form only a call that offered functions', () => {
    expect(offersFunctions({ functions: [WEATHER] })).toBe(true);
    expect(offersFunctions({ tools: [], messages: [{ role: 'function', name: 'f', content: '' }] })).toBe(false);
  });
});

describe('answers in the deprecated function_call form', () => {
  const completion = (message: ChatCompletion['choices'][number]['message'], finish: ChatCompletion['choices'][number]['finish_reason']): ChatCompletion => ({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });

  it('give the first tool call as function_call, finished with function_call', () => {
    const calls = [
      { id: 'a', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'b', type: 'function' as const, function: { name: 'get_time', arguments: '{}' } },
    ];
    expect(toFunctionCallCompletion(completion({ role: 'assistant', content: null, tool_calls: calls }, 'tool_calls')).choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      finish_reason: 'function_call',
      logprobs: null,
    });
  });

  it('leave an answer without a call as it is', () => {
    const text = completion({ role: 'assistant', content: 'Hello' }, 'stop');
    expect(toFunctionCallCompletion(text)).toEqual(text);
  });

  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): ChatCompletionChunk => ({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finish }],
  });

  it('stream the first tool call as function_call deltas, finished with function_call', () => {
    expect(toFunctionCallChunk(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'get_weather', arguments: '' } }] })).choices[0]!.delta).toEqual({
      role: 'assistant',
      content: null,
      function_call: { name: 'get_weather', arguments: '' },
    });
    expect(toFunctionCallChunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] })).choices[0]!.delta).toEqual({ function_call: { arguments: '{"ci' } });
    expect(toFunctionCallChunk(chunk({ tool_calls: [{ index: 1, function: { arguments: '{}' } }] })).choices[0]!.delta).toEqual({});
    expect(toFunctionCallChunk(chunk({}, 'tool_calls')).choices[0]!.finish_reason).toBe('function_call');
  });

  it('pass a chunk without a call on as the same chunk', () => {
    const text = chunk({ content: 'Hello' });
    expect(toFunctionCallChunk(text)).toBe(text);
  });
});
