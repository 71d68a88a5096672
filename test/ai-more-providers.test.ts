import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, WEATHER_TOOL, type UsageRow } from './ai-fixtures.js';
import { startAzureOpenAIEmulator, type AzureOpenAIEmulator } from './emulators/azure-openai.js';
import { startCohereEmulator, type CohereEmulator } from './emulators/cohere.js';
import { startMistralEmulator, type MistralEmulator } from './emulators/mistral.js';
import { startOllamaEmulator, type OllamaEmulator } from './emulators/ollama.js';

/** Each provider's chat and embedding model as a client names it, and what its emulator answers. */
const PROVIDERS = [
  { provider: 'azure-openai', chat: 'azure-openai/gpt-4o-mini', embed: 'azure-openai/text-embedding-3-small', greeting: 'Hello from the Azure emulator.' },
  { provider: 'mistral', chat: 'mistral/mistral-small-latest', embed: 'mistral/mistral-embed', greeting: 'Hello from the Mistral emulator.' },
  { provider: 'cohere', chat: 'cohere/command-r-plus-08-2024', embed: 'cohere/embed-english-v3.0', greeting: 'Hello from the Cohere emulator.' },
  { provider: 'ollama', chat: 'ollama/llama3.2', embed: 'ollama/nomic-embed-text', greeting: 'Hello from the Ollama emulator.' },
] as const;

/**
 * Azure OpenAI, Mistral, Cohere and Ollama behind the unified API, with the official openai client, each through
 * the proxy port as an app calls it: chat, its stream, a tool round trip, embeddings, and the accounting. (Their
 * adapters' own tests call them directly; OpenAI, Anthropic, Gemini and Bedrock have files of their own.)
 */
describe.each(PROVIDERS)('$provider through the gateway', ({ provider, chat, embed, greeting }) => {
  let gateway: AiGateway;
  let emulator: AzureOpenAIEmulator | MistralEmulator | CohereEmulator | OllamaEmulator;
  let client: OpenAI;
  const app = `${provider}-app`;

  beforeAll(async () => {
    emulator = await { 'azure-openai': startAzureOpenAIEmulator, mistral: startMistralEmulator, cohere: startCohereEmulator, ollama: startOllamaEmulator }[provider]();
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: provider, type: provider, baseUrl: emulator.url }] });
    await gateway.addProviderKey(provider, emulator.apiKey);
    client = gateway.openai(await gateway.createApp({ name: app, team: `${provider}-team` }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulator?.stop();
  });

  it('answers a chat completion in OpenAI\'s shape, with usage and a cost header', async () => {
    const { data, response } = await client.chat.completions.create({ model: chat, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe(provider);
    expect(data).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: greeting }, finish_reason: 'stop' }] });
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBe(greeting.split(' ').length);
    expect(response.headers.get('x-keygate-cost-usd')).toMatch(/^\d+\.\d{9}$/);
  });

  it('streams chunks that reassemble into the answer, with the usage chunk asked for', async () => {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ model: chat, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello' }] })) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(greeting);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(greeting.split(' ').length);
  });

  it('calls a tool and answers from its result', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris? Use get_weather.' }];
    const first = await client.chat.completions.create({ model: chat, messages, tools: [WEATHER_TOOL] });
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)]).toEqual(['get_weather', { city: 'Paris' }]);
    expect(call.id).toBeTruthy();
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"celsius":21}' });
    const second = await client.chat.completions.create({ model: chat, messages, tools: [WEATHER_TOOL] });
    expect(second.choices[0]?.message.content).toBe('It is 21 degrees in Paris.');
  });

  it("streams a tool call that the openai SDK's stream helper puts together whole", async () => {
    const stream = client.chat.completions.stream({ model: chat, messages: [{ role: 'user', content: 'What is the weather in Paris? Use get_weather.' }], tools: [WEATHER_TOOL] });
    const answer = await stream.finalChatCompletion();
    const call = answer.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)]).toEqual(['get_weather', { city: 'Paris' }]);
    expect(answer.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('streams a call of a tool without parameters with arguments {}, which the SDK parses', async () => {
    const clock = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
    const answer = await client.chat.completions.stream({ model: chat, messages: [{ role: 'user', content: 'What time is it? Use get_time.' }], tools: [clock] }).finalChatCompletion();
    const call = answer.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && [call.function.name, call.function.arguments]).toEqual(['get_time', '{}']);
  });

  it('embeds texts, one vector each, in order', async () => {
    const { data, response } = await client.embeddings.create({ model: embed, input: ['first text', 'second'], encoding_format: 'float' }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe(provider);
    expect(data.data.map((d) => d.index)).toEqual([0, 1]);
    for (const item of data.data) expect(item.embedding.length).toBeGreaterThan(0);
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('accounts for every call under the provider and the app', async () => {
    const rows = await gateway.usage({ app, groupBy: 'provider' });
    expect(rows).toEqual([expect.objectContaining({ provider, calls: 7, failedCalls: 0 })]);
    const row = rows[0] as UsageRow;
    expect(row.inputTokens).toBeGreaterThan(0);
    expect(row.outputTokens).toBeGreaterThan(0);
  });

  it('answers the SDK\'s default request, in base64, with the vectors it answers as floats', async () => {
    const input = ['first text', 'second'];
    const asFloats = await client.embeddings.create({ model: embed, input, encoding_format: 'float' });
    const byDefault = await client.embeddings.create({ model: embed, input });
    byDefault.data.forEach((item, i) => {
      expect(item.embedding.length).toBeGreaterThan(0);
      expect(item.embedding).toEqual(asFloats.data[i]!.embedding.map((value) => Math.fround(value)));
    });
  });

  it('embeds 200 texts in one request, in order, whatever the provider takes a call', async () => {
    const input = Array.from({ length: 200 }, (_, i) => 'word '.repeat(i + 1).trim());
    const answer = await client.embeddings.create({ model: embed, input, encoding_format: 'float' });
    expect(answer.data.map((d) => d.index)).toEqual(input.map((_, i) => i));
    // Each emulator's first value is the text's length over 10.
    expect(answer.data.map((d) => d.embedding[0])).toEqual(input.map((text) => text.length / 10));
  });
});
