import OpenAI from 'openai';
import type { ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chunkOf as chunk, startStandIn, type StandIn } from '../../../test/ingress-stand-in.js';
import type { ChatCompletion, Usage } from '../chat-types.js';
import { chatToResponse } from './chat-to-response.js';
import { ChatChunksToResponseEvents } from './chunks-to-response-events.js';
import { ResponsesRequestError } from './responses-error.js';
import { responseEchoOf, responsesToChat, type ResponsesChatRequest } from './responses-to-chat.js';

/**
 * The official `openai` SDK (v6) against a stand-in for the gateway's /v1/responses: requests go through
 * responsesToChat, scripted answers come back through chatToResponse or ChatChunksToResponseEvents. This proves the
 * wire format both ways, the SDK's own accumulation of a stream and its `output_text` included.
 */
let standIn: StandIn<ResponsesChatRequest>;
let client: OpenAI;

const usage: Usage = { prompt_tokens: 42, completion_tokens: 17, total_tokens: 59, prompt_tokens_details: { cached_tokens: 10 } };
const toolCalls = [
  { id: 'call_paris', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
  { id: 'call_rome', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
];
const completion = (message: ChatCompletion['choices'][number]['message'], finish: ChatCompletion['choices'][number]['finish_reason'] = 'stop'): ChatCompletion => ({
  id: 'chatcmpl-sdk1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message, finish_reason: finish, logprobs: null }],
  usage,
});
const textStream = [chunk({ role: 'assistant', content: '' }), chunk({ reasoning_content: 'Greet in French.' }), chunk({ content: 'Bonjour' }), chunk({ content: ', le monde.' }), chunk({}, 'stop'), { ...chunk({}), choices: [], usage }];
const toolStream = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Checking both cities.' }),
  chunk({ tool_calls: [{ index: 0, id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
  chunk({ tool_calls: [{ index: 1, id: 'call_rome', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] }),
  chunk({}, 'tool_calls'),
  { ...chunk({}), choices: [], usage },
];
const weatherTool = { type: 'function' as const, name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false }, strict: true };

beforeAll(async () => {
  standIn = await startStandIn<ResponsesChatRequest>({
    path: '/v1/responses',
    read: responsesToChat,
    refusal: (error) => (error instanceof ResponsesRequestError ? { status: 400, body: { error: { message: error.message, type: error.type, param: error.param, code: error.code } } } : undefined),
    answer: (completion, request) => chatToResponse(completion, request.model, responseEchoOf(request)),
    events: (request) => new ChatChunksToResponseEvents(request.model, responseEchoOf(request)),
  });
  client = new OpenAI({ baseURL: `${standIn.url}/v1`, apiKey: 'x', maxRetries: 0 });
});
afterAll(() => standIn.close());
beforeEach(() => standIn.reset());

describe('the official openai SDK through the Responses ingress', () => {
  it('is answered only on the path the gateway serves, so an SDK that called another would fail', async () => {
    standIn.script = { completion: completion({ role: 'assistant', content: 'Done.' }) };
    const elsewhere = new OpenAI({ baseURL: `${standIn.url}/v2`, apiKey: 'x', maxRetries: 0 });
    await expect(elsewhere.responses.create({ model: 'gpt-4o-mini', input: 'Hi' })).rejects.toMatchObject({ status: 404 });
    expect(standIn.received).toBeUndefined();
  });

  it('sends instructions, input items and flat tools that translate to a chat request', async () => {
    standIn.script = { completion: completion({ role: 'assistant', content: 'Done.' }) };
    const input: ResponseInputItem[] = [
      { role: 'user', content: [{ type: 'input_text', text: 'Weather where this was taken?' }, { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' }] },
      { type: 'function_call', call_id: 'call_paris', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_paris', output: '18°C' },
    ];
    await client.responses.create({ model: 'my-model', instructions: 'Be brief.', input, tools: [weatherTool], tool_choice: 'auto', parallel_tool_calls: false, max_output_tokens: 300, store: false });
    expect(JSON.parse(JSON.stringify(standIn.received))).toEqual({
      model: 'my-model',
      max_completion_tokens: 300,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather where this was taken?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'auto' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_paris', content: '18°C' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: weatherTool.parameters, strict: true } }],
      tool_choice: 'auto',
      parallel_tool_calls: false,
    });
  });

  it('reads a non-streamed answer as a Response, with output_text computed by the SDK', async () => {
    standIn.script = { completion: completion({ role: 'assistant', content: 'Checking both cities.', tool_calls: toolCalls }, 'tool_calls') };
    const response = await client.responses.create({ model: 'my-model', input: 'Weather in Paris and Rome?', tools: [weatherTool] });
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'my-model', output_text: 'Checking both cities.', usage: { input_tokens: 42, input_tokens_details: { cached_tokens: 10 }, output_tokens: 17, total_tokens: 59 } });
    expect(response.id).toMatch(/^resp_/);
    expect(response.output.map((item) => item.type)).toEqual(['message', 'function_call', 'function_call']);
    expect(response.output.filter((item) => item.type === 'function_call').map((item) => [item.call_id, item.arguments])).toEqual([
      ['call_paris', '{"city":"Paris"}'],
      ['call_rome', '{"city":"Rome"}'],
    ]);
  });

  it('takes a Response’s output back as input, for the next turn of a tool loop', async () => {
    standIn.script = { completion: completion({ role: 'assistant', content: 'Checking.', tool_calls: toolCalls.slice(0, 1) }, 'tool_calls') };
    const first = await client.responses.create({ model: 'my-model', input: 'Weather in Paris?', tools: [weatherTool] });
    standIn.script = { completion: completion({ role: 'assistant', content: 'It is 18°C.' }) };
    const call = first.output.find((item) => item.type === 'function_call')!;
    const second = await client.responses.create({ model: 'my-model', tools: [weatherTool], input: [{ role: 'user', content: 'Weather in Paris?' }, ...(first.output as ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '18°C' }] });
    expect(standIn.received?.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: 'Checking.', tool_calls: [toolCalls[0]] },
      { role: 'tool', tool_call_id: 'call_paris', content: '18°C' },
    ]);
    expect(second.output_text).toBe('It is 18°C.');
  });

  it('accumulates a stream into the final Response with responses.stream(), text deltas and reasoning included', async () => {
    standIn.script = { chunks: textStream };
    const stream = client.responses.stream({ model: 'my-model', input: 'Say hello in French.', reasoning: { effort: 'low', summary: 'auto' } });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(standIn.received).toMatchObject({ stream: true, reasoning_effort: 'low' });
    expect(deltas).toEqual(['Bonjour', ', le monde.']);
    expect(final.output_text).toBe('Bonjour, le monde.');
    expect(final.status).toBe('completed');
    expect(final.reasoning).toEqual({ effort: 'low', summary: 'auto' });
    expect(final.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: 'Greet in French.' }] });
    expect(final.usage).toMatchObject({ input_tokens: 42, output_tokens: 17 });
  });

  it('yields the raw events, numbered in order, from responses.create({ stream: true })', async () => {
    standIn.script = { chunks: toolStream };
    const stream = await client.responses.create({ model: 'my-model', stream: true, input: 'Weather?', tools: [weatherTool] });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.map((event) => event.type)).toEqual([
      'response.created', 'response.in_progress',
      'response.output_item.added', 'response.content_part.added', 'response.output_text.delta', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.output_item.added', 'response.function_call_arguments.delta', 'response.function_call_arguments.delta',
      'response.output_item.added', 'response.function_call_arguments.delta',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.completed',
    ]);
  });

  it('parses a json_schema answer with responses.parse into output_parsed', async () => {
    standIn.script = { completion: completion({ role: 'assistant', content: '{"city":"Paris","celsius":21}' }) };
    const format = { type: 'json_schema' as const, name: 'weather', strict: true, schema: { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } }, required: ['city', 'celsius'], additionalProperties: false } };
    const response = await client.responses.parse({ model: 'my-model', input: 'Weather in Paris as JSON', text: { format } });
    expect(standIn.received?.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'weather', schema: format.schema, strict: true } });
    expect(response.output_parsed).toEqual({ city: 'Paris', celsius: 21 });
  });

  it('raises a refused request as the SDK’s BadRequestError with its code and param', async () => {
    const failure = await client.responses.create({ model: 'my-model', input: 'Hi', conversation: 'conv_earlier' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    expect(failure).toMatchObject({ status: 400, code: 'conversation_not_supported', param: 'conversation' });
  });

  it('rejects finalResponse() of a stream that failed midway with the error event, as the SDK does with OpenAI’s', async () => {
    standIn.script = { chunks: textStream.slice(0, 3), failAfterChunks: 'the provider stream failed' };
    const failure = await client.responses.stream({ model: 'my-model', input: 'Hi' }).finalResponse().catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'error', code: 'provider_stream_error', message: 'the provider stream failed', param: null });
  });

  it('ends a stream that failed midway with an error event, then response.failed, for a client reading the raw events', async () => {
    standIn.script = { chunks: textStream.slice(0, 3), failAfterChunks: 'the provider stream failed' };
    const events: ResponseStreamEvent[] = [];
    for await (const event of await client.responses.create({ model: 'my-model', input: 'Hi', stream: true })) events.push(event);
    expect(events.at(-2)).toMatchObject({ type: 'error', code: 'provider_stream_error', message: 'the provider stream failed' });
    expect(events.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'the provider stream failed' } } });
  });
});
