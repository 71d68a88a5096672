import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAzureOpenAIEmulator } from '../../../../test/emulators/azure-openai.js';
import { failureOf, streamedChunks } from '../../../../test/provider-calls.js';
import type { ChatMessage, ChatRequest } from '../../chat-types.js';
import { ProviderCallError, callChat, callEmbeddings } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { AzureOpenAIProvider } from './index.js';

const weatherTool = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const hello: ChatRequest = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] };

let emulator: Awaited<ReturnType<typeof startAzureOpenAIEmulator>>;

function ctx(overrides: { secret?: string; deployment?: string; apiVersion?: string } = {}): CallContext {
  return {
    provider: { name: 'azure-test', type: 'azure-openai', baseUrl: `${emulator.url}/`, ...(overrides.apiVersion ? { apiVersion: overrides.apiVersion } : {}) },
    credential: { id: 'k1', secret: overrides.secret ?? emulator.apiKey },
    model: overrides.deployment ?? 'gpt-4o-prod',
    stream: false,
    now: Date.UTC(2025, 0, 2),
  };
}

const collect = (chat: ChatRequest, context = ctx()) => streamedChunks(AzureOpenAIProvider, chat, context);

beforeAll(async () => {
  emulator = await startAzureOpenAIEmulator();
});
afterEach(() => {
  emulator.setMode('normal');
});
afterAll(async () => {
  await emulator.stop();
});

describe('the Azure OpenAI provider', () => {
  it('posts to the deployment named by the model id, with the default api-version and an api-key header', async () => {
    await callChat(AzureOpenAIProvider, hello, ctx());
    const recorded = emulator.lastRequest();
    expect(recorded?.path).toBe('/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21');
    expect(recorded?.headers['api-key']).toBe(emulator.apiKey);
    expect(recorded?.headers.authorization).toBeUndefined();
    expect(recorded?.body).toEqual({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'Hello' }] });
  });

  it('leaves top_k out, which Azure refuses as OpenAI does', async () => {
    await callChat(AzureOpenAIProvider, { ...hello, top_k: 40 }, ctx());
    expect(emulator.lastRequest()?.body).toEqual({ model: 'gpt-4o-prod', messages: [{ role: 'user', content: 'Hello' }] });
  });

  it('leaves out the reasoning_content a client sends back in its history, as for OpenAI', async () => {
    await callChat(AzureOpenAIProvider, { ...hello, messages: [{ role: 'assistant', content: 'Hi!', reasoning_content: 'A greeting.' } as ChatMessage, { role: 'user', content: 'Hello' }] }, ctx());
    expect(emulator.lastRequest()?.body).toEqual({ model: 'gpt-4o-prod', messages: [{ role: 'assistant', content: 'Hi!' }, { role: 'user', content: 'Hello' }] });
  });

  it('uses the provider\'s api-version when it names one', async () => {
    await callChat(AzureOpenAIProvider, hello, ctx({ apiVersion: '2025-01-01-preview' }));
    expect(emulator.lastRequest()?.path).toBe('/openai/deployments/gpt-4o-prod/chat/completions?api-version=2025-01-01-preview');
  });

  it('sends developer messages as system to an api-version before 2024-12-01-preview, the default among them', async () => {
    const modern: ChatRequest = { model: 'gpt-4o', messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: 'Hello' }] };
    await callChat(AzureOpenAIProvider, modern, ctx());
    expect(emulator.lastRequest()?.body).toEqual({ model: 'gpt-4o-prod', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }] });
    await callChat(AzureOpenAIProvider, modern, ctx({ apiVersion: '2024-12-01-preview' }));
    expect(emulator.lastRequest()?.body).toEqual({ model: 'gpt-4o-prod', messages: modern.messages });
  });

  it('sends max_completion_tokens as max_tokens to an api-version dated before 2024-09-01', async () => {
    await callChat(AzureOpenAIProvider, { ...hello, max_completion_tokens: 20 }, ctx({ apiVersion: '2024-08-01-preview' }));
    expect(emulator.lastRequest()?.body).toEqual({ model: 'gpt-4o-prod', messages: hello.messages, max_tokens: 20 });
  });

  // o1 deployments refuse max_tokens; Azure took max_completion_tokens in from 2024-09-01-preview on, the GA default 2024-10-21 included.
  it.each(['2024-09-01-preview', '2024-10-01-preview', '2024-10-21'])('keeps max_completion_tokens on api-version %s', async (apiVersion) => {
    await callChat(AzureOpenAIProvider, { ...hello, max_completion_tokens: 500 }, ctx({ apiVersion, deployment: 'o1-mini' }));
    expect(emulator.lastRequest()?.body).toEqual({ model: 'o1-mini', messages: hello.messages, max_completion_tokens: 500 });
  });

  it('answers non-streaming text in OpenAI\'s shape with usage', async () => {
    const completion = await callChat(AzureOpenAIProvider, hello, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Hello from the Azure emulator.' }, finish_reason: 'stop' });
    expect(completion.usage).toEqual({ prompt_tokens: 13, completion_tokens: 5, total_tokens: 18 });
  });

  it('streams a role chunk, ordered content chunks, a finish chunk and a usage chunk, without Azure\'s prompt-filter chunk', async () => {
    const chunks = await collect(hello);
    expect(emulator.lastRequest()?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: 'assistant', content: '' });
    const content = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(content.length).toBeGreaterThan(2);
    expect(content.join('')).toBe('Hello from the Azure emulator.');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 13, completion_tokens: 5, total_tokens: 18 } });
    expect(chunks.filter((c) => c.choices.length === 0)).toHaveLength(1);
  });

  it("leaves out the asynchronous content filter's annotation chunks, which have no delta and an empty id, keeping the rest of the stream", () => {
    const head = { id: 'chatcmpl-azure0002', object: 'chat.completion.chunk', created: 1735787045, model: 'gpt-4o-2024-08-06' };
    const filter = { hate: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' } };
    const events = [
      { ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      { ...head, choices: [{ index: 0, delta: { content: 'Hi there' }, finish_reason: null, content_filter_results: filter }] },
      { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { id: '', object: '', created: 0, model: '', choices: [{ index: 0, finish_reason: null, content_filter_results: filter, content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 8 } }], usage: null },
      { ...head, choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } },
    ];
    const translator = AzureOpenAIProvider.streamTranslator({ ...ctx(), stream: true });
    const chunks = [...translator.push(Buffer.from(events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('') + 'data: [DONE]\n\n')), ...translator.end()];
    expect(chunks.map((chunk) => chunk.id)).toEqual(Array(4).fill('chatcmpl-azure0002'));
    expect(chunks.flatMap((chunk) => chunk.choices).every((choice) => choice.delta !== undefined)).toBe(true);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? null)).toEqual(['', 'Hi there', null, null]);
    expect(chunks.at(-1)?.usage).toMatchObject({ total_tokens: 11 });
  });

  it("sends the asynchronous content filter's late verdict, an annotation chunk that ends the answer, as a finish of the stream's own id with a delta", () => {
    const head = { id: 'chatcmpl-azure0003', object: 'chat.completion.chunk', created: 1735787045, model: 'gpt-4o-2024-08-06' };
    const events = [
      { ...head, choices: [{ index: 0, delta: { role: 'assistant', content: 'Some' }, finish_reason: null }] },
      { id: '', object: '', created: 0, model: '', choices: [{ index: 0, finish_reason: 'content_filter', content_filter_results: { violence: { filtered: true, severity: 'medium' } }, content_filter_offsets: { check_offset: 0, start_offset: 0, end_offset: 4 } }], usage: null },
    ];
    const translator = AzureOpenAIProvider.streamTranslator({ ...ctx(), stream: true });
    const chunks = [...translator.push(Buffer.from(events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('') + 'data: [DONE]\n\n')), ...translator.end()];
    expect(chunks.at(-1)).toMatchObject({ id: 'chatcmpl-azure0003', object: 'chat.completion.chunk', model: 'gpt-4o-2024-08-06', choices: [{ index: 0, delta: {}, finish_reason: 'content_filter' }] });
  });

  it("leaves Azure's prompt-filter chunk out of the chunks of the same read before an error event too", () => {
    const filter = '{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}';
    let thrown: unknown;
    try {
      AzureOpenAIProvider.streamTranslator({ ...ctx(), stream: true }).push(Buffer.from(`data: ${filter}\n\ndata: {"error":{"message":"The server had an error","type":"server_error"}}\n\n`));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProviderCallError);
    expect((thrown as ProviderCallError).before).toEqual([]);
  });

  it('returns a tool call, and streams one whose argument pieces reassemble to valid JSON', async () => {
    const completion = await callChat(AzureOpenAIProvider, { ...hello, tools: [weatherTool] }, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { tool_calls: [{ id: 'call_azure0001', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, finish_reason: 'tool_calls' });
    const chunks = await collect({ ...hello, tools: [weatherTool] });
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.length).toBeGreaterThan(2);
    expect(JSON.parse(calls.map((call) => call.function?.arguments ?? '').join(''))).toEqual({ city: 'Paris' });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers with text once the tool result is sent back', async () => {
    const completion = await callChat(
      AzureOpenAIProvider,
      {
        ...hello,
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_azure0001', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_azure0001', content: '21' },
        ],
        tools: [weatherTool],
      },
      ctx(),
    );
    expect(completion.choices[0]).toMatchObject({ message: { content: 'It is 21 degrees in Paris.' }, finish_reason: 'stop' });
  });

  it('passes the length finish reason through', async () => {
    const completion = await callChat(AzureOpenAIProvider, { ...hello, max_completion_tokens: 2 }, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { content: 'Hello from' }, finish_reason: 'length' });
  });

  it('embeds through the deployment\'s embeddings path', async () => {
    const embeddings = await callEmbeddings(AzureOpenAIProvider, { model: 'e', input: 'one two' }, ctx({ deployment: 'embedder' }));
    expect(emulator.lastRequest()?.path).toBe('/openai/deployments/embedder/embeddings?api-version=2024-10-21');
    expect(embeddings).toMatchObject({ data: [{ index: 0, embedding: [0.7, 0.5, -0.25] }], usage: { prompt_tokens: 2, total_tokens: 2 } });
  });

  it('reports a wrong key as an invalid credential without naming it', async () => {
    const failure = await failureOf(callChat(AzureOpenAIProvider, hello, ctx({ secret: 'wrong-azure-key' })));
    expect(failure).toMatchObject({ status: 401, type: 'authentication_error', code: 'invalid_api_key', credentialProblem: 'invalid', retryable: true });
    expect(JSON.stringify(failure)).not.toContain('wrong-azure-key');
  });

  it('reports a 429 as a rate limit with its retry-after, though Azure\'s message links the quota page', async () => {
    emulator.setMode('rate-limited');
    const failure = await failureOf(callChat(AzureOpenAIProvider, hello, ctx()));
    expect(failure).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded', retryAfterMs: 2000, retryable: true });
    expect(failure.credentialProblem).toBeUndefined();
  });

  it("reads a 429's wait from OpenAI's x-ratelimit-reset-* headers when it has no retry-after", () => {
    const body = JSON.stringify({ error: { code: '429', message: 'Requests to the ChatCompletions_Create Operation have exceeded the rate limit.' } });
    const failure = AzureOpenAIProvider.parseError(429, body, { 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '12s', 'x-ratelimit-reset-requests': '1s' });
    expect(failure).toMatchObject({ type: 'rate_limit_error', retryAfterMs: 12_000 });
  });

  it('reports a 500 as retryable', async () => {
    emulator.setMode('unavailable');
    expect(await failureOf(callChat(AzureOpenAIProvider, hello, ctx()))).toMatchObject({ status: 500, type: 'api_error', code: 'InternalServerError', retryable: true });
  });

  it('reports a 400 as the caller\'s, not retryable', async () => {
    expect(await failureOf(callChat(AzureOpenAIProvider, { model: 'gpt-4o', messages: [] }, ctx()))).toMatchObject({ status: 400, type: 'invalid_request_error', retryable: false });
  });

  it('keeps the member a refusal blames, as OpenAI names it', () => {
    const body = JSON.stringify({ error: { message: "Invalid 'max_tokens': integer below minimum value.", type: 'invalid_request_error', param: 'max_tokens', code: 'integer_below_min_value' } });
    expect(AzureOpenAIProvider.parseError(400, body, {})).toMatchObject({ status: 400, code: 'integer_below_min_value', param: 'max_tokens', retryable: false });
  });

  it('refuses to call a provider configured without its resource\'s base URL', async () => {
    const failure = await failureOf(callChat(AzureOpenAIProvider, hello, { ...ctx(), provider: { name: 'azure-test', type: 'azure-openai', baseUrl: '' } }));
    expect(failure).toMatchObject({ code: 'provider_misconfigured', message: expect.stringContaining('azure-test') });
  });

  it('reports a missing deployment as a 404 that is not retryable', async () => {
    expect(await failureOf(callChat(AzureOpenAIProvider, hello, ctx({ deployment: 'missing' })))).toMatchObject({ status: 404, code: 'DeploymentNotFound', retryable: false });
  });
});
