import { describe, expect, it } from 'vitest';
import { TOOL_RESULT_OF } from '../chat-types.js';
import { AiError } from '../openai-error.js';
import { ResponsesRequestError } from './responses-error.js';
import { RESPONSE_ECHO, RESPONSE_INPUT, previousResponseIdOf, responseEchoOf, responsesToChat, type PreviousResponse } from './responses-to-chat.js';

const base = { model: 'gpt-4o-mini', input: 'Hello' };
const translate = (overrides: Record<string, unknown>) => responsesToChat({ ...base, ...overrides });
const rejection = (overrides: Record<string, unknown>): ResponsesRequestError => {
  try {
    translate(overrides);
  } catch (error) {
    if (error instanceof ResponsesRequestError) return error;
    throw error;
  }
  throw new Error('the request was accepted');
};
/** The request as JSON has it: what a provider is sent, without the echo (a symbol). */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
const weatherTool = { type: 'function', name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: true };

describe('a Responses API request as a chat request', () => {
  it('makes a string input one user message, and keeps the model', () => {
    expect(plain(responsesToChat(base))).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
  });

  it('puts the instructions first, as a system message', () => {
    expect(translate({ instructions: 'Answer in French.' }).messages).toEqual([
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'Hello' },
    ]);
  });

  it('keeps the roles of input messages, their types given or left out', () => {
    const input = [
      { role: 'developer', content: 'Be brief.' },
      { type: 'message', role: 'system', content: [{ type: 'input_text', text: 'Rule one.' }, { type: 'input_text', text: 'Rule two.' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'How are you?' },
    ];
    expect(translate({ input }).messages).toEqual([
      { role: 'developer', content: 'Be brief.' },
      { role: 'system', content: 'Rule one.\n\nRule two.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'How are you?' },
    ]);
  });

  it("makes input_file parts file parts, by their bytes with their name or by OpenAI's file id", () => {
    const input = [{ role: 'user', content: [{ type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0x', filename: 'a.pdf' }, { type: 'input_file', file_id: 'file-1' }, { type: 'input_text', text: 'Compare.' }] }];
    expect(translate({ input }).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0x', filename: 'a.pdf' } },
          { type: 'file', file: { file_id: 'file-1' } },
          { type: 'text', text: 'Compare.' },
        ],
      },
    ]);
  });

  it('makes input_image parts image parts, from a URL or a data: URL, with their detail', () => {
    const input = [
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'What is in these?' },
          { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'low' },
          { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' },
        ],
      },
    ];
    expect(translate({ input }).messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' } },
        ],
      },
    ]);
  });

  it('sends an answer sent back as output items (a message, then function calls) as one assistant message with tool calls', () => {
    const input = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Checking both.', annotations: [] }] },
      { type: 'function_call', id: 'fc_1', call_id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
      { type: 'function_call', id: 'fc_2', call_id: 'call_rome', name: 'get_weather', arguments: '{"city":"Rome"}', status: 'completed' },
      { type: 'function_call_output', call_id: 'call_paris', output: '{"celsius":21}' },
      { type: 'function_call_output', call_id: 'call_rome', output: '{"celsius":25}' },
    ];
    expect(translate({ input }).messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking both.',
        tool_calls: [
          { id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_rome', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_paris', content: '{"celsius":21}' },
      { role: 'tool', tool_call_id: 'call_rome', content: '{"celsius":25}' },
    ]);
  });

  it('gives a turn of function calls alone null content', () => {
    const input = [{ role: 'user', content: 'Weather?' }, { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' }, { type: 'function_call_output', call_id: 'call_1', output: 'sunny' }];
    expect(translate({ input }).messages[1]).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] });
  });

  it("sends an output's text parts as the tool message's text, and its images and files in a user message after the run of tool messages", () => {
    const input = [
      { type: 'function_call', call_id: 'call_1', name: 'snap', arguments: '{}' },
      { type: 'function_call', call_id: 'call_2', name: 'snap', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'first' }, { type: 'input_image', image_url: 'https://example.com/1.png' }] },
      { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'second' }, { type: 'input_file', file_id: 'file-2' }] },
      { role: 'user', content: 'Compare them.' },
    ];
    expect(translate({ input }).messages.slice(1)).toEqual([
      { role: 'tool', tool_call_id: 'call_1', content: 'first' },
      { role: 'tool', tool_call_id: 'call_2', content: 'second' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/1.png' }, [TOOL_RESULT_OF]: 'call_1' }, { type: 'file', file: { file_id: 'file-2' }, [TOOL_RESULT_OF]: 'call_2' }] },
      { role: 'user', content: 'Compare them.' },
    ]);
  });

  it('sends a reasoning item sent back as the reasoning_content of its turn, which DeepSeek-style hosts want back in a tool loop', () => {
    const input = [
      { role: 'user', content: 'Weather?' },
      { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'I should call the tool.' }], encrypted_content: 'opaque' },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
    ];
    expect(translate({ input }).messages[1]).toEqual({ role: 'assistant', content: null, reasoning_content: 'I should call the tool.', tool_calls: [expect.objectContaining({ id: 'call_1' })] });
  });

  it('prefers a reasoning item’s reasoning text to its summary', () => {
    const input = [{ type: 'reasoning', summary: [{ type: 'summary_text', text: 'short' }], content: [{ type: 'reasoning_text', text: 'the long way' }] }, { role: 'assistant', content: 'Done.' }];
    expect(translate({ input }).messages[0]).toEqual({ role: 'assistant', content: 'Done.', reasoning_content: 'the long way' });
  });

  it('leaves out a reasoning item that has no answer after it', () => {
    const input = [{ role: 'user', content: 'Hi' }, { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Hmm.' }] }, { role: 'user', content: 'Still there?' }];
    expect(translate({ input }).messages).toEqual([
      { role: 'user', content: 'Hi' },
      { role: 'user', content: 'Still there?' },
    ]);
  });

  it('sends max_output_tokens as max_completion_tokens, which reasoning models take and every adapter reads', () => {
    expect(translate({ max_output_tokens: 500 })).toMatchObject({ max_completion_tokens: 500 });
  });

  it('carries stream, temperature, top_p and user over, and reasoning.effort as reasoning_effort', () => {
    expect(translate({ stream: true, temperature: 0.3, top_p: 0.8, user: 'user-42', reasoning: { effort: 'low', summary: 'auto' } })).toMatchObject({ stream: true, temperature: 0.3, top_p: 0.8, user: 'user-42', reasoning_effort: 'low' });
  });

  it('declares flat function tools in the Chat Completions form, strict only where the client set it', () => {
    const chat = translate({ tools: [weatherTool, { type: 'function', name: 'now', parameters: null }], tool_choice: { type: 'function', name: 'get_weather' }, parallel_tool_calls: false });
    expect(chat.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weatherTool.parameters, strict: true } },
      { type: 'function', function: { name: 'now' } },
    ]);
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(chat.parallel_tool_calls).toBe(false);
  });

  it('sends tool_choice and parallel_tool_calls only with tools, as Chat Completions refuses them without', () => {
    const chat = translate({ tool_choice: 'required', parallel_tool_calls: true });
    expect(chat).not.toHaveProperty('tool_choice');
    expect(chat).not.toHaveProperty('parallel_tool_calls');
  });

  it.each([
    [{ type: 'text' }, undefined],
    [{ type: 'json_object' }, { type: 'json_object' }],
    [
      { type: 'json_schema', name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } } }, strict: true, description: 'A city' },
      { type: 'json_schema', json_schema: { name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } } }, strict: true, description: 'A city' } },
    ],
  ])('makes text.format %j the response_format %j', (format, responseFormat) => {
    expect(translate({ text: { format } }).response_format).toEqual(responseFormat);
  });

  it('takes null for any parameter as not given, as OpenAI does', () => {
    expect(plain(translate({ instructions: null, temperature: null, tools: null, previous_response_id: null, max_output_tokens: null }))).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
  });

  it('accepts store, include, metadata, truncation and prompt_cache_key, and sends none of them on', () => {
    const chat = translate({ store: false, include: ['reasoning.encrypted_content'], metadata: { ticket: 'T-1' }, truncation: 'auto', prompt_cache_key: 'k', service_tier: 'auto', text: { verbosity: 'low' } });
    expect(plain(chat)).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] });
  });
});

describe('function call outputs sent after a message that followed their calls', () => {
  /** A call, a user message, then the call's output. */
  const interrupted = (output: unknown) => [
    { role: 'user', content: 'Weather?' },
    { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{}' },
    { role: 'user', content: 'Hurry.' },
    { type: 'function_call_output', call_id: 'call_1', output },
  ];

  it("go right after their call's turn, where every provider wants a call's result", () => {
    expect(responsesToChat({ ...base, input: interrupted('sunny') }).messages).toEqual([
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'user', content: 'Hurry.' },
    ]);
  });

  it('take their images with them, after the run of tool messages, not after the message between', () => {
    const messages = responsesToChat({ ...base, input: interrupted([{ type: 'input_text', text: 'attached' }, { type: 'input_image', image_url: 'https://example.com/c.png' }]) }).messages;
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'user', 'user']);
    expect(messages[3]!.content).toEqual([expect.objectContaining({ type: 'image_url', image_url: expect.objectContaining({ url: 'https://example.com/c.png' }) })]);
    expect(messages[4]!.content).toBe('Hurry.');
  });
});

describe('what a Response echoes of its request', () => {
  it("is OpenAI's defaults when the request set nothing", () => {
    expect(responsesToChat(base)[RESPONSE_ECHO]).toEqual({
      instructions: null,
      max_output_tokens: null,
      metadata: {},
      parallel_tool_calls: true,
      reasoning: { effort: null, summary: null },
      temperature: null,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: null,
      user: null,
      store: true,
      previous_response_id: null,
    });
  });

  it('is what the request set, the tools in their flat form', () => {
    const echo = responseEchoOf(
      translate({ instructions: 'Be brief.', max_output_tokens: 64, metadata: { ticket: 'T-1' }, parallel_tool_calls: false, reasoning: { effort: 'high', generate_summary: 'concise' }, temperature: 0.5, top_p: 0.9, user: 'u1', tools: [weatherTool], tool_choice: 'required', text: { format: { type: 'json_object' }, verbosity: 'low' } }),
    );
    expect(echo).toEqual({
      instructions: 'Be brief.',
      max_output_tokens: 64,
      metadata: { ticket: 'T-1' },
      parallel_tool_calls: false,
      reasoning: { effort: 'high', summary: 'concise' },
      temperature: 0.5,
      text: { format: { type: 'json_object' }, verbosity: 'low' },
      tool_choice: 'required',
      tools: [weatherTool],
      top_p: 0.9,
      user: 'u1',
      store: true,
      previous_response_id: null,
    });
  });

  it('is a symbol JSON leaves out, so neither a provider nor the response cache sees it', () => {
    expect(JSON.stringify(translate({ metadata: { secret_note: 'x' } }))).not.toContain('secret_note');
  });
});

describe('a Responses API request the gateway refuses', () => {
  it.each([
    [{ conversation: 'conv_123' }, 'conversation', 'conversation_not_supported'],
    [{ background: true }, 'background', 'background_not_supported'],
    [{ prompt: { id: 'pmpt_1' } }, 'prompt', 'unsupported_parameter'],
    [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type', 'item_reference_not_supported'],
  ])('refuses %j, which needs state Keygate does not keep, with a 400 naming %s and code %s', (overrides, param, code) => {
    const error = rejection(overrides);
    expect(error).toBeInstanceOf(AiError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param, code });
  });

  it.each([
    [{ temprature: 0.2 }, 'temprature'],
    [{ tools: [weatherTool, { type: 'function', name: 'get_time', paramters: { type: 'object' } }] }, 'tools[1].paramters'],
    [{ tools: [{ type: 'custom', name: 'sql', grammar: 'x' }] }, 'tools[0].grammar'],
  ])("refuses %j, a member OpenAI's Responses API does not have, as OpenAI does: unknown_parameter naming %s", (overrides, param) => {
    expect(rejection(overrides)).toMatchObject({ status: 400, type: 'invalid_request_error', param, code: 'unknown_parameter', message: `Unknown parameter: '${param}'.` });
  });

  it('takes a null member it does not know as not given, as OpenAI takes null, in a tool too', () => {
    expect(() => responsesToChat({ model: 'fast', input: 'Hi', temprature: null, tools: [{ ...weatherTool, paramters: null }] })).not.toThrow();
  });

  it("accepts what Codex and the Agents SDK send beside OpenAI's members (client_metadata, a tool's defer_loading), sending neither on", () => {
    const chat = responsesToChat({ model: 'fast', input: 'Hi', client_metadata: { session: 's1' }, tools: [{ ...weatherTool, defer_loading: true }] });
    expect(chat).not.toHaveProperty('client_metadata');
    expect(chat.tools![0]).not.toHaveProperty('defer_loading');
    expect(chat.tools![0]!.function).not.toHaveProperty('defer_loading');
  });

  it("says to continue a stored response instead of sending a conversation", () => {
    expect(rejection({ conversation: 'conv_123' }).message).toMatch(/'previous_response_id'/);
  });

  it.each(['web_search', 'web_search_preview', 'file_search', 'computer_use_preview', 'code_interpreter', 'image_generation', 'mcp'])('refuses a %s tool, which OpenAI runs itself, with unsupported_tool', (type) => {
    expect(rejection({ tools: [weatherTool, { type }] })).toMatchObject({ param: 'tools[1].type', code: 'unsupported_tool' });
  });

  it.each(['web_search_call', 'computer_call_output', 'local_shell_call'])('refuses a %s input item with unsupported_input_item', (type) => {
    expect(rejection({ input: [{ role: 'user', content: 'hi' }, { type }] })).toMatchObject({ param: 'input[1].type', code: 'unsupported_input_item' });
  });

  it.each([
    [{ model: '' }, 'model', 'missing_required_parameter'],
    [{ model: 42 }, 'model', 'invalid_type'],
    [{ text: { format: { type: 'json_schema', schema: { type: 'object' } } } }, 'text.format.name', 'missing_required_parameter'],
    [{ input: undefined }, 'input', 'missing_required_parameter'],
    [{ input: [] }, 'input', 'invalid_value'],
    [{ input: [{ role: 'tool', content: 'x' }] }, 'input[0].role', 'invalid_value'],
    [{ input: [{ role: 'user', content: [{ type: 'input_image' }] }] }, 'input[0].content[0].image_url', 'invalid_value'],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }] }, 'input[0].content[0].file_id', 'unsupported_parameter'],
    [{ input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://example.com/a.pdf' }] }] }, 'input[0].content[0].file_url', 'unsupported_parameter'],
    [{ input: [{ role: 'user', content: [{ type: 'input_file', filename: 'a.pdf' }] }] }, 'input[0].content[0]', 'invalid_value'],
    [{ input: [{ role: 'user', content: [{ type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0x', file_id: 'file-1' }] }] }, 'input[0].content[0]', 'invalid_value'],
    [{ input: [{ role: 'user', content: [{ type: 'input_file', file_data: 'https://example.com/a.pdf', filename: 'a.pdf' }] }] }, 'input[0].content[0].file_data', 'invalid_value'],
    [{ input: [{ role: 'user', content: [{ type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0x' }] }] }, 'input[0].content[0].filename', 'invalid_value'],
    [{ input: [{ role: 'system', content: [{ type: 'input_file', file_id: 'file-1' }] }] }, 'input[0].content[0].type', 'invalid_value'],
    [{ input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'https://example.com/a.png' }] }] }, 'input[0].content[0].type', 'invalid_value'],
    [{ input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id', 'invalid_value'],
    [{ input: [{ type: 'function_call_output', call_id: 'c', output: 7 }] }, 'input[0].output', 'invalid_value'],
    [{ max_output_tokens: 15 }, 'max_output_tokens', 'invalid_value'],
    [{ temperature: 3 }, 'temperature', 'invalid_value'],
    [{ top_p: -0.1 }, 'top_p', 'invalid_value'],
    [{ stream: 'yes' }, 'stream', 'invalid_value'],
    [{ tools: [{ type: 'function', parameters: {} }] }, 'tools[0].name', 'invalid_value'],
    [{ tools: [{ type: 'function', name: 'f', parameters: 'abc' }] }, 'tools[0].parameters', 'invalid_value'],
    [{ tools: [{ type: 'function', name: 'f', parameters: [] }] }, 'tools[0].parameters', 'invalid_value'],
    [{ tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [] } }, 'tool_choice.tools', 'invalid_value'],
    [{ tool_choice: { type: 'allowed_tools', mode: 'any', tools: [{ type: 'function', name: 'f' }] } }, 'tool_choice.mode', 'invalid_value'],
    [{ tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'mcp', server_label: 'deepwiki' }] } }, 'tool_choice.tools[0]', 'unsupported_value'],
    [{ tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function' }] } }, 'tool_choice.tools[0].name', 'invalid_value'],
    [{ tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'f' }, { type: 'custom', name: 'f' }] } }, 'tool_choice.tools[1]', 'invalid_value'],
    [{ tool_choice: { type: 'file_search' } }, 'tool_choice', 'unsupported_value'],
    [{ text: { format: { type: 'json_schema', name: 'has space', schema: {} } } }, 'text.format.name', 'invalid_value'],
    [{ text: { format: { type: 'json_schema', name: 'ok' } } }, 'text.format.schema', 'invalid_value'],
    [{ text: { format: { type: 'xml' } } }, 'text.format.type', 'invalid_value'],
    [{ reasoning: { effort: '' } }, 'reasoning.effort', 'invalid_value'],
    [{ reasoning: { summary: 'everything' } }, 'reasoning.summary', 'invalid_value'],
    [{ metadata: { n: 1 } }, 'metadata.n', 'invalid_value'],
  ])('refuses %j with a 400 naming %s', (overrides, param, code) => {
    expect(rejection(overrides)).toMatchObject({ status: 400, param, code });
  });

  it("says what it expected, in OpenAI's words", () => {
    expect(rejection({ temperature: 3 }).message).toBe("Invalid 'temperature': expected a number from 0 to 2.");
  });

  it.each([
    [[{ role: 'user', content: 'Weather?' }, { type: 'function_call_output', call_id: 'call_1', output: 'sunny' }], 'No tool call found for function call output with call_id call_1.'],
    [[{ type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' }, { type: 'custom_tool_call_output', call_id: 'call_2', output: 'x' }], 'No tool call found for custom tool call output with call_id call_2.'],
    [[{ type: 'function_call_output', call_id: 'call_1', output: 'sunny' }, { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' }], 'No tool call found for function call output with call_id call_1.'],
    [[{ role: 'user', content: 'Weather?' }, { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' }, { role: 'user', content: 'Never mind.' }], 'No tool output found for function call call_1.'],
    [[{ type: 'custom_tool_call', call_id: 'call_9', name: 'apply_patch', input: 'x' }], 'No tool output found for custom tool call call_9.'],
  ])('refuses input whose calls and outputs do not pair up, %j, in OpenAI\'s words, naming the input', (input, message) => {
    expect(rejection({ input })).toMatchObject({ status: 400, param: 'input', message });
  });
});

describe('the members of input items and of their parts', () => {
  it.each([
    [{ role: 'user', content: 'Hi', foo: 1 }, 'input[0].foo'],
    [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi', foo: 1 }] }, 'input[0].content[0].foo'],
    [{ role: 'user', content: [{ type: 'input_text', text: 'Hi' }, { type: 'input_image', image_url: 'https://example.com/a.png', detial: 'low' }] }, 'input[0].content[1].detial'],
    [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1', file_name: 'a.pdf' }] }, 'input[0].content[0].file_name'],
    [{ role: 'assistant', content: [{ type: 'output_text', text: 'Hello', annotation: [] }] }, 'input[0].content[0].annotation'],
    [{ type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}', args: '{}' }, 'input[0].args'],
    [{ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Think.', foo: 1 }] }, 'input[0].summary[0].foo'],
    [{ type: 'item_reference', id: 'msg_1', foo: 1 }, 'input[0].foo'],
  ])("refuses %j, whose member OpenAI's Responses API does not have, as OpenAI does: unknown_parameter naming %s", (item, param) => {
    expect(rejection({ input: [item] })).toMatchObject({ status: 400, type: 'invalid_request_error', param, code: 'unknown_parameter', message: `Unknown parameter: '${param}'.` });
  });

  it.each([
    [{ type: 'function_call_output', call_id: 'c1', output: [{ type: 'input_text', text: 'done', foo: 1 }] }, 'input[1].output[0].foo'],
    [{ type: 'custom_tool_call_output', call_id: 'c1', output: 'done', foo: 1 }, 'input[1].foo'],
  ])("refuses an output %j with a member OpenAI's Responses API does not have, naming %s", (output, param) => {
    const call = { type: output.type === 'function_call_output' ? 'function_call' : 'custom_tool_call', call_id: 'c1', name: 'f', ...(output.type === 'function_call_output' ? { arguments: '{}' } : { input: 'x' }) };
    expect(rejection({ input: [call, output] })).toMatchObject({ param, code: 'unknown_parameter' });
  });

  it("accepts a Response's output appended to the input as OpenAI returns it: ids, statuses, phases, annotations, logprobs, summaries and encrypted reasoning", () => {
    const input = [
      { role: 'user', content: 'Weather in Paris?' },
      { id: 'rs_1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Look it up.' }], content: [{ type: 'reasoning_text', text: 'Call the tool.' }], encrypted_content: 'gAAAA', status: 'completed' },
      { id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', phase: 'commentary', content: [{ type: 'output_text', text: 'Checking.', annotations: [], logprobs: [] }, { type: 'refusal', refusal: 'Not that.' }] },
      { id: 'fc_1', type: 'function_call', call_id: 'call_1', name: 'get_weather', namespace: 'weather', arguments: '{"city":"Paris"}', status: 'completed', caller: { type: 'direct' } },
      { id: 'fco_1', type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: '18°C', prompt_cache_breakpoint: null }, { type: 'input_image', image_url: 'https://example.com/a.png', detail: 'auto', file_id: null }], status: 'completed', created_by: 'user_1' },
      { id: 'ctc_1', type: 'custom_tool_call', call_id: 'call_2', name: 'apply_patch', input: 'x', status: 'completed', created_by: 'resp_1' },
      { id: 'ctco_1', type: 'custom_tool_call_output', call_id: 'call_2', output: 'ok', status: 'completed' },
      { id: 'msg_2', type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_file', file_data: 'data:application/pdf;base64,JVBERi0x', filename: 'a.pdf', detail: 'low' }] },
    ];
    expect(() => translate({ input })).not.toThrow();
  });

  it("accepts what clients send beside OpenAI's members: Codex's end_turn and custom call output's name, the openai SDK's parsed_arguments and parsed, Keygate's own extra_content", () => {
    const input = [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Patch it.' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Patching.', parsed: { step: 1 } }], end_turn: false, phase: 'commentary' },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{"a":1}', parsed_arguments: { a: 1 } },
      { type: 'function_call_output', call_id: 'call_1', output: 'done' },
      { type: 'custom_tool_call', call_id: 'call_2', name: 'apply_patch', input: 'x', status: 'completed' },
      { type: 'custom_tool_call_output', call_id: 'call_2', name: 'apply_patch', output: 'ok' },
      { type: 'function_call', call_id: 'call_3', name: 'f', arguments: '{}', extra_content: { google: { thought_signature: 'sig' } } },
      { type: 'function_call_output', call_id: 'call_3', output: 'done' },
    ];
    expect(() => translate({ input })).not.toThrow();
  });

  it('takes a null member it does not know as not given, in an item and in a part', () => {
    expect(() => translate({ input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hi', foo: null }], foo: null }] })).not.toThrow();
  });

  it("does not check a continued response's stored items again, so that one stored with a member now refused still continues", () => {
    const stored: PreviousResponse = { id: 'resp_old', items: [{ id: 'msg_old', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi', foo: 1 }], foo: 1 }] };
    expect(() => responsesToChat({ ...base, previous_response_id: 'resp_old' }, stored)).not.toThrow();
  });
});

describe('a request that continues a stored response (previous_response_id)', () => {
  /** A stored first turn: its input items as kept, then its output (a message and a function call). */
  const previous: PreviousResponse = {
    id: 'resp_first',
    items: [
      { id: 'msg_q', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }], status: 'completed' },
      { id: 'msg_a', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Checking.', annotations: [] }] },
      { id: 'fc_1', type: 'function_call', call_id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}', status: 'completed' },
    ],
  };
  const continued = (overrides: Record<string, unknown>) => responsesToChat({ ...base, previous_response_id: 'resp_first', ...overrides }, previous);
  /** The same first turn answered in words alone: the next request need not answer a call. */
  const continuedChat = (overrides: Record<string, unknown>) => responsesToChat({ ...base, previous_response_id: 'resp_first', ...overrides }, { ...previous, items: previous.items.slice(0, 2) });

  it("refuses an item the continued response already holds, sent again in input, as OpenAI does: by its id, naming the item", () => {
    const again = previous.items[2]!;
    let refused: unknown;
    try {
      continued({ input: [again, { type: 'function_call_output', call_id: 'call_paris', output: '{"celsius":21}' }] });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ status: 400, param: 'input[0].id', message: 'Duplicate item found with id fc_1. Remove duplicate items from your input and try again.' });
  });

  it('refuses an item sent twice in one input', () => {
    const item = { id: 'msg_x', type: 'message', role: 'user', content: 'Hi' };
    expect(rejection({ input: [item, item] })).toMatchObject({ status: 400, param: 'input[1].id' });
  });

  it("sends the stored input and output items, as one assistant turn, before the request's own input", () => {
    const chat = continued({ input: [{ type: 'function_call_output', call_id: 'call_paris', output: '{"celsius":21}' }] });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_paris', content: '{"celsius":21}' },
    ]);
  });

  it("carries no instructions over: only the request's own come first", () => {
    expect(continuedChat({ instructions: 'Answer in French.' }).messages[0]).toEqual({ role: 'system', content: 'Answer in French.' });
    expect(continuedChat({}).messages.some((message) => message.role === 'system')).toBe(false);
  });

  it('echoes the previous response id and keeps its own input items alone, each with an id, to store', () => {
    const chat = continuedChat({ input: 'And tomorrow?' });
    expect(responseEchoOf(chat)).toMatchObject({ store: true, previous_response_id: 'resp_first' });
    expect(chat[RESPONSE_INPUT]).toEqual([{ id: expect.stringMatching(/^msg_[0-9a-f]{32}$/), type: 'message', role: 'user', content: [{ type: 'input_text', text: 'And tomorrow?' }], status: 'completed' }]);
  });

  it("refuses a request that leaves the stored response's function call unanswered, in OpenAI's words", () => {
    expect(() => continued({ input: 'And tomorrow?' })).toThrow(expect.objectContaining({ status: 400, param: 'input', message: 'No tool output found for function call call_paris.' }));
  });

  it('names a malformed item of its own input as the client sent it, not by its place in the chain', () => {
    expect(() => continued({ input: [{ role: 'user', content: 'ok' }, { role: 'robot', content: 'x' }] })).toThrow(expect.objectContaining({ param: 'input[1].role' }));
  });

  it('keeps nothing to store when store is false, and echoes store: false', () => {
    const chat = continuedChat({ store: false });
    expect(chat[RESPONSE_INPUT]).toBeUndefined();
    expect(responseEchoOf(chat).store).toBe(false);
  });

  it('gives ids to input items as OpenAI lists them: msg_, fc_, fco_, rs_, and keeps ids sent', () => {
    const chat = translate({
      input: [
        { role: 'user', content: 'Hi' },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Think.' }] },
        { type: 'function_call', id: 'fc_mine', call_id: 'c1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'c1', output: 'done' },
      ],
    });
    expect(chat[RESPONSE_INPUT]!.map((item) => item.id)).toEqual([expect.stringMatching(/^msg_/), expect.stringMatching(/^rs_/), 'fc_mine', expect.stringMatching(/^fco_/)]);
  });

  it.each([[''], [42]])('gives an input item sent with an id of %j an id of its own, which a list cursor can name', (id) => {
    const chat = translate({ input: [{ role: 'user', content: 'Hi', id }] });
    expect(chat[RESPONSE_INPUT]![0]!.id).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it.each([[42], [''], ['x'.repeat(65)]])('refuses a previous_response_id of %j with invalid_value', (id) => {
    expect(() => previousResponseIdOf({ previous_response_id: id })).toThrow(expect.objectContaining({ status: 400, param: 'previous_response_id', code: 'invalid_value' }));
  });
});

describe('custom tools in a Responses API request', () => {
  const patchTool = { type: 'custom', name: 'apply_patch', description: 'Edits files with a patch.' };
  const grammarTool = { type: 'custom', name: 'math', format: { type: 'grammar', syntax: 'lark', definition: 'start: INT' } };

  it('sends a custom tool as Chat Completions declares it, and echoes it as the client sent it', () => {
    const chat = translate({ tools: [weatherTool, patchTool, { ...grammarTool }] });
    expect((plain(chat) as { tools: unknown }).tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weatherTool.parameters, strict: true } },
      { type: 'custom', custom: { name: 'apply_patch', description: 'Edits files with a patch.' } },
      { type: 'custom', custom: { name: 'math', format: { type: 'grammar', grammar: { syntax: 'lark', definition: 'start: INT' } } } },
    ]);
    expect(responseEchoOf(chat).tools).toEqual([{ ...weatherTool }, patchTool, grammarTool]);
  });

  it('forces a custom tool with tool_choice {"type": "custom", "name"}', () => {
    const chat = translate({ tools: [patchTool], tool_choice: { type: 'custom', name: 'apply_patch' } });
    expect(chat.tool_choice).toEqual({ type: 'custom', custom: { name: 'apply_patch' } });
    expect(responseEchoOf(chat).tool_choice).toEqual({ type: 'custom', name: 'apply_patch' });
  });

  it('sends custom_tool_call and custom_tool_call_output items back as the assistant call and its tool message', () => {
    const input = [
      { role: 'user', content: 'Fix the typo.' },
      { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_1', name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' },
      { type: 'custom_tool_call_output', call_id: 'call_1', output: 'Done.' },
    ];
    expect(translate({ input, tools: [patchTool] }).messages).toEqual([
      { role: 'user', content: 'Fix the typo.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'custom', custom: { name: 'apply_patch', input: '*** Begin Patch\n*** End Patch' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'Done.' },
    ]);
  });

  it('keeps custom tool items to store, with ctc_ and ctco_ ids where they had none', () => {
    const input = [
      { type: 'custom_tool_call', call_id: 'call_1', name: 'apply_patch', input: 'x' },
      { type: 'custom_tool_call_output', call_id: 'call_1', output: 'ok' },
    ];
    const kept = translate({ input, tools: [patchTool] })[RESPONSE_INPUT]!;
    expect(kept[0]).toMatchObject({ type: 'custom_tool_call', id: expect.stringMatching(/^ctc_[0-9a-f]{32}$/), call_id: 'call_1', input: 'x', status: 'completed' });
    expect(kept[1]).toMatchObject({ type: 'custom_tool_call_output', id: expect.stringMatching(/^ctco_[0-9a-f]{32}$/), output: 'ok' });
  });

  it('refuses a function tool and a custom tool of the same name, naming the later one', () => {
    expect(() => translate({ tools: [{ ...weatherTool, name: 'apply_patch' }, patchTool] })).toThrow(expect.objectContaining({ status: 400, code: 'invalid_value', param: 'tools[1]' }));
  });

  it('refuses a grammar format of another syntax', () => {
    expect(rejection({ tools: [{ ...grammarTool, format: { type: 'grammar', syntax: 'ebnf', definition: 'x' } }] })).toMatchObject({ param: 'tools[0].format.syntax', code: 'invalid_value' });
  });
});

describe("a Responses API request's include", () => {
  const documented = ['file_search_call.results', 'web_search_call.results', 'web_search_call.action.sources', 'message.input_image.image_url', 'computer_call_output.output.image_url', 'code_interpreter_call.outputs', 'reasoning.encrypted_content', 'message.output_text.logprobs'];

  it('takes every value OpenAI documents', () => {
    expect(() => translate({ include: documented })).not.toThrow();
  });

  it('refuses a value OpenAI does not define as OpenAI does: invalid_value on its place, naming the values it takes', () => {
    const error = rejection({ include: ['reasoning.encrypted_content', 'usage'] });
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'include[1]', code: 'invalid_value' });
    expect(error.message).toBe(`Invalid value: 'usage'. Supported values are: ${documented.slice(0, -1).map((v) => `'${v}'`).join(', ')}, and 'message.output_text.logprobs'.`);
  });

  it('refuses an include that is not an array with invalid_type', () => {
    expect(rejection({ include: 'reasoning.encrypted_content' })).toMatchObject({ status: 400, param: 'include', code: 'invalid_type' });
  });
});
