import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Response, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customCallOf, collect, AiGateway } from './ai-fixtures.js';
import { startBedrockEmulator, type BedrockEmulator } from './emulators/bedrock.js';
import { startCohereEmulator, type CohereEmulator } from './emulators/cohere.js';
import type { EmulatorHandle } from './emulators/emulator-http.js';
import { startMistralEmulator, type MistralEmulator } from './emulators/mistral.js';
import { startOllamaEmulator, type OllamaEmulator } from './emulators/ollama.js';

/**
 * OpenAI's custom tools (Codex's `apply_patch`) through the gateway to the providers that know only function tools
 * and have no file of their own for it: Bedrock's Converse (its stream in AWS's binary event stream), Mistral, Cohere
 * and Ollama. Each gets a function of one string, `input`; the client gets a custom call back, whole or as input
 * fragments; and the custom call and its output sent back reach the provider as a function call and its result.
 */

type Json = Record<string, unknown>;

/** The tool a provider was sent, read from its own wire format. */
interface SentTool {
  name: unknown;
  description: unknown;
  parameters: unknown;
}

/**
 * The last turn a provider was sent, read from its own wire format: the assistant's call (its id, tool name and
 * arguments as an object) and the tool result answering it (`answers`: the id, or for Ollama, which has none, the
 * tool's name).
 */
interface SentTurn {
  call: { id: unknown; name: unknown; arguments: unknown };
  result: { answers: unknown; output: unknown };
}

/** Each provider: its model as a client names it, and how to read what it was sent. */
const PROVIDERS: Array<{ provider: 'bedrock' | 'mistral' | 'cohere' | 'ollama'; model: string; tool: (body: Json) => SentTool; turn: (body: Json) => SentTurn }> = [
  {
    provider: 'bedrock',
    model: 'bedrock/anthropic.claude-3-haiku-20240307-v1:0',
    // https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolSpecification.html
    tool: (body) => {
      const spec = (body.toolConfig as { tools: Array<{ toolSpec: Json }> }).tools[0]!.toolSpec;
      return { name: spec.name, description: spec.description, parameters: (spec.inputSchema as Json).json };
    },
    // API_runtime_ToolUseBlock.html, API_runtime_ToolResultBlock.html
    turn: (body) => {
      const messages = body.messages as Array<{ content: Json[] }>;
      const use = messages[1]!.content.find((block) => 'toolUse' in block)!.toolUse as Json;
      const result = messages[2]!.content[0]!.toolResult as { toolUseId: unknown; content: Array<{ text: unknown }> };
      return { call: { id: use.toolUseId, name: use.name, arguments: use.input }, result: { answers: result.toolUseId, output: result.content[0]!.text } };
    },
  },
  // OpenAI's own shape, as Mistral (https://docs.mistral.ai/capabilities/function_calling/) and Cohere v2
  // (https://docs.cohere.com/reference/chat) take it: arguments as a JSON string.
  { provider: 'mistral', model: 'mistral/mistral-small-latest', tool: functionOf, turn: (body) => openAITurn(body, (args) => JSON.parse(args as string)) },
  { provider: 'cohere', model: 'cohere/command-r-plus-08-2024', tool: functionOf, turn: (body) => openAITurn(body, (args) => JSON.parse(args as string)) },
  // Ollama's arguments are an object, and its calls have no id: a result names its tool
  // (https://github.com/ollama/ollama/blob/main/docs/api.md#chat-request-with-tools).
  { provider: 'ollama', model: 'ollama/llama3.2', tool: functionOf, turn: (body) => openAITurn(body, (args) => args) },
];

function functionOf(body: Json): SentTool {
  const fn = (body.tools as Array<{ function: Json }>)[0]!.function;
  return { name: fn.name, description: fn.description, parameters: fn.parameters };
}

function openAITurn(body: Json, argumentsOf: (args: unknown) => unknown): SentTurn {
  const messages = body.messages as Array<{ role: string; content: unknown; tool_call_id?: unknown; tool_name?: unknown; tool_calls?: Array<{ id?: unknown; function: Json }> }>;
  const call = messages.find((message) => message.role === 'assistant')!.tool_calls![0]!;
  const result = messages.find((message) => message.role === 'tool')!;
  return { call: { id: call.id, name: call.function.name, arguments: argumentsOf(call.function.arguments) }, result: { answers: result.tool_call_id ?? result.tool_name, output: result.content } };
}

/** Codex's `apply_patch` as a Responses API custom tool, its grammar cut short. */
const PATCH_TOOL = { type: 'custom' as const, name: 'apply_patch', description: 'Edits files with a patch.', format: { type: 'grammar' as const, syntax: 'lark' as const, definition: 'start: begin_patch hunk+ end_patch' } };
const QUESTION = 'Fix the typo with apply_patch';
/** What every emulator's model writes for a string: the custom call's input. */
const INPUT = 'Paris';


describe.each(PROVIDERS)('custom tools through the gateway to $provider', ({ provider, model, tool, turn }) => {
  let gateway: AiGateway;
  let emulator: BedrockEmulator | MistralEmulator | CohereEmulator | OllamaEmulator;
  let client: OpenAI;
  const lastBody = () => (emulator as EmulatorHandle<{ body: unknown }>).lastRequest()!.body as Json;

  beforeAll(async () => {
    gateway = await AiGateway.start();
    if (provider === 'bedrock') {
      const bedrock = await startBedrockEmulator();
      emulator = bedrock;
      await gateway.configure({ providers: [{ name: provider, type: provider, baseUrl: bedrock.url, region: bedrock.region }] });
      await gateway.addProviderKey(provider, bedrock.credential);
    } else {
      const other = await { mistral: startMistralEmulator, cohere: startCohereEmulator, ollama: startOllamaEmulator }[provider]();
      emulator = other;
      await gateway.configure({ providers: [{ name: provider, type: provider, baseUrl: other.url }] });
      await gateway.addProviderKey(provider, other.apiKey);
    }
    client = gateway.openai(await gateway.createApp({ name: `${provider}-custom-app`, team: `${provider}-custom-team` }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulator?.stop();
  });

  it('sends the custom tool as a function of one required string, its description carrying the grammar, and answers its call as a custom_tool_call', async () => {
    const response = await client.responses.create({ model, input: QUESTION, tools: [PATCH_TOOL], store: false });
    expect(customCallOf(response)).toEqual({ type: 'custom_tool_call', id: expect.stringMatching(/^ctc_[0-9a-f]{32}$/), call_id: expect.any(String), name: 'apply_patch', input: INPUT, status: 'completed' });
    expect(response.output.some((item) => item.type === 'function_call')).toBe(false);
    expect(tool(lastBody())).toEqual({
      name: 'apply_patch',
      description: 'Edits files with a patch.\n\nThe input must be text that follows this Lark grammar exactly:\nstart: begin_patch hunk+ end_patch',
      parameters: { type: 'object', properties: { input: { type: 'string', description: 'The input of apply_patch, as free text.' } }, required: ['input'] },
    });
  });

  it('streams the call as custom_tool_call_input deltas that add up to the input', async () => {
    const stream = client.responses.stream({ model, input: QUESTION, tools: [PATCH_TOOL], store: false });
    const events = await collect<ResponseStreamEvent>(stream);
    const call = customCallOf(await stream.finalResponse());
    expect(call).toMatchObject({ name: 'apply_patch', input: INPUT, status: 'completed' });
    const deltas = events.flatMap((event) => (event.type === 'response.custom_tool_call_input.delta' ? [event] : []));
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.every((event) => event.item_id === call.id)).toBe(true);
    expect(deltas.map((event) => event.delta).join('')).toBe(INPUT);
    expect(events.find((event) => event.type === 'response.custom_tool_call_input.done')).toMatchObject({ item_id: call.id, input: INPUT });
    expect(events.some((event) => event.type === 'response.function_call_arguments.delta')).toBe(false);
    expect(events.at(-1)).toMatchObject({ type: 'response.completed' });
  });

  it.each([false, true])('takes the custom call and its output back as a function call of {"input": …} and its result (first turn streamed: %s)', async (streamed) => {
    const ask = { model, tools: [PATCH_TOOL], store: false };
    const first = streamed ? await client.responses.stream({ ...ask, input: QUESTION }).finalResponse() : await client.responses.create({ ...ask, input: QUESTION });
    const call = customCallOf(first);
    const input: ResponseInputItem[] = [{ role: 'user', content: QUESTION }, ...(first.output as ResponseInputItem[]), { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Patched.' }];
    const second = await client.responses.create({ ...ask, input });
    expect(second.output_text).toBe('It is 21 degrees in Paris.');
    expect(turn(lastBody())).toEqual({
      call: { id: provider === 'ollama' ? undefined : call.call_id, name: 'apply_patch', arguments: { input: INPUT } },
      result: { answers: provider === 'ollama' ? 'apply_patch' : call.call_id, output: 'Patched.' },
    });
  });

  it('answers a custom call on /v1/chat/completions, streamed as custom deltas, and takes it back in the next turn', async () => {
    const tools = [{ type: 'custom' as const, custom: { name: 'apply_patch', description: 'Edits files with a patch.' } }];
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: QUESTION }];
    const chunks = await collect<ChatCompletionChunk>(await client.chat.completions.create({ model, messages, tools, stream: true }));
    const deltas = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => (choice.delta.tool_calls ?? []) as unknown as Array<{ type?: string; custom?: { name?: string; input?: string } }>));
    expect(deltas[0]).toMatchObject({ type: 'custom', custom: { name: 'apply_patch' } });
    expect(deltas.every((delta) => delta.custom !== undefined && !('function' in delta))).toBe(true);
    expect(deltas.map((delta) => delta.custom!.input ?? '').join('')).toBe(INPUT);
    const first = await client.chat.completions.create({ model, messages, tools });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call).toEqual({ id: expect.any(String), type: 'custom', custom: { name: 'apply_patch', input: INPUT } });
    const second = await client.chat.completions.create({ model, messages: [...messages, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'Patched.' }], tools });
    expect(second.choices[0]!.message.content).toBe('It is 21 degrees in Paris.');
    expect(turn(lastBody())).toMatchObject({ call: { name: 'apply_patch', arguments: { input: INPUT } }, result: { output: 'Patched.' } });
  });
});

describe('several calls in one Bedrock answer', () => {
  let gateway: AiGateway;
  let bedrock: BedrockEmulator;
  let client: OpenAI;
  const NOTE_TOOL = { type: 'custom' as const, name: 'write_note', description: 'Writes a note.' };
  const WEATHER = { type: 'function' as const, name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };
  const ask = { model: PROVIDERS[0]!.model, tools: [PATCH_TOOL, WEATHER, NOTE_TOOL], store: false, input: 'Use apply_patch, get_weather and write_note.' };
  /** Bedrock's model calls each tool the question names, in the tools' order. */
  const CALLS = [
    { type: 'custom_tool_call', name: 'apply_patch', input: INPUT, call_id: 'tooluse_emulator01' },
    { type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}', call_id: 'tooluse_emulator02' },
    { type: 'custom_tool_call', name: 'write_note', input: INPUT, call_id: 'tooluse_emulator03' },
  ];
  const callsOf = (response: Response) => response.output.filter((item) => item.type === 'custom_tool_call' || item.type === 'function_call');

  beforeAll(async () => {
    bedrock = await startBedrockEmulator();
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'bedrock', type: 'bedrock', baseUrl: bedrock.url, region: bedrock.region }] });
    await gateway.addProviderKey('bedrock', bedrock.credential);
    client = gateway.openai(await gateway.createApp({ name: 'bedrock-calls-app', team: 'bedrock-calls-team' }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await bedrock?.stop();
  });

  it('answers two custom calls and a function call through Converse, each as its own item with its own input', async () => {
    const items = callsOf(await client.responses.create(ask));
    expect(items).toEqual(CALLS.map((call) => ({ ...call, id: expect.any(String), status: 'completed' })));
    expect(new Set(items.map((item) => item.id)).size).toBe(3);
  });

  it("streams them from ConverseStream's event stream, each call's input or arguments streamed to its own item", async () => {
    const stream = client.responses.stream(ask);
    const events = await collect<ResponseStreamEvent>(stream);
    const items = callsOf(await stream.finalResponse());
    // The SDK's final response gives a function call its own parsed_arguments as well.
    expect(items).toMatchObject(CALLS.map((call) => ({ ...call, status: 'completed' })));
    for (const item of items) {
      const pieces = events.flatMap((event) => ((event.type === 'response.custom_tool_call_input.delta' || event.type === 'response.function_call_arguments.delta') && event.item_id === item.id ? [event.delta] : []));
      expect(pieces.join('')).toBe(item.type === 'custom_tool_call' ? item.input : item.arguments);
    }
  });

  it('sends the calls and their outputs back as three toolUse blocks and three toolResults, in order', async () => {
    const first = await client.responses.create(ask);
    const outputs: ResponseInputItem[] = callsOf(first).map((call) => ({ type: call.type === 'custom_tool_call' ? 'custom_tool_call_output' : 'function_call_output', call_id: call.call_id, output: `Done: ${call.name}.` }) as ResponseInputItem);
    await client.responses.create({ ...ask, input: [{ role: 'user', content: ask.input }, ...(first.output as ResponseInputItem[]), ...outputs] });
    const [, assistant, results] = (bedrock.lastRequest()!.body as { messages: Array<{ content: Json[] }> }).messages;
    expect(assistant!.content.filter((block) => 'toolUse' in block)).toEqual([
      { toolUse: { toolUseId: 'tooluse_emulator01', name: 'apply_patch', input: { input: INPUT } } },
      { toolUse: { toolUseId: 'tooluse_emulator02', name: 'get_weather', input: { city: 'Paris' } } },
      { toolUse: { toolUseId: 'tooluse_emulator03', name: 'write_note', input: { input: INPUT } } },
    ]);
    expect(results!.content).toEqual(['apply_patch', 'get_weather', 'write_note'].map((name, i) => ({ toolResult: { toolUseId: `tooluse_emulator0${i + 1}`, content: [{ text: `Done: ${name}.` }] } })));
  });
});
