import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { Response, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, AiGateway } from './ai-fixtures.js';
import { startCohereEmulator, type CohereEmulator } from './emulators/cohere.js';
import { startMistralEmulator, type MistralEmulator } from './emulators/mistral.js';
import { startOllamaEmulator, type OllamaEmulator } from './emulators/ollama.js';

/**
 * Several tool calls in one answer from Mistral, Cohere and Ollama, through the gateway to the official `openai`
 * client: two function tools and OpenAI's custom `apply_patch` (sent to the provider as a function of one string,
 * `input`), all named in the question, so that each emulator's model calls the three in the order of the tools. Each
 * call comes back as its own call or item, with its own id and its own arguments or input, whole and streamed, on
 * /v1/chat/completions and /v1/responses; and the three calls and their outputs sent back reach the provider as
 * three calls and three results, in order.
 */

type Json = Record<string, unknown>;

/**
 * The calls and results of a second turn, read from the provider's own wire format: each call's id, tool and
 * arguments (as an object); each result's call (`answers`: its id, or for Ollama, whose calls have none, its tool's
 * name) and output.
 */
interface SentTurn {
  calls: Array<{ id: unknown; name: unknown; arguments: unknown }>;
  results: Array<{ answers: unknown; output: unknown }>;
}

const PROVIDERS = [
  // https://docs.mistral.ai/capabilities/function_calling/: arguments as a JSON string, ids of nine characters.
  { provider: 'mistral' as const, model: 'mistral/mistral-small-latest', start: startMistralEmulator, argumentsOf: (args: unknown) => JSON.parse(args as string) as unknown },
  // https://docs.cohere.com/reference/chat: arguments as a JSON string, ids the model makes.
  { provider: 'cohere' as const, model: 'cohere/command-r-plus-08-2024', start: startCohereEmulator, argumentsOf: (args: unknown) => JSON.parse(args as string) as unknown },
  // https://github.com/ollama/ollama/blob/main/docs/api.md#chat-request-with-tools: arguments as an object, no ids.
  { provider: 'ollama' as const, model: 'ollama/llama3.2', start: startOllamaEmulator, argumentsOf: (args: unknown) => args },
];

function sentTurn(body: Json, argumentsOf: (args: unknown) => unknown): SentTurn {
  const messages = body.messages as Array<{ role: string; content?: unknown; tool_call_id?: unknown; tool_name?: unknown; tool_calls?: Array<{ id?: unknown; function: Json }> }>;
  const assistant = messages.find((message) => message.role === 'assistant')!;
  return {
    calls: assistant.tool_calls!.map((call) => ({ id: call.id, name: call.function.name, arguments: argumentsOf(call.function.arguments) })),
    results: messages.filter((message) => message.role === 'tool').map((result) => ({ answers: result.tool_call_id ?? result.tool_name, output: result.content })),
  };
}

const WEATHER_PARAMETERS = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const FORECAST_PARAMETERS = { type: 'object', properties: { days: { type: 'integer' } }, required: ['days'] };
const QUESTION = 'Use get_weather, apply_patch and get_forecast.';
/** What each emulator's model writes for the tools' schemas (sampleOf): a string is "Paris", an integer 21. */
const EXPECTED = [
  { name: 'get_weather', custom: false, arguments: { city: 'Paris' } },
  { name: 'apply_patch', custom: true, input: 'Paris' },
  { name: 'get_forecast', custom: false, arguments: { days: 21 } },
];

const CHAT_TOOLS: ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', parameters: WEATHER_PARAMETERS } },
  { type: 'custom', custom: { name: 'apply_patch', description: 'Edits files with a patch.' } },
  { type: 'function', function: { name: 'get_forecast', parameters: FORECAST_PARAMETERS } },
];
const RESPONSE_TOOLS = [
  { type: 'function' as const, name: 'get_weather', parameters: WEATHER_PARAMETERS, strict: false },
  { type: 'custom' as const, name: 'apply_patch', description: 'Edits files with a patch.' },
  { type: 'function' as const, name: 'get_forecast', parameters: FORECAST_PARAMETERS, strict: false },
];

/** A chat completion call as the test compares it: its tool, and its arguments parsed or its input. */
type ChatCall = { id: string; type: 'function'; function: { name: string; arguments: string } } | { id: string; type: 'custom'; custom: { name: string; input: string } };
const chatCallAsExpected = (call: ChatCall) => (call.type === 'custom' ? { name: call.custom.name, custom: true, input: call.custom.input } : { name: call.function.name, custom: false, arguments: JSON.parse(call.function.arguments) as unknown });

const callsOf = (response: Response) => response.output.filter((item) => item.type === 'custom_tool_call' || item.type === 'function_call');
const itemAsExpected = (item: ReturnType<typeof callsOf>[number]) => (item.type === 'custom_tool_call' ? { name: item.name, custom: true, input: item.input } : { name: item.name, custom: false, arguments: JSON.parse(item.arguments) as unknown });

describe.each(PROVIDERS)('several calls in one $provider answer', ({ provider, model, start, argumentsOf }) => {
  let gateway: AiGateway;
  let emulator: MistralEmulator | CohereEmulator | OllamaEmulator;
  let client: OpenAI;
  const lastBody = () => emulator.lastRequest()!.body as Json;
  const ask = { model, tools: RESPONSE_TOOLS, store: false, input: QUESTION };

  beforeAll(async () => {
    emulator = await start();
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: provider, type: provider, baseUrl: emulator.url }] });
    await gateway.addProviderKey(provider, emulator.apiKey);
    client = gateway.openai(await gateway.createApp({ name: `${provider}-calls-app`, team: `${provider}-calls-team` }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulator?.stop();
  });

  it('answers the three calls on /v1/chat/completions, each with its own id and arguments or input, in order', async () => {
    const completion = await client.chat.completions.create({ model, messages: [{ role: 'user', content: QUESTION }], tools: CHAT_TOOLS });
    const calls = completion.choices[0]!.message.tool_calls as ChatCall[];
    expect(calls.map(chatCallAsExpected)).toEqual(EXPECTED);
    expect(new Set(calls.map((call) => call.id)).size).toBe(3);
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('streams the three calls on /v1/chat/completions at indexes 0, 1 and 2, each with its own id, and its arguments or input under its own index', async () => {
    const chunks = await collect<ChatCompletionChunk>(await client.chat.completions.create({ model, messages: [{ role: 'user', content: QUESTION }], tools: CHAT_TOOLS, stream: true }));
    type Delta = { index: number; id?: string; type?: string; function?: { name?: string; arguments?: string }; custom?: { name?: string; input?: string } };
    const deltas = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => (choice.delta.tool_calls ?? []) as unknown as Delta[]));
    const indexes = [...new Set(deltas.map((delta) => delta.index))];
    expect(indexes).toEqual([0, 1, 2]);
    const calls = indexes.map((index) => {
      const own = deltas.filter((delta) => delta.index === index);
      const first = own[0]!;
      return first.type === 'custom'
        ? { id: first.id!, type: 'custom' as const, custom: { name: first.custom!.name!, input: own.map((delta) => delta.custom?.input ?? '').join('') } }
        : { id: first.id!, type: 'function' as const, function: { name: first.function!.name!, arguments: own.map((delta) => delta.function?.arguments ?? '').join('') } };
    });
    expect(calls.map(chatCallAsExpected)).toEqual(EXPECTED);
    expect(new Set(calls.map((call) => call.id)).size).toBe(3);
    expect(chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => (choice.finish_reason ? [choice.finish_reason] : [])))).toEqual(['tool_calls']);
  });

  it('answers the three calls on /v1/responses as three items, the custom one a custom_tool_call, each with its own ids', async () => {
    const items = callsOf(await client.responses.create(ask));
    expect(items.map(itemAsExpected)).toEqual(EXPECTED);
    expect(items.map((item) => item.type)).toEqual(['function_call', 'custom_tool_call', 'function_call']);
    expect(new Set(items.map((item) => item.id)).size).toBe(3);
    expect(new Set(items.map((item) => item.call_id)).size).toBe(3);
  });

  it("streams the three items on /v1/responses, each item's arguments or input streamed to that item alone", async () => {
    const stream = client.responses.stream(ask);
    const events = await collect<ResponseStreamEvent>(stream);
    const items = callsOf(await stream.finalResponse());
    expect(items.map(itemAsExpected)).toEqual(EXPECTED);
    expect(new Set(items.map((item) => item.id)).size).toBe(3);
    expect(new Set(items.map((item) => item.call_id)).size).toBe(3);
    for (const item of items) {
      const pieces = events.flatMap((event) => ((event.type === 'response.custom_tool_call_input.delta' || event.type === 'response.function_call_arguments.delta') && event.item_id === item.id ? [event.delta] : []));
      expect(pieces.join('')).toBe(item.type === 'custom_tool_call' ? item.input : item.arguments);
    }
    const added = events.flatMap((event) => (event.type === 'response.output_item.added' && (event.item.type === 'function_call' || event.item.type === 'custom_tool_call') ? [event.item.id] : []));
    expect(added).toEqual(items.map((item) => item.id));
    expect(events.at(-1)).toMatchObject({ type: 'response.completed' });
  });

  it.each([false, true])('sends the three calls and their outputs back from /v1/responses as three calls and three results, in order (first turn streamed: %s)', async (streamed) => {
    const first = streamed ? await client.responses.stream(ask).finalResponse() : await client.responses.create(ask);
    const calls = callsOf(first);
    const outputs = calls.map((call) => ({ type: call.type === 'custom_tool_call' ? 'custom_tool_call_output' : 'function_call_output', call_id: call.call_id, output: `Done: ${call.name}.` }) as ResponseInputItem);
    const second = await client.responses.create({ ...ask, input: [{ role: 'user', content: QUESTION }, ...(first.output as ResponseInputItem[]), ...outputs] });
    expect(second.output_text).toBe('It is 21 degrees in Paris.');
    expect(sentTurn(lastBody(), argumentsOf)).toEqual(expectedTurn(calls.map((call) => call.call_id)));
  });

  it('sends the three calls and their outputs back from /v1/chat/completions as three calls and three results, in order', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: QUESTION }];
    const first = await client.chat.completions.create({ model, messages, tools: CHAT_TOOLS });
    const message = first.choices[0]!.message;
    const calls = message.tool_calls as ChatCall[];
    const results: ChatCompletionMessageParam[] = calls.map((call) => ({ role: 'tool', tool_call_id: call.id, content: `Done: ${call.type === 'custom' ? call.custom.name : call.function.name}.` }));
    const second = await client.chat.completions.create({ model, messages: [...messages, message, ...results], tools: CHAT_TOOLS });
    expect(second.choices[0]!.message.content).toBe('It is 21 degrees in Paris.');
    expect(sentTurn(lastBody(), argumentsOf)).toEqual(expectedTurn(calls.map((call) => call.id)));
  });

  /** The second turn the provider should get, given the ids the client saw: Ollama's calls have none, its results name their tool. */
  function expectedTurn(ids: string[]): SentTurn {
    return {
      calls: EXPECTED.map((call, i) => ({ id: provider === 'ollama' ? undefined : ids[i], name: call.name, arguments: call.custom ? { input: call.input } : call.arguments })),
      results: EXPECTED.map((call, i) => ({ answers: provider === 'ollama' ? call.name : ids[i], output: `Done: ${call.name}.` })),
    };
  }
});
