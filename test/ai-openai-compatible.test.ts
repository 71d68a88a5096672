import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costUsd, ModelCatalog } from '../src/ai/catalog/index.js';
import { AiGateway, PROVIDER_SECRETS, WEATHER_TOOL, type OpenAIErrorBody } from './ai-fixtures.js';
import { PERPLEXITY_CITATION_TOKENS, PERPLEXITY_REASONING_TOKENS, PERPLEXITY_SEARCH_QUERIES, promptTokensFor, countTokens, startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

/** What the Groq emulator says in `x_groq.error` when it stops a stream early: its key, quoted, which no client may see. */
const GROQ_STOPPED = `Service unavailable for key ${PROVIDER_SECRETS.openai}; the stream was stopped early`;

/**
 * Hosts of OpenAI's API behind the generic `openai-compatible` type, by configuration alone: one whose API sits
 * under `/v1` (Groq, Together, vLLM…) and one without a version segment, as Perplexity documents
 * `/chat/completions` (`pathPrefix: ""`), each priced from the catalog its `catalog` names.
 */
describe('OpenAI-compatible hosts by configuration alone', () => {
  let gateway: AiGateway;
  let perplexity: OpenAIEmulator;
  let groq: OpenAIEmulator;
  /** Groq telling a stream's usage only in `x_groq.usage` on its final chunk. */
  let groqStreams: OpenAIEmulator;
  /** Groq stopping its streams early with `x_groq.error`, in words that quote the key it was sent. */
  let groqStops: OpenAIEmulator;
  /** Together, ending an answer the model ended itself with finish_reason `eos`. */
  let together: OpenAIEmulator;
  /** Perplexity telling the citation and reasoning tokens of Sonar Deep Research apart from prompt and completion tokens. */
  let perplexityDeep: OpenAIEmulator;
  let client: OpenAI;
  let apiKey: string;

  beforeAll(async () => {
    perplexity = await startOpenAIEmulator({ pathPrefix: '' });
    groq = await startOpenAIEmulator({ pathPrefix: '/openai/v1' });
    groqStreams = await startOpenAIEmulator({ pathPrefix: '/openai/v1', groqStreamUsage: true });
    groqStops = await startOpenAIEmulator({ pathPrefix: '/openai/v1', groqStreamError: GROQ_STOPPED });
    together = await startOpenAIEmulator({ togetherFinishReasons: true });
    perplexityDeep = await startOpenAIEmulator({ pathPrefix: '', perplexityUsage: true });
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'perplexity', type: 'openai-compatible', catalog: 'perplexity', baseUrl: perplexity.url, pathPrefix: '' },
        { name: 'groq', type: 'openai-compatible', catalog: 'groq', baseUrl: `${groq.url}/openai` },
        { name: 'groq-streams', type: 'openai-compatible', catalog: 'groq', baseUrl: `${groqStreams.url}/openai` },
        { name: 'groq-stops', type: 'openai-compatible', catalog: 'groq', baseUrl: `${groqStops.url}/openai` },
        { name: 'together', type: 'openai-compatible', baseUrl: together.url },
        { name: 'perplexity-deep', type: 'openai-compatible', catalog: 'perplexity', baseUrl: perplexityDeep.url, pathPrefix: '' },
        // Validation lets a provider of this type go without baseUrl; its calls cannot go anywhere.
        { name: 'unset', type: 'openai-compatible', catalog: 'groq' },
      ],
      aliases: [
        { name: 'sturdy', targets: [{ provider: 'unset', model: 'llama-3.3-70b-versatile' }], fallbacks: [{ provider: 'groq', model: 'llama-3.3-70b-versatile' }] },
        { name: 'groq-backed', targets: [{ provider: 'groq-stops', model: 'llama-3.3-70b-versatile' }], fallbacks: [{ provider: 'groq', model: 'llama-3.3-70b-versatile' }] },
      ],
    });
    await gateway.addProviderKey('perplexity', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('groq', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('groq-streams', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('groq-stops', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('together', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('perplexity-deep', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('unset', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'compatible-app', team: 'compatible-team' });
    client = gateway.openai(apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await perplexity?.stop();
    await groq?.stop();
    await groqStreams?.stop();
    await groqStops?.stop();
    await together?.stop();
    await perplexityDeep?.stop();
  });

  it('calls a host without /v1 at /chat/completions, and prices the call from the catalog the provider names', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'perplexity/sonar', messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('Echo: Hello there');
    expect(perplexity.lastRequest()?.path).toBe('/chat/completions');
    const input = promptTokensFor(perplexity.lastRequest()!.body);
    const expected = costUsd(ModelCatalog.shipped().lookup('perplexity', 'sonar')!, { inputTokens: input, outputTokens: countTokens('Echo: Hello there'), cachedInputTokens: 0 });
    expect(expected).toBeGreaterThan(0);
    expect(Number(response.headers.get('x-keygate-cost-usd'))).toBeCloseTo(expected, 9);
  });

  it('streams from it, usage included when asked', async () => {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ model: 'perplexity/sonar', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello there' }] })) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: Hello there');
    expect(chunks.at(-1)?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(perplexity.lastRequest()?.path).toBe('/chat/completions');
  });

  /** The call's record, by the request id the gateway answered with. */
  const callOf = async (response: Response) => {
    await gateway.gateway.flushUsage();
    return (await gateway.admin<{ calls: Array<Record<string, unknown>> }>(200, 'GET', `/ai/calls?requestId=${response.headers.get('x-request-id')}`)).calls[0]!;
  };
  /** What Perplexity counted for the last call, its citation tokens in the input and its reasoning tokens in the output. */
  const perplexityCounts = () => {
    const input = promptTokensFor(perplexityDeep.lastRequest()!.body) + PERPLEXITY_CITATION_TOKENS;
    const output = countTokens('Echo: Hello there') + PERPLEXITY_REASONING_TOKENS;
    return { input, output };
  };

  it("records Perplexity's citation tokens as input and its reasoning tokens as output, at the cost it charged, and tells the client so", async () => {
    const { data, response } = await client.chat.completions.create({ model: 'perplexity-deep/sonar-deep-research', messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    const { input, output } = perplexityCounts();
    const usage = data.usage as unknown as Record<string, unknown> & { cost: { total_cost: number } };
    expect(usage).toMatchObject({ prompt_tokens: input, completion_tokens: output, total_tokens: input + output, completion_tokens_details: { reasoning_tokens: PERPLEXITY_REASONING_TOKENS } });
    // Perplexity's own members as it sent them.
    expect(usage).toMatchObject({ citation_tokens: PERPLEXITY_CITATION_TOKENS, reasoning_tokens: PERPLEXITY_REASONING_TOKENS, num_search_queries: PERPLEXITY_SEARCH_QUERIES });
    const call = await callOf(response);
    expect(call).toMatchObject({ provider: 'perplexity-deep', inputTokens: input, outputTokens: output, estimated: false });
    expect(call.costUsd).toBeCloseTo(usage.cost.total_cost, 9);
  });

  it("records a Perplexity stream's citation tokens as input and its reasoning tokens as output, and tells the client so", async () => {
    const { data: stream, response } = await client.chat.completions.create({ model: 'perplexity-deep/sonar-deep-research', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const { input, output } = perplexityCounts();
    const told = chunks.filter((chunk) => chunk.usage != null);
    expect(told).toHaveLength(1);
    expect(told[0]!.usage).toMatchObject({ prompt_tokens: input, completion_tokens: output, total_tokens: input + output, completion_tokens_details: { reasoning_tokens: PERPLEXITY_REASONING_TOKENS } });
    expect(await callOf(response)).toMatchObject({ provider: 'perplexity-deep', inputTokens: input, outputTokens: output, estimated: false });
  });

  it("records the usage Groq streams in x_groq.usage as Groq counted it, not as an estimate, and passes x_groq on", async () => {
    const { data: stream, response } = await client.chat.completions.create({ model: 'groq-streams/llama-3.3-70b-versatile', stream: true, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const input = promptTokensFor(groqStreams.lastRequest()!.body);
    const output = countTokens('Echo: Hello there');
    // The host's member reaches the client as Groq sent it; the client asked for no usage, so none in OpenAI's member.
    expect((chunks.at(-1) as unknown as { x_groq: { usage: unknown } }).x_groq.usage).toMatchObject({ prompt_tokens: input, completion_tokens: output });
    expect(chunks.every((chunk) => chunk.usage == null)).toBe(true);
    await gateway.gateway.flushUsage();
    const { calls } = await gateway.admin<{ calls: Array<Record<string, unknown>> }>(200, 'GET', `/ai/calls?requestId=${response.headers.get('x-request-id')}`);
    expect(calls[0]).toMatchObject({ provider: 'groq-streams', inputTokens: input, outputTokens: output, estimated: false });
    expect(calls[0]!.costUsd).toBeCloseTo(costUsd(ModelCatalog.shipped().lookup('groq', 'llama-3.3-70b-versatile')!, { inputTokens: input, outputTokens: output }), 9);
  });

  it('tells a client that asked for usage what Groq counted in x_groq.usage, in the usage chunk', async () => {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ model: 'groq-streams/llama-3.3-70b-versatile', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello there' }] })) chunks.push(chunk);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: promptTokensFor(groqStreams.lastRequest()!.body), completion_tokens: countTokens('Echo: Hello there') } });
    expect(chunks.filter((chunk) => chunk.usage != null)).toHaveLength(1);
  });

  it("ends a Groq stream that x_groq.error stops after the model's first words with Groq's words, without the key they quote", async () => {
    groqStops.setMode('stream-error-midway');
    try {
      const app = 'groq-stops-app';
      const result = await gateway.chat(await gateway.createApp({ name: app, team: 'compatible-team' }), { model: 'groq-stops/llama-3.3-70b-versatile', stream: true, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(result.status).toBe(200);
      const data = result.text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices?: Array<{ delta: { content?: string } }>; error?: unknown });
      expect(data.map((d) => d.choices?.[0]?.delta.content ?? '').join('')).toBe('Echo:');
      expect(data.at(-1)!.error).toEqual({ message: 'the provider stream failed: Service unavailable for key [redacted]; the stream was stopped early', type: 'api_error', param: null, code: 'provider_stream_error' });
      expect(result.text).not.toContain(PROVIDER_SECRETS.openai);
      expect(result.text).not.toContain('[DONE]');
      expect((await gateway.usage({ app, groupBy: 'status' })).map((row) => [row.status, row.calls])).toEqual([[502, 1]]);
    } finally {
      groqStops.setMode('normal');
    }
  });

  it('falls back from a Groq stream that x_groq.error stops before the model said anything', async () => {
    groqStops.setMode('stream-error');
    try {
      const result = await gateway.chat(apiKey, { model: 'groq-backed', stream: true, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(result.status).toBe(200);
      expect(result.headers.get('x-keygate-provider')).toBe('groq');
      expect(result.text).not.toContain('error');
      expect(result.text).toContain('data: [DONE]');
    } finally {
      groqStops.setMode('normal');
    }
  });

  it("tells a client Together's finish_reason eos (the model ended its answer) as OpenAI's stop", async () => {
    const answer = await client.chat.completions.create({ model: 'together/meta-llama/Llama-3.3-70B-Instruct-Turbo', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(answer.choices[0]).toMatchObject({ message: { content: 'Echo: Hello there' }, finish_reason: 'stop' });
  });

  it("tells a streaming client Together's finish_reason eos as OpenAI's stop", async () => {
    const reasons: unknown[] = [];
    for await (const chunk of await client.chat.completions.create({ model: 'together/meta-llama/Llama-3.3-70B-Instruct-Turbo', stream: true, messages: [{ role: 'user', content: 'Hello there' }] })) {
      for (const choice of chunk.choices) if (choice.finish_reason !== null) reasons.push(choice.finish_reason);
    }
    expect(reasons).toEqual(['stop']);
  });

  it('passes a tool call through from a host under /v1, and its result back', async () => {
    const first = await client.chat.completions.create({ model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'What is the weather in Paris? Use get_weather.' }], tools: [WEATHER_TOOL] });
    expect(groq.lastRequest()?.path).toBe('/openai/v1/chat/completions');
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    const second = await client.chat.completions.create({
      model: 'groq/llama-3.3-70b-versatile',
      messages: [{ role: 'user', content: 'What is the weather in Paris? Use get_weather.' }, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"celsius":21}' }],
      tools: [WEATHER_TOOL],
    });
    expect(second.choices[0]?.message.content).toMatch(/^The tool answered: .*21/);
  });

  it.each([false, true])('sends a custom tool to the host as a function of one string, and its call back as a custom call (stream: %s)', async (stream) => {
    // Codex's apply_patch: few OpenAI-compatible hosts know custom tools, every one knows functions.
    const patchTool = { type: 'custom', custom: { name: 'apply_patch', description: 'Edits files.', format: { type: 'grammar', grammar: { syntax: 'lark', definition: 'start: "*** Begin Patch"' } } } };
    const messages = [{ role: 'user', content: 'Use apply_patch.' }];
    const result = await gateway.chat<Record<string, unknown>>(apiKey, { model: 'groq/llama-3.3-70b-versatile', messages, tools: [patchTool], stream });
    expect(result.status).toBe(200);
    const sent = groq.lastRequest()!.body as { tools: Array<{ type: string; function: { name: string; description: string; parameters: unknown } }> };
    expect(sent.tools).toEqual([{ type: 'function', function: { name: 'apply_patch', description: expect.stringContaining('start: "*** Begin Patch"'), parameters: { type: 'object', properties: { input: expect.objectContaining({ type: 'string' }) }, required: ['input'] } } }]);
    if (!stream) {
      const message = (result.body as { choices: Array<{ message: { tool_calls: unknown[] } }> }).choices[0]!.message;
      expect(message.tool_calls).toEqual([{ id: expect.any(String), type: 'custom', custom: { name: 'apply_patch', input: expect.any(String) } }]);
      return;
    }
    const deltas = result.text.split('\n').filter((line) => line.startsWith('data: {')).flatMap((line) => (JSON.parse(line.slice(6)) as ChatCompletionChunk).choices.flatMap((choice) => (choice.delta.tool_calls ?? []) as unknown as Array<{ type?: string; custom?: { name?: string; input?: string }; function?: unknown }>));
    expect(deltas[0]).toMatchObject({ type: 'custom', custom: { name: 'apply_patch' } });
    expect(deltas.every((delta) => delta.custom !== undefined && delta.function === undefined)).toBe(true);
  });

  it("sends what else a host may know as it is, for the host to decide: an allowed_tools choice beside a custom tool", async () => {
    const tools = [{ type: 'custom', custom: { name: 'apply_patch' } }, WEATHER_TOOL];
    const toolChoice = { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_weather' } }] } };
    await gateway.chat(apiKey, { model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'Use get_weather.' }], tools, tool_choice: toolChoice });
    const sent = groq.lastRequest()!.body as { tools: Array<{ type: string }>; tool_choice: unknown };
    expect(sent.tools.map((tool) => tool.type)).toEqual(['function', 'function']);
    expect(sent.tool_choice).toEqual(toolChoice);
  });

  it.each([
    ['that is not a path', 'openai-compatible', 'v1/'],
    ['that climbs out of the base URL', 'openai-compatible', '/../admin'],
    ['on a type that builds its own paths', 'anthropic', '/v1'],
  ])('refuses a path prefix %s', async (_what, type, pathPrefix) => {
    const refused = await gateway.admin<{ error: { code: string; message: string } }>(400, 'PUT', '/config', {
      version: 1,
      routes: [],
      ai: { providers: [{ name: 'bad', type, baseUrl: perplexity.url, pathPrefix }] },
    });
    expect(refused.error.code).toBe('invalid_config');
    expect(refused.error.message).toContain('pathPrefix');
  });

  it.each([false, true])('answers 502 provider_misconfigured for a host without baseUrl (stream: %s), saying what to set', async (stream) => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'unset/llama-3.3-70b-versatile', stream, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(result.status).toBe(502);
    expect(result.body.error).toMatchObject({ type: 'api_error', code: 'provider_misconfigured' });
    expect(result.body.error.message).toContain('baseUrl');
  });

  it("reads streamed tool calls that come without an index, as Google's OpenAI-compatible API sends them, as one call each", async () => {
    groq.setMode('calls-without-index');
    try {
      const ask = 'Use get_weather and get_time.';
      const timeTool = { type: 'function' as const, function: { name: 'get_time', description: 'The time in a zone', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } };
      const stream = client.chat.completions.stream({ model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: ask }], tools: [WEATHER_TOOL, timeTool] });
      const calls = (await stream.finalChatCompletion()).choices[0]!.message.tool_calls!;
      expect(calls.map((call) => call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)])).toEqual([
        ['get_weather', expect.any(Object)],
        ['get_time', expect.any(Object)],
      ]);
      // Anthropic's format: one tool_use block per call.
      const claude = new Anthropic({ baseURL: gateway.proxyUrl, apiKey, maxRetries: 0 });
      const message = await claude.messages
        .stream({ model: 'groq/llama-3.3-70b-versatile', max_tokens: 200, messages: [{ role: 'user', content: ask }], tools: [{ name: 'get_weather', input_schema: { type: 'object' } }, { name: 'get_time', input_schema: { type: 'object' } }] })
        .finalMessage();
      expect(message.content.map((block) => block.type === 'tool_use' && block.name)).toEqual(['get_weather', 'get_time']);
      expect(new Set(message.content.map((block) => block.type === 'tool_use' && block.id)).size).toBe(2);
    } finally {
      groq.setMode('normal');
    }
  });

  it("falls back from a host without baseUrl to the alias's next target", async () => {
    const calls = groq.requests().length;
    const answer = await client.chat.completions.create({ model: 'sturdy', messages: [{ role: 'user', content: 'Hello there' }] });
    expect(answer.choices[0]?.message.content).toBe('Echo: Hello there');
    expect(groq.requests().length).toBe(calls + 1);
  });
});

/**
 * What hosts behind the generic type say that OpenAI does not, each as its own documentation has it: a host that
 * answers by the model named, with OpenRouter's charged cost and error shapes, Perplexity's cost object, Groq's 498
 * and xAI's words for an account out of credit.
 */
describe('OpenAI-compatible hosts\' own ways', () => {
  let gateway: AiGateway;
  let steady: OpenAIEmulator;
  let host: Server;
  let apiKey: string;
  const completion = (usage: Record<string, unknown>) => ({ id: 'gen-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage });
  const ANSWERS: Record<string, [number, unknown]> = {
    'or-cost': [200, completion({ prompt_tokens: 100_000, completion_tokens: 50_000, total_tokens: 150_000, cost: 2.5 })],
    'pplx-cost': [200, completion({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: { input_tokens_cost: 0, output_tokens_cost: 0, request_cost: 0.005, total_cost: 0.005 } })],
    'groq-498': [498, { error: { message: 'Flex tier capacity exceeded. This is a temporary capacity issue.', type: 'capacity_exceeded', code: 'capacity_exceeded' } }],
    'or-402': [402, { error: { code: 402, message: 'Insufficient credits. Add more using https://openrouter.ai/credits', metadata: { limit_source: 'openrouter_credits' } } }],
    'or-403': [403, { error: { code: 403, message: 'gpt-4o requires moderation. Your input was flagged for "violence".', metadata: { reasons: ['violence'], flagged_input: 'the words that were flagged', provider_name: 'OpenAI', model_slug: 'openai/gpt-4o' } } }],
    'or-400': [400, { error: { code: 400, message: 'Provider returned error', metadata: { raw: JSON.stringify({ error: { message: 'Invalid value for temperature' } }), provider_name: 'OpenAI' } } }],
    'or-429-relayed': [429, { error: { code: 429, message: 'Provider returned error', metadata: { raw: JSON.stringify({ error: { message: 'You exceeded your current quota, please check your plan and billing details.' } }), provider_name: 'Google AI Studio' } } }],
    // OpenRouter's provider failing after the model began: a 200 whose choice finished with `error`, the error beside it
    // (https://openrouter.ai/docs/api-reference/errors), in words that quote the key the host was sent.
    'or-failed': [200, { ...completion({ prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 }), choices: [{ index: 0, message: { role: 'assistant', content: 'Half an ans' }, finish_reason: 'error' }], error: { code: 502, message: 'Provider disconnected unexpectedly (key sk-or-host-0123456789)' } }],
    'xai-credits': [429, { code: 'Some resource has been exhausted', error: 'Your team has either used all available credits or reached its monthly spending limit. To continue making API requests, please purchase more credits or raise your spending limit.' }],
  };

  /** OpenRouter's stream of the same failure: the model's first words, then the choice finished with `error` and the error on it. */
  const chunkOf = (choice: object, extra: object = {}) => `data: ${JSON.stringify({ id: 'gen-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [choice], ...extra })}\n\n`;
  const STREAMS: Record<string, string> = {
    'or-failed': [
      chunkOf({ index: 0, delta: { role: 'assistant', content: 'Half' }, finish_reason: null }),
      chunkOf({ index: 0, delta: { content: '' }, finish_reason: 'error', error: { code: 502, message: 'Provider disconnected unexpectedly (key sk-or-host-0123456789)' } }, { usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } }),
      'data: [DONE]\n\n',
    ].join(''),
  };

  beforeAll(async () => {
    host = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        const asked = JSON.parse(raw) as { model: string; stream?: boolean };
        if (asked.stream === true && STREAMS[asked.model] !== undefined) return void res.writeHead(200, { 'content-type': 'text/event-stream' }).end(STREAMS[asked.model]);
        const [status, body] = ANSWERS[asked.model] ?? [404, { error: { message: 'no such model' } }];
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    steady = await startOpenAIEmulator();
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'host', type: 'openai-compatible', catalog: 'openrouter', baseUrl: `http://127.0.0.1:${(host.address() as AddressInfo).port}` },
        { name: 'xai', type: 'openai-compatible', catalog: 'xai', baseUrl: `http://127.0.0.1:${(host.address() as AddressInfo).port}` },
        // Its own key, which the out-of-credit answer sets aside.
        { name: 'broke', type: 'openai-compatible', catalog: 'openrouter', baseUrl: `http://127.0.0.1:${(host.address() as AddressInfo).port}` },
        { name: 'steady', type: 'openai', baseUrl: steady.url },
      ],
      aliases: [
        { name: 'flex', targets: [{ provider: 'host', model: 'groq-498' }], fallbacks: [{ provider: 'steady', model: 'gpt-4o-mini' }] },
        { name: 'or-backed', targets: [{ provider: 'host', model: 'or-failed' }], fallbacks: [{ provider: 'steady', model: 'gpt-4o-mini' }] },
      ],
    });
    await gateway.addProviderKey('host', 'sk-or-host-0123456789');
    await gateway.addProviderKey('xai', 'xai-key-0123456789');
    await gateway.addProviderKey('broke', 'sk-or-broke-0123456789');
    await gateway.addProviderKey('steady', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'hosts-app', team: 'hosts-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await steady?.stop();
    host?.close();
  });

  const ask = (model: string) => gateway.chat<OpenAIErrorBody>(apiKey, { model, messages: [{ role: 'user', content: 'Hello' }] });

  it("records what the host charged (OpenRouter's usage.cost, Perplexity's total_cost), whatever the catalog says", async () => {
    const openrouter = await ask('host/or-cost');
    expect(openrouter.headers.get('x-keygate-cost-usd')).toBe('2.500000000');
    const perplexity = await ask('host/pplx-cost');
    expect(perplexity.headers.get('x-keygate-cost-usd')).toBe('0.005000000');
    const rows = await gateway.usage({ app: 'hosts-app', groupBy: 'model' });
    expect(rows.find((row) => row.model === 'or-cost')?.costUsd).toBe(2.5);
    expect(rows.find((row) => row.model === 'pplx-cost')?.costUsd).toBe(0.005);
  });

  it("takes Groq's 498 capacity_exceeded for an overloaded host: a 503 alone, a fallback in an alias", async () => {
    const alone = await ask('host/groq-498');
    expect(alone.status).toBe(503);
    expect(alone.body.error).toMatchObject({ code: 'capacity_exceeded' });
    const chained = await ask('flex');
    expect(chained.status).toBe(200);
    expect(chained.headers.get('x-keygate-provider')).toBe('steady');
  });

  it("tells OpenRouter's 402 as the account out of credit, not as a rate limit", async () => {
    const result = await ask('broke/or-402');
    expect(result.status).toBe(429);
    expect(result.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
  });

  it("tells the caller that a host's moderation flagged the input, with why, not an administrator's key problem", async () => {
    const result = await ask('host/or-403');
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', code: 'content_policy_violation', message: "the provider's moderation flagged the input (violence)" });
    expect(result.text).not.toContain('the words that were flagged');
  });

  it("passes on what the provider behind OpenRouter said, from the error's metadata", async () => {
    const result = await ask('host/or-400');
    expect(result.status).toBe(400);
    expect(result.body.error.message).toBe('Provider returned error: Invalid value for temperature (OpenAI)');
  });

  it("keeps a key whose host relays the quota words of the provider behind it: that account's, not the key's", async () => {
    const first = await ask('host/or-429-relayed');
    expect(first.status).toBe(429);
    expect(first.body.error).toMatchObject({ type: 'rate_limit_error', message: expect.stringContaining('You exceeded your current quota') });
    expect((await ask('host/or-cost')).status).toBe(200);
  });

  it("answers an OpenRouter 200 whose choice finished with error as a 502 in OpenRouter's words, without the key they quote", async () => {
    const app = 'or-failed-app';
    const result = await gateway.chat<OpenAIErrorBody>(await gateway.createApp({ name: app, team: 'hosts-team' }), { model: 'host/or-failed', messages: [{ role: 'user', content: 'Hello' }] });
    expect(result.status).toBe(502);
    expect(result.body.error.message).toContain('Provider disconnected unexpectedly');
    expect(result.text).not.toContain('sk-or-host-0123456789');
    expect((await gateway.usage({ app, groupBy: 'status' })).map((row) => [row.status, row.calls, row.inputTokens, row.outputTokens])).toEqual([[502, 1, 9, 3]]);
  });

  it("falls back from an OpenRouter 200 whose choice finished with error to the alias's next target", async () => {
    const result = await ask('or-backed');
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('steady');
  });

  it("ends an OpenRouter stream whose choice finished with error after the model's first words with an error event in OpenRouter's words, without the key", async () => {
    const app = 'or-stream-app';
    const result = await gateway.chat(await gateway.createApp({ name: app, team: 'hosts-team' }), { model: 'host/or-failed', stream: true, messages: [{ role: 'user', content: 'Hello' }] });
    expect(result.status).toBe(200);
    const data = result.text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices?: Array<{ delta: { content?: string }; finish_reason?: string | null }>; error?: unknown });
    expect(data.map((d) => d.choices?.[0]?.delta.content ?? '').join('')).toBe('Half');
    expect(data.some((d) => d.choices?.[0]?.finish_reason === 'error')).toBe(false);
    expect(data.at(-1)!.error).toMatchObject({ message: 'the provider stream failed: Provider disconnected unexpectedly (key [redacted])', code: 'provider_stream_error' });
    expect(result.text).not.toContain('sk-or-host-0123456789');
    expect(result.text).not.toContain('[DONE]');
    expect((await gateway.usage({ app, groupBy: 'status' })).map((row) => [row.status, row.calls, row.inputTokens, row.outputTokens])).toEqual([[502, 1, 9, 1]]);
  });

  it("sets aside a key whose account xAI says is out of credits: the next call does not try it", async () => {
    const first = await ask('xai/xai-credits');
    expect(first.status).toBe(429);
    expect(first.body.error).toMatchObject({ type: 'insufficient_quota' });
    const second = await ask('xai/xai-credits');
    expect(second.status).toBe(503);
    expect(second.body.error).toMatchObject({ code: 'no_provider_available' });
  });
});
