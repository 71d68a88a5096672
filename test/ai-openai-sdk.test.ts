import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, AiGateway, PROVIDER_SECRETS, configureThreeProviders, startProviderEmulators, WEATHER_TOOL, type ProviderEmulators, SMART_AND_FAST } from './ai-fixtures.js';
import { embeddingFor as geminiEmbedding } from './emulators/gemini.js';
import { startOpenAIEmulator, embeddingFor as openaiEmbedding, type OpenAIEmulator } from './emulators/openai.js';

/** A model name as a client writes it, and the provider it must reach. */
const CHAT_MODELS: Array<[model: string, provider: string]> = [
  ['openai/gpt-4o-mini', 'openai'],
  ['smart', 'anthropic'],
  ['fast', 'gemini'],
];


const textOf = (chunks: ChatCompletionChunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

describe('the official openai client against the gateway', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  /** An OpenAI account that streams an event every 100 ms. */
  let slow: OpenAIEmulator;
  /** An OpenAI account whose streams send their head, then wait for the test before the first event. */
  let held: OpenAIEmulator;
  let client: OpenAI;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    slow = await startOpenAIEmulator({ streamDelayMs: 100 });
    held = await startOpenAIEmulator({ holdStreams: true });
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      providers: [
        { name: 'slow', type: 'openai', baseUrl: slow.url },
        { name: 'held', type: 'openai', baseUrl: held.url },
      ],
      aliases: [
        ...SMART_AND_FAST,
        { name: 'embed', targets: [{ provider: 'gemini', model: 'gemini-embedding-2' }] },
      ],
    });
    await gateway.addProviderKey('slow', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('held', PROVIDER_SECRETS.openai);
    client = gateway.openai(await gateway.createApp({ name: 'sdk-app', team: 'sdk-team' }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await slow?.stop();
    await held?.stop();
  });

  it.each(CHAT_MODELS)('answers a chat completion for %s from the %s provider', async (model, provider) => {
    const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe(provider);
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'Echo: Hello there' });
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it.each(CHAT_MODELS)('streams %s from the %s provider in chunks that reassemble into the text, without usage unless asked', async (model, provider) => {
    const { data: stream, response } = await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'count the words in this sentence' }] }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe(provider);
    const chunks = await collect(stream);
    expect(chunks.filter((c) => c.choices[0]?.delta.content).length).toBeGreaterThan(1);
    expect(textOf(chunks)).toBe('Echo: count the words in this sentence');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(chunks.filter((c) => c.usage)).toEqual([]);
  });

  it('sends the head of a stream as soon as the provider accepted the call, before its first event', async () => {
    // The client has the response (status and headers) while the provider still holds every event back.
    const { data: stream, response } = await client.chat.completions.create({ model: 'held/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'wait for it' }] }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe('held');
    expect(held.heldStreams()).toBe(1);
    held.releaseStreams();
    expect(textOf(await collect(stream))).toBe('Echo: wait for it');
  });

  it('passes each streamed chunk on as the provider sends it, not once the stream ends', async () => {
    const started = Date.now();
    const arrivals: number[] = [];
    for await (const chunk of await client.chat.completions.create({ model: 'slow/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'one two three' }] })) {
      if (chunk.choices[0]?.delta.content) arrivals.push(Date.now() - started);
    }
    // Content events come 100 ms apart after the role chunk; a buffering gateway would deliver them all at the end.
    expect(arrivals).toHaveLength(4);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(250);
  });

  it.each(CHAT_MODELS)('streams %s from the %s provider with a final usage chunk when stream_options.include_usage is set', async (model) => {
    const chunks = await collect(await client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello there' }] }));
    expect(textOf(chunks)).toBe('Echo: Hello there');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
    expect(last.usage?.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    expect(chunks.slice(0, -1).filter((c) => c.usage)).toEqual([]);
  });

  it.each(CHAT_MODELS)('calls a tool through %s (%s) and answers from the tool result that follows', async (model) => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris? Use get_weather.' }];
    const first = await client.chat.completions.create({ model, messages, tools: [WEATHER_TOOL] });
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    if (call.type !== 'function') return;
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });

    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"celsius":21}' });
    const second = await client.chat.completions.create({ model, messages, tools: [WEATHER_TOOL] });
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(second.choices[0]?.message.content).toMatch(/^The tool answered: .*21/);
  });

  it.each(CHAT_MODELS)('streams a tool call through %s (%s) whose argument deltas reassemble into JSON', async (model) => {
    const chunks = await collect(await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Use get_weather.' }], tools: [WEATHER_TOOL] }));
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
    expect(deltas[0]?.id).toBeTruthy();
    expect(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join(''))).toEqual({ city: 'Paris' });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
  });

  it("answers log probabilities from Gemini in OpenAI's shape, each token's with its top alternatives, streamed or not", async () => {
    const ask = { model: 'fast', messages: [{ role: 'user' as const, content: 'Hello there' }], logprobs: true, top_logprobs: 2 };
    const answer = await client.chat.completions.create(ask);
    const config = emulators.gemini.lastRequest()!.body.generationConfig as Record<string, unknown>;
    expect(config).toMatchObject({ responseLogprobs: true, logprobs: 2 });
    const content = answer.choices[0]!.logprobs!.content!;
    expect(content.map((step) => step.token).join('')).toBe(answer.choices[0]!.message.content);
    expect(content[0]).toEqual({ token: 'Echo: ', logprob: -0.1, bytes: [...Buffer.from('Echo: ')], top_logprobs: [{ token: 'Echo: ', logprob: -0.1, bytes: [...Buffer.from('Echo: ')] }, { token: 'alt1', logprob: -1.1, bytes: [...Buffer.from('alt1')] }] });
    const chunks = await collect(await client.chat.completions.create({ ...ask, stream: true }));
    const streamed = chunks.flatMap((chunk) => chunk.choices[0]?.logprobs?.content ?? []);
    expect(streamed.map((step) => step.token).join('')).toBe(answer.choices[0]!.message.content);
    // Not asked, none given.
    expect((await client.chat.completions.create({ model: 'fast', messages: ask.messages })).choices[0]!.logprobs).toBeNull();
  });

  it('embeds text with an OpenAI model named as provider/model, decoding the base64 the client asks for', async () => {
    const { data, response } = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: ['first text', 'second'] }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe('openai');
    expect(emulators.openai.lastRequest()?.body.encoding_format).toBe('base64');
    expect(data.data).toHaveLength(2);
    const vector = data.data[1]!.embedding;
    expect(vector).toHaveLength(8);
    openaiEmbedding('second').forEach((value, i) => expect(vector[i]).toBeCloseTo(value, 5));
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('embeds text with a Gemini model named by an alias, as floats when asked for floats', async () => {
    const { data, response } = await client.embeddings.create({ model: 'embed', input: 'a sentence to embed', encoding_format: 'float' }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe('gemini');
    expect(data.data[0]?.embedding).toEqual(geminiEmbedding('a sentence to embed'));
    // Gemini counts no tokens for embeddings: the gateway's tokenizer does (o200k_base: "a| sentence| to| embed"),
    // and the answer and the record say it is an estimate.
    expect(data.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    expect(response.headers.get('x-keygate-usage-estimated')).toBe('true');
    const [row] = await gateway.usage({ app: 'sdk-app', model: 'gemini-embedding-2' });
    expect(row).toMatchObject({ inputTokens: 4 });
    expect(row!.estimatedCalls).toBe(row!.calls);
  });

  it('embeds more texts than one Gemini call takes, every vector in its input\'s place', async () => {
    const input = Array.from({ length: 150 }, (_, i) => `sentence ${i}`);
    const calls = emulators.gemini.requests().length;
    const data = await client.embeddings.create({ model: 'embed', input, encoding_format: 'float' });
    expect(emulators.gemini.requests().length - calls).toBe(2);
    expect(data.data.map((d) => d.index)).toEqual(input.map((_, i) => i));
    expect(data.data.map((d) => d.embedding)).toEqual(input.map((text) => geminiEmbedding(text)));
  });

  it('refuses more than 2,048 inputs, as OpenAI does, before any provider is called', async () => {
    const calls = emulators.gemini.requests().length;
    const error = await client.embeddings.create({ model: 'embed', input: Array.from({ length: 2_049 }, () => 'x') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'input' });
    expect(emulators.gemini.requests().length).toBe(calls);
  });

  it('embeds text with a Gemini model in base64, which the client decodes to the same vector', async () => {
    const data = await client.embeddings.create({ model: 'embed', input: 'a sentence to embed' });
    const vector = data.data[0]!.embedding;
    geminiEmbedding('a sentence to embed').forEach((value, i) => expect(vector[i]).toBeCloseTo(value, 5));
  });
});
