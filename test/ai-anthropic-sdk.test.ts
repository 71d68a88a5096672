import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, PROVIDER_SECRETS, configureThreeProviders, startProviderEmulators, type ProviderEmulators, SMART_AND_FAST } from './ai-fixtures.js';
import { inputTokensFor } from './emulators/anthropic.js';
import { REFUSAL } from './emulators/openai.js';

/** A model name as a client writes it, and the provider it must reach. */
const MODELS: Array<[model: string, provider: string]> = [
  ['smart', 'anthropic'],
  ['fast', 'gemini'],
  ['openai/gpt-4o-mini', 'openai'],
];

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'The current weather in a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('the official @anthropic-ai/sdk client against the gateway', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let client: Anthropic;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      aliases: SMART_AND_FAST,
    });
    // The SDK sends the key as x-api-key, which the api-key authenticator takes.
    client = new Anthropic({ baseURL: gateway.proxyUrl, apiKey: await gateway.createApp({ name: 'claude-app', team: 'claude-team' }), maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it.each(MODELS)('creates a message with %s through the %s provider', async (model, provider) => {
    const { data, response } = await client.messages.create({ model, max_tokens: 200, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe(provider);
    expect(data).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn' });
    expect(data.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: Hello there' })]);
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    // Both cache counts are numbers, as in Anthropic's answers, so that clients can add them up.
    expect(data.usage).toMatchObject({ cache_creation_input_tokens: expect.any(Number), cache_read_input_tokens: expect.any(Number) });
    // The SDK's request id comes from the `request-id` header.
    expect((data as { _request_id?: string | null })._request_id).toBe(response.headers.get('x-request-id'));
  });

  it.each(MODELS)('streams a message with %s through the %s provider, text deltas first and the final message last', async (model) => {
    const stream = client.messages.stream({ model, max_tokens: 200, messages: [{ role: 'user', content: 'count the words in this sentence' }] });
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const final = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Echo: count the words in this sentence');
    expect(final.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: count the words in this sentence' })]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it.each(MODELS)('uses a tool with %s (%s) and answers from the tool result', async (model) => {
    const first = await client.messages.create({ model, max_tokens: 200, tools: [WEATHER_TOOL], messages: [{ role: 'user', content: 'Use get_weather for Paris.' }] });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((block) => block.type === 'tool_use');
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } });
    if (use?.type !== 'tool_use') return;

    const second = await client.messages.create({
      model,
      max_tokens: 200,
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: 'Use get_weather for Paris.' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"celsius":21}' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^The tool answered: .*21/) });
  });

  it('sends a tool result that is an error to Anthropic with is_error, and to other providers as text that says so', async () => {
    const failedCall = (model: string) =>
      client.messages.create({
        model,
        max_tokens: 200,
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Use get_weather for Atlantis.' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_failed', name: 'get_weather', input: { city: 'Atlantis' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_failed', is_error: true, content: 'no such city' }] },
        ],
      });
    await failedCall('smart');
    expect(emulators.anthropic.lastRequest()!.body.messages.at(-1)).toEqual({
      role: 'user',
      // As the client sent it: the flag says it, not an added word.
      content: [{ type: 'tool_result', tool_use_id: 'toolu_failed', content: [{ type: 'text', text: 'no such city' }], is_error: true }],
    });
    await failedCall('openai/gpt-4o-mini');
    expect(emulators.openai.lastRequest()!.body.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'toolu_failed', content: 'Error: no such city' });
  });

  it("starts a stream from Anthropic with Anthropic's own count of the input tokens, not the gateway's estimate", async () => {
    const stream = client.messages.stream({ model: 'smart', max_tokens: 200, messages: [{ role: 'user', content: 'count the words in this sentence' }] });
    // Read as the event comes: the SDK goes on to update that message with message_delta's usage.
    let started: number | undefined;
    stream.on('streamEvent', (event) => {
      if (event.type === 'message_start') started = event.message.usage.input_tokens;
    });
    await stream.finalMessage();
    expect(started).toBe(inputTokensFor(emulators.anthropic.lastRequest()!.body));
  });

  it("raises Anthropic's overloaded error that ends a stream midway as the SDK's overloaded_error, in Anthropic's words", async () => {
    emulators.anthropic.setMode('stream-error');
    try {
      const failure = await client.messages.stream({ model: 'smart', max_tokens: 200, messages: [{ role: 'user', content: 'Hello there' }] }).finalMessage().catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(Anthropic.APIError);
      expect((failure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'the provider stream failed: Overloaded' } });
    } finally {
      emulators.anthropic.setMode('normal');
    }
  });

  it.each([
    ['Anthropic answers 529', 'anthropic', 'smart'],
    ['Gemini answers 503', 'gemini', 'fast'],
  ] as const)("raises a provider's overload before any answer as the SDK's 529 overloaded_error (%s), streamed or not", async (_case, provider, model) => {
    if (provider === 'anthropic') emulators.anthropic.setMode('overloaded');
    else emulators.gemini.setMode('unavailable');
    try {
      const ask = { model, max_tokens: 200, messages: [{ role: 'user' as const, content: 'Hello there' }] };
      for (const failure of [await client.messages.create(ask).catch((e: unknown) => e), await client.messages.stream(ask).finalMessage().catch((e: unknown) => e)]) {
        expect(failure).toBeInstanceOf(Anthropic.APIError);
        expect((failure as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
        expect((failure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
      }
    } finally {
      emulators.anthropic.setMode('normal');
      emulators.gemini.setMode('normal');
    }
  });

  it("answers an OpenAI model's refusal of a structured output with stop_reason refusal and its words as the text, streamed or not", async () => {
    const request = {
      model: 'openai/gpt-4o-mini',
      max_tokens: 200,
      output_config: { format: { type: 'json_schema' as const, schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } },
      messages: [{ role: 'user' as const, content: 'Something it will not do, as JSON.' }],
    };
    emulators.openai.setMode('refuses');
    try {
      for (const message of [await client.messages.create(request), await client.messages.stream(request).finalMessage()]) {
        expect(message).toMatchObject({ stop_reason: 'refusal', stop_sequence: null, content: [{ type: 'text', text: REFUSAL }] });
      }
    } finally {
      emulators.openai.setMode('normal');
    }
  });

  it('says which stop sequence ended an answer from Anthropic, streamed or not', async () => {
    const request = { model: 'smart', max_tokens: 200, stop_sequences: ['nowhere', 'there'], messages: [{ role: 'user' as const, content: 'Hello there' }] };
    const message = await client.messages.create(request);
    expect(message).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'there', content: [{ type: 'text', text: 'Echo: Hello ' }] });
    const streamed = await client.messages.stream(request).finalMessage();
    expect(streamed).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'there' });
  });

  it('answers end_turn for a stop sequence through Gemini, which does not tell one from the model\'s own end', async () => {
    const message = await client.messages.create({ model: 'fast', max_tokens: 200, stop_sequences: ['there'], messages: [{ role: 'user', content: 'Hello there' }] });
    expect(message).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null, content: [{ type: 'text', text: 'Echo: Hello ' }] });
  });

  it('answers an OpenAI-format client that Anthropic stopped on a stop sequence with finish_reason stop and nothing more', async () => {
    const apiKey = client.apiKey!;
    const body = { model: 'smart', stop: ['there'], messages: [{ role: 'user', content: 'Hello there' }] };
    const answer = await gateway.chat<{ choices: Array<Record<string, unknown>> }>(apiKey, body);
    expect(answer.status).toBe(200);
    expect(answer.body.choices).toEqual([{ index: 0, message: { role: 'assistant', content: 'Echo: Hello ' }, finish_reason: 'stop', logprobs: null }]);
    const streamed = await gateway.chat(apiKey, { ...body, stream: true });
    const finishes = streamed.text.split('\n\n').filter((event) => event.includes('"finish_reason":"stop"'));
    expect(finishes).toEqual([expect.stringMatching(/^data: /)]);
    expect(JSON.parse(finishes[0]!.slice('data: '.length)).choices).toEqual([{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null }]);
  });

  it("sends the cache breakpoints of system blocks, content blocks and tools to Anthropic as they came, and to no other provider", async () => {
    const ephemeral = { type: 'ephemeral' as const };
    const system = [
      { type: 'text' as const, text: 'You are terse.' },
      { type: 'text' as const, text: 'Answer in French.', cache_control: { type: 'ephemeral' as const, ttl: '1h' as const } },
    ];
    const tools = [{ ...WEATHER_TOOL, cache_control: ephemeral }];
    const use = { type: 'tool_use' as const, id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } };
    const messages = [
      { role: 'user' as const, content: 'Use get_weather for Paris.' },
      { role: 'assistant' as const, content: [{ ...use, cache_control: ephemeral }] },
      { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: 'toolu_1', content: '{"celsius":21}', cache_control: ephemeral }] },
    ];
    for (const [model] of MODELS) {
      const message = await client.messages.create({ model, max_tokens: 200, system, tools, messages });
      expect(message.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^The tool answered: .*21/) });
    }
    const sent = emulators.anthropic.lastRequest()!.body;
    expect(sent.system).toEqual(system);
    expect(sent.tools).toEqual(tools);
    expect(sent.messages.slice(1)).toEqual([
      { role: 'assistant', content: [{ ...use, cache_control: ephemeral }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '{"celsius":21}' }], cache_control: ephemeral }] },
    ]);
    // Gemini's emulator refuses members it does not know, as Gemini does; OpenAI's is told by its body.
    expect(JSON.stringify(emulators.gemini.lastRequest()!.body)).not.toContain('cache_control');
    expect(JSON.stringify(emulators.openai.lastRequest()!.body)).not.toContain('cache_control');
  });

  // This SDK's types no longer list the sampling settings: the requests that set one are sent as JSON.
  it('passes top_k to Anthropic and Gemini, and leaves it out for OpenAI, which refuses it', async () => {
    for (const [model] of MODELS) {
      const answer = await gateway.call('POST', '/v1/messages', client.apiKey!, { model, max_tokens: 50, top_k: 5, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(answer.body).toMatchObject({ content: [{ type: 'text', text: 'Echo: Hello there' }] });
    }
    expect(emulators.anthropic.lastRequest()!.body.top_k).toBe(5);
    expect(emulators.gemini.lastRequest()!.body.generationConfig).toMatchObject({ topK: 5 });
    expect(emulators.openai.lastRequest()!.body).not.toHaveProperty('top_k');
    // An OpenAI-format client's top_k reaches the providers that take it too.
    expect((await gateway.chat(client.apiKey!, { model: 'smart', top_k: 7, messages: [{ role: 'user', content: 'Hi' }] })).status).toBe(200);
    expect(emulators.anthropic.lastRequest()!.body.top_k).toBe(7);
  });

  it("refuses a top_k that is not an integer, or below what means off, with a 400 naming it, in each format's error shape", async () => {
    const message = await gateway.call('POST', '/v1/messages', client.apiKey!, { model: 'smart', max_tokens: 50, top_k: -1, messages: [{ role: 'user', content: 'Hi' }] });
    expect(message.status).toBe(400);
    expect(message.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/^top_k: /) } });
    const chat = await gateway.chat<{ error: { type: string; param: string } }>(client.apiKey!, { model: 'smart', top_k: 2.5, messages: [{ role: 'user', content: 'Hi' }] });
    expect(chat.status).toBe(400);
    expect(chat.body.error).toMatchObject({ type: 'invalid_request_error', param: 'top_k' });
    expect((await gateway.chat(client.apiKey!, { model: 'smart', top_k: -2, messages: [{ role: 'user', content: 'Hi' }] })).status).toBe(400);
  });

  it('takes top_k -1 and 0 as off, as vLLM and Cohere do, and sends a provider with top-k sampling none', async () => {
    for (const topK of [-1, 0]) {
      expect((await gateway.chat(client.apiKey!, { model: 'smart', top_k: topK, messages: [{ role: 'user', content: 'Hi' }] })).status).toBe(200);
      expect(emulators.anthropic.lastRequest()!.body).not.toHaveProperty('top_k');
    }
    expect((await gateway.call('POST', '/v1/messages', client.apiKey!, { model: 'smart', max_tokens: 50, top_k: 0, messages: [{ role: 'user', content: 'Hi' }] })).status).toBe(200);
    expect(emulators.anthropic.lastRequest()!.body).not.toHaveProperty('top_k');
  });

  it("sends the beta features the SDK asks for (betas) on to Anthropic in anthropic-beta, and to no other provider", async () => {
    const betas = ['fine-grained-tool-streaming-2025-05-14', 'interleaved-thinking-2025-05-14'];
    const claude = await client.beta.messages.create({ model: 'smart', max_tokens: 50, betas, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(claude.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: Hello there' })]);
    expect(emulators.anthropic.lastRequest()!.headers['anthropic-beta']).toBe(betas.join(','));
    await client.beta.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 50, betas, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(emulators.openai.lastRequest()!.headers['anthropic-beta']).toBeUndefined();
  });

  it('sends Anthropic no anthropic-beta header when the client asks for no beta feature', async () => {
    await client.messages.create({ model: 'smart', max_tokens: 50, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(emulators.anthropic.lastRequest()!.headers['anthropic-beta']).toBeUndefined();
  });

  it("refuses an anthropic-beta header that names no feature, in Anthropic's shape", async () => {
    const error = await client.messages.create({ model: 'smart', max_tokens: 50, messages: [{ role: 'user', content: 'Hello there' }] }, { headers: { 'anthropic-beta': 'a b' } }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringMatching(/^anthropic-beta: "a b" is not a beta feature's name/) } });
  });

  it('sends the provider its own key from the pool, never the caller\'s x-api-key', async () => {
    await client.messages.create({ model: 'smart', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    const sent = emulators.anthropic.lastRequest()!;
    expect(sent.headers['x-api-key']).toBe(PROVIDER_SECRETS.anthropic);
    expect(JSON.stringify(sent.headers)).not.toContain(client.apiKey!);
  });

  it('answers an unknown model with the SDK\'s NotFoundError in Anthropic\'s shape', async () => {
    const error = await client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    const notFound = error as InstanceType<typeof Anthropic.NotFoundError>;
    expect(notFound.error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(notFound.requestID).toEqual(expect.any(String));
    expect((notFound.error as { request_id?: string }).request_id).toBe(notFound.requestID);
  });

  it("counts a message's tokens with the SDK's countTokens, tools included, for a model the caller may use", async () => {
    const messages = [{ role: 'user' as const, content: 'How many tokens are in this sentence?' }];
    const plain = await client.messages.countTokens({ model: 'smart', messages });
    expect(plain.input_tokens).toBeGreaterThan(5);
    const withTools = await client.messages.countTokens({ model: 'smart', messages, tools: [WEATHER_TOOL] });
    expect(withTools.input_tokens).toBeGreaterThan(plain.input_tokens);
    const error = await client.messages.countTokens({ model: 'no-such-model', messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
  });

  it("counts an image by its size, as Anthropic does (width × height / 750), and one it cannot size as the largest", async () => {
    // A 1000 × 1000 PNG's first bytes: the signature and IHDR are all the count reads.
    const header = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).copy(header);
    header.write('IHDR', 12, 'latin1');
    header.writeUInt32BE(1000, 16);
    header.writeUInt32BE(1000, 20);
    const text = { type: 'text' as const, text: 'What is in this picture?' };
    const count = async (content: Anthropic.ContentBlockParam[]) => (await client.messages.countTokens({ model: 'smart', messages: [{ role: 'user', content }] })).input_tokens;
    const alone = await count([text]);
    expect(await count([text, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: header.toString('base64') } }])).toBe(alone + 1334);
    expect(await count([text, { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } }])).toBe(alone + 1600);
  });

  it('refuses a request without max_tokens with 400 invalid_request_error in Anthropic\'s shape', async () => {
    const response = await fetch(`${gateway.proxyUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': client.apiKey!, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});
