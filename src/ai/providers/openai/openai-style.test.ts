import { describe, expect, it } from 'vitest';
import type { CatalogModel } from '../../catalog/index.js';
import { OUTPUT_CONFIG, THINKING, type ChatRequest } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { SOURCE_TEXT, type CallContext, type TranslatedChunk } from '../provider.js';
import { OpenAICompatibleProvider } from '../openai-compatible/index.js';
import { OpenAIProvider } from './index.js';

const ctx = (overrides: Partial<CallContext> = {}): CallContext => ({
  provider: { name: 'up', type: 'openai', baseUrl: 'http://127.0.0.1:1' },
  credential: { id: 'k1', secret: 'sk-test' },
  model: 'gpt-4o-mini',
  stream: false,
  now: 0,
  ...overrides,
});

/** The body the adapter sends for `text`, parsed as the AI handler parses a client's body. */
const bodyFor = (text: string, context = ctx()) => JSON.parse(OpenAIProvider.chatCall(JSON.parse(text) as ChatRequest, context).body!) as Record<string, unknown>;

describe("the OpenAI-style adapter's request body", () => {
  it("carries the provider's model id, whatever name the client asked for", () => {
    expect(bodyFor('{"model":"chat-default","messages":[{"role":"user","content":"Hi"}]}', ctx({ model: 'gpt-4o' }))).toEqual({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: false,
    });
  });

  it('says whether to stream, as the gateway decided, and carries no stream_options on a call that does not', () => {
    const body = bodyFor('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream_options":{"include_usage":true}}');
    expect(body).not.toHaveProperty('stream_options');
    expect(body.stream).toBe(false);
  });

  it('leaves top_k out, which OpenAI refuses as an unrecognized argument', () => {
    expect(bodyFor('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"top_k":40}')).not.toHaveProperty('top_k');
  });

  it('leaves out the reasoning_content a client sends back in its history, which OpenAI defines no member for, without changing the request', () => {
    const request = JSON.parse('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!","reasoning_content":"They greet me."},{"role":"user","content":"Again"}]}') as ChatRequest;
    const body = JSON.parse(OpenAIProvider.chatCall(request, ctx()).body!) as { messages: unknown[] };
    expect(body.messages).toEqual([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: 'Again' }]);
    // The request itself keeps it, for a fallback to a host that wants it back (DeepSeek).
    expect(request.messages[1]).toHaveProperty('reasoning_content', 'They greet me.');
  });

  it('asks for usage on a stream, whatever the client sent', () => {
    expect(bodyFor('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}', ctx({ stream: true }))).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });
});

describe('the OpenAI-compatible adapter', () => {
  const compatible = (request: string) => JSON.parse(OpenAICompatibleProvider.chatCall(JSON.parse(request) as ChatRequest, ctx({ provider: { name: 'groq', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1' } })).body!) as Record<string, unknown>;

  it('sends max_completion_tokens as the max_tokens every compatible host knows', () => {
    const body = compatible('{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":64}');
    expect(body.max_tokens).toBe(64);
    expect(body).not.toHaveProperty('max_completion_tokens');
    expect(compatible('{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":10,"max_completion_tokens":64}').max_tokens).toBe(10);
  });

  it('passes reasoning_content in the history on, which DeepSeek wants back', () => {
    const body = compatible('{"model":"m","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello!","reasoning_content":"They greet me."}]}') as { messages: Array<Record<string, unknown>> };
    expect(body.messages[1]).toHaveProperty('reasoning_content', 'They greet me.');
  });

  it("sends a tool call's Gemini thought signature (extra_content) only to Google's OpenAI-compatible API, which takes it back", () => {
    const history = '{"model":"m","messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":null,"reasoning_content":"Checking.","tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{}"},"extra_content":{"google":{"thought_signature":"c2ln"}}},{"id":"call_1","type":"function","function":{"name":"get_time","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_0","content":"sun"},{"role":"tool","tool_call_id":"call_1","content":"noon"}]}';
    const at = (baseUrl: string) => OpenAICompatibleProvider.chatCall(JSON.parse(history) as ChatRequest, ctx({ provider: { name: 'compat', type: 'openai-compatible', baseUrl } }));
    const sentTo = (baseUrl: string) => (JSON.parse(at(baseUrl).body!) as { messages: Array<Record<string, unknown>> }).messages[1]!;
    for (const google of ['https://generativelanguage.googleapis.com/v1beta/openai', 'https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/endpoints/openapi']) {
      expect(sentTo(google)).toEqual(JSON.parse(history).messages[1]);
    }
    // Elsewhere the call goes as OpenAI defines it; the reasoning_content a compatible host wants back stays.
    const elsewhere = sentTo('https://api.together.xyz');
    expect(elsewhere.tool_calls).toEqual([
      { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
      { id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '{}' } },
    ]);
    expect(elsewhere.reasoning_content).toBe('Checking.');
    const openai = (JSON.parse(OpenAIProvider.chatCall(JSON.parse(history) as ChatRequest, ctx()).body!) as { messages: Array<Record<string, unknown>> }).messages[1]!;
    expect(openai).toEqual({ role: 'assistant', content: null, tool_calls: elsewhere.tool_calls });
  });

  it('passes top_k on to the hosts that take it (vLLM, Together, Fireworks…)', () => {
    expect(compatible('{"model":"m","messages":[{"role":"user","content":"Hi"}],"top_k":40}').top_k).toBe(40);
  });

  it('leaves OpenAI itself max_completion_tokens, which its reasoning models need', () => {
    expect(bodyFor('{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_completion_tokens":64}').max_completion_tokens).toBe(64);
  });
});

describe("the OpenAI-style adapter's reading of a whole answer", () => {
  const answer = (call: object) => ({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] }, finish_reason: 'tool_calls' }] });

  it('gives a tool call the type a host left out, which the SDK\'s runTools needs to run it', () => {
    const completion = OpenAIProvider.parseChat(answer({ id: 'D681PevKs', function: { name: 'get_weather', arguments: '{}' } }), ctx());
    expect(completion.choices[0]!.message.tool_calls).toEqual([{ id: 'D681PevKs', type: 'function', function: { name: 'get_weather', arguments: '{}' } }]);
  });

  it('returns an answer that lacks nothing as it is, so that its bytes can go on unchanged', () => {
    const body = answer({ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } });
    expect(OpenAIProvider.parseChat(body, ctx())).toBe(body);
  });
});

describe("the OpenAI-style adapter's reading of a host's finish reasons", () => {
  const answer = (reason: string) => ({ id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: reason }] });
  const chunk = (reason: string) => `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"${reason}"}]}`;

  it("gives Together's eos (the model's end-of-sequence token) as OpenAI's stop in a whole answer", () => {
    expect(OpenAICompatibleProvider.parseChat(answer('eos'), ctx()).choices[0]!.finish_reason).toBe('stop');
  });

  it("gives Together's eos as OpenAI's stop in a stream, and writes that chunk anew", () => {
    const [translated] = OpenAICompatibleProvider.streamTranslator(ctx({ stream: true })).push(Buffer.from(`data: ${chunk('eos')}\n\n`));
    expect(translated!.choices[0]!.finish_reason).toBe('stop');
    expect((translated as TranslatedChunk)[SOURCE_TEXT]).toBeUndefined();
  });

  it('gives a streamed choice without a delta an empty one, and writes that chunk anew, since every reader of a chunk reads its delta', () => {
    const bare = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop"}]}';
    const [translated] = OpenAICompatibleProvider.streamTranslator(ctx({ stream: true })).push(Buffer.from(`data: ${bare}\n\n`));
    expect(translated!.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect((translated as TranslatedChunk)[SOURCE_TEXT]).toBeUndefined();
  });

  it("takes DeepSeek's insufficient_system_resource in a whole answer for a failed generation, with the usage it billed", () => {
    const body = { ...answer('insufficient_system_resource'), usage: { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 } };
    const error = (() => {
      try {
        return OpenAICompatibleProvider.parseChat(body, ctx());
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject({ status: 502, code: 'provider_generation_failed', retryable: true });
    expect((error as ProviderCallError).billed).toEqual({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 });
  });

  it("ends a stream at DeepSeek's insufficient_system_resource once its usage is told, with that usage and the words before", () => {
    const translator = OpenAICompatibleProvider.streamTranslator(ctx({ stream: true }));
    const words = '{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}';
    expect(translator.push(Buffer.from(`data: ${words}\n\ndata: ${chunk('insufficient_system_resource')}\n\n`)).map((c) => c.choices[0]!.delta.content)).toEqual(['Hi']);
    const usage = { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 };
    const error = (() => {
      try {
        return translator.push(Buffer.from(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage })}\n\n`));
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject({ status: 502, code: 'provider_generation_failed', retryable: true });
    expect((error as ProviderCallError).billed).toEqual(usage);
    expect((error as ProviderCallError).before).toEqual([]);
  });

  it("ends a stream at DeepSeek's insufficient_system_resource when it ends without telling its usage", () => {
    const translator = OpenAICompatibleProvider.streamTranslator(ctx({ stream: true }));
    expect(translator.push(Buffer.from(`data: ${chunk('insufficient_system_resource')}\n\n`))).toEqual([]);
    expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ code: 'provider_generation_failed' }) }));
  });

  const openRouter = (overrides: Partial<CallContext> = {}) => ctx({ provider: { name: 'or', type: 'openai-compatible', catalog: 'openrouter', baseUrl: 'http://127.0.0.1:1' }, ...overrides });
  const vllm = (overrides: Partial<CallContext> = {}) => ctx({ provider: { name: 'local', type: 'openai-compatible', catalog: 'vllm', baseUrl: 'http://127.0.0.1:1' }, ...overrides });
  /** What the call throws, or what it returns when it does not. */
  const thrownBy = (call: () => unknown) => {
    try {
      return call();
    } catch (thrown) {
      return thrown;
    }
  };

  it("takes an OpenRouter answer whose choice finished with error for the failure OpenRouter told beside it, with the usage it billed", () => {
    const usage = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };
    const body = { ...answer('error'), error: { code: 502, message: 'Provider disconnected unexpectedly' }, usage };
    const error = thrownBy(() => OpenAICompatibleProvider.parseChat(body, openRouter()));
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject({ status: 502, message: 'Provider disconnected unexpectedly', retryable: true });
    expect((error as ProviderCallError).billed).toEqual(usage);
  });

  it("reads the error OpenRouter puts on the failed choice itself when the answer has none of its own", () => {
    const body = answer('error');
    Object.assign(body.choices[0]!, { error: { code: 429, message: 'This model is currently experiencing high demand.' } });
    expect((thrownBy(() => OpenAICompatibleProvider.parseChat(body, openRouter())) as ProviderCallError).failure).toMatchObject({ status: 429, type: 'rate_limit_error', message: 'This model is currently experiencing high demand.' });
  });

  it("takes an OpenRouter answer whose choice finished with error and no error told for OpenRouter's 502", () => {
    expect((thrownBy(() => OpenAICompatibleProvider.parseChat(answer('error'), openRouter())) as ProviderCallError).failure).toMatchObject({ status: 502, retryable: true });
  });

  it('knows OpenRouter by the host its base URL reaches, without a catalog key', () => {
    const byHost = ctx({ provider: { name: 'or', type: 'openai-compatible', baseUrl: 'https://OpenRouter.ai/api' } });
    expect(thrownBy(() => OpenAICompatibleProvider.parseChat(answer('error'), byHost))).toBeInstanceOf(ProviderCallError);
  });

  it("passes a choice that finished with error on as it is from a host not known as OpenRouter", () => {
    const body = answer('error');
    expect(OpenAICompatibleProvider.parseChat(body, ctx())).toBe(body);
  });

  it("ends an OpenRouter stream whose choice finished with error once its usage is told, with the error on the choice and the words before", () => {
    const translator = OpenAICompatibleProvider.streamTranslator(openRouter({ stream: true }));
    const words = '{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}';
    const failing = '{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":""},"finish_reason":"error","error":{"code":502,"message":"Provider disconnected unexpectedly"}}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}';
    const error = thrownBy(() => translator.push(Buffer.from(`data: ${words}\n\ndata: ${failing}\n\n`)));
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject({ status: 502, message: 'Provider disconnected unexpectedly', retryable: true });
    expect((error as ProviderCallError).billed).toEqual({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 });
    expect((error as ProviderCallError).before.map((c) => c.choices[0]!.delta.content)).toEqual(['Hi']);
  });

  it("ends an OpenRouter stream at its mid-stream error event, as its streaming page shows it, with the usage that event tells", () => {
    const translator = OpenAICompatibleProvider.streamTranslator(openRouter({ stream: true }));
    const words = '{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}';
    // OpenRouter's unified error event: the error at the top, the choice finished with "error"; the stream ends after it.
    const failing = '{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","provider":"p","error":{"code":"server_error","message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}';
    const error = thrownBy(() => translator.push(Buffer.from(`data: ${words}\n\ndata: ${failing}\n\n`)));
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject({ message: 'Provider disconnected' });
    expect((error as ProviderCallError).billed).toEqual({ prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 });
    expect((error as ProviderCallError).before.map((c) => c.choices[0]!.delta.content)).toEqual(['Hi']);
  });

  it("takes a vLLM answer its engine aborted (finish_reason abort) for a server's failure, with the usage it counted", () => {
    const usage = { prompt_tokens: 9, completion_tokens: 1, total_tokens: 10 };
    const error = thrownBy(() => OpenAICompatibleProvider.parseChat({ ...answer('abort'), usage }, vllm()));
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject({ status: 500, type: 'api_error', retryable: true, message: expect.stringContaining('finish_reason abort') });
    expect((error as ProviderCallError).billed).toEqual(usage);
  });

  it('ends a vLLM stream its engine aborted as a failure, not as a finished answer', () => {
    const translator = OpenAICompatibleProvider.streamTranslator(vllm({ stream: true }));
    expect(translator.push(Buffer.from(`data: ${chunk('abort')}\n\n`))).toEqual([]);
    expect(() => translator.push(Buffer.from('data: [DONE]\n\n'))).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 500, retryable: true }) }));
  });

  it('passes finish_reason abort on as it is from a host not configured as vLLM', () => {
    const body = answer('abort');
    expect(OpenAICompatibleProvider.parseChat(body, ctx())).toBe(body);
  });

  it("keeps an answer and a chunk whose finish reasons are OpenAI's as the host wrote them", () => {
    const body = answer('length');
    expect(OpenAICompatibleProvider.parseChat(body, ctx())).toBe(body);
    const [translated] = OpenAICompatibleProvider.streamTranslator(ctx({ stream: true })).push(Buffer.from(`data: ${chunk('stop')}\n\n`));
    expect((translated as TranslatedChunk)[SOURCE_TEXT]).toBe(chunk('stop'));
  });
});

describe("the OpenAI-style adapter's reading of an embeddings answer", () => {
  it.each([
    ['the JSON null', null],
    ['an embedding that is neither numbers nor base64', { object: 'list', data: [{ object: 'embedding', index: 0, embedding: { values: [0.5] } }] }],
  ])("takes an answer of %s as the provider's bad response, which another target may answer", (_what, body) => {
    expect(() => OpenAIProvider.parseEmbeddings!(body, ctx(), { model: 'm', input: 'a' })).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_bad_response', retryable: true }) }));
  });
});

/** What `push` threw, or undefined. */
function failureOfPush(push: () => unknown): unknown {
  try {
    push();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('the tokens Perplexity counts apart', () => {
  const answer = { id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'sonar-deep-research', choices: [{ index: 0, message: { role: 'assistant', content: 'Found it.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, citation_tokens: 100, reasoning_tokens: 40 } };
  const perplexity = { name: 'pplx', type: 'openai-compatible', catalog: 'perplexity', baseUrl: 'http://127.0.0.1:1', pathPrefix: '' };

  it('are counted in for a provider priced from the Perplexity catalog', () => {
    expect(OpenAICompatibleProvider.parseChat(structuredClone(answer), ctx({ provider: perplexity })).usage).toMatchObject({ prompt_tokens: 110, completion_tokens: 45, total_tokens: 155 });
  });

  it("are left as another host wrote them, whatever its members' names", () => {
    expect(OpenAICompatibleProvider.parseChat(structuredClone(answer), ctx({ provider: { ...perplexity, catalog: 'together' } })).usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
  });
});

describe('the cache reads Together tells at the top of its usage', () => {
  const usage = { prompt_tokens: 3_417, completion_tokens: 4, total_tokens: 3_421, cached_tokens: 3_327 };
  const answer = { id: 'c1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage };
  const usageChunk = `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":${JSON.stringify(usage)}}`;
  const together = { name: 'together', type: 'openai-compatible', catalog: 'together', baseUrl: 'http://127.0.0.1:1' };
  const fireworks = { name: 'fireworks', type: 'openai-compatible', catalog: 'fireworks', baseUrl: 'https://api.fireworks.ai/inference' };

  it("are told as OpenAI's in a whole answer from a provider priced from the Together catalog, or one on Together's host", () => {
    for (const provider of [together, { name: 't', type: 'openai-compatible', baseUrl: 'https://api.together.xyz' }]) {
      expect(OpenAICompatibleProvider.parseChat(structuredClone(answer), ctx({ provider })).usage).toEqual({ ...usage, prompt_tokens_details: { cached_tokens: 3_327 } });
    }
  });

  it("are told as OpenAI's in a stream's usage chunk, which is written anew, and in the usage the stream records", () => {
    const translator = OpenAICompatibleProvider.streamTranslator(ctx({ provider: together, stream: true }));
    const [translated] = translator.push(Buffer.from(`data: ${usageChunk}\n\ndata: [DONE]\n\n`));
    expect(translated!.usage).toEqual({ ...usage, prompt_tokens_details: { cached_tokens: 3_327 } });
    expect((translated as TranslatedChunk)[SOURCE_TEXT]).toBeUndefined();
    expect(translator.usage()?.prompt_tokens_details).toEqual({ cached_tokens: 3_327 });
  });

  it('are not read from another host that names a member so, whole or streamed', () => {
    expect(OpenAICompatibleProvider.parseChat(structuredClone(answer), ctx({ provider: fireworks })).usage).toEqual(usage);
    const translator = OpenAICompatibleProvider.streamTranslator(ctx({ provider: fireworks, stream: true }));
    translator.push(Buffer.from(`data: ${usageChunk}\n\ndata: [DONE]\n\n`));
    expect(translator.usage()).toEqual(usage);
  });
});

describe("the OpenAI-style adapter's reading of errors", () => {
  it("keeps OpenAI's null code null, rather than fill it with the error's type", () => {
    const failure = OpenAIProvider.parseError(400, JSON.stringify({ error: { message: 'Invalid value', type: 'invalid_request_error', param: 'messages', code: null } }), {});
    expect(failure).toMatchObject({ status: 400, code: null, param: 'messages', retryable: false });
  });

  it("reads Groq's 400 tool_use_failed as a failed generation that another target may answer, without the model's text", () => {
    const body = { error: { message: 'tool call validation failed: parameters for tool get_weather did not match schema: errors: [`/city`: expected string, but got number]', type: 'invalid_request_error', param: '', code: 'tool_use_failed', failed_generation: '<function=get_weather>{"city": 7}</function>' } };
    const failure = OpenAIProvider.parseError(400, JSON.stringify(body), {});
    expect(failure).toMatchObject({ status: 502, type: 'api_error', code: 'provider_generation_failed', retryable: true });
    expect(failure.message).toContain('did not match schema');
  });

  it('still tells an account out of quota by its type when the code is null', () => {
    const failure = OpenAIProvider.parseError(429, JSON.stringify({ error: { message: 'Please check your plan.', type: 'insufficient_quota', code: null } }), {});
    expect(failure).toMatchObject({ status: 429, type: 'insufficient_quota', credentialProblem: 'quota' });
  });
});

describe('an Anthropic-format client’s thinking, for OpenAI-format providers', () => {
  const reasoning = (id: string): CatalogModel => ({ id, provider: 'openai', kind: 'chat', contextWindow: 400_000, maxOutputTokens: 128_000, inputPerMillion: 1, outputPerMillion: 1, cachedInputPerMillion: null, capabilities: ['chat', 'tools', 'streaming', 'reasoning'] });
  const plain: CatalogModel = { ...reasoning('gpt-4o-mini'), capabilities: ['chat', 'tools', 'streaming'] };
  const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'chat', messages: [{ role: 'user', content: 'Hi' }], [THINKING]: { type: 'enabled', budget_tokens: 2048 }, ...extra });
  const sentBy = (adapter: typeof OpenAIProvider, chat: ChatRequest, model: string, catalogModel?: CatalogModel) => JSON.parse(adapter.chatCall(chat, ctx({ model, ...(catalogModel ? { catalogModel } : {}) })).body!) as Record<string, unknown>;
  const weather: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];

  it('is sent as the reasoning_effort its budget comes to, to a model the catalog says reasons', () => {
    expect(sentBy(OpenAIProvider, request(), 'gpt-5-mini', reasoning('gpt-5-mini')).reasoning_effort).toBe('medium');
    expect(sentBy(OpenAICompatibleProvider, request({ [OUTPUT_CONFIG]: { effort: 'low' }, [THINKING]: { type: 'adaptive' } }), 'deepseek-reasoner', reasoning('deepseek-reasoner')).reasoning_effort).toBe('low');
  });

  it('takes the sampling settings off beside the effort, which reasoning models refuse, and leaves them where no effort goes', () => {
    const sampled = request({ temperature: 0.5, top_p: 0.9, logprobs: true, top_logprobs: 2 } as Partial<ChatRequest>);
    const withEffort = sentBy(OpenAIProvider, sampled, 'gpt-5.4', reasoning('gpt-5.4'));
    expect(withEffort.reasoning_effort).toBe('medium');
    for (const setting of ['temperature', 'top_p', 'logprobs', 'top_logprobs']) expect(withEffort).not.toHaveProperty(setting);
    expect(sentBy(OpenAIProvider, sampled, 'gpt-4o-mini', plain)).toMatchObject({ temperature: 0.5, top_p: 0.9 });
  });

  it('is not sent to a model the catalog says does not reason, nor to one it does not know, which may refuse it', () => {
    expect(sentBy(OpenAIProvider, request(), 'gpt-4o-mini', plain)).not.toHaveProperty('reasoning_effort');
    expect(sentBy(OpenAICompatibleProvider, request(), 'my-vllm-model')).not.toHaveProperty('reasoning_effort');
  });

  it('asks for nothing when thinking is disabled or adaptive without an effort: the model’s default', () => {
    expect(sentBy(OpenAIProvider, request({ [THINKING]: { type: 'disabled' }, [OUTPUT_CONFIG]: { effort: 'high' } }), 'o3', reasoning('o3'))).not.toHaveProperty('reasoning_effort');
    expect(sentBy(OpenAIProvider, request({ [THINKING]: { type: 'adaptive' } }), 'o3', reasoning('o3'))).not.toHaveProperty('reasoning_effort');
  });

  it('is not sent beside function tools to OpenAI models from GPT-5.2 on, which refuse the pair, but is to earlier ones and to other hosts', () => {
    expect(sentBy(OpenAIProvider, request({ tools: weather }), 'gpt-5.4', reasoning('gpt-5.4'))).not.toHaveProperty('reasoning_effort');
    expect(sentBy(OpenAIProvider, request(), 'gpt-5.4', reasoning('gpt-5.4')).reasoning_effort).toBe('medium');
    expect(sentBy(OpenAIProvider, request({ tools: weather }), 'gpt-5-mini', reasoning('gpt-5-mini')).reasoning_effort).toBe('medium');
    expect(sentBy(OpenAICompatibleProvider, request({ tools: weather }), 'gpt-5.4', reasoning('gpt-5.4')).reasoning_effort).toBe('medium');
  });

  it('leaves a reasoning_effort the request already has as it is', () => {
    expect(sentBy(OpenAIProvider, request({ reasoning_effort: 'minimal' }), 'gpt-5-mini', reasoning('gpt-5-mini')).reasoning_effort).toBe('minimal');
  });
});

describe("the OpenAI-style adapter's reading of a stream", () => {
  const events = (...data: string[]) => Buffer.from(data.map((d) => `data: ${d}\n\n`).join(''));
  const OPENING = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}';
  /** What the translator throws for the events, or undefined if it reads them. */
  const failureOf = (...data: string[]) => {
    try {
      OpenAIProvider.streamTranslator(ctx({ stream: true })).push(events(...data));
      return undefined;
    } catch (error) {
      return error;
    }
  };

  it("ends with the provider's failure at an event that holds only an error, as OpenAI sends a server error after the head", () => {
    const error = failureOf(OPENING, '{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}');
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject({ status: 500, type: 'api_error', code: null, message: 'The server had an error while processing your request. Sorry about that!', retryable: true });
  });

  it.each([
    ['OpenRouter, beside a choice that failed, with a number for its code', '{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","error":{"code":502,"message":"Provider disconnected unexpectedly"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}', { status: 502, message: 'Provider disconnected unexpectedly', retryable: true }],
    ['OpenRouter, rate limited', '{"error":{"code":429,"message":"Rate limit exceeded"},"choices":[]}', { status: 429, type: 'rate_limit_error', retryable: true }],
    ["vLLM, as an error object of its own (the caller's mistake)", '{"object":"error","message":"This model\'s maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}', { status: 400, type: 'invalid_request_error', retryable: false }],
    ['a host that says only a string', '{"error":"model overloaded"}', { status: 500, message: 'model overloaded', retryable: true }],
    ["Groq, in its own member x_groq.error (a server's failure)", '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"x_groq":{"id":"req_1","error":"the stream was stopped early"}}', { status: 500, type: 'api_error', message: 'the stream was stopped early', retryable: true }],
    [
      "Groq, a tool call its model wrote that could not be used (tool_use_failed, a failed generation)",
      '{"error":{"message":"Failed to call a function. Please adjust your prompt. See \'failed_generation\' for more details.","type":"invalid_request_error","code":"tool_use_failed","failed_generation":"Tool use failed: JSON does not match the expected schema for tool calls","status_code":400}}',
      { status: 502, code: 'provider_generation_failed', message: "the model's tool call could not be used (tool_use_failed): Failed to call a function. Please adjust your prompt. See 'failed_generation' for more details.", retryable: true },
    ],
    ['a type named like a member every object has', '{"error":{"message":"boom","type":"constructor"}}', { status: 500, message: 'boom', retryable: true }],
    ['a type named like the prototype', '{"error":{"message":"boom","type":"__proto__"}}', { status: 500, message: 'boom', retryable: true }],
  ])('reads the failure a host reports in its stream: %s', (_host, event, failure) => {
    const error = failureOf(OPENING, event);
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject(failure);
  });

  it('hands the chunks of the same read before the error on with the failure, for the client to get first', () => {
    const word = OPENING.replace('"role":"assistant","content":""', '"content":"Hello"');
    const error = failureOf(OPENING, word, '{"error":{"message":"The server had an error","type":"server_error"}}');
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).before.map((chunk) => chunk.choices[0]!.delta.content)).toEqual(['', 'Hello']);
  });

  it("keeps the usage Groq tells in x_groq.usage on the chunk whose x_groq.error stops the stream, for the call's record", () => {
    const translator = OpenAICompatibleProvider.streamTranslator(ctx({ stream: true }));
    const error = failureOfPush(() => translator.push(events(OPENING, '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"x_groq":{"id":"req_1","error":"stopped","usage":{"prompt_tokens":18,"completion_tokens":2,"total_tokens":20}}}')));
    expect(error).toBeInstanceOf(ProviderCallError);
    expect(translator.usage()).toEqual({ prompt_tokens: 18, completion_tokens: 2, total_tokens: 20 });
    // With the failure too: a stream held back from its client falls back, and the failed try's record reads it there.
    expect((error as ProviderCallError).billed).toEqual({ prompt_tokens: 18, completion_tokens: 2, total_tokens: 20 });
  });

  it('reads a chunk whose error is null as a chunk', () => {
    const chunks = OpenAIProvider.streamTranslator(ctx({ stream: true })).push(events(OPENING.replace('"choices"', '"error":null,"choices"')));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
  });

  it('gives a chunk without choices (a usage chunk some hosts send so) none, written anew, and keeps its usage', () => {
    const translator = OpenAIProvider.streamTranslator(ctx({ stream: true }));
    const [chunk] = translator.push(events('{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'));
    expect(chunk!.choices).toEqual([]);
    expect((chunk as TranslatedChunk)[SOURCE_TEXT]).toBeUndefined();
    expect(translator.usage()).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  });

  /** Groq's final chunk: "x_groq.usage: Usage information for the stream. Only sent in the final chunk." (https://console.groq.com/docs/api-reference) */
  const GROQ_FINAL = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"llama-3.3-70b-versatile","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"queue_time":0.01,"prompt_tokens":18,"prompt_time":0.002,"completion_tokens":7,"completion_time":0.02,"total_tokens":25,"total_time":0.022}}}';

  it("reads the usage Groq tells in x_groq.usage on its final chunk, and passes that chunk on as Groq wrote it", () => {
    const translator = OpenAICompatibleProvider.streamTranslator(ctx({ stream: true }));
    const chunks = translator.push(events(OPENING, GROQ_FINAL));
    expect(translator.usage()).toMatchObject({ prompt_tokens: 18, completion_tokens: 7, total_tokens: 25 });
    expect((chunks[1] as TranslatedChunk)[SOURCE_TEXT]).toBe(GROQ_FINAL);
  });

  it("takes a host's usage chunk in OpenAI's member over what Groq's member said before it", () => {
    const translator = OpenAICompatibleProvider.streamTranslator(ctx({ stream: true }));
    translator.push(events(OPENING, GROQ_FINAL, '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":18,"completion_tokens":8,"total_tokens":26}}'));
    expect(translator.usage()).toEqual({ prompt_tokens: 18, completion_tokens: 8, total_tokens: 26 });
  });

  it("numbers streamed tool calls that come without an index, as Google's OpenAI-compatible API sends them, one index per call id", () => {
    const call = (id: string | undefined, name: string | undefined, args: string) =>
      OPENING.replace('"delta":{"role":"assistant","content":""}', `"delta":{"tool_calls":[${JSON.stringify({ ...(id ? { id, type: 'function' } : {}), function: { ...(name ? { name } : {}), arguments: args } })}]}`);
    const translator = OpenAIProvider.streamTranslator(ctx({ stream: true }));
    const chunks = translator.push(events(OPENING, call('function-call-1', 'get_weather', '{"city":'), call(undefined, undefined, '"Paris"}'), call('function-call-2', 'get_time', '{"zone":"CET"}')));
    chunks.push(...translator.push(events(call('function-call-1', undefined, ''))));
    const deltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.map((delta) => [delta.index, delta.id])).toEqual([
      [0, 'function-call-1'],
      [0, undefined],
      [1, 'function-call-2'],
      [0, 'function-call-1'],
    ]);
    // Written anew, with the index: the host's own text has none.
    expect(chunks.slice(1).every((chunk) => (chunk as TranslatedChunk)[SOURCE_TEXT] === undefined)).toBe(true);
    expect((chunks[0] as TranslatedChunk)[SOURCE_TEXT]).toBe(OPENING);
  });

  it("gives a streamed call's first delta the type a host left out, as Mistral does, and writes the chunk anew", () => {
    const call = (delta: object) => OPENING.replace('"delta":{"role":"assistant","content":""}', `"delta":{"tool_calls":[${JSON.stringify(delta)}]}`);
    const first = call({ index: 0, id: 'D681PevKs', function: { name: 'get_weather', arguments: '{"city": ' } });
    const chunks = OpenAIProvider.streamTranslator(ctx({ stream: true })).push(events(first, call({ index: 0, function: { arguments: '"Paris"}' } })));
    expect(chunks.map((chunk) => chunk.choices[0]!.delta.tool_calls![0]!.type)).toEqual(['function', undefined]);
    expect((chunks[0] as TranslatedChunk)[SOURCE_TEXT]).toBeUndefined();
    expect((chunks[1] as TranslatedChunk)[SOURCE_TEXT]).toBeDefined();
  });

  it("keeps the index a host gives its tool calls, and the host's own text", () => {
    const chunk = OPENING.replace('"delta":{"role":"assistant","content":""}', '"delta":{"tool_calls":[{"index":2,"id":"call_a","type":"function","function":{"name":"f","arguments":""}}]}');
    const [translated] = OpenAIProvider.streamTranslator(ctx({ stream: true })).push(events(chunk));
    expect(translated!.choices[0]!.delta.tool_calls![0]!.index).toBe(2);
    expect((translated as TranslatedChunk)[SOURCE_TEXT]).toBe(chunk);
  });

  it.each([
    { ending: 'neither a finish reason nor [DONE]', data: [OPENING], whole: false },
    { ending: 'a finish reason for one of its two choices', data: [OPENING, OPENING.replace('"index":0', '"index":1'), OPENING.replace('"finish_reason":null', '"finish_reason":"stop"')], whole: false },
    { ending: '[DONE] alone', data: [OPENING, '[DONE]'], whole: true },
    { ending: 'a finish reason, then a usage chunk, and no [DONE], as some hosts end', data: [OPENING, OPENING.replace('"finish_reason":null', '"finish_reason":"stop"'), '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'], whole: true },
    { ending: 'a finish reason for the one choice of two asked for that began', data: [OPENING, OPENING.replace('"finish_reason":null', '"finish_reason":"stop"')], choices: 2, whole: false },
    { ending: '[DONE] after one choice of two asked for', data: [OPENING, OPENING.replace('"finish_reason":null', '"finish_reason":"stop"'), '[DONE]'], choices: 2, whole: true },
  ])('reads a stream that ended with $ending as whole: $whole', ({ data, choices, whole }) => {
    const translator = OpenAIProvider.streamTranslator(ctx({ stream: true, choices }));
    translator.push(events(...data));
    if (whole) expect(translator.end()).toEqual([]);
    else expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_stream_incomplete', retryable: true }) }));
  });

  it('refuses an event that is not an object as unreadable, not as a chunk', () => {
    expect(failureOf('42')).toBeInstanceOf(TypeError);
    expect(failureOf('[1]')).toBeInstanceOf(TypeError);
  });
});
