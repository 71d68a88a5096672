import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, WEATHER_TOOL, configureThreeProviders, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';
import { startBedrockEmulator, type BedrockEmulator } from './emulators/bedrock.js';
import { embeddingFor } from './emulators/gemini.js';

const CLAUDE = 'bedrock/anthropic.claude-3-haiku-20240307-v1:0';

/**
 * Amazon Bedrock behind the gateway's unified API, with the official openai client: every call signed with SigV4
 * at call time from the key pool's `id:secret`, chat and its stream through Converse, embeddings through
 * InvokeModel, and accounting as for any provider.
 */
describe('Amazon Bedrock through the gateway', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let bedrock: BedrockEmulator;
  let client: OpenAI;
  let apiKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    bedrock = await startBedrockEmulator();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      providers: [
        { name: 'bedrock', type: 'bedrock', baseUrl: bedrock.url, region: bedrock.region },
        { name: 'bedrock-pool', type: 'bedrock', baseUrl: bedrock.url, region: bedrock.region },
      ],
      aliases: [{ name: 'steady', targets: [{ provider: 'bedrock', model: 'anthropic.claude-3-haiku-20240307-v1:0' }], fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    await gateway.addProviderKey('bedrock', bedrock.credential);
    apiKey = await gateway.createApp({ name: 'bedrock-app', team: 'bedrock-team' });
    client = gateway.openai(apiKey);
  });
  afterEach(() => bedrock.setMode('normal'));
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await bedrock?.stop();
  });

  it('answers a chat completion through Converse, signed, with the usage and cost accounted', async () => {
    const { data, response } = await client.chat.completions.create({ model: CLAUDE, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe('bedrock');
    expect(data.choices[0]?.message.content).toBe('Hello from the Bedrock emulator.');
    expect(bedrock.lastRequest()?.path).toBe('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
    expect(bedrock.lastRequest()?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEMULATOR\//);
    expect(data.usage).toMatchObject({ prompt_tokens: 12 });
    expect(Number(response.headers.get('x-keygate-cost-usd'))).toBeGreaterThan(0);
  });

  it('streams through ConverseStream, and a tool call\'s argument deltas reassemble into JSON', async () => {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ model: CLAUDE, stream: true, messages: [{ role: 'user', content: 'Use get_weather.' }], tools: [WEATHER_TOOL] })) chunks.push(chunk);
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
    expect(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join(''))).toEqual({ city: 'Paris' });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
    expect(bedrock.lastRequest()?.path).toBe('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream');
  });

  it('streams a call of a tool without parameters, which ConverseStream sends with no delta, with arguments {}', async () => {
    const clock = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
    const answer = await client.chat.completions.stream({ model: CLAUDE, messages: [{ role: 'user', content: 'Use get_time.' }], tools: [clock] }).finalChatCompletion();
    const call = answer.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && [call.function.name, call.function.arguments]).toEqual(['get_time', '{}']);
  });

  it('answers a json_schema request with the JSON as the message, streamed or not, through Converse\'s structured output', async () => {
    const response_format = { type: 'json_schema', json_schema: { name: 'weather', schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } } as const;
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'The weather in Paris, as JSON.' }];
    const completion = await client.chat.completions.create({ model: CLAUDE, messages, response_format });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ city: 'Paris' });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ model: CLAUDE, stream: true, messages, response_format })) chunks.push(chunk);
    expect(JSON.parse(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''))).toEqual({ city: 'Paris' });
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
  });

  it("answers an Anthropic-format client the stop_sequence a Claude model stopped on, streamed or not, which Claude's own response field says", async () => {
    const body = { model: CLAUDE, max_tokens: 100, stop_sequences: ['never said', 'emulator'], messages: [{ role: 'user', content: 'Hello' }] };
    const answer = await gateway.call('POST', '/v1/messages', apiKey, body);
    expect(answer.body).toMatchObject({ content: [{ type: 'text', text: 'Hello from the Bedrock ' }], stop_reason: 'stop_sequence', stop_sequence: 'emulator' });
    const streamed = await gateway.call('POST', '/v1/messages', apiKey, { ...body, stream: true });
    const event = streamed.text.split('\n\n').find((e) => e.startsWith('event: message_delta\n'));
    expect(JSON.parse(event!.slice(event!.indexOf('data: ') + 'data: '.length)).delta).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'emulator' });
  });

  it("answers an Anthropic-format client stop_sequence when another model stopped on one: the request's only one, else null, since Converse does not say which", async () => {
    const body = { model: 'bedrock/amazon.nova-lite-v1:0', max_tokens: 100, stop_sequences: ['emulator'], messages: [{ role: 'user', content: 'Hello' }] };
    const answer = await gateway.call('POST', '/v1/messages', apiKey, body);
    expect(answer.body).toMatchObject({ content: [{ type: 'text', text: 'Hello from the Bedrock ' }], stop_reason: 'stop_sequence', stop_sequence: 'emulator' });
    const delta = async (stops: string[]) => {
      const streamed = await gateway.call('POST', '/v1/messages', apiKey, { ...body, stop_sequences: stops, stream: true });
      const event = streamed.text.split('\n\n').find((e) => e.startsWith('event: message_delta\n'));
      return JSON.parse(event!.slice(event!.indexOf('data: ') + 'data: '.length)).delta as unknown;
    };
    expect(await delta(['emulator'])).toEqual({ stop_reason: 'stop_sequence', stop_sequence: 'emulator' });
    expect(await delta(['emulator', 'never said'])).toEqual({ stop_reason: 'stop_sequence', stop_sequence: null });
    const two = await gateway.call('POST', '/v1/messages', apiKey, { ...body, stop_sequences: ['emulator', 'never said'] });
    expect(two.body).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: null });
  });

  it('embeds one text with Titan, whose token count is the usage', async () => {
    const { data, response } = await client.embeddings.create({ model: 'bedrock/amazon.titan-embed-text-v2:0', input: 'a sentence to embed', dimensions: 256 }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe('bedrock');
    expect(response.headers.get('x-keygate-usage-estimated')).toBeNull();
    expect(data.usage).toEqual({ prompt_tokens: 4, total_tokens: 4 });
    const vector = data.data[0]!.embedding;
    expect(vector).toHaveLength(256);
    embeddingFor('a sentence to embed', 256).forEach((value, i) => expect(vector[i]).toBeCloseTo(value, 5));
  });

  it('embeds several texts with Cohere Embed in one call; Bedrock counts no tokens, so the usage is an estimate', async () => {
    const { data, response } = await client.embeddings.create({ model: 'bedrock/cohere.embed-english-v3', input: ['first text', 'second'] }).withResponse();
    expect(data.data.map((d) => d.index)).toEqual([0, 1]);
    expect(data.data[1]!.embedding).toHaveLength(1024);
    embeddingFor('second', 1024).slice(0, 8).forEach((value, i) => expect(data.data[1]!.embedding[i]).toBeCloseTo(value, 5));
    expect(response.headers.get('x-keygate-usage-estimated')).toBe('true');
    const [row] = await gateway.usage({ app: 'bedrock-app', model: 'cohere.embed-english-v3' });
    expect(row).toMatchObject({ calls: 1, estimatedCalls: 1, inputTokens: data.usage.prompt_tokens });
  });

  it('embeds several texts with Titan, which takes one a call, one call each, in order, the usage summed', async () => {
    const texts = ['one', 'two words', 'three more words', 'four', 'five', 'six'];
    const before = bedrock.requests().length;
    const { data } = await client.embeddings.create({ model: 'bedrock/amazon.titan-embed-text-v2:0', input: texts, dimensions: 256 }).withResponse();
    const sent = bedrock.requests().slice(before).map((r) => (r.body as { inputText: string }).inputText);
    expect(sent.sort()).toEqual([...texts].sort());
    expect(data.data.map((d) => d.index)).toEqual([0, 1, 2, 3, 4, 5]);
    texts.forEach((text, i) => embeddingFor(text, 256).slice(0, 8).forEach((value, j) => expect(data.data[i]!.embedding[j]).toBeCloseTo(value, 5)));
    const one = await client.embeddings.create({ model: 'bedrock/amazon.titan-embed-text-v2:0', input: 'three more words', dimensions: 256 });
    expect(data.usage.prompt_tokens).toBeGreaterThan(one.usage.prompt_tokens);
  });

  it("refuses an image by web URL, which Converse cannot fetch, naming the part as the client sent it, before calling Bedrock", async () => {
    const before = bedrock.requests().length;
    const image = { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } };
    const chat = await gateway.chat<{ error: { code: string; param: string } }>(apiKey, { model: CLAUDE, messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: [{ type: 'text', text: 'What is this?' }, image] }] });
    expect(chat.status).toBe(400);
    expect(chat.body.error).toMatchObject({ code: 'unsupported_parameter', param: 'messages[2].content[1].image_url.url' });
    // The Responses API names the input, as it does for every message's refusal.
    const responses = await gateway.call<{ error: { param: string } }>('POST', '/v1/responses', apiKey, { model: CLAUDE, input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/cat.png' }] }] });
    expect(responses.status).toBe(400);
    expect(responses.body.error.param).toBe('input');
    expect(bedrock.requests().length).toBe(before);
  });

  it('answers 400 naming dimensions for a Bedrock model of fixed length, before calling Bedrock', async () => {
    const before = bedrock.requests().length;
    const result = await gateway.call<{ error: { code: string; param: string } }>('POST', '/v1/embeddings', await gateway.createApp({ name: 'bedrock-fixed', team: 'bedrock-team' }), { model: 'bedrock/cohere.embed-english-v3', input: 'x', dimensions: 256 });
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ code: 'unsupported_input', param: 'dimensions' });
    expect(bedrock.requests().length).toBe(before);
  });

  it('waits out a throttling Bedrock\'s 2-second Retry-After once, then falls back', async () => {
    bedrock.setMode('rate-limited');
    const before = bedrock.requests().length;
    const started = Date.now();
    const { data, response } = await client.chat.completions.create({ model: 'steady', messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe('openai');
    expect(data.choices[0]?.message.content).toBe('Echo: Hello there');
    // The same target once more after the wait, then the fallback.
    expect(bedrock.requests().length).toBe(before + 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_950);
  });

  it('sets aside an AWS key Bedrock does not know and signs with the next one, keeping the refused secret out of the answer', async () => {
    await gateway.addProviderKey('bedrock-pool', 'AKIDUNKNOWNKEY:unknown/secret+that-is-long', 0);
    await gateway.addProviderKey('bedrock-pool', bedrock.credential, 1);
    const before = bedrock.requests().length;
    const result = await gateway.call('POST', '/v1/chat/completions', await gateway.createApp({ name: 'bedrock-app', team: 'bedrock-team' }), { model: 'bedrock-pool/anthropic.claude-3-haiku-20240307-v1:0', messages: [{ role: 'user', content: 'Hello' }] });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('bedrock-pool');
    const signedBy = bedrock.requests().slice(before).map((r) => /Credential=(\w+)\//.exec(String(r.headers.authorization))?.[1]);
    expect(signedBy).toEqual(['AKIDUNKNOWNKEY', 'AKIDEMULATOR']);
    expect(result.text).not.toContain('unknown/secret');
  });

  it('answers a stream Bedrock throttles before any content with a 429 rate_limit_error, as ConverseStream documents it', async () => {
    bedrock.setMode('stream-throttled');
    const result = await gateway.chat<{ error: { type: string } }>(apiKey, { model: CLAUDE, stream: true, messages: [{ role: 'user', content: 'Hello' }] });
    expect(result.status).toBe(429);
    expect(result.body.error.type).toBe('rate_limit_error');
  });

  it('ends a stream Bedrock throttles after content with an error event of type rate_limit_error', async () => {
    bedrock.setMode('stream-throttled-midway');
    const result = await gateway.chat(apiKey, { model: CLAUDE, stream: true, messages: [{ role: 'user', content: 'Hello' }] });
    expect(result.status).toBe(200);
    const last = result.text.trim().split('\n\n').at(-1)!;
    expect(JSON.parse(last.slice('data: '.length))).toMatchObject({ error: { type: 'rate_limit_error' } });
    expect(result.text).not.toContain('[DONE]');
  });
});
