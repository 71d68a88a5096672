import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OLLAMA_THOUGHT, startOllamaEmulator } from '../../../../test/emulators/ollama.js';
import { failureOf, streamedChunks } from '../../../../test/provider-calls.js';
import type { ChatRequest } from '../../chat-types.js';
import { ProviderCallError, callChat, callEmbeddings } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { OllamaProvider } from './index.js';
import { ollamaStreamTranslator } from './ollama-stream.js';

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
const weatherTool = { type: 'function' as const, function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const hello: ChatRequest = { model: 'llama', messages: [{ role: 'user', content: 'Hello' }] };

let emulator: Awaited<ReturnType<typeof startOllamaEmulator>>;

function ctx(overrides: { secret?: string; model?: string } = {}): CallContext {
  return { provider: { name: 'ollama-test', type: 'ollama', baseUrl: emulator.url }, credential: { id: 'k1', secret: overrides.secret ?? emulator.apiKey }, model: overrides.model ?? 'llama3.2', stream: false, now: NOW };
}

const collect = (chat: ChatRequest, context = ctx()) => streamedChunks(OllamaProvider, chat, context);

beforeAll(async () => {
  emulator = await startOllamaEmulator();
});
afterEach(() => {
  emulator.setMode('normal');
});
afterAll(async () => {
  await emulator.stop();
});

describe('the Ollama provider', () => {
  it('posts to /api/chat with stream false, sampling settings under options and JSON schema as format', async () => {
    await callChat(
      OllamaProvider,
      {
        ...hello,
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
        ],
        max_tokens: 30,
        temperature: 0.1,
        top_p: 0.5,
        top_k: 20,
        stop: 'END',
        seed: 3,
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      },
      ctx(),
    );
    const recorded = emulator.lastRequest();
    expect(recorded?.path).toBe('/api/chat');
    expect(recorded?.headers.authorization).toBe(`Bearer ${emulator.apiKey}`);
    expect(recorded?.body).toEqual({
      model: 'llama3.2',
      stream: false,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is this?', images: ['iVBORw0KGgo='] },
      ],
      format: { type: 'object' },
      options: { num_predict: 30, temperature: 0.1, top_p: 0.5, top_k: 20, stop: ['END'], seed: 3 },
    });
  });

  it('asks for JSON mode with format "json"', async () => {
    await callChat(OllamaProvider, { ...hello, response_format: { type: 'json_object' } }, ctx());
    expect((emulator.lastRequest()?.body as { format: unknown }).format).toBe('json');
  });

  it('refuses tool-call arguments nested deeper than the gateway writes out again, without calling Ollama', async () => {
    const before = emulator.lastRequest();
    const deep = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const call = callChat(OllamaProvider, { model: 'llama', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: deep } }] }] }, ctx());
    expect(await failureOf(call)).toMatchObject({ status: 400, code: 'nesting_too_deep', param: 'messages[1].tool_calls[0].function.arguments', retryable: false });
    expect(emulator.lastRequest()).toBe(before);
  });

  it('sends tool-call arguments as objects and names each tool result by its tool', async () => {
    await callChat(
      OllamaProvider,
      {
        model: 'llama',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: '{"celsius":21}' },
        ],
        tools: [weatherTool],
      },
      ctx(),
    );
    expect(emulator.lastRequest()?.body).toMatchObject({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
        { role: 'tool', content: '{"celsius":21}', tool_name: 'get_weather' },
      ],
      tools: [{ type: 'function', function: weatherTool.function }],
    });
  });

  it('leaves the tools out when tool_choice is none', async () => {
    await callChat(OllamaProvider, { ...hello, tools: [weatherTool], tool_choice: 'none' }, ctx());
    expect(emulator.lastRequest()?.body).not.toHaveProperty('tools');
  });

  it('answers non-streaming text with finish reason stop and Ollama\'s eval counts as usage', async () => {
    const completion = await callChat(OllamaProvider, hello, ctx());
    expect(completion).toMatchObject({ object: 'chat.completion', model: 'llama3.2', created: Math.floor(NOW / 1000) });
    expect(completion.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Hello from the Ollama emulator.' }, finish_reason: 'stop' });
    expect(completion.usage).toEqual({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
  });

  it('streams text as a role chunk, ordered content chunks, a finish chunk and a usage chunk', async () => {
    const chunks = await collect(hello);
    expect((emulator.lastRequest()?.body as { stream: boolean }).stream).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const content = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(content.length).toBeGreaterThan(2);
    expect(content.join('')).toBe('Hello from the Ollama emulator.');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]?.finish_reason)).toEqual(['stop']);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } });
  });

  it('returns a tool call with its object arguments serialized and an id made up', async () => {
    const completion = await callChat(OllamaProvider, { ...hello, tools: [weatherTool] }, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { content: null, tool_calls: [{ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, finish_reason: 'tool_calls' });
  });

  it('streams a whole tool call as one chunk whose arguments are valid JSON', async () => {
    const chunks = await collect({ ...hello, tools: [weatherTool] });
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([{ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    expect(JSON.parse(calls[0]?.function?.arguments ?? '')).toEqual({ city: 'Paris' });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('gives each call of a streamed line that holds several, as an older Ollama sends them, its own index and id', () => {
    const translator = ollamaStreamTranslator(ctx());
    const line = { model: 'llama3.2', message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }, { function: { name: 'get_time', arguments: { zone: 'CET' } } }] }, done: false };
    const done = { model: 'llama3.2', message: { role: 'assistant', content: '' }, done_reason: 'stop', done: true, eval_count: 8 };
    const chunks = [...translator.push(Buffer.from(`${JSON.stringify(line)}\n${JSON.stringify(done)}\n`)), ...translator.end()];
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toEqual([
      { index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { index: 1, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_time', arguments: '{"zone":"CET"}' } },
    ]);
    expect(calls[0]?.id).not.toBe(calls[1]?.id);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers with text once the tool result is sent back', async () => {
    const completion = await callChat(
      OllamaProvider,
      {
        model: 'llama',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '{"celsius":21}' },
        ],
        tools: [weatherTool],
      },
      ctx(),
    );
    expect(completion.choices[0]).toMatchObject({ message: { content: 'It is 21 degrees in Paris.' }, finish_reason: 'stop' });
  });

  it('maps done_reason length to length', async () => {
    const completion = await callChat(OllamaProvider, { ...hello, max_completion_tokens: 2 }, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { content: 'Hello from' }, finish_reason: 'length' });
  });

  it("answers base64 float32 vectors when encoding_format asks for them, as the openai SDK does by default", async () => {
    const embeddings = await callEmbeddings(OllamaProvider, { model: 'embed', input: ['one two'], encoding_format: 'base64' }, ctx({ model: 'nomic-embed-text' }));
    const encoded = embeddings.data[0]!.embedding as unknown as string;
    expect(typeof encoded).toBe('string');
    const bytes = Buffer.from(encoded, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4))).toEqual(Array.from(Float32Array.from([0.7, 0.5, -0.25])));
  });

  it('embeds through /api/embed and answers in OpenAI\'s shape', async () => {
    const embeddings = await callEmbeddings(OllamaProvider, { model: 'embed', input: ['one two', 'three'] }, ctx({ model: 'nomic-embed-text' }));
    expect(emulator.lastRequest()).toMatchObject({ path: '/api/embed', body: { model: 'nomic-embed-text', input: ['one two', 'three'] } });
    expect(embeddings).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.7, 0.5, -0.25] },
        { object: 'embedding', index: 1, embedding: [0.5, 0.5, -0.25] },
      ],
      model: 'nomic-embed-text',
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
  });

  it.each([
    ['no embeddings', {}],
    ['embeddings that are no list', { embeddings: {} }],
    ['an embedding that is no list of numbers', { embeddings: [{ values: [0.5] }] }],
  ])("takes an /api/embed answer of %s as the provider's bad response, which another target may answer", async (_what, body) => {
    const failure = await failureOf(Promise.resolve().then(() => OllamaProvider.parseEmbeddings!(body, ctx({ model: 'nomic-embed-text' }), { model: 'embed', input: 'one' })));
    expect(failure).toMatchObject({ status: 502, code: 'provider_bad_response', retryable: true });
  });

  it('sends no authorization header when the credential is empty', () => {
    expect(OllamaProvider.chatCall(hello, ctx({ secret: '' })).headers).not.toHaveProperty('authorization');
  });

  it('reports a wrong key as an invalid credential without naming it', async () => {
    const failure = await failureOf(callChat(OllamaProvider, hello, ctx({ secret: 'wrong-ollama-key' })));
    expect(failure).toMatchObject({ status: 401, type: 'authentication_error', credentialProblem: 'invalid' });
    expect(JSON.stringify(failure)).not.toContain('wrong-ollama-key');
  });

  it('reports a rate limit as retryable with its retry-after', async () => {
    emulator.setMode('rate-limited');
    expect(await failureOf(callChat(OllamaProvider, hello, ctx()))).toMatchObject({ status: 429, type: 'rate_limit_error', retryAfterMs: 2000, retryable: true });
  });

  it('reports a busy server as retryable', async () => {
    emulator.setMode('unavailable');
    expect(await failureOf(callChat(OllamaProvider, hello, ctx()))).toMatchObject({ status: 503, type: 'api_error', message: expect.stringContaining('server busy'), retryable: true });
  });

  it('reports a model that is not pulled as a 404 that is not retryable', async () => {
    expect(await failureOf(callChat(OllamaProvider, hello, ctx({ model: 'missing' })))).toMatchObject({ status: 404, code: 'model_not_found', retryable: false });
  });

  it('ends a stream with a retryable failure on an error line', async () => {
    emulator.setMode('stream-error');
    expect(await failureOf(collect(hello))).toMatchObject({ code: 'provider_stream_error', message: expect.stringContaining('unexpected EOF'), retryable: true });
  });

  it('hands the words of the same read before an error line on with the failure', () => {
    const read = `${JSON.stringify({ model: 'llama3.2', message: { role: 'assistant', content: 'Last words' }, done: false })}\n${JSON.stringify({ error: 'boom' })}\n`;
    let thrown: unknown;
    try {
      ollamaStreamTranslator(ctx()).push(Buffer.from(read));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProviderCallError);
    expect((thrown as ProviderCallError).before.map((c) => c.choices[0]?.delta.content)).toEqual(['', 'Last words']);
  });

  it('fails a stream that ends before its done line', () => {
    const translator = ollamaStreamTranslator(ctx());
    translator.push(Buffer.from(`${JSON.stringify({ model: 'llama3.2', message: { role: 'assistant', content: 'Hello' }, done: false })}\n`));
    expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_stream_incomplete', retryable: true }) }));
  });

  it('refuses an image given by web URL before calling, naming the part', async () => {
    const failure = await failureOf(callChat(OllamaProvider, { model: 'llava', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }, ctx()));
    expect(failure).toMatchObject({ status: 400, code: 'unsupported_parameter', retryable: true, param: 'messages[0].content[0].image_url.url' });
  });
});

describe("the Ollama provider's thinking (https://docs.ollama.com/capabilities/thinking)", () => {
  it.each([
    ['none', false],
    ['minimal', true],
    ['medium', true],
    ['xhigh', true],
  ] as const)('sends reasoning_effort %s as think %s', async (effort, think) => {
    await callChat(OllamaProvider, { ...hello, reasoning_effort: effort }, ctx({ model: 'qwen3' }));
    expect(emulator.lastRequest()?.body).toMatchObject({ think });
  });

  it.each([
    ['none', 'low'],
    ['minimal', 'low'],
    ['low', 'low'],
    ['medium', 'medium'],
    ['high', 'high'],
    ['xhigh', 'high'],
  ] as const)('sends reasoning_effort %s to GPT-OSS, which takes only a level, as think %s', async (effort, think) => {
    await callChat(OllamaProvider, { ...hello, reasoning_effort: effort }, ctx({ model: 'gpt-oss:20b' }));
    expect(emulator.lastRequest()?.body).toMatchObject({ think });
  });

  it('sends no think when the client asked no reasoning, leaving the model its default', async () => {
    await callChat(OllamaProvider, hello, ctx({ model: 'qwen3' }));
    expect(emulator.lastRequest()?.body).not.toHaveProperty('think');
  });

  it('refuses a reasoning_effort it has no think for, retryably and before calling', async () => {
    const before = emulator.lastRequest();
    expect(await failureOf(callChat(OllamaProvider, { ...hello, reasoning_effort: 'max' } as unknown as ChatRequest, ctx({ model: 'qwen3' })))).toMatchObject({ status: 400, code: 'unsupported_value', param: 'reasoning_effort', retryable: true });
    expect(emulator.lastRequest()).toBe(before);
  });

  it("answers a thinking model's message.thinking as reasoning_content", async () => {
    const completion = await callChat(OllamaProvider, hello, ctx({ model: 'qwen3' }));
    expect(completion.choices[0]!.message).toMatchObject({ content: 'Hello from the Ollama emulator.', reasoning_content: OLLAMA_THOUGHT });
  });

  it("streams a thinking model's message.thinking lines as reasoning_content deltas before the answer's", async () => {
    const chunks = await collect(hello, { ...ctx({ model: 'qwen3' }), stream: true });
    const deltas = chunks.map((c) => c.choices[0]?.delta ?? {});
    expect(deltas.map((delta) => delta.reasoning_content ?? '').join('')).toBe(OLLAMA_THOUGHT);
    expect(deltas.map((delta) => delta.content ?? '').join('')).toBe('Hello from the Ollama emulator.');
    expect(deltas.findLastIndex((delta) => delta.reasoning_content !== undefined)).toBeLessThan(deltas.findIndex((delta) => delta.content));
  });
});
