import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../src/ai/catalog/index.js';
import { ManualClock } from '../src/clock.js';
import type { ChatMessage } from '../src/ai/chat-types.js';
import { estimatePromptTokens, quickTokenCount } from '../src/ai/token-estimate.js';
import { AI_ROUTE, AiGateway, CLAUDE_TOOL, PROVIDER_SECRETS, type AiResult } from './ai-fixtures.js';
import { LocalIssuer } from './auth-fixtures.js';
import { startAnthropicEmulator, type AnthropicEmulator } from './emulators/anthropic.js';
import { REFUSAL, reasoningFor, startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const MODEL = 'openai/gpt-4o-mini';
const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: MODEL, messages: [{ role: 'user', content }], ...extra });

/** An answer without its id, which each answer has of its own, from the cache too. */
function withoutId(body: unknown): unknown {
  const { id: _id, ...rest } = body as Record<string, unknown>;
  return rest;
}

/** `second` is `first`'s answer again, from the cache: a hit that cost nothing. */
function expectServedAgain(first: AiResult<unknown>, second: AiResult<unknown>): void {
  expect(first.status).toBe(200);
  expect(first.headers.get('x-keygate-cache')).toBeNull();
  expect(second.status).toBe(200);
  expect(second.headers.get('x-keygate-cache')).toBe('hit');
  expect(second.headers.get('x-keygate-cost-usd')).toBe('0.000000000');
  expect(withoutId(second.body)).toEqual(withoutId(first.body));
}

describe('the response cache', () => {
  let gateway: AiGateway;
  let openai: OpenAIEmulator;
  let deepseek: OpenAIEmulator;
  let silent: OpenAIEmulator;
  let anthropic: AnthropicEmulator;
  let apiKey: string;

  beforeAll(async () => {
    openai = await startOpenAIEmulator();
    deepseek = await startOpenAIEmulator({ reasoningContent: true });
    silent = await startOpenAIEmulator({ reportUsage: false });
    // Prompt-cache writes in every answer: a Messages API client is told of them, from the cache too.
    anthropic = await startAnthropicEmulator({ cacheCreation: { fiveMinute: 30, oneHour: 10 } });
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'openai', type: 'openai', baseUrl: openai.url },
        { name: 'anthropic', type: 'anthropic', baseUrl: anthropic.url },
        { name: 'deepseek', type: 'openai-compatible', baseUrl: deepseek.url },
        { name: 'silent', type: 'openai-compatible', baseUrl: silent.url },
      ],
      cache: { ttl: '10m' },
    });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('deepseek', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('silent', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('anthropic', PROVIDER_SECRETS.anthropic);
    apiKey = await gateway.createApp({ name: 'cache-app', team: 'cache-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
    await deepseek?.stop();
    await silent?.stop();
    await anthropic?.stop();
  });

  it('caches no answer that cannot be rendered in the caller\'s format: a 502 each time, each call reaching the provider', async () => {
    openai.setMode('legacy-choice');
    try {
      const body = { model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'An answer in an old shape, please.' }] };
      for (let i = 0; i < 2; i++) {
        const calls = openai.requests().length;
        const result = await gateway.call<{ type: string; error: { type: string; message: string } }>('POST', '/v1/messages', apiKey, body);
        expect(result.status).toBe(502);
        expect(result.body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
        expect(result.headers.get('x-keygate-cache')).toBeNull();
        expect(openai.requests().length).toBe(calls + 1);
      }
    } finally {
      openai.setMode('normal');
    }
    const rows = await gateway.usage({ groupBy: 'status', app: 'cache-app' });
    expect(rows.find((row) => row.status === 502)).toMatchObject({ calls: 2, inputTokens: 18, outputTokens: 2 });
  });

  it('caches no answer whose choice the provider says failed (finish_reason "error"): each call reaches the provider', async () => {
    openai.setMode('failed-choice');
    try {
      const body = ask('An answer that breaks off, please.');
      for (let i = 0; i < 2; i++) {
        const calls = openai.requests().length;
        const result = await gateway.chat<{ choices: Array<{ finish_reason: string }> }>(apiKey, body);
        expect(result.status).toBe(200);
        expect(result.body.choices[0]?.finish_reason).toBe('error');
        expect(result.headers.get('x-keygate-cache')).toBeNull();
        expect(openai.requests().length).toBe(calls + 1);
      }
    } finally {
      openai.setMode('normal');
    }
  });

  it('answers the same non-streamed request a second time from the cache, without calling the provider', async () => {
    const first = await gateway.chat(apiKey, ask('What is the capital of France?'));
    const calls = openai.requests().length;
    const second = await gateway.chat(apiKey, ask('What is the capital of France?'));
    expectServedAgain(first, second);
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(openai.requests().length).toBe(calls);
  });

  it("says of an answer from the cache that its usage is the gateway's count when the provider told none", async () => {
    const request = { model: 'silent/gpt-4o-mini', messages: [{ role: 'user', content: 'Count me' }] };
    const first = await gateway.chat(apiKey, request);
    const second = await gateway.chat(apiKey, request);
    expectServedAgain(first, second);
    expect(first.headers.get('x-keygate-usage-estimated')).toBe('true');
    expect(second.headers.get('x-keygate-usage-estimated')).toBe('true');
    // An answer whose usage the provider told says nothing of the kind, from the cache either.
    const told = await gateway.chat(apiKey, ask('Counted by the provider'));
    const again = await gateway.chat(apiKey, ask('Counted by the provider'));
    expectServedAgain(told, again);
    expect(again.headers.get('x-keygate-usage-estimated')).toBeNull();
    // Embeddings the same.
    const embed = () => gateway.call('POST', '/v1/embeddings', apiKey, { model: 'silent/text-embedding-3-small', input: 'Count me too' });
    const [embedded, embeddedAgain] = [await embed(), await embed()];
    expectServedAgain(embedded, embeddedAgain);
    expect(embeddedAgain.headers.get('x-keygate-usage-estimated')).toBe('true');
  });

  it("answers a chat completion from the cache with an id of its own in the provider's bytes, the rest as they were", async () => {
    const first = await gateway.chat<{ id: string }>(apiKey, ask('Name a mountain.'));
    const second = await gateway.chat<{ id: string }>(apiKey, ask('Name a mountain.'));
    expect(second.headers.get('x-keygate-cache')).toBe('hit');
    expect(second.body.id).toMatch(/^chatcmpl-/);
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.text).toBe(first.text.replace(first.body.id, second.body.id));
    const third = await gateway.chat<{ id: string }>(apiKey, ask('Name a mountain.'));
    expect(third.body.id).not.toBe(second.body.id);
  });

  it('answers a Messages API call from the cache with a message id of its own', async () => {
    const body = { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Name a lake.' }] };
    const first = await gateway.call<{ id: string }>('POST', '/v1/messages', apiKey, body);
    const second = await gateway.call<{ id: string }>('POST', '/v1/messages', apiKey, body);
    expect(second.headers.get('x-keygate-cache')).toBe('hit');
    expect(second.body.id).toMatch(/^msg_/);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it('answers a call in the deprecated functions form from the cache with a completion id of its own', async () => {
    const legacy = ask('Weather in Lyon? Use get_weather.', { functions: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] });
    const first = await gateway.chat<{ id: string }>(apiKey, legacy);
    const second = await gateway.chat<{ id: string }>(apiKey, legacy);
    expect(second.headers.get('x-keygate-cache')).toBe('hit');
    expect(second.body.id).toMatch(/^chatcmpl-/);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it('answers from the cache a call whose prompt the budget could no longer pay for, as it costs nothing', async () => {
    const key = await gateway.createApp({ name: 'thrifty-cache-app', team: 'cache-team', budget: { dailyUsd: 1 } });
    const wordy = (word: string) => ask(`${word} `.repeat(400));
    const first = await gateway.chat(key, wordy('cached'));
    expect(first.status).toBe(200);
    // What is left after that call: half of what the next prompt costs at least (gpt-4o-mini's cached-input rate).
    const least = (estimatePromptTokens(wordy('cached').messages as ChatMessage[], quickTokenCount) * ModelCatalog.shipped().lookup('openai', 'gpt-4o-mini')!.cachedInputPerMillion!) / 1_000_000;
    await gateway.admin(200, 'PUT', '/apps/thrifty-cache-app', { name: 'thrifty-cache-app', team: 'cache-team', budget: { dailyUsd: Number(first.headers.get('x-keygate-cost-usd')) + least / 2 } });
    const again = await gateway.chat(key, wordy('cached'));
    expect(again.status).toBe(200);
    expect(again.headers.get('x-keygate-cache')).toBe('hit');
    const fresh = await gateway.chat<{ error: { code: string; message: string } }>(key, wordy('uncached'));
    expect(fresh.status).toBe(429);
    expect(fresh.body.error).toMatchObject({ code: 'budget_exceeded', message: expect.stringContaining("this call's prompt alone costs at least") });
  });

  it('keeps apart Messages API calls whose image came inside a tool result and after it, which Anthropic is sent differently', async () => {
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } };
    const tools = [{ name: 'snap', input_schema: { type: 'object' } }];
    const asked = [{ role: 'user', content: 'Snap it.' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'snap', input: {} }] }];
    const inside = { model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, tools, messages: [...asked, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'done' }, image] }] }] };
    const after = { ...inside, messages: [...asked, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'done' }, image] }] };
    await gateway.call('POST', '/v1/messages', apiKey, inside);
    const second = await gateway.call('POST', '/v1/messages', apiKey, after);
    expect(second.headers.get('x-keygate-cache')).toBeNull();
    const sent = anthropic.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'done' }] }, image]);
  });

  it('keeps apart a Messages API tool result flagged is_error from an unflagged one whose text reads the same to OpenAI-format hosts', async () => {
    const tools = [{ name: 'run', input_schema: { type: 'object' } }];
    const asked = [{ role: 'user', content: 'Run it.' }, { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'run', input: {} }] }];
    const flagged = { model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, tools, messages: [...asked, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', is_error: true, content: 'disk full' }] }] };
    const plain = { ...flagged, messages: [...asked, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'Error: disk full' }] }] };
    await gateway.call('POST', '/v1/messages', apiKey, flagged);
    const second = await gateway.call('POST', '/v1/messages', apiKey, plain);
    expect(second.headers.get('x-keygate-cache')).toBeNull();
    const sent = anthropic.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[2]?.content).toEqual([{ type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'Error: disk full' }] }]);
  });

  it('answers a Messages API call from the cache with the stop sequence the provider stopped on, and its cache writes', async () => {
    const body = { model: 'anthropic/claude-sonnet-4-5', max_tokens: 64, stop_sequences: ['there'], messages: [{ role: 'user', content: 'Hello there' }] };
    const first = await gateway.call('POST', '/v1/messages', apiKey, body);
    const called = anthropic.lastRequest();
    const second = await gateway.call('POST', '/v1/messages', apiKey, body);
    expect(second.headers.get('x-keygate-cache')).toBe('hit');
    expect(anthropic.lastRequest()).toBe(called);
    expect(first.body).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'there', usage: { cache_creation_input_tokens: 40, cache_creation: { ephemeral_5m_input_tokens: 30, ephemeral_1h_input_tokens: 10 } } });
    expect(withoutId(second.body)).toEqual(withoutId(first.body));
  });

  it("answers a Messages API call from the cache with a refusal's stop reason and words", async () => {
    const body = { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: 'Something it will not do.' }] };
    openai.setMode('refuses');
    let first: AiResult<unknown>;
    try {
      first = await gateway.call('POST', '/v1/messages', apiKey, body);
    } finally {
      openai.setMode('normal');
    }
    const second = await gateway.call('POST', '/v1/messages', apiKey, body);
    expectServedAgain(first, second);
    expect(first.body).toMatchObject({ stop_reason: 'refusal', content: [{ type: 'text', text: REFUSAL }] });
  });

  it('answers a Messages API call from the cache with the reasoning a host that wants it back is handed back, unasked', async () => {
    const body = { model: 'deepseek/deepseek-v4-flash', max_tokens: 64, tools: [CLAUDE_TOOL], messages: [{ role: 'user', content: 'Weather in Oslo?' }] };
    const first = await gateway.call<{ content: unknown[] }>('POST', '/v1/messages', apiKey, body);
    const second = await gateway.call<{ content: unknown[] }>('POST', '/v1/messages', apiKey, body);
    expect(second.headers.get('x-keygate-cache')).toBe('hit');
    expect(first.body.content[0]).toEqual({ type: 'thinking', thinking: '', signature: `keygate:v1:${Buffer.from(reasoningFor('Weather in Oslo?')).toString('base64')}` });
    expect(withoutId(second.body)).toEqual(withoutId(first.body));
  });

  it('answers a Messages API call from what an OpenAI-format call to a host that wants its reasoning back cached, that reasoning handed back', async () => {
    const question = { role: 'user', content: 'Weather in Bergen?' };
    const tool = { type: 'function', function: { name: CLAUDE_TOOL.name, description: CLAUDE_TOOL.description, parameters: CLAUDE_TOOL.input_schema } };
    expect((await gateway.chat(apiKey, { model: 'deepseek/deepseek-v4-flash', messages: [question], max_completion_tokens: 64, tools: [tool] })).status).toBe(200);
    const calls = deepseek.requests().length;
    const answer = await gateway.call<{ content: unknown[] }>('POST', '/v1/messages', apiKey, { model: 'deepseek/deepseek-v4-flash', max_tokens: 64, tools: [CLAUDE_TOOL], messages: [question] });
    expect(answer.headers.get('x-keygate-cache')).toBe('hit');
    expect(deepseek.requests().length).toBe(calls);
    expect(answer.body.content[0]).toEqual({ type: 'thinking', thinking: '', signature: `keygate:v1:${Buffer.from(reasoningFor('Weather in Bergen?')).toString('base64')}` });
  });

  it('calls the provider for a request that differs in any parameter', async () => {
    await gateway.chat(apiKey, ask('Name a river.'));
    const calls = openai.requests().length;
    const other = await gateway.chat(apiKey, ask('Name a river.', { temperature: 0.5 }));
    expect(other.headers.get('x-keygate-cache')).toBeNull();
    expect(openai.requests().length).toBe(calls + 1);
  });

  it('answers each call from one entry in the form it asked in: function_call for the deprecated functions, tool_calls for tools', async () => {
    const weather = { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
    const legacy = ask('Weather in Oslo? Use get_weather.', { functions: [weather] });
    await gateway.chat(apiKey, legacy);
    const calls = openai.requests().length;
    const again = await gateway.chat<{ choices: Array<{ message: Record<string, unknown>; finish_reason: string }> }>(apiKey, legacy);
    expect(again.headers.get('x-keygate-cache')).toBe('hit');
    expect(again.body.choices[0]).toMatchObject({ message: { function_call: { name: 'get_weather' } }, finish_reason: 'function_call' });
    expect(again.body.choices[0]!.message).not.toHaveProperty('tool_calls');
    const tools = await gateway.chat<{ choices: Array<{ message: Record<string, unknown>; finish_reason: string }> }>(apiKey, ask('Weather in Oslo? Use get_weather.', { tools: [{ type: 'function', function: weather }] }));
    expect(tools.headers.get('x-keygate-cache')).toBe('hit');
    expect(tools.body.choices[0]).toMatchObject({ message: { tool_calls: [{ function: { name: 'get_weather' } }] }, finish_reason: 'tool_calls' });
    expect(openai.requests().length).toBe(calls);
  });

  it('never answers a stream from the cache', async () => {
    const calls = openai.requests().length;
    for (let i = 0; i < 2; i++) {
      const streamed = await gateway.chat(apiKey, ask('Stream a greeting.', { stream: true }));
      expect(streamed.status).toBe(200);
      expect(streamed.headers.get('x-keygate-cache')).toBeNull();
    }
    expect(openai.requests().length).toBe(calls + 2);
  });

  it('records a cache hit as a call that cost nothing', async () => {
    const hitter = await gateway.createApp({ name: 'hitter', team: 'cache-team' });
    const paid = await gateway.chat(hitter, ask('Cache me.'));
    await gateway.chat(hitter, ask('Cache me.'));
    const [row] = await gateway.usage({ groupBy: 'app', app: 'hitter' });
    expect(row).toMatchObject({ calls: 2, cacheHits: 1 });
    expect(row!.costUsd).toBeGreaterThan(0);
    expect(row!.costUsd).toBeCloseTo(Number(paid.headers.get('x-keygate-cost-usd')), 9);
  });

  it('answers an app made again under a deleted one\'s name from none of the first one\'s entries', async () => {
    const question = ask('Something only the first app asked.');
    const first = await gateway.createApp({ name: 'remade', team: 'cache-team' });
    await gateway.chat(first, question);
    expect((await gateway.chat(first, question)).headers.get('x-keygate-cache')).toBe('hit');
    await gateway.admin(204, 'DELETE', '/apps/remade');
    const second = await gateway.createApp({ name: 'remade', team: 'cache-team' });
    const calls = openai.requests().length;
    const answer = await gateway.chat(second, question);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-keygate-cache')).toBeNull();
    expect(openai.requests().length).toBe(calls + 1);
    expect((await gateway.chat(second, question)).headers.get('x-keygate-cache')).toBe('hit');
  });

  it('answers the same embeddings request again from the cache, to the same app only, and records the hit as costing nothing', async () => {
    const embed = (key: string, body: Record<string, unknown>) => gateway.call<{ data: Array<{ embedding: number[] }> }>('POST', '/v1/embeddings', key, { model: 'openai/text-embedding-3-small', ...body });
    const embedder = await gateway.createApp({ name: 'embedder', team: 'cache-team' });
    const first = await embed(embedder, { input: ['a cached sentence', 'another one'] });
    const calls = openai.requests().length;
    const second = await embed(embedder, { input: ['a cached sentence', 'another one'] });
    expectServedAgain(first, second);
    expect(openai.requests().length).toBe(calls);
    // Another input, another format or size, another app: each is the provider's again.
    for (const [key, body] of [
      [embedder, { input: ['a cached sentence'] }],
      [embedder, { input: ['a cached sentence', 'another one'], encoding_format: 'base64' }],
      [embedder, { input: ['a cached sentence', 'another one'], dimensions: 8 }],
      [apiKey, { input: ['a cached sentence', 'another one'] }],
    ] as const) {
      const before = openai.requests().length;
      const result = await embed(key, body);
      expect(result.status).toBe(200);
      expect(result.headers.get('x-keygate-cache')).toBeNull();
      expect(openai.requests().length).toBe(before + 1);
    }
    const [row] = await gateway.usage({ groupBy: 'app', app: 'embedder' });
    expect(row).toMatchObject({ calls: 5, cacheHits: 1 });
    expect(row!.costUsd).toBeGreaterThan(0);
  });

  it('checks the model permissions of an app before it answers from the cache', async () => {
    await gateway.chat(apiKey, ask('Only for some.'));
    const barred = await gateway.createApp({ name: 'barred', team: 'cache-team', models: ['openai/gpt-4o'] });
    const result = await gateway.chat(barred, ask('Only for some.'));
    expect(result.status).toBe(404);
    expect(result.headers.get('x-keygate-cache')).toBeNull();
  });
});

describe('a response cache entry past its TTL', () => {
  /** The node's time, moved by the test: the TTL passes without a wait, however slow the machine. */
  const clock = new ManualClock(Date.now());
  let gateway: AiGateway;
  let openai: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    openai = await startOpenAIEmulator();
    gateway = await AiGateway.start({ clock });
    await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }], cache: { ttl: '1s' } });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'brief-cache-app', team: 'cache-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
  });

  it('is not served: the provider answers again, and that answer is cached afresh', async () => {
    expect((await gateway.chat(apiKey, ask('What is the capital of Peru?'))).headers.get('x-keygate-cache')).toBeNull();
    expect((await gateway.chat(apiKey, ask('What is the capital of Peru?'))).headers.get('x-keygate-cache')).toBe('hit');
    const calls = openai.requests().length;
    clock.advance(999);
    expect((await gateway.chat(apiKey, ask('What is the capital of Peru?'))).headers.get('x-keygate-cache')).toBe('hit');
    clock.advance(1);
    expect((await gateway.chat(apiKey, ask('What is the capital of Peru?'))).headers.get('x-keygate-cache')).toBeNull();
    expect(openai.requests().length).toBe(calls + 1);
    expect((await gateway.chat(apiKey, ask('What is the capital of Peru?'))).headers.get('x-keygate-cache')).toBe('hit');
  });

  it('is not served once a TTL shortened since it was cached has passed', async () => {
    const providers = [{ name: 'openai', type: 'openai', baseUrl: openai.url }];
    await gateway.configure({ providers, cache: { ttl: '10m' } });
    await gateway.chat(apiKey, ask('What is the capital of Chile?'));
    await gateway.configure({ providers, cache: { ttl: '1m' } });
    clock.advance(60_000);
    const calls = openai.requests().length;
    expect((await gateway.chat(apiKey, ask('What is the capital of Chile?'))).headers.get('x-keygate-cache')).toBeNull();
    expect(openai.requests().length).toBe(calls + 1);
  });

  it('is gone once the cache is turned off: turned on again, the cache starts empty', async () => {
    const providers = [{ name: 'openai', type: 'openai', baseUrl: openai.url }];
    await gateway.configure({ providers, cache: { ttl: '10m' } });
    await gateway.chat(apiKey, ask('What is the capital of Ecuador?'));
    await gateway.configure({ providers });
    await gateway.configure({ providers, cache: { ttl: '10m' } });
    const calls = openai.requests().length;
    expect((await gateway.chat(apiKey, ask('What is the capital of Ecuador?'))).headers.get('x-keygate-cache')).toBeNull();
    expect(openai.requests().length).toBe(calls + 1);
  });
});

describe('the response cache for callers that are no app', () => {
  let gateway: AiGateway;
  let openai: OpenAIEmulator;
  let issuer: LocalIssuer;

  beforeAll(async () => {
    openai = await startOpenAIEmulator();
    issuer = await LocalIssuer.start();
    gateway = await AiGateway.start();
    // An outside issuer's users: their tokens name no client registered as an app.
    await gateway.admin(200, 'PUT', '/config', {
      version: 1,
      routes: [{ ...AI_ROUTE, auth: { methods: ['issuer:sso'] } }],
      issuers: [{ name: 'sso', issuer: issuer.url, audiences: ['keygate-ai'], algorithms: ['RS256'] }],
      ai: { providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }], cache: { ttl: '10m' } },
    });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
    await issuer?.close();
  });

  it('answers each user from its own entries, never from another user\'s', async () => {
    const alice = await issuer.sign({ sub: 'alice', aud: 'keygate-ai' });
    const bob = await issuer.sign({ sub: 'bob', aud: 'keygate-ai' });
    const question = ask('What did the other user ask?');
    expect((await gateway.chat(alice, question)).status).toBe(200);
    const again = await gateway.chat(alice, question);
    expect(again.headers.get('x-keygate-cache')).toBe('hit');
    const calls = openai.requests().length;
    const other = await gateway.chat(bob, question);
    expect(other.status).toBe(200);
    expect(other.headers.get('x-keygate-cache')).toBeNull();
    expect(openai.requests().length).toBe(calls + 1);
  });
});

describe('the response cache with aliases', () => {
  let gateway: AiGateway;
  let first: OpenAIEmulator;
  let second: OpenAIEmulator;
  let apiKey: string;
  const configure = (moving: string) =>
    gateway.configure({
      providers: [
        { name: 'first', type: 'openai', baseUrl: first.url },
        { name: 'second', type: 'openai', baseUrl: second.url },
      ],
      aliases: [
        { name: 'shared', targets: [{ provider: 'first', model: 'gpt-4o-mini' }, { provider: 'second', model: 'gpt-4o-mini' }] },
        { name: 'moving', targets: [{ provider: 'first', model: moving }] },
      ],
      cache: { ttl: '10m' },
    });

  beforeAll(async () => {
    first = await startOpenAIEmulator();
    second = await startOpenAIEmulator();
    gateway = await AiGateway.start();
    await configure('gpt-4o-mini');
    await gateway.addProviderKey('first', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('second', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'alias-cache-app', team: 'alias-cache-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await first?.stop();
    await second?.stop();
  });

  it("gives the turns of an alias's weighted targets to the calls sent to a provider: a cache hit takes none", async () => {
    const served: string[] = [];
    const sharedAsk = (content: string) => ({ model: 'shared', messages: [{ role: 'user', content }] });
    await gateway.chat(apiKey, sharedAsk('the same question'));
    for (let i = 0; i < 6; i++) {
      expect((await gateway.chat(apiKey, sharedAsk('the same question'))).headers.get('x-keygate-cache')).toBe('hit');
      served.push((await gateway.chat(apiKey, sharedAsk(`a new question ${i}`))).headers.get('x-keygate-provider')!);
    }
    // Each hit between two calls would take a turn, and every new question go to the same target.
    expect(served.filter((provider) => provider === 'first')).toHaveLength(3);
    expect(served.filter((provider) => provider === 'second')).toHaveLength(3);
  });

  it('answers an alias moved to another model from that model, not from what the old one said', async () => {
    const question = { model: 'moving', messages: [{ role: 'user', content: 'Which model are you?' }] };
    const before = await gateway.chat(apiKey, question);
    expect(before.headers.get('x-keygate-model')).toBe('gpt-4o-mini');
    expect((await gateway.chat(apiKey, question)).headers.get('x-keygate-cache')).toBe('hit');
    await configure('gpt-4o');
    const after = await gateway.chat(apiKey, question);
    expect(after.headers.get('x-keygate-cache')).toBeNull();
    expect(after.headers.get('x-keygate-model')).toBe('gpt-4o');
  });

  it('serves a request that says stream: false from the entry of the same request without it, and the reverse', async () => {
    const question = (extra: Record<string, unknown>) => ({ model: 'first/gpt-4o-mini', messages: [{ role: 'user', content: 'Stream or not?' }], ...extra });
    expectServedAgain(await gateway.chat(apiKey, question({})), await gateway.chat(apiKey, question({ stream: false })));
    expectServedAgain(await gateway.chat(apiKey, question({ stream: false, temperature: 0 })), await gateway.chat(apiKey, question({ temperature: 0 })));
  });
});
