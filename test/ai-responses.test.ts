import OpenAI from 'openai';
import type { ResponseFunctionToolCall, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, AiGateway, configureThreeProviders, startProviderEmulators, type OpenAIErrorBody, type ProviderEmulators, SMART_AND_FAST } from './ai-fixtures.js';
import { signatureFor, thinkingFor } from './emulators/anthropic.js';
import { THOUGHT_SUMMARY, thoughtSignatureFor } from './emulators/gemini.js';
import { reasoningFor, startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

/**
 * OpenAI's Responses API (`POST /v1/responses`) through the gateway, as the official `openai` client (v6) calls it,
 * over three kinds of provider: the same routing, permissions, budgets, cache and accounting as chat completions.
 */

/** A model name as a client writes it, and the provider it must reach. */
const MODELS: Array<[model: string, provider: string]> = [
  ['openai/gpt-4o-mini', 'openai'],
  ['smart', 'anthropic'],
  ['fast', 'gemini'],
];

/** The weather tool in the Responses API's flat form. */
const WEATHER_TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};
const WEATHER_SCHEMA = { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } }, required: ['city', 'celsius'], additionalProperties: false };

const deltasOf = (events: ResponseStreamEvent[]) => events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : []));

describe('the official openai client on /v1/responses', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  /** A DeepSeek-like host: it answers with reasoning_content, and wants it back within a tool loop. */
  let deepseek: OpenAIEmulator;
  let apiKey: string;
  let client: OpenAI;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    deepseek = await startOpenAIEmulator({ reasoningContent: true });
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      providers: [{ name: 'deepseek', type: 'openai-compatible', baseUrl: deepseek.url, catalog: 'deepseek' }],
      aliases: [
        ...SMART_AND_FAST,
        { name: 'deep', targets: [{ provider: 'deepseek', model: 'deepseek-reasoner' }] },
      ],
    });
    await gateway.addProviderKey('deepseek', 'test-openai-key');
    apiKey = await gateway.createApp({ name: 'responses-app', team: 'responses-team' });
    client = gateway.openai(apiKey);
  });
  afterEach(() => {
    emulators.anthropic.setMode('normal');
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await deepseek?.stop();
  });

  it.each(MODELS)('creates a response with %s through the %s provider', async (model, provider) => {
    const { data, response } = await client.responses.create({ model, input: 'Hello there' }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe(provider);
    expect(Number(response.headers.get('x-keygate-cost-usd'))).toBeGreaterThan(0);
    // The SDK's request id comes from the `x-request-id` header.
    expect((data as { _request_id?: string | null })._request_id).toBe(response.headers.get('x-request-id'));
    expect(data).toMatchObject({ object: 'response', status: 'completed', model, error: null, incomplete_details: null, store: true, previous_response_id: null });
    expect(data.id).toMatch(/^resp_/);
    // Computed by the SDK from the output's message items.
    expect(data.output_text).toBe('Echo: Hello there');
    expect(data.output).toEqual([expect.objectContaining({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Echo: Hello there', annotations: [] }] })]);
    expect(data.usage!.input_tokens).toBeGreaterThan(0);
    expect(data.usage!.output_tokens).toBeGreaterThan(0);
    expect(data.usage!.total_tokens).toBe(data.usage!.input_tokens + data.usage!.output_tokens);
  });

  it.each(MODELS)('streams %s from the %s provider with create({ stream: true }) as numbered events, ending with the usage', async (model, provider) => {
    const { data: stream, response } = await client.responses.create({ model, stream: true, input: 'count the words in this sentence' }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe(provider);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await collect(stream);
    expect(events.slice(0, 2).map((event) => event.type)).toEqual(['response.created', 'response.in_progress']);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, i) => i));
    expect(deltasOf(events).length).toBeGreaterThan(1);
    expect(deltasOf(events).join('')).toBe('Echo: count the words in this sentence');
    const last = events.at(-1)!;
    expect(last.type).toBe('response.completed');
    if (last.type !== 'response.completed') return;
    expect(last.response.status).toBe('completed');
    expect(last.response.usage!.input_tokens).toBeGreaterThan(0);
    expect(last.response.usage!.output_tokens).toBeGreaterThan(0);
  });

  it.each(MODELS)('streams %s (%s) with responses.stream(), whose final Response the SDK puts together', async (model) => {
    const stream = client.responses.stream({ model, input: 'Hello there', instructions: 'Repeat after me.' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('Echo: Hello there');
    expect(final.output_text).toBe('Echo: Hello there');
    expect(final).toMatchObject({ status: 'completed', instructions: 'Repeat after me.', model });
  });

  it.each(MODELS)('calls a function tool through %s (%s) and answers from its function_call_output in a second turn', async (model) => {
    const question: ResponseInputItem = { role: 'user', content: 'What is the weather in Paris? Use get_weather.' };
    const first = await client.responses.create({ model, input: [question], tools: [WEATHER_TOOL] });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (call?.type !== 'function_call') return;
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Paris' });
    expect(first.tools).toEqual([WEATHER_TOOL]);

    const second = await client.responses.create({ model, tools: [WEATHER_TOOL], input: [question, ...(first.output as ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }] });
    expect(second.status).toBe('completed');
    expect(second.output_text).toMatch(/^The tool answered: .*21/);
  });

  it.each(MODELS)('streams a function call through %s (%s) whose argument deltas reassemble into JSON', async (model) => {
    const events = await collect(await client.responses.create({ model, stream: true, input: 'Use get_weather.', tools: [WEATHER_TOOL], tool_choice: 'required' }));
    const added = events.find((event) => event.type === 'response.output_item.added' && event.item.type === 'function_call');
    expect(added).toBeDefined();
    const pieces = events.flatMap((event) => (event.type === 'response.function_call_arguments.delta' ? [event.delta] : []));
    expect(JSON.parse(pieces.join(''))).toEqual({ city: 'Paris' });
    const done = events.find((event) => event.type === 'response.function_call_arguments.done');
    expect(done).toMatchObject({ name: 'get_weather', arguments: pieces.join('') });
  });

  it.each([
    ['smart', 'anthropic'],
    ['fast', 'gemini'],
  ])('answers %s (%s) with JSON that follows the json_schema text format, which responses.parse reads', async (model) => {
    const response = await client.responses.parse({ model, input: 'The weather in Paris, as JSON.', text: { format: { type: 'json_schema', name: 'weather', schema: WEATHER_SCHEMA, strict: true } } });
    expect(response.output_parsed).toEqual({ city: expect.any(String), celsius: expect.any(Number) });
    expect(response.text?.format).toMatchObject({ type: 'json_schema', name: 'weather' });
  });

  it("sends OpenAI the json_schema text format as Chat Completions' response_format", async () => {
    await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'The weather in Paris, as JSON.', text: { format: { type: 'json_schema', name: 'weather', schema: WEATHER_SCHEMA, strict: true } } });
    expect(emulators.openai.lastRequest()!.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'weather', schema: WEATHER_SCHEMA, strict: true } });
  });

  it("answers Gemini's thoughts, asked for with reasoning.effort, as a reasoning item and reasoning tokens, streamed or not", async () => {
    const response = await client.responses.create({ model: 'fast', input: 'Hello there', reasoning: { effort: 'low', summary: 'auto' } });
    expect(response.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(response.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: THOUGHT_SUMMARY }] });
    expect(response.usage!.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(response.reasoning).toEqual({ effort: 'low', summary: 'auto' });
    const streamed = await client.responses.stream({ model: 'fast', input: 'Hello there', reasoning: { effort: 'low', summary: 'auto' } }).finalResponse();
    expect(streamed.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: THOUGHT_SUMMARY }] });
    expect(streamed.usage!.output_tokens_details.reasoning_tokens).toBe(response.usage!.output_tokens_details.reasoning_tokens);
  });

  it.each([false, true])('gives a DeepSeek-like host its reasoning back from the reasoning item of a tool loop (first turn streamed: %s)', async (streamed) => {
    const question: ResponseInputItem = { role: 'user', content: 'What is the weather in Paris? Use get_weather.' };
    const ask = { model: 'deep', tools: [WEATHER_TOOL], reasoning: { effort: 'high' as const } };
    const first = streamed ? await client.responses.stream({ ...ask, input: [question] }).finalResponse() : await client.responses.create({ ...ask, input: [question] });
    expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'function_call']);
    const call = first.output[1]!;
    if (call.type !== 'function_call') return;
    // The host refuses a tool-calling turn sent back without its reasoning_content (the emulator too).
    const second = await client.responses.create({ ...ask, input: [question, ...(first.output as ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }] });
    expect(deepseek.lastRequest()!.body.messages[1]).toMatchObject({ role: 'assistant', reasoning_content: reasoningFor(question.content as string) });
    expect(second.output_text).toBe('The tool answered: {"celsius":21}');
  });

  it('is incomplete, for max_output_tokens, when the answer reached max_output_tokens, streamed or not', async () => {
    const ask = { model: 'openai/gpt-4o-mini', input: 'a sentence long enough to pass sixteen tokens of the answer budget, which it does by a fair margin', max_output_tokens: 16 };
    const response = await client.responses.create(ask);
    expect(emulators.openai.lastRequest()!.body.max_completion_tokens).toBe(16);
    expect(response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, max_output_tokens: 16 });
    const last = (await collect(await client.responses.create({ ...ask, stream: true }))).at(-1)!;
    expect(last).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } } });
  });

  it('records each call with its tokens and cost, streamed or not, as for chat completions', async () => {
    const ledgerKey = await gateway.createApp({ name: 'responses-ledger', team: 'responses-team' });
    const ledger = gateway.openai(ledgerKey);
    const { data, response } = await ledger.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello there' }).withResponse();
    const streamed = (await collect(await ledger.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello there', stream: true }))).at(-1)!;
    if (streamed.type !== 'response.completed') throw new Error(`the stream ended with ${streamed.type}`);
    const [row] = await gateway.usage({ groupBy: 'model', app: 'responses-ledger' });
    expect(row).toMatchObject({ model: 'gpt-4o-mini', calls: 2, estimatedCalls: 0, cacheHits: 0 });
    expect(row!.inputTokens).toBe(data.usage!.input_tokens + streamed.response.usage!.input_tokens);
    expect(row!.outputTokens).toBe(data.usage!.output_tokens + streamed.response.usage!.output_tokens);
    expect(row!.costUsd).toBeGreaterThan(Number(response.headers.get('x-keygate-cost-usd')));
    expect(await gateway.usage({ groupBy: 'route', app: 'responses-ledger' })).toEqual([expect.objectContaining({ route: 'ai', calls: 2 })]);
  });

  it("answers an unknown model with the SDK's NotFoundError: 404 model_not_found in OpenAI's shape", async () => {
    const error = await client.responses.create({ model: 'no-such-alias', input: 'Hello' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
    const raw = await gateway.call<OpenAIErrorBody>('POST', '/v1/responses', apiKey, { model: 'no-such-alias', input: 'Hello' });
    expect(raw.body).toEqual({ error: { message: 'The model `no-such-alias` does not exist or you do not have access to it.', type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
    expect(raw.headers.get('x-request-id')).toBeTruthy();
  });

  it("refuses a wrong API key with the SDK's AuthenticationError: 401 invalid_api_key in OpenAI's shape", async () => {
    const error = await gateway.openai('not-a-keygate-key').responses.create({ model: 'fast', input: 'Hello' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'authentication_error' });
  });

  it('answers a method other than POST on /v1/responses with 405 method_not_allowed', async () => {
    const raw = await gateway.call<OpenAIErrorBody>('GET', '/v1/responses', apiKey);
    expect(raw.status).toBe(405);
    expect(raw.body.error).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed' });
  });

  it.each(['/v1/responses/resp_earlier/cancel', '/v1/responses/input_tokens', '/v1/responses/compact'])('answers POST %s, which Keygate does not serve, with 404 unknown_url', async (path) => {
    const raw = await gateway.call<OpenAIErrorBody>('POST', path, apiKey, { model: 'fast', input: 'Hello' });
    expect(raw.status).toBe(404);
    expect(raw.body.error).toMatchObject({ type: 'invalid_request_error', code: 'unknown_url' });
  });

  it.each([
    ['max_output_tokens', { max_output_tokens: 1_000_000 }],
    ['reasoning.effort', { reasoning: { effort: 'low' as const } }],
  ])("names the Responses API's own %s in the param of a provider's 400 about the member it was sent as", async (param, ask) => {
    const error = await client.responses.create({ model: 'openai/gpt-4o', input: 'Hello', ...ask }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param });
  });

  it("refuses OpenAI's built-in tools with 400 unsupported_tool", async () => {
    const error = await client.responses.create({ model: 'smart', input: 'Search the web.', tools: [{ type: 'web_search' }] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400, code: 'unsupported_tool', param: 'tools[0].type' });
  });

  describe("Claude's thinking in encrypted_content, for stateless clients (store: false)", () => {
    const question: ResponseInputItem = { role: 'user', content: 'What is the weather in Paris? Use get_weather.' };
    const ask = { model: 'smart', tools: [WEATHER_TOOL], reasoning: { effort: 'low' as const }, store: false, include: ['reasoning.encrypted_content' as const] };
    const thinking = thinkingFor(question.content as string);
    /** The first turn of a function loop, as Codex and the Agents SDK ask it with store: false. */
    const firstTurn = (streamed: boolean) => (streamed ? client.responses.stream({ ...ask, input: [question] }).finalResponse() : client.responses.create({ ...ask, input: [question] }));

    it.each([false, true])('gives Claude its thinking block, signature and place, back from the reasoning item a client sends back, so the function loop keeps thinking (first turn streamed: %s)', async (streamed) => {
      const first = await firstTurn(streamed);
      expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call']);
      const [reasoning, message, call] = first.output;
      if (reasoning?.type !== 'reasoning' || message?.type !== 'message' || call?.type !== 'function_call') throw new Error('unreachable: the types were asserted');
      expect(reasoning.encrypted_content).toMatch(/^kg2\./);
      expect(reasoning.encrypted_content).not.toContain(thinking);
      const second = await client.responses.create({ ...ask, input: [question, ...(first.output as ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }] });
      const sent = emulators.anthropic.lastRequest()!.body;
      expect(sent.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
      const text = { type: 'text', text: (message.content[0] as { text: string }).text };
      expect(sent.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'thinking', thinking, signature: signatureFor(thinking) }, text, { type: 'tool_use', id: call.call_id, name: 'get_weather', input: { city: 'Paris' } }] });
      expect(second.output_text).toBe('The tool answered: {"celsius":21}');
    });

    it("refuses a function call sent back beside Claude's thinking whose arguments nest 3,000 levels deep inside their string, naming the input, without calling Claude", async () => {
      const first = await firstTurn(false);
      const [reasoning, message, call] = first.output;
      if (reasoning?.type !== 'reasoning' || message?.type !== 'message' || call?.type !== 'function_call') throw new Error('the first turn is reasoning, message, function_call');
      const before = emulators.anthropic.lastRequest();
      const deep = { ...call, arguments: `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}` };
      const input = [question, reasoning, message, deep, { type: 'function_call_output' as const, call_id: call.call_id, output: '{"celsius":21}' }];
      const error = await client.responses.create({ ...ask, input }).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 400, code: 'nesting_too_deep', param: 'input' });
      expect(emulators.anthropic.lastRequest()).toBe(before);
    });

    it('shows no encrypted_content to a client that did not include it', async () => {
      const response = await client.responses.create({ ...ask, include: [], input: [question] });
      expect(response.output[0]).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text', text: thinking }] });
      expect(response.output[0]).not.toHaveProperty('encrypted_content');
    });

    it('answers a turn whose encrypted_content was tampered with as before: without thinking until the next user turn', async () => {
      const first = await firstTurn(false);
      expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call']);
      const [reasoning, message, call] = first.output;
      if (reasoning?.type !== 'reasoning' || message?.type !== 'message' || call?.type !== 'function_call') throw new Error('unreachable: the types were asserted');
      const sealed = reasoning.encrypted_content!;
      const tampered = { ...reasoning, encrypted_content: `${sealed.slice(0, 20)}${sealed[20] === 'A' ? 'B' : 'A'}${sealed.slice(21)}` };
      const second = await client.responses.create({ ...ask, input: [question, tampered, message, call, { type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }] });
      const sent = emulators.anthropic.lastRequest()!.body;
      expect(sent.thinking).toBeUndefined();
      expect(sent.messages[1].content.map((block: { type: string }) => block.type)).toEqual(['text', 'tool_use']);
      expect(second.output_text).toBe('The tool answered: {"celsius":21}');
    });

    it("gives Claude no thinking from another app's encrypted_content: app A's reasoning item sent by app B is answered without it", async () => {
      const first = await firstTurn(false);
      const [reasoning, message, call] = first.output;
      if (reasoning?.type !== 'reasoning' || message?.type !== 'message' || call?.type !== 'function_call') throw new Error('the first turn is reasoning, message, function_call');
      const input = [question, ...(first.output as ResponseInputItem[]), { type: 'function_call_output' as const, call_id: call.call_id, output: '{"celsius":21}' }];
      const appB = gateway.openai(await gateway.createApp({ name: 'responses-app-b', team: 'responses-team' }));
      const second = await appB.responses.create({ ...ask, input });
      const sent = emulators.anthropic.lastRequest()!.body;
      expect(sent.thinking).toBeUndefined();
      expect(sent.messages[1].content.map((block: { type: string }) => block.type)).toEqual(['text', 'tool_use']);
      expect(JSON.stringify(sent)).not.toContain(thinking);
      expect(second.output_text).toBe('The tool answered: {"celsius":21}');
      // The same item still gives app A its thinking back.
      await client.responses.create({ ...ask, input });
      expect(emulators.anthropic.lastRequest()!.body.messages[1].content[0]).toEqual({ type: 'thinking', thinking, signature: signatureFor(thinking) });
    });
  });

  describe("Gemini 3's thought signatures on function_call items", () => {
    const ask = { model: 'gemini/gemini-3.8-flash', tools: [WEATHER_TOOL] };
    const question = 'What is the weather in Paris? Use get_weather.';
    const firstTurn = (streamed: boolean, more: Record<string, unknown> = {}) => (streamed ? client.responses.stream({ ...ask, ...more, input: question }).finalResponse() : client.responses.create({ ...ask, ...more, input: question }));
    /** The thought signature of the function call part the last request to Gemini gave back. */
    const signatureSent = () => {
      const sent = emulators.gemini.lastRequest()!.body as { contents: Array<{ role: string; parts: Array<{ functionCall?: unknown; thoughtSignature?: string }> }> };
      return sent.contents.find((content) => content.role === 'model')!.parts.find((part) => part.functionCall !== undefined)!.thoughtSignature;
    };

    it.each([false, true])('carry the signature on the call, where Google puts it, and give it back from the item a client sends back (first turn streamed: %s)', async (streamed) => {
      const first = await firstTurn(streamed, { store: false });
      const call = first.output.find((item) => item.type === 'function_call') as ResponseFunctionToolCall;
      expect(call).toMatchObject({ extra_content: { google: { thought_signature: thoughtSignatureFor('get_weather', 'gemini-3.8-flash') } } });
      await client.responses.create({ ...ask, store: false, input: [{ role: 'user', content: question }, ...(first.output as ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }] });
      expect(signatureSent()).toBe(thoughtSignatureFor('get_weather', 'gemini-3.8-flash'));
    });

    it.each([false, true])('give Gemini its signature back from a stored Response a request continues (first turn streamed: %s)', async (streamed) => {
      const first = await firstTurn(streamed);
      const call = first.output.find((item) => item.type === 'function_call') as ResponseFunctionToolCall;
      await client.responses.create({ ...ask, previous_response_id: first.id, input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }] });
      expect(signatureSent()).toBe(thoughtSignatureFor('get_weather', 'gemini-3.8-flash'));
    });
  });

  it('ends a stream that fails midway with an error event and response.failed, after the text that came', async () => {
    emulators.anthropic.setMode('stream-error');
    const events = await collect(await client.responses.create({ model: 'smart', stream: true, input: 'Hello there' }));
    expect(deltasOf(events).join('')).toBe('Echo: ');
    expect(events.at(-2)).toMatchObject({ type: 'error', code: 'provider_stream_error', message: 'the provider stream failed: Overloaded' });
    expect(events.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error' } } });
    // responses.stream() raises it, as it raises OpenAI's own error events.
    const failure = await client.responses.stream({ model: 'smart', input: 'Hello there' }).finalResponse().catch((e: unknown) => e);
    expect(failure).toMatchObject({ type: 'error', code: 'provider_stream_error' });
  });
});

describe('the pipeline around /v1/responses', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, { cache: { ttl: '1m' }, aliases: [{ name: 'fast', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] }] });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it('answers a repeated request from the response cache, free, in the Responses shape', async () => {
    const client = gateway.openai(await gateway.createApp({ name: 'cached-app', team: 'cached-team' }));
    const ask = { model: 'fast', input: 'Hello from the cache', metadata: { attempt: 'first' } };
    const first = await client.responses.create(ask);
    const calls = emulators.gemini.requests().length;
    const { data: second, response } = await client.responses.create({ ...ask, metadata: { attempt: 'second' } }).withResponse();
    expect(emulators.gemini.requests().length).toBe(calls);
    expect(response.headers.get('x-keygate-cache')).toBe('hit');
    expect(response.headers.get('x-keygate-cost-usd')).toBe('0.000000000');
    expect(second.output_text).toBe(first.output_text);
    // The echo is the request's own, not the cached call's.
    expect(second.metadata).toEqual({ attempt: 'second' });
    expect(await gateway.usage({ groupBy: 'app', app: 'cached-app' })).toEqual([expect.objectContaining({ calls: 2, cacheHits: 1 })]);
  });

  it("refuses a model the app may not use, as GET /v1/models hides it, with 404 model_not_found", async () => {
    const client = gateway.openai(await gateway.createApp({ name: 'narrow-app', team: 'cached-team', models: ['fast'] }));
    expect((await client.models.list()).data.map((model) => model.id)).toEqual(['fast']);
    const error = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it("refuses an app whose daily budget is spent with 429 budget_exceeded in OpenAI's shape", async () => {
    // More than a short prompt costs at gpt-4o-mini's prices, less than a whole call: spent after the first.
    const client = gateway.openai(await gateway.createApp({ name: 'thrifty-app', team: 'thrifty-team', budget: { dailyUsd: 0.000_002 } }));
    await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello there' });
    const calls = emulators.openai.requests().length;
    const error = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello there' }).catch((e: unknown) => e);
    expect(emulators.openai.requests().length).toBe(calls);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'budget_exceeded', type: 'insufficient_quota' });
  });
});
