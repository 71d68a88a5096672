import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chunkOf as chunk, startStandIn, type StandIn } from '../../../test/ingress-stand-in.js';
import { CACHE_CONTROL, CACHE_MARKED, type ChatCompletion, type ChatCompletionChunk, type ChatRequest, type Usage } from '../chat-types.js';
import { AnthropicRequestError, toAnthropicError } from './anthropic-error.js';
import { chatToMessages } from './chat-to-messages.js';
import { ChatChunksToMessageEvents } from './chunks-to-message-events.js';
import { messagesToChat } from './messages-to-chat.js';

/**
 * The official SDK against a stand-in for the gateway's /v1/messages: requests go through messagesToChat, scripted
 * answers come back through chatToMessages or ChatChunksToMessageEvents. This proves the wire format both ways.
 */
let standIn: StandIn<ChatRequest>;
let client: Anthropic;

const usage: Usage = { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59 };
const toolCalls = [
  { id: 'call_paris', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
  { id: 'call_rome', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Rome","unit":"celsius"}' } },
];
const completion: ChatCompletion = {
  id: 'chatcmpl-sdk1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Checking both cities.', tool_calls: toolCalls }, finish_reason: 'tool_calls', logprobs: null }],
  usage,
};
const toolStream: ChatCompletionChunk[] = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Checking ' }),
  chunk({ content: 'both cities.' }),
  chunk({ tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({ tool_calls: [{ index: 1, id: 'call_rome', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome",' } }] }),
  chunk({ tool_calls: [{ index: 1, function: { arguments: '"unit":"celsius"}' } }] }),
  chunk({}, 'tool_calls'),
  { ...chunk({}), choices: [], usage },
];
const weatherTool = { name: 'get_weather', description: 'The weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' }, unit: { type: 'string' } }, required: ['city'] } };
const expectedContent = [
  { type: 'text', text: 'Checking both cities.' },
  { type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } },
  { type: 'tool_use', id: 'call_rome', name: 'get_weather', input: { city: 'Rome', unit: 'celsius' } },
];

beforeAll(async () => {
  standIn = await startStandIn<ChatRequest>({
    path: '/v1/messages',
    read: messagesToChat,
    refusal: (error) => (error instanceof AnthropicRequestError ? toAnthropicError(error) : undefined),
    answer: (completion, request) => chatToMessages(completion, request.model),
    events: (request) => new ChatChunksToMessageEvents(request.model),
  });
  client = new Anthropic({ baseURL: standIn.url, apiKey: 'x', maxRetries: 0 });
});
afterAll(() => standIn.close());
beforeEach(() => standIn.reset());

describe('the official Anthropic SDK through the Anthropic ingress', () => {
  it('is answered only on the path the gateway serves, so an SDK that called another would fail', async () => {
    standIn.script = { completion: { id: 'chatcmpl-1', object: 'chat.completion', created: 1_700_000_000, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }] } };
    const elsewhere = new Anthropic({ baseURL: `${standIn.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await expect(elsewhere.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })).rejects.toMatchObject({ status: 404 });
    expect(standIn.received).toBeUndefined();
  });

  it('sends a conversation with system blocks, an image, tool use and tool results that translates to a chat request', async () => {
    standIn.script = { completion };
    await client.messages.create({
      model: 'my-claude',
      max_tokens: 300,
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
      tools: [weatherTool],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, { type: 'text', text: 'Weather where this was taken?' }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_paris', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_paris', content: '18°C' }] },
      ],
    });
    expect(standIn.received).toEqual({
      // A breakpoint is in it, which the response cache's key must see.
      [CACHE_MARKED]: true,
      model: 'my-claude',
      max_completion_tokens: 300,
      messages: [
        // Kept as a block, with its cache breakpoint, for an Anthropic provider.
        { role: 'system', content: [{ type: 'text', text: 'Be brief.', [CACHE_CONTROL]: { type: 'ephemeral' } }] },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, { type: 'text', text: 'Weather where this was taken?' }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_paris', content: '18°C' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weatherTool.input_schema } }],
      tool_choice: 'auto',
      parallel_tool_calls: false,
    });
  });

  it('reads a non-streamed answer as a Message with text and tool_use blocks', async () => {
    standIn.script = { completion };
    const message = await client.messages.create({ model: 'my-claude', max_tokens: 300, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }] });
    expect(message).toMatchObject({ id: 'msg_sdk1', type: 'message', role: 'assistant', model: 'my-claude', content: expectedContent, stop_reason: 'tool_use', stop_sequence: null, usage: { input_tokens: 42, output_tokens: 17 } });
  });

  it('accumulates a streamed answer into the same Message with messages.stream().finalMessage()', async () => {
    standIn.script = { chunks: toolStream };
    const message = await client.messages.stream({ model: 'my-claude', max_tokens: 300, tools: [weatherTool], messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }] }).finalMessage();
    expect(standIn.received?.stream).toBe(true);
    expect(message).toMatchObject({ id: 'msg_sdk2', model: 'my-claude', content: expectedContent, stop_reason: 'tool_use', usage: { input_tokens: 42, output_tokens: 17 } });
  });

  it('streams text that the SDK’s text events and finalText() put together', async () => {
    standIn.script = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Bonjour' }), chunk({ content: ', le monde.' }), chunk({}, 'stop')], usage };
    const stream = client.messages.stream({ model: 'my-claude', max_tokens: 300, messages: [{ role: 'user', content: 'Say hello in French.' }] });
    const pieces: string[] = [];
    stream.on('text', (text) => pieces.push(text));
    expect(await stream.finalText()).toBe('Bonjour, le monde.');
    expect(pieces).toEqual(['Bonjour', ', le monde.']);
    expect((await stream.finalMessage()).stop_reason).toBe('end_turn');
  });

  it('yields the raw events in Anthropic’s order from messages.create({ stream: true })', async () => {
    standIn.script = { chunks: toolStream };
    const stream = await client.messages.create({ model: 'my-claude', max_tokens: 300, stream: true, messages: [{ role: 'user', content: 'Weather?' }] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type === 'content_block_start' ? `start:${event.content_block.type}` : event.type);
    expect(types).toEqual([
      'message_start',
      'start:text', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'start:tool_use', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'start:tool_use', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('raises a refused request as the SDK’s BadRequestError with Anthropic’s error body', async () => {
    const failure = await client.messages.create({ model: 'my-claude', max_tokens: 0, messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError);
    expect((failure as InstanceType<typeof Anthropic.BadRequestError>).error).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: is required and must be a positive integer' } });
  });

  it('raises a stream that failed midway as an API error carrying the message', async () => {
    standIn.script = { chunks: toolStream.slice(0, 3), failAfterChunks: 'the provider stream failed' };
    const failure = await client.messages.stream({ model: 'my-claude', max_tokens: 300, messages: [{ role: 'user', content: 'Hi' }] }).finalMessage().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect(String((failure as Error).message)).toContain('the provider stream failed');
  });
});
