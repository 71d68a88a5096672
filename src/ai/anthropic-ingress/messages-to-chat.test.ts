import { describe, expect, it } from 'vitest';
import { AiError } from '../openai-error.js';
import { ANTHROPIC_BLOCKS, CACHE_CONTROL, CACHE_MARKED, THINKING, OUTPUT_CONFIG, TOOL_ERROR, TOOL_RESULT_OF, UNTITLED, CITATIONS, DOCUMENT_CONTEXT } from '../chat-types.js';
import { AnthropicRequestError } from './anthropic-error.js';
import { messagesToChat } from './messages-to-chat.js';
import type { AnthropicMessagesRequest } from './wire-types.js';

const base = { model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }] } satisfies AnthropicMessagesRequest;
const translate = (overrides: Record<string, unknown>) => messagesToChat({ ...base, ...overrides });
const rejection = (overrides: Record<string, unknown>): AnthropicRequestError => {
  try {
    translate(overrides);
  } catch (error) {
    if (error instanceof AnthropicRequestError) return error;
    throw error;
  }
  throw new Error('the request was accepted');
};
const PDF_BASE64 = Buffer.from('%PDF-1.4\n%%EOF').toString('base64');
/** A question, and the assistant turn that calls get_weather for it as toolu_1: what a tool_result answers. */
const ASKED = { role: 'user', content: 'Weather in Paris?' };
const CALLING = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] };
const weatherTool = { name: 'get_weather', description: 'The weather in a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

describe('a Messages API request as a chat request', () => {
  it('keeps the model and a plain user message, and max_tokens as max_completion_tokens, which reasoning models take', () => {
    expect(messagesToChat(base)).toEqual({ model: 'claude-sonnet-4-5', max_completion_tokens: 256, messages: [{ role: 'user', content: 'Hello' }] });
  });

  it('carries stream, temperature, top_p and stop_sequences over', () => {
    expect(translate({ stream: true, temperature: 0.2, top_p: 0.9, stop_sequences: ['END', '###'] })).toMatchObject({ stream: true, temperature: 0.2, top_p: 0.9, stop: ['END', '###'] });
  });

  it('makes metadata.user_id the user', () => {
    expect(translate({ metadata: { user_id: 'user-42' } }).user).toBe('user-42');
  });

  it('carries top_k over, for the providers that take it', () => {
    expect(translate({ top_k: 5 }).top_k).toBe(5);
  });

  it('keeps thinking under a symbol, for the Anthropic adapter alone, never as a member another provider would get', () => {
    const chat = translate({ thinking: { type: 'enabled', budget_tokens: 1024 } });
    expect(chat).not.toHaveProperty('thinking');
    expect(chat[THINKING]).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(JSON.stringify(chat)).not.toContain('budget_tokens');
  });

  it('keeps output_config (effort, format) under a symbol for the Anthropic adapter, and the format as response_format for the others', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } } };
    const chat = translate({ output_config: { effort: 'medium', format: { type: 'json_schema', schema } } });
    expect(chat[OUTPUT_CONFIG]).toEqual({ effort: 'medium', format: { type: 'json_schema', schema } });
    expect(chat.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema } });
    expect(JSON.stringify(chat)).not.toContain('effort');
    expect(translate({ output_config: null })).not.toHaveProperty('response_format');
    expect(OUTPUT_CONFIG in translate({ output_config: {} })).toBe(false);
  });

  it.each([
    [{ effort: 'extreme' }, 'output_config.effort'],
    [{ format: { type: 'json_object' } }, 'output_config.format'],
    ['fast', 'output_config'],
  ])('refuses output_config %j, naming %s', (config, field) => {
    expect(() => translate({ output_config: config })).toThrow(new RegExp(`^${field.replace('.', '\\.')}: `));
  });

  it('refuses a thinking display that is not text, naming it', () => {
    expect(rejection({ thinking: { type: 'adaptive', display: true } }).param).toBe('thinking.display');
  });

  it.each([{ type: 'disabled' }, { type: 'adaptive' }, { type: 'adaptive', display: 'omitted' }])('takes thinking %j', (thinking) => {
    expect(translate({ thinking })[THINKING]).toEqual(thinking);
  });

  it.each([
    [{ type: 'enabled' }, 'thinking.budget_tokens'],
    [{ type: 'enabled', budget_tokens: 0 }, 'thinking.budget_tokens'],
    [{ type: 'on' }, 'thinking.type'],
    ['enabled', 'thinking'],
  ])('refuses thinking %j, naming %s', (thinking, param) => {
    expect(rejection({ thinking }).param).toBe(param);
  });

  it('puts a string system prompt first as a system message', () => {
    expect(translate({ system: 'Be brief.' }).messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ]);
  });

  it('joins system text blocks into one system message', () => {
    const system = [
      { type: 'text', text: 'You are a helpful assistant.' },
      { type: 'text', text: 'Answer in French.' },
    ];
    expect(translate({ system }).messages[0]).toEqual({ role: 'system', content: 'You are a helpful assistant.\n\nAnswer in French.' });
  });

  it('keeps system blocks apart when one has a cache breakpoint, one system message each, with the breakpoint as it came', () => {
    const system = [
      { type: 'text', text: 'You are a helpful assistant.' },
      { type: 'text', text: 'Answer in French.', cache_control: { type: 'ephemeral', ttl: '1h' } },
    ];
    expect(translate({ system }).messages).toEqual([
      { role: 'system', content: [{ type: 'text', text: 'You are a helpful assistant.' }] },
      { role: 'system', content: [{ type: 'text', text: 'Answer in French.', [CACHE_CONTROL]: { type: 'ephemeral', ttl: '1h' } }] },
      { role: 'user', content: 'Hello' },
    ]);
  });

  it('keeps the cache breakpoints of content blocks, tool calls, tool results and their blocks, tools and the request', () => {
    const ephemeral = { type: 'ephemeral' };
    const chat = translate({
      cache_control: ephemeral,
      tools: [{ ...weatherTool, cache_control: ephemeral }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather here?', cache_control: ephemeral }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Checking.', cache_control: ephemeral }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' }, cache_control: ephemeral }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sunny', cache_control: ephemeral },
            { type: 'image', source: { type: 'url', url: 'https://example.com/sky.png' }, cache_control: ephemeral },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', is_error: true, content: [{ type: 'text', text: 'timeout' }, { type: 'text', text: 'retry later', cache_control: ephemeral }] }] },
      ],
    });
    expect(chat[CACHE_CONTROL]).toEqual(ephemeral);
    expect(chat.tools?.[0]?.[CACHE_CONTROL]).toEqual(ephemeral);
    expect(chat.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather here?', [CACHE_CONTROL]: ephemeral }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Checking.', [CACHE_CONTROL]: ephemeral }], tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' }, [CACHE_CONTROL]: ephemeral }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny', [CACHE_CONTROL]: ephemeral },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/sky.png' }, [CACHE_CONTROL]: ephemeral }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: 'Error: timeout' }, { type: 'text', text: 'retry later', [CACHE_CONTROL]: ephemeral }], [TOOL_ERROR]: true },
    ]);
  });

  it('marks a request with a breakpoint anywhere as having some, and no other', () => {
    expect(translate({ system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }] })[CACHE_MARKED]).toBe(true);
    expect(translate({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }] }] })[CACHE_MARKED]).toBe(true);
    expect(CACHE_MARKED in translate({ system: [{ type: 'text', text: 'Be brief.' }] })).toBe(false);
  });

  it('leaves no trace of a cache breakpoint in the JSON of the chat request', () => {
    const chat = translate({ system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'ephemeral' } }] }] });
    expect(JSON.stringify(chat)).not.toContain('ephemeral');
  });

  it('keeps a system role message where it stands', () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'system', content: [{ type: 'text', text: 'Now answer in verse.' }] },
      { role: 'user', content: 'Go on' },
    ];
    expect(translate({ messages }).messages.map((m) => m.role)).toEqual(['user', 'system', 'user']);
  });

  it('makes a lone text block plain content and several blocks content parts', () => {
    const messages = [
      { role: 'user', content: [{ type: 'text', text: 'One' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Two' }] },
      { role: 'user', content: [{ type: 'text', text: 'Three' }, { type: 'text', text: 'Four' }] },
    ];
    expect(translate({ messages }).messages).toEqual([
      { role: 'user', content: 'One' },
      { role: 'assistant', content: 'Two' },
      { role: 'user', content: [{ type: 'text', text: 'Three' }, { type: 'text', text: 'Four' }] },
    ]);
  });

  it('turns a base64 image into a data: URL image part', () => {
    const messages = [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, { type: 'text', text: 'What is this?' }] }];
    expect(translate({ messages }).messages[0]!.content).toEqual([
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'text', text: 'What is this?' },
    ]);
  });

  it('turns a PDF document into a file part, named by its title, after its context as text marked as its context', () => {
    const messages = [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 }, title: 'Q3 report', context: 'Our third quarter.', citations: { enabled: false } }, { type: 'text', text: 'Sum it up.' }] }];
    expect(translate({ messages }).messages[0]!.content).toEqual([
      { type: 'text', text: 'Our third quarter.', [DOCUMENT_CONTEXT]: true },
      { type: 'file', file: { file_data: `data:application/pdf;base64,${PDF_BASE64}`, filename: 'Q3 report' } },
      { type: 'text', text: 'Sum it up.' },
    ]);
  });

  it('keeps a document that asks for citations a file part, a plain-text one too, marked with the request for the Anthropic adapter alone', () => {
    const messages = [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'The grass is green.' }, title: 'Facts', citations: { enabled: true } }, { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 }, citations: { enabled: true } }, { type: 'text', text: 'What colour?' }] }];
    const chat = translate({ messages });
    expect(chat[CITATIONS]).toBe(true);
    expect(chat.messages[0]!.content).toEqual([
      { type: 'file', file: { file_data: `data:text/plain;base64,${Buffer.from('The grass is green.').toString('base64')}`, filename: 'Facts' }, [CITATIONS]: true },
      { type: 'file', file: { file_data: `data:application/pdf;base64,${PDF_BASE64}`, filename: 'document.pdf' }, [UNTITLED]: true, [CITATIONS]: true },
      { type: 'text', text: 'What colour?' },
    ]);
    expect(CITATIONS in translate({})).toBe(false);
  });

  it('turns a plain-text document into its text, under its title, keeping its cache breakpoint', () => {
    const messages = [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'The grass is green.' }, title: 'Facts', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'What colour?' }] }];
    expect(translate({ messages }).messages[0]!.content).toEqual([
      { type: 'text', text: 'Facts\n\nThe grass is green.', [CACHE_CONTROL]: { type: 'ephemeral' } },
      { type: 'text', text: 'What colour?' },
    ]);
  });

  it('moves a document in a tool result to the user message after the tool messages, as images are', () => {
    const document = { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 } };
    const messages = [
      { role: 'user', content: 'Fetch the report.' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'fetch', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'Here it is.' }, document] }] },
    ];
    expect(translate({ messages }).messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'Here it is.' },
      { role: 'user', content: [{ type: 'file', file: { file_data: `data:application/pdf;base64,${PDF_BASE64}`, filename: 'document.pdf' }, [UNTITLED]: true, [TOOL_RESULT_OF]: 'toolu_1' }] },
    ]);
  });

  it('turns a URL image into an image_url part with that URL', () => {
    const messages = [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } }] }];
    expect(translate({ messages }).messages[0]!.content).toEqual([{ type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } }]);
  });

  it('turns tool_use blocks into tool calls with the input as JSON arguments', () => {
    const messages = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
    ];
    expect(translate({ messages }).messages[1]).toEqual({
      role: 'assistant',
      content: 'Let me check.',
      tool_calls: [
        { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
      ],
    });
  });

  it('gives an assistant turn of tool calls alone null content', () => {
    const messages = [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }] },
    ];
    expect(translate({ messages }).messages[1]).toMatchObject({ role: 'assistant', content: null });
  });

  it('leaves thinking blocks from an earlier turn out of the text and tool calls, which other providers read', () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'Hmm.', signature: 'sig' }, { type: 'redacted_thinking', data: 'x' }, { type: 'text', text: 'Hello!' }] },
    ];
    expect(JSON.parse(JSON.stringify(translate({ messages }).messages[1]))).toEqual({ role: 'assistant', content: 'Hello!' });
  });

  it('keeps the whole turn of thinking blocks as it came, in its order, for the Anthropic adapter', () => {
    const turn = [
      { type: 'thinking', thinking: 'Paris, then.', signature: 'sig-1' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'redacted_thinking', data: 'opaque' },
      { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
    ];
    const messages = [{ role: 'user', content: 'Weather?' }, { role: 'assistant', content: turn }];
    const assistant = translate({ messages }).messages[1]!;
    expect(assistant[ANTHROPIC_BLOCKS]).toEqual(turn);
    expect(assistant.tool_calls?.map((call) => call.id)).toEqual(['toolu_1', 'toolu_2']);
  });

  it('takes the thinking blocks Keygate wrote for another provider back as the turn’s reasoning_content, never among Anthropic’s blocks', () => {
    const messages = [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'Paris, then.', signature: 'keygate:v1' }, { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }] },
    ];
    const assistant = translate({ messages }).messages[1]!;
    expect(assistant).toMatchObject({ role: 'assistant', content: null, reasoning_content: 'Paris, then.' });
    expect(ANTHROPIC_BLOCKS in assistant).toBe(false);
  });

  it('reads the reasoning of an omitted Keygate thinking block from its signature', () => {
    const signature = `keygate:v1:${Buffer.from('Six times seven.').toString('base64')}`;
    const messages = [{ role: 'user', content: '6×7?' }, { role: 'assistant', content: [{ type: 'thinking', thinking: '', signature }, { type: 'text', text: '42' }] }];
    expect(translate({ messages }).messages[1]).toMatchObject({ content: '42', reasoning_content: 'Six times seven.' });
  });

  it('keeps Anthropic’s thinking blocks for the Anthropic adapter beside Keygate’s, which it leaves out', () => {
    const anthropic = { type: 'thinking', thinking: 'Paris, then.', signature: 'EqQBCkgIARABGAIiQL' };
    const text = { type: 'text', text: 'Hello!' };
    const messages = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 'Mine.', signature: 'keygate:v1' }, anthropic, text] }];
    const assistant = translate({ messages }).messages[1]!;
    expect(assistant[ANTHROPIC_BLOCKS]).toEqual([anthropic, text]);
    expect(assistant.reasoning_content).toBe('Mine.');
  });

  it('refuses a Keygate thinking block whose thinking is not text, naming it', () => {
    const messages = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [{ type: 'thinking', thinking: 7, signature: 'keygate:v1' }, { type: 'text', text: 'Hello!' }] }];
    expect(rejection({ messages }).param).toBe('messages.1.content.0.thinking');
  });

  it('marks no turn without thinking blocks', () => {
    const messages = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [{ type: 'text', text: 'Hello!' }] }];
    expect(ANTHROPIC_BLOCKS in translate({ messages }).messages[1]!).toBe(false);
  });

  it('turns tool_result blocks into tool messages before the rest of the user turn', () => {
    const messages = [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }, { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C, sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '21°C' }, { type: 'text', text: 'clear' }] },
          { type: 'text', text: 'Which is warmer?' },
        ],
      },
    ];
    expect(translate({ messages }).messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: '18°C, sunny' },
      { role: 'tool', tool_call_id: 'toolu_2', content: '21°C\nclear' },
      { role: 'user', content: 'Which is warmer?' },
    ]);
  });

  it('adds no user message after tool results when the turn has nothing else', () => {
    const messages = [ASKED, CALLING, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] }];
    expect(translate({ messages }).messages.slice(2)).toEqual([{ role: 'tool', tool_call_id: 'toolu_1', content: '' }]);
  });

  it('says in the text that a tool result is an error, and marks it as one for the Anthropic adapter', () => {
    const messages = [ASKED, CALLING, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'city not found', is_error: true }] }];
    expect(translate({ messages }).messages[2]).toEqual({ role: 'tool', tool_call_id: 'toolu_1', content: 'Error: city not found', [TOOL_ERROR]: true });
  });

  it('moves images in a tool result to the user message after the tool messages, marked with the call they answer', () => {
    const image = { type: 'image', source: { type: 'url', url: 'https://example.com/chart.png' } };
    const messages = [ASKED, CALLING, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'chart attached' }, image] }] }];
    expect(translate({ messages }).messages.slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'chart attached' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/chart.png' }, [TOOL_RESULT_OF]: 'toolu_1' }] },
    ]);
  });

  it('turns tools into OpenAI function tools', () => {
    expect(translate({ tools: [weatherTool, { name: 'now', input_schema: { type: 'object' } }] }).tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weatherTool.input_schema } },
      { type: 'function', function: { name: 'now', parameters: { type: 'object' } } },
    ]);
  });

  it.each([
    [{ type: 'auto' }, 'auto'],
    [{ type: 'any' }, 'required'],
    [{ type: 'none' }, 'none'],
    [{ type: 'tool', name: 'get_weather' }, { type: 'function', function: { name: 'get_weather' } }],
  ])('maps tool_choice %j to %j', (choice, expected) => {
    expect(translate({ tools: [weatherTool], tool_choice: choice }).tool_choice).toEqual(expected);
  });

  it('takes an empty last assistant turn, which Anthropic takes too', () => {
    expect(translate({ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: '' }] }).messages).toEqual([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: '' }]);
  });

  it('turns disable_parallel_tool_use into parallel_tool_calls false', () => {
    expect(translate({ tools: [weatherTool], tool_choice: { type: 'any', disable_parallel_tool_use: true } })).toMatchObject({ tool_choice: 'required', parallel_tool_calls: false });
  });

  it('sends no tool_choice without tools, which OpenAI would refuse', () => {
    expect(translate({ tool_choice: { type: 'auto' } })).not.toHaveProperty('tool_choice');
  });

  it('sends no parallel_tool_calls without tools, which OpenAI would refuse', () => {
    expect(translate({ tools: [], tool_choice: { type: 'any', disable_parallel_tool_use: true } })).not.toHaveProperty('parallel_tool_calls');
  });
});

describe('an invalid Messages API request', () => {
  it.each([
    ['a missing model', { model: undefined }, 'model'],
    ['a missing max_tokens', { max_tokens: undefined }, 'max_tokens'],
    ['a zero max_tokens', { max_tokens: 0 }, 'max_tokens'],
    ['a fractional max_tokens', { max_tokens: 10.5 }, 'max_tokens'],
    ['empty messages', { messages: [] }, 'messages'],
    ['a tool role', { messages: [{ role: 'tool', content: 'x' }] }, 'messages.0.role'],
    ['content that is a number', { messages: [{ role: 'user', content: 42 }] }, 'messages.0.content'],
    ['a temperature above 1', { temperature: 1.5 }, 'temperature'],
    ['a negative top_k', { top_k: -1 }, 'top_k'],
    ['a fractional top_k', { top_k: 2.5 }, 'top_k'],
    ['a top_k that is a string', { top_k: '5' }, 'top_k'],
    ['a tool without input_schema', { tools: [{ name: 'x' }] }, 'tools.0.input_schema'],
    ['a tool whose input_schema is text', { tools: [{ name: 'x', input_schema: 'abc' }] }, 'tools.0.input_schema'],
    ['an unknown tool_choice', { tools: [weatherTool], tool_choice: { type: 'sometimes' } }, 'tool_choice.type'],
    ['a tool_choice of a tool the tools do not declare', { tools: [weatherTool], tool_choice: { type: 'tool', name: 'get_time' } }, 'tool_choice.name'],
    ['a tool_choice of a tool, without tools', { tool_choice: { type: 'tool', name: 'get_weather' } }, 'tool_choice.name'],
    ['an image without data', { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png' } }] }] }, 'messages.0.content.0.source.data'],
    ['a cache_control that is not an object', { system: [{ type: 'text', text: 'x', cache_control: 'ephemeral' }] }, 'system.0.cache_control'],
    ['a request cache_control that is not an object', { cache_control: true }, 'cache_control'],
    ['a tool_result without tool_use_id', { messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] }, 'messages.0.content.0.tool_use_id'],
    ['a last user turn that is empty text', { messages: [{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: 'The answer is' }, { role: 'user', content: '' }] }, 'messages.2'],
    ['a user turn of no blocks', { messages: [{ role: 'user', content: [] }, { role: 'assistant', content: 'Hi' }] }, 'messages.0'],
    ['an assistant turn of no blocks before the last', { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [] }, { role: 'user', content: 'Hi?' }] }, 'messages.1'],
    ['an empty text block', { messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: '' }] }] }, 'messages.0.content.1.text'],
    ['a text block of whitespace alone', { messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: ' \n\t' }] }] }, 'messages.0.content.1.text'],
    ['a tool_result no tool_use came before', { messages: [ASKED, { role: 'assistant', content: 'Let me see.' }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'x' }] }] }, 'messages.2.content.0'],
    ['a tool_result answering a call of another turn', { messages: [ASKED, CALLING, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] }, { role: 'assistant', content: 'Sunny.' }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] }] }, 'messages.4.content.0'],
    ['a tool_use the next turn does not answer', { messages: [ASKED, CALLING, { role: 'user', content: 'Never mind.' }] }, 'messages.1'],
    ['a tool_use whose turn is answered in part', { messages: [ASKED, { role: 'assistant', content: [...CALLING.content, { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] }, { role: 'user', content: 'and?' }] }, 'messages.1'],
  ])('is refused for %s, naming the field %s', (_, overrides, param) => {
    const error = rejection(overrides);
    expect(error.param).toBe(param);
    expect(error.message.startsWith(`${param}: `)).toBe(true);
  });

  it('combines consecutive messages of one role into one turn, as Anthropic does: the calls in one assistant message, the results first in one run', () => {
    const both = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} }, { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} }] };
    const result = (id: string) => ({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'sunny' }] });
    const hmm = { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' }, { type: 'text', text: 'hmm' }] };
    expect(translate({ messages: [ASKED, both, hmm, result('toolu_2')] }).messages.slice(1).map((message) => [message.role, message.tool_call_id ?? message.content ?? null])).toEqual([
      ['assistant', null],
      ['tool', 'toolu_1'],
      ['tool', 'toolu_2'],
      ['user', 'hmm'],
    ]);
    const split = translate({ messages: [ASKED, CALLING, { role: 'assistant', content: 'Checking.' }, result('toolu_1')] }).messages.slice(1);
    expect(split.map((message) => message.role)).toEqual(['assistant', 'tool']);
    expect(split[0]).toMatchObject({ content: 'Checking.', tool_calls: [{ id: 'toolu_1' }] });
  });

  it("says which tool_use ids went unanswered, in Anthropic's words", () => {
    expect(rejection({ messages: [ASKED, CALLING, { role: 'user', content: 'Never mind.' }] }).message).toBe('messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the next message.');
  });

  it("lets a last assistant turn's calls stand unanswered", () => {
    expect(translate({ messages: [ASKED, CALLING] }).messages).toHaveLength(2);
  });

  it('is refused as a 400 invalid_request_error the gateway’s error path can send', () => {
    const error = rejection({ max_tokens: -1 });
    expect(error).toBeInstanceOf(AiError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_parameter', message: 'max_tokens: is required and must be a positive integer' });
  });

  it('is refused, as unsupported, for Anthropic’s server tools', () => {
    expect(rejection({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] })).toMatchObject({ code: 'unsupported_parameter', param: 'tools.0.type' });
  });

  it.each([
    ['a URL source, which the gateway would have to fetch', { type: 'url', url: 'https://example.com/a.pdf' }, 'messages.0.content.0.source.type'],
    ["a file source, in Anthropic's Files API", { type: 'file', file_id: 'file_011' }, 'messages.0.content.0.source.type'],
  ])('is refused, as unsupported, for a document with %s', (_what, source, param) => {
    expect(rejection({ messages: [{ role: 'user', content: [{ type: 'document', source }] }] })).toMatchObject({ code: 'unsupported_parameter', param });
  });

  it('is refused for a document whose citations are not an object with a boolean enabled', () => {
    const messages = [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' }, citations: { enabled: 'yes' } }] }];
    expect(rejection({ messages })).toMatchObject({ code: 'invalid_parameter', param: 'messages.0.content.0.citations' });
  });

  it.each([
    ['a base64 source that is no PDF', { type: 'base64', media_type: 'image/png', data: PDF_BASE64 }, 'messages.0.content.0.source.media_type'],
    ['a base64 source that is no base64', { type: 'base64', media_type: 'application/pdf', data: '%PDF-1.4' }, 'messages.0.content.0.source.data'],
    ['an empty text source', { type: 'text', media_type: 'text/plain', data: '' }, 'messages.0.content.0.source.data'],
  ])('is refused for a document with %s', (_what, source, param) => {
    expect(rejection({ messages: [{ role: 'user', content: [{ type: 'document', source }] }] })).toMatchObject({ code: 'invalid_parameter', param });
  });

  it('is refused for a tool_use block in a user turn', () => {
    const messages = [{ role: 'user', content: [{ type: 'tool_use', id: 'toolu_1', name: 'x', input: {} }] }];
    expect(rejection({ messages }).param).toBe('messages.0.content.0.type');
  });
});
