import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MISTRAL_THOUGHT, startMistralEmulator } from '../../../../test/emulators/mistral.js';
import { callChatStream, failureOf, streamedChunks } from '../../../../test/provider-calls.js';
import type { ChatRequest } from '../../chat-types.js';
import { ProviderCallError, callChat, callEmbeddings } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { MistralProvider, mistralToolCallId } from './index.js';
import { MISTRAL_BRIDGE } from './mistral-request.js';

const weatherTool = { type: 'function' as const, function: { name: 'get_weather', description: 'The weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false } };
const hello: ChatRequest = { model: 'mistral', messages: [{ role: 'user', content: 'Hello' }] };

let emulator: Awaited<ReturnType<typeof startMistralEmulator>>;

function ctx(secret = emulator.apiKey): CallContext {
  return { provider: { name: 'mistral-test', type: 'mistral', baseUrl: emulator.url }, credential: { id: 'k1', secret }, model: 'mistral-large-latest', stream: false, now: Date.UTC(2025, 0, 2) };
}

const collect = (chat: ChatRequest, context = ctx()) => streamedChunks(MistralProvider, chat, context);

beforeAll(async () => {
  emulator = await startMistralEmulator();
});
afterEach(() => {
  emulator.setMode('normal');
});
afterAll(async () => {
  await emulator.stop();
});

describe('the Mistral provider', () => {
  it('renames OpenAI\'s parameters to Mistral\'s and drops the ones Mistral refuses', async () => {
    await callChat(
      MistralProvider,
      {
        ...hello,
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: 'Hello', name: 'ann' },
        ],
        max_completion_tokens: 50,
        seed: 42,
        top_k: 40,
        user: 'someone',
        logprobs: false,
        tools: [weatherTool],
        tool_choice: 'required',
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
      },
      ctx(),
    );
    const recorded = emulator.lastRequest();
    expect(recorded?.path).toBe('/v1/chat/completions');
    expect(recorded?.headers.authorization).toBe(`Bearer ${emulator.apiKey}`);
    expect(recorded?.body).toEqual({
      model: 'mistral-large-latest',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
      max_tokens: 50,
      random_seed: 42,
      tools: [weatherTool],
      tool_choice: 'any',
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
    });
  });

  // https://docs.mistral.ai/capabilities/reasoning/adjustable: reasoning_effort "high" or "none", nothing else.
  it.each([
    ['none', 'none'],
    ['minimal', 'none'],
    ['low', 'high'],
    ['medium', 'high'],
    ['high', 'high'],
    ['xhigh', 'high'],
  ] as const)('sends reasoning_effort %s as Mistral\'s %s', async (asked, sent) => {
    await callChat(MistralProvider, { ...hello, reasoning_effort: asked }, ctx());
    expect(emulator.lastRequest()?.body).toMatchObject({ reasoning_effort: sent });
  });

  it('refuses a reasoning_effort it has no Mistral value for, retryably and before calling', async () => {
    const before = emulator.lastRequest();
    expect(await failureOf(callChat(MistralProvider, { ...hello, reasoning_effort: 'max' } as unknown as ChatRequest, ctx()))).toMatchObject({ status: 400, code: 'unsupported_value', param: 'reasoning_effort', retryable: true });
    expect(emulator.lastRequest()).toBe(before);
  });

  it("answers a reasoning model's thinking chunk as reasoning_content, apart from the answer's text", async () => {
    const completion = await callChat(MistralProvider, { ...hello, reasoning_effort: 'high' }, ctx());
    expect(completion.choices[0]!.message).toMatchObject({ content: 'Hello from the Mistral emulator.', reasoning_content: MISTRAL_THOUGHT });
  });

  it("streams a reasoning model's thinking chunks as reasoning_content deltas, with no content beside them", async () => {
    const chunks = await collect({ ...hello, reasoning_effort: 'high' });
    const thinking = chunks.filter((c) => c.choices[0]?.delta.reasoning_content !== undefined).map((c) => c.choices[0]!.delta);
    expect(thinking.map((delta) => delta.reasoning_content).join('')).toBe(MISTRAL_THOUGHT);
    expect(thinking.every((delta) => delta.content === undefined)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello from the Mistral emulator.');
  });

  it('refuses logprobs, which Mistral does not return', async () => {
    expect(await failureOf(callChat(MistralProvider, { ...hello, logprobs: true } as ChatRequest, ctx()))).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'logprobs', retryable: true });
  });

  it('sends no stream_options when streaming, since Mistral refuses them', async () => {
    await collect(hello);
    expect(emulator.lastRequest()?.body).toEqual({ model: 'mistral-large-latest', messages: [{ role: 'user', content: 'Hello' }], stream: true });
  });

  it('answers non-streaming text with usage', async () => {
    const completion = await callChat(MistralProvider, hello, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Hello from the Mistral emulator.' }, finish_reason: 'stop' });
    expect(completion.usage).toEqual({ prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 });
  });

  it('streams a role chunk, ordered content chunks, a finish chunk and the last chunk\'s usage split into a chunk of its own', async () => {
    const chunks = await collect(hello);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const content = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(content.length).toBeGreaterThan(2);
    expect(content.join('')).toBe('Hello from the Mistral emulator.');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-2)).not.toHaveProperty('usage');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 } });
  });

  it('returns a tool call, and streams one whole with valid JSON arguments', async () => {
    const completion = await callChat(MistralProvider, { ...hello, tools: [weatherTool] }, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { tool_calls: [{ id: 'D681PevKs', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] }, finish_reason: 'tool_calls' });
    const chunks = await collect({ ...hello, tools: [weatherTool] });
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(JSON.parse(calls.map((call) => call.function?.arguments ?? '').join(''))).toEqual({ city: 'Paris' });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('gives its tool calls the type Mistral leaves out, whole and streamed, which OpenAI\'s clients need', async () => {
    const completion = await callChat(MistralProvider, { ...hello, tools: [weatherTool] }, ctx());
    expect(completion.choices[0]!.message.tool_calls!.map((call) => call.type)).toEqual(['function']);
    const chunks = await collect({ ...hello, tools: [weatherTool] });
    expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((call) => call.type)).toEqual(['function']);
  });

  it('answers with text once the tool result is sent back, turning other providers\' call ids into Mistral\'s form', async () => {
    const completion = await callChat(
      MistralProvider,
      {
        ...hello,
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc-123_from_openai', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_abc-123_from_openai', content: '21' },
        ],
        tools: [weatherTool],
      },
      ctx(),
    );
    expect(completion.choices[0]).toMatchObject({ message: { content: 'It is 21 degrees in Paris.' }, finish_reason: 'stop' });
    const id = mistralToolCallId('call_abc-123_from_openai');
    expect(id).toMatch(/^[a-zA-Z0-9]{9}$/);
    expect(emulator.lastRequest()?.body).toMatchObject({ messages: [{}, { role: 'assistant', tool_calls: [{ id }] }, { role: 'tool', tool_call_id: id }] });
  });

  it("puts an assistant's turn between a tool's result and the user's next words, which Mistral refuses right after it", async () => {
    const completion = await callChat(
      MistralProvider,
      {
        ...hello,
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'abcdefghi', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'abcdefghi', content: '21' },
          { role: 'user', content: 'Answer in French.' },
        ],
      },
      ctx(),
    );
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const sent = emulator.lastRequest()?.body as { messages: Array<{ role: string; content?: unknown }> };
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
    expect(sent.messages[3]).toEqual({ role: 'assistant', content: MISTRAL_BRIDGE });
  });

  it("sends a conversation's last assistant message as the prefix of the answer, which Mistral refuses unmarked", async () => {
    const completion = await callChat(MistralProvider, { ...hello, messages: [{ role: 'user', content: 'Give me JSON.' }, { role: 'assistant', content: '{' }] }, ctx());
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(emulator.lastRequest()?.body).toMatchObject({ messages: [{ role: 'user' }, { role: 'assistant', content: '{', prefix: true }] });
  });

  it.each([
    ['a system prompt alone', [{ role: 'system' as const, content: 'Say hello.' }], ['user']],
    ['a system message after the user\'s', [{ role: 'user' as const, content: 'Hi' }, { role: 'system' as const, content: 'Answer briefly.' }], ['user', 'user']],
    ['a system message after a tool\'s result', [{ role: 'user' as const, content: 'Weather?' }, { role: 'assistant' as const, content: null, tool_calls: [{ id: 'abcdefghi', type: 'function' as const, function: { name: 'get_weather', arguments: '{}' } }] }, { role: 'tool' as const, tool_call_id: 'abcdefghi', content: '21' }, { role: 'system' as const, content: 'Answer in French.' }], ['user', 'assistant', 'tool', 'assistant', 'user']],
  ])("sends %s last as the user's turn, as Mistral answers only after one", async (_what, messages, roles) => {
    const completion = await callChat(MistralProvider, { ...hello, messages }, ctx());
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const sent = emulator.lastRequest()?.body as { messages: Array<{ role: string; content?: unknown }> };
    expect(sent.messages.map((m) => m.role)).toEqual(roles);
    expect(sent.messages.at(-1)?.content).toBe(messages.at(-1)!.content);
  });

  it("puts an assistant's turn between a tool's result and a system message after it, which Mistral refuses right after it", async () => {
    const messages = [
      { role: 'user' as const, content: 'Weather?' },
      { role: 'assistant' as const, content: null, tool_calls: [{ id: 'abcdefghi', type: 'function' as const, function: { name: 'get_weather', arguments: '{}' } }] },
      { role: 'tool' as const, tool_call_id: 'abcdefghi', content: '21' },
      { role: 'system' as const, content: 'Answer in French.' },
      { role: 'user' as const, content: 'And now?' },
    ];
    const completion = await callChat(MistralProvider, { ...hello, messages }, ctx());
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    const sent = emulator.lastRequest()?.body as { messages: Array<{ role: string }> };
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'system', 'user']);
  });

  it('keeps Mistral\'s own tool call ids as they are', () => {
    expect(mistralToolCallId('D681PevKs')).toBe('D681PevKs');
  });

  it('passes the length finish reason through', async () => {
    const completion = await callChat(MistralProvider, { ...hello, max_tokens: 2 }, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { content: 'Hello from' }, finish_reason: 'length' });
  });

  it('embeds with dimensions as output_dimension and nothing Mistral refuses', async () => {
    const embeddings = await callEmbeddings(MistralProvider, { model: 'e', input: ['one two'], dimensions: 512, user: 'someone' }, { ...ctx(), model: 'mistral-embed' });
    expect(emulator.lastRequest()).toMatchObject({ path: '/v1/embeddings', body: { model: 'mistral-embed', input: ['one two'], output_dimension: 512 } });
    expect(embeddings).toMatchObject({ data: [{ index: 0, embedding: [0.7, 0.5, -0.25] }], usage: { prompt_tokens: 2, total_tokens: 2 } });
  });

  it('refuses token arrays to embed, which Mistral does not take, retryably and before calling it', async () => {
    const before = emulator.lastRequest();
    for (const input of [[1, 2, 3], [[1, 2], [3]]]) {
      const failure = await failureOf(callEmbeddings(MistralProvider, { model: 'e', input }, { ...ctx(), model: 'mistral-embed' }));
      expect(failure).toMatchObject({ status: 400, code: 'unsupported_input', param: 'input', retryable: true });
    }
    expect(emulator.lastRequest()).toBe(before);
  });

  it('reports a wrong key as an invalid credential without naming it', async () => {
    const failure = await failureOf(callChat(MistralProvider, hello, ctx('wrong-mistral-key')));
    expect(failure).toMatchObject({ status: 401, type: 'authentication_error', credentialProblem: 'invalid', retryable: true });
    expect(JSON.stringify(failure)).not.toContain('wrong-mistral-key');
  });

  it('reports a rate limit as retryable with its retry-after', async () => {
    emulator.setMode('rate-limited');
    expect(await failureOf(callChat(MistralProvider, hello, ctx()))).toMatchObject({ status: 429, type: 'rate_limit_error', retryAfterMs: 2000, retryable: true });
  });

  it('reports a 503 as retryable', async () => {
    emulator.setMode('unavailable');
    expect(await failureOf(callChat(MistralProvider, hello, ctx()))).toMatchObject({ status: 503, type: 'api_error', retryable: true });
  });

  it("reports a generation Mistral ends with finish_reason error as a retryable failure, not an answer", async () => {
    emulator.setMode('generation-error');
    expect(await failureOf(callChat(MistralProvider, hello, ctx()))).toMatchObject({ status: 502, type: 'api_error', code: 'provider_generation_failed', retryable: true });
  });

  it("ends a stream whose generation Mistral ends with finish_reason error as a failure, after the words it had sent", async () => {
    emulator.setMode('generation-error');
    const { chunks } = await callChatStream(MistralProvider, hello, { ...ctx(), stream: true });
    const words: string[] = [];
    const failure = await (async () => {
      for await (const chunk of chunks) words.push(chunk.choices[0]?.delta.content ?? '');
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ProviderCallError);
    expect((failure as ProviderCallError).failure).toMatchObject({ status: 502, code: 'provider_generation_failed', retryable: true });
    expect(words.join('')).toBe('Hello from');
  });

  it('carries with the failure of a streamed generation that ended in error the usage Mistral bills for it', async () => {
    emulator.setMode('generation-error');
    const { chunks } = await callChatStream(MistralProvider, hello, { ...ctx(), stream: true });
    const failure = await (async () => {
      for await (const _chunk of chunks);
    })().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((failure as ProviderCallError).billed).toEqual({ prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 });
  });

  it('translates the words of the same read before an error event as the others, content parts as text', () => {
    const words = '{"id":"m1","object":"chat.completion.chunk","created":1,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":[{"type":"text","text":"Last words"}]},"finish_reason":null}]}';
    let thrown: unknown;
    try {
      MistralProvider.streamTranslator({ ...ctx(), stream: true }).push(Buffer.from(`data: ${words}\n\ndata: {"object":"error","message":"Service unavailable.","type":"service_unavailable","code":"1000"}\n\n`));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProviderCallError);
    expect((thrown as ProviderCallError).before.map((c) => c.choices[0]?.delta.content)).toEqual(['Last words']);
  });

  it('reports a 400 as the caller\'s, not retryable', async () => {
    expect(await failureOf(callChat(MistralProvider, { model: 'mistral', messages: [] }, ctx()))).toMatchObject({ status: 400, type: 'invalid_request_error', message: 'Messages list must not be empty.', retryable: false });
  });

  it('tells a 422 by the location and reason of each refused member', () => {
    const body = JSON.stringify({ object: 'error', message: { detail: [{ type: 'extra_forbidden', loc: ['body', 'stream_options', 'include_usage'], msg: 'Extra inputs are not permitted', input: true }] }, type: 'invalid_request_error', param: null, code: null });
    expect(MistralProvider.parseError(422, body, {})).toMatchObject({ status: 422, type: 'invalid_request_error', message: 'body.stream_options.include_usage: Extra inputs are not permitted', retryable: false });
  });
});
