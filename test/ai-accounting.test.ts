import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { costUsd, ModelCatalog } from '../src/ai/catalog/index.js';
import { estimatePromptTokens, estimateTokens, loadTokenizer } from '../src/ai/token-estimate.js';
import { AiGateway, PROVIDER_SECRETS, configureThreeProviders, startProviderEmulators, type AiResult, type OpenAIErrorBody, type ProviderEmulators, type UsageRow } from './ai-fixtures.js';
import { inputTokensFor, startAnthropicEmulator, countTokens as anthropicTokens } from './emulators/anthropic.js';
import { promptTokensFor as geminiPromptTokens, countTokens as geminiTokens } from './emulators/gemini.js';
import { REASONING_TOKENS, REFUSAL, startOpenAIEmulator, promptTokensFor as openaiPromptTokens, countTokens as openaiTokens, type OpenAIEmulator } from './emulators/openai.js';

const CATALOG = ModelCatalog.shipped();
const HELLO = [{ role: 'user' as const, content: 'Hello there' }];
const ANSWER = 'Echo: Hello there';
/** What the OpenAI emulator reports as cached prompt tokens. */
const CACHED = 3;

/** What a call with these tokens costs at the catalog's price of the provider's model. */
function priced(provider: string, model: string, inputTokens: number, outputTokens: number, cachedInputTokens = 0): number {
  const entry = CATALOG.lookup(provider, model);
  expect(entry, `${provider}/${model} is in the shipped catalog`).toBeDefined();
  return costUsd(entry!, { inputTokens, outputTokens, cachedInputTokens });
}

const byKey = (rows: UsageRow[], group: string) => Object.fromEntries(rows.map((row) => [String(row[group]), row]));

describe('accounting of AI calls', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  /** An OpenAI-compatible host that reports no usage. */
  let silent: OpenAIEmulator;
  /** One whose usage has no completion_tokens. */
  let partial: OpenAIEmulator;
  /** xAI: reasoning tokens counted apart from completion_tokens, in total_tokens only. */
  let xai: OpenAIEmulator;
  /** DeepSeek: its cache hits as prompt_cache_hit_tokens. */
  let deepseek: OpenAIEmulator;
  /** Together: its cache hits as cached_tokens at the top of usage, as some of its models tell them. */
  let together: OpenAIEmulator;

  beforeAll(async () => {
    emulators = await startProviderEmulators({ cachedTokens: CACHED });
    silent = await startOpenAIEmulator({ reportUsage: false });
    partial = await startOpenAIEmulator({ reportUsage: 'prompt-only' });
    xai = await startOpenAIEmulator({ reasoningApart: true });
    deepseek = await startOpenAIEmulator({ deepseekCacheUsage: true, cachedTokens: CACHED });
    together = await startOpenAIEmulator({ togetherCacheUsage: true, cachedTokens: CACHED });
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      providers: [
        { name: 'groq', type: 'openai-compatible', catalog: 'groq', baseUrl: silent.url },
        { name: 'together', type: 'openai-compatible', catalog: 'groq', baseUrl: partial.url },
        { name: 'xai', type: 'openai-compatible', catalog: 'xai', baseUrl: xai.url },
        { name: 'deepseek', type: 'openai-compatible', catalog: 'deepseek', baseUrl: deepseek.url },
        { name: 'together-cache', type: 'openai-compatible', catalog: 'together', baseUrl: together.url },
        // Another host answering with Together's member: Fireworks, by its catalog.
        { name: 'fireworks', type: 'openai-compatible', catalog: 'fireworks', baseUrl: together.url },
      ],
    });
    await gateway.addProviderKey('deepseek', 'test-openai-key');
    await gateway.addProviderKey('groq', 'test-openai-key');
    await gateway.addProviderKey('together', 'test-openai-key');
    await gateway.addProviderKey('xai', 'test-openai-key');
    await gateway.addProviderKey('together-cache', 'test-openai-key');
    await gateway.addProviderKey('fireworks', 'test-openai-key');
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await silent?.stop();
    await partial?.stop();
    await xai?.stop();
    await deepseek?.stop();
    await together?.stop();
    await silent?.stop();
  });

  it('records the tokens each provider reported and the cost at catalog prices, by app, model and provider', async () => {
    const apiKey = await gateway.createApp({ name: 'ledger', team: 'ledger-team' });
    const expected: Array<{ provider: string; model: string; input: number; output: number; cached: number; cost: number; result: AiResult }> = [];

    const openai = await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO });
    const openaiInput = openaiPromptTokens(emulators.openai.lastRequest()!.body);
    expected.push({ provider: 'openai', model: 'gpt-4o-mini', input: openaiInput, output: openaiTokens(ANSWER), cached: CACHED, cost: priced('openai', 'gpt-4o-mini', openaiInput, openaiTokens(ANSWER), CACHED), result: openai });

    const anthropic = await gateway.chat(apiKey, { model: 'anthropic/claude-haiku-4-5-20251001', messages: HELLO });
    const anthropicInput = inputTokensFor(emulators.anthropic.lastRequest()!.body);
    expected.push({ provider: 'anthropic', model: 'claude-haiku-4-5-20251001', input: anthropicInput, output: anthropicTokens(ANSWER), cached: 0, cost: priced('anthropic', 'claude-haiku-4-5-20251001', anthropicInput, anthropicTokens(ANSWER)), result: anthropic });

    const gemini = await gateway.chat(apiKey, { model: 'gemini/gemini-2.5-flash', messages: HELLO });
    const geminiInput = geminiPromptTokens(emulators.gemini.lastRequest()!.body);
    expected.push({ provider: 'gemini', model: 'gemini-2.5-flash', input: geminiInput, output: geminiTokens(ANSWER), cached: 0, cost: priced('gemini', 'gemini-2.5-flash', geminiInput, geminiTokens(ANSWER)), result: gemini });

    const embedding = await gateway.call('POST', '/v1/embeddings', apiKey, { model: 'openai/text-embedding-3-small', input: 'some text to embed' });
    const embeddingInput = openaiTokens('some text to embed');
    expected.push({ provider: 'openai', model: 'text-embedding-3-small', input: embeddingInput, output: 0, cached: 0, cost: priced('openai', 'text-embedding-3-small', embeddingInput, 0), result: embedding });

    for (const call of expected) {
      expect(call.result.status).toBe(200);
      expect(Number(call.result.headers.get('x-keygate-cost-usd'))).toBeCloseTo(call.cost, 9);
      expect(call.cost).toBeGreaterThan(0);
    }

    const [app] = await gateway.usage({ groupBy: 'app', app: 'ledger' });
    expect(app).toMatchObject({
      app: 'ledger',
      calls: 4,
      inputTokens: expected.reduce((sum, c) => sum + c.input, 0),
      outputTokens: expected.reduce((sum, c) => sum + c.output, 0),
      cachedTokens: CACHED,
      estimatedCalls: 0,
      cacheHits: 0,
    });
    expect(app!.costUsd).toBeCloseTo(expected.reduce((sum, c) => sum + c.cost, 0), 9);

    const models = byKey(await gateway.usage({ groupBy: 'model', app: 'ledger' }), 'model');
    expect(Object.keys(models).sort()).toEqual(expected.map((c) => c.model).sort());
    for (const call of expected) {
      expect(models[call.model]).toMatchObject({ calls: 1, inputTokens: call.input, outputTokens: call.output, cachedTokens: call.cached });
      expect(models[call.model]!.costUsd).toBeCloseTo(call.cost, 9);
    }

    const providers = byKey(await gateway.usage({ groupBy: 'provider', app: 'ledger' }), 'provider');
    expect(Object.keys(providers).sort()).toEqual(['anthropic', 'gemini', 'openai']);
    expect(providers.openai).toMatchObject({ calls: 2, inputTokens: openaiInput + embeddingInput });
    expect(providers.openai!.costUsd).toBeCloseTo(expected[0]!.cost + expected[3]!.cost, 9);
  });

  it("counts as output the reasoning tokens xAI reports apart from completion_tokens, whole and streamed, and OpenAI's within it once", async () => {
    const apiKey = await gateway.createApp({ name: 'grok-ledger', team: 'ledger-team' });
    const whole = await gateway.chat(apiKey, { model: 'xai/grok-4', reasoning_effort: 'high', messages: HELLO });
    expect(whole.status).toBe(200);
    const input = openaiPromptTokens(xai.lastRequest()!.body);
    const output = openaiTokens(ANSWER) + REASONING_TOKENS;
    // The usage as xAI gives it: the reasoning beside the completion, in the total.
    expect(whole.body.usage).toMatchObject({ completion_tokens: openaiTokens(ANSWER), total_tokens: input + output, completion_tokens_details: { reasoning_tokens: REASONING_TOKENS } });
    expect(Number(whole.headers.get('x-keygate-cost-usd'))).toBeCloseTo(priced('xai', 'grok-4', input, output), 9);
    const streamed = await gateway.call<string>('POST', '/v1/chat/completions', apiKey, { model: 'xai/grok-4', reasoning_effort: 'high', stream: true, messages: HELLO });
    expect(streamed.status).toBe(200);
    const [row] = await gateway.usage({ groupBy: 'model', app: 'grok-ledger' });
    expect(row).toMatchObject({ calls: 2, inputTokens: 2 * input, outputTokens: 2 * output, estimatedCalls: 0 });
    expect(row!.costUsd).toBeCloseTo(2 * priced('xai', 'grok-4', input, output), 9);
    // OpenAI's reasoning tokens are within its completion_tokens: counted once.
    const openai = await gateway.chat(apiKey, { model: 'openai/gpt-5-mini', reasoning_effort: 'high', messages: HELLO });
    expect(openai.body.usage).toMatchObject({ completion_tokens: openaiTokens(ANSWER) + REASONING_TOKENS });
    const openaiInput = openaiPromptTokens(emulators.openai.lastRequest()!.body);
    expect(Number(openai.headers.get('x-keygate-cost-usd'))).toBeCloseTo(priced('openai', 'gpt-5-mini', openaiInput, openaiTokens(ANSWER) + REASONING_TOKENS, CACHED), 9);
  });

  it("prices DeepSeek's cache hits, told as prompt_cache_hit_tokens, at the cached rate", async () => {
    const apiKey = await gateway.createApp({ name: 'deepseek-ledger', team: 'ledger-team' });
    const result = await gateway.chat(apiKey, { model: 'deepseek/deepseek-chat', messages: HELLO });
    expect(result.body.usage).toMatchObject({ prompt_cache_hit_tokens: CACHED });
    expect(result.body.usage).not.toHaveProperty('prompt_tokens_details');
    const input = openaiPromptTokens(deepseek.lastRequest()!.body);
    expect(Number(result.headers.get('x-keygate-cost-usd'))).toBeCloseTo(priced('deepseek', 'deepseek-chat', input, openaiTokens(ANSWER), CACHED), 9);
    const [row] = await gateway.usage({ groupBy: 'model', app: 'deepseek-ledger' });
    expect(row).toMatchObject({ calls: 1, inputTokens: input, cachedTokens: CACHED });
    // Told to clients of the other formats as each tells cache reads.
    const messages = await gateway.call<{ usage: Record<string, number> }>('POST', '/v1/messages', apiKey, { model: 'deepseek/deepseek-chat', max_tokens: 64, messages: HELLO });
    expect(messages.body.usage).toMatchObject({ cache_read_input_tokens: CACHED });
    const response = await gateway.call<{ usage: { input_tokens_details: { cached_tokens: number } } }>('POST', '/v1/responses', apiKey, { model: 'deepseek/deepseek-chat', input: 'Hello there' });
    expect(response.body.usage.input_tokens_details.cached_tokens).toBe(CACHED);
  });

  it("prices Together's cache hits, told as cached_tokens at the top of usage, at the cached rate, whole and streamed", async () => {
    const apiKey = await gateway.createApp({ name: 'together-ledger', team: 'ledger-team' });
    const model = 'together-cache/moonshotai/Kimi-K2.6';
    const whole = await gateway.chat(apiKey, { model, messages: HELLO });
    expect(whole.status).toBe(200);
    const input = openaiPromptTokens(together.lastRequest()!.body);
    const cost = priced('together', 'moonshotai/Kimi-K2.6', input, openaiTokens(ANSWER), CACHED);
    expect(cost).toBeLessThan(priced('together', 'moonshotai/Kimi-K2.6', input, openaiTokens(ANSWER)));
    // Told where OpenAI's clients read them, Together's own member kept.
    expect(whole.body.usage).toMatchObject({ cached_tokens: CACHED, prompt_tokens_details: { cached_tokens: CACHED } });
    expect(Number(whole.headers.get('x-keygate-cost-usd'))).toBeCloseTo(cost, 9);
    const streamed = await gateway.chat(apiKey, { model, stream: true, stream_options: { include_usage: true }, messages: HELLO });
    expect(streamed.status).toBe(200);
    const told = streamed.text.split('\n\n').filter((event) => event.startsWith('data: {')).map((event) => JSON.parse(event.slice(6)) as { usage?: unknown }).filter((chunk) => chunk.usage != null);
    expect(told).toEqual([expect.objectContaining({ usage: expect.objectContaining({ prompt_tokens_details: { cached_tokens: CACHED } }) })]);
    const [row] = await gateway.usage({ groupBy: 'model', app: 'together-ledger' });
    expect(row).toMatchObject({ calls: 2, inputTokens: 2 * input, cachedTokens: 2 * CACHED, estimatedCalls: 0 });
    expect(row!.costUsd).toBeCloseTo(2 * cost, 9);
  });

  it("reads no cache hits from another host's usage that has a cached_tokens member at its top, Together's alone", async () => {
    const apiKey = await gateway.createApp({ name: 'fireworks-ledger', team: 'ledger-team' });
    const model = 'accounts/fireworks/models/kimi-k2p6';
    const whole = await gateway.chat(apiKey, { model: `fireworks/${model}`, messages: HELLO });
    expect(whole.status).toBe(200);
    expect(whole.body.usage).toMatchObject({ cached_tokens: CACHED });
    expect(whole.body.usage).not.toHaveProperty('prompt_tokens_details');
    const input = openaiPromptTokens(together.lastRequest()!.body);
    expect(Number(whole.headers.get('x-keygate-cost-usd'))).toBeCloseTo(priced('fireworks', model, input, openaiTokens(ANSWER)), 9);
    expect(await gateway.chat(apiKey, { model: `fireworks/${model}`, stream: true, messages: HELLO })).toMatchObject({ status: 200 });
    const [row] = await gateway.usage({ groupBy: 'model', app: 'fireworks-ledger' });
    expect(row).toMatchObject({ calls: 2, inputTokens: 2 * input, cachedTokens: 0 });
    expect(row!.costUsd).toBeCloseTo(2 * priced('fireworks', model, input, openaiTokens(ANSWER)), 9);
  });

  it('prices a model named in a form the catalog does not list (a dated snapshot, an undated alias) as its listed form, not at nothing', async () => {
    const apiKey = await gateway.createApp({ name: 'aliased', team: 'ledger-team' });
    const snapshot = await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini-2024-07-18', messages: HELLO });
    const input = openaiPromptTokens(emulators.openai.lastRequest()!.body);
    expect(snapshot.status).toBe(200);
    expect(Number(snapshot.headers.get('x-keygate-cost-usd'))).toBeCloseTo(priced('openai', 'gpt-4o-mini', input, openaiTokens(ANSWER), CACHED), 9);
    const alias = await gateway.chat(apiKey, { model: 'anthropic/claude-sonnet-4-5', messages: HELLO });
    const anthropicInput = inputTokensFor(emulators.anthropic.lastRequest()!.body);
    expect(Number(alias.headers.get('x-keygate-cost-usd'))).toBeCloseTo(priced('anthropic', 'claude-sonnet-4-5-20250929', anthropicInput, anthropicTokens(ANSWER)), 9);
    expect(Number(alias.headers.get('x-keygate-cost-usd'))).toBeGreaterThan(0);
  });

  it('answers usage per team, per route and per period, with the time to first token of streams', async () => {
    const writer = await gateway.createApp({ name: 'writer', team: 'period-team' });
    const reader = await gateway.createApp({ name: 'reader', team: 'period-team' });
    const before = new Date(Date.now() - 1).toISOString();
    expect((await gateway.chat(writer, { model: 'openai/gpt-4o-mini', messages: HELLO })).status).toBe(200);
    expect((await gateway.chat(reader, { model: 'openai/gpt-4o-mini', stream: true, messages: HELLO })).status).toBe(200);
    expect((await gateway.chat(reader, { model: 'gemini/gemini-2.5-flash', messages: HELLO })).status).toBe(200);
    const after = new Date(Date.now() + 1).toISOString();

    const [team] = await gateway.usage({ groupBy: 'team', team: 'period-team' });
    expect(team).toMatchObject({ team: 'period-team', calls: 3, failedCalls: 0 });
    const apps = byKey(await gateway.usage({ groupBy: 'app', team: 'period-team' }), 'app');
    expect(Object.keys(apps).sort()).toEqual(['reader', 'writer']);
    expect(apps.reader!.costUsd + apps.writer!.costUsd).toBeCloseTo(team!.costUsd, 9);
    expect(await gateway.usage({ groupBy: 'route', team: 'period-team' })).toEqual([expect.objectContaining({ route: 'ai', calls: 3 })]);

    // Only the stream has a time to first token; a non-streamed answer has none.
    expect(apps.writer!.avgTtftMs).toBeNull();
    expect(apps.reader!.avgTtftMs).toEqual(expect.any(Number));

    expect(await gateway.usage({ groupBy: 'team', team: 'period-team', from: before, to: after })).toEqual([expect.objectContaining({ calls: 3 })]);
    expect(await gateway.usage({ groupBy: 'team', team: 'period-team', from: after })).toEqual([]);
    expect(await gateway.usage({ groupBy: 'team', team: 'period-team', to: before })).toEqual([]);
  });

  it('refuses a usage query it cannot read with 400 invalid_request: a date-time Date.parse cannot read, a NUL character', async () => {
    for (const query of ['from=2025-01-01T00:00:00%2B05', 'to=2026-12-31T23:59:60Z', 'model=gpt%00', 'app=edge%00x']) {
      const refused = await gateway.admin<{ error: { code: string; message: string } }>(400, 'GET', `/ai/usage?${query}`);
      expect(refused.error.code).toBe('invalid_request');
    }
    for (const [method, path, body] of [['GET', '/ai/providers/a%00/keys'], ['PUT', '/teams/t%00', { name: 't\u0000' }], ['POST', '/ai/providers/openai/keys', { secret: 'sk-\u0000abcdefghijklmnop' }]] as const) {
      const refused = await gateway.admin<{ error: { code: string; message: string } }>(400, method, path, body);
      expect(refused.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('NUL character') });
      // A secret is not echoed.
      expect(refused.error.message).not.toContain('abcdefghijklmnop');
    }
  });

  it('answers an empty app filter with the records of no app (a route without auth), not with every record', async () => {
    const refused = await gateway.chat('kg_key_not-a-key', { model: 'openai/gpt-4o-mini', messages: HELLO });
    expect(refused.status).toBe(401);
    const all = await gateway.usage({ groupBy: 'app' });
    const none = await gateway.usage({ groupBy: 'app', app: '' });
    expect(none.every((row) => row.app === null)).toBe(true);
    expect(none.reduce((sum, row) => sum + row.calls, 0)).toBe(all.filter((row) => row.app === null).reduce((sum, row) => sum + row.calls, 0));
    expect(all.some((row) => row.app !== null)).toBe(true);
  });

  it('records the usage of a stream from the provider\'s final counts', async () => {
    const apiKey = await gateway.createApp({ name: 'streamer', team: 'ledger-team' });
    const result = await gateway.chat(apiKey, { model: 'anthropic/claude-haiku-4-5-20251001', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    const input = inputTokensFor(emulators.anthropic.lastRequest()!.body);
    const [row] = await gateway.usage({ groupBy: 'app', app: 'streamer' });
    expect(row).toMatchObject({ calls: 1, inputTokens: input, outputTokens: anthropicTokens(ANSWER), estimatedCalls: 0 });
    expect(row!.costUsd).toBeCloseTo(priced('anthropic', 'claude-haiku-4-5-20251001', input, anthropicTokens(ANSWER)), 9);
  });

  it('records every call that fails too, with its status, the model asked for or the target tried, and no tokens or cost', async () => {
    const apiKey = await gateway.createApp({ name: 'failing', team: 'failing-team', budget: { dailyUsd: 0.000002 } });
    const statuses: number[] = [];
    const call = async (path: string, body: unknown) => statuses.push((await gateway.call('POST', path, apiKey, body)).status);
    await call('/v1/chat/completions', '{"model": "openai/gpt-4o-mini",');
    await call('/v1/chat/completions', { model: 'no-such-model', messages: HELLO });
    await call('/v1/chat/completions', { model: `x${'y'.repeat(300)}`, messages: HELLO });
    await call('/v1/chat/completions', { model: 'nul\u0000model', messages: HELLO });
    emulators.openai.setMode('server-error');
    try {
      await call('/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages: HELLO });
      await call('/v1/embeddings', { model: 'openai/text-embedding-3-small', input: 'text' });
    } finally {
      emulators.openai.setMode('normal');
    }
    await call('/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages: HELLO });
    await call('/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages: HELLO });
    expect(statuses).toEqual([400, 404, 404, 404, 502, 502, 200, 429]);

    const byStatus = byKey(await gateway.usage({ app: 'failing', groupBy: 'status' }), 'status');
    expect(Object.keys(byStatus).sort()).toEqual(['200', '400', '404', '429', '502']);
    for (const status of ['400', '404', '429', '502']) {
      expect(byStatus[status]).toMatchObject({ failedCalls: byStatus[status]!.calls, inputTokens: 0, outputTokens: 0, costUsd: 0 });
    }
    // One record a call, no more.
    expect(Object.values(byStatus).reduce((sum, row) => sum + row.calls, 0)).toBe(statuses.length);
    expect(byStatus['404']!.calls).toBe(3);
    expect(byStatus['502']!.calls).toBe(2);
    expect(byStatus['200']).toMatchObject({ calls: 1, failedCalls: 0 });
    const byModel = byKey(await gateway.usage({ app: 'failing', groupBy: 'model' }), 'model');
    // The name asked for (cut to the column's 200 characters, without NUL) until a target is tried, then the target's.
    expect(Object.keys(byModel).sort()).toEqual(['', 'gpt-4o-mini', 'no-such-model', 'nulmodel', 'openai/gpt-4o-mini', 'text-embedding-3-small', `x${'y'.repeat(199)}`]);
    expect(byModel['openai/gpt-4o-mini']).toMatchObject({ calls: 1, failedCalls: 1 });
    expect(byKey(await gateway.usage({ app: 'failing', groupBy: 'provider' }), 'provider').openai).toMatchObject({ calls: 3, failedCalls: 2 });
  });

  it('answers every call with its own x-request-id, echoing one the client sent', async () => {
    const apiKey = await gateway.createApp({ name: 'traced', team: 'ledger-team' });
    const first = await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO });
    const second = await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO });
    const failed = await gateway.chat(apiKey, { model: 'openai/no-such-model', messages: HELLO });
    const ids = [first, second, failed].map((r) => r.headers.get('x-request-id'));
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(3);

    const response = await fetch(`${gateway.proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'x-request-id': 'client-chosen-id' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: HELLO }),
    });
    expect(response.headers.get('x-request-id')).toBe('client-chosen-id');
  });

  it('sends the cost of a stream as a trailer once the provider reported its usage', async () => {
    const apiKey = await gateway.createApp({ name: 'trailing', team: 'ledger-team' });
    const url = new URL(`${gateway.proxyUrl}/v1/chat/completions`);
    const { headers, trailers } = await new Promise<{ headers: Record<string, unknown>; trailers: Record<string, string | undefined> }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ headers: res.headers, trailers: res.trailers }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: HELLO }));
    });
    expect(headers['x-request-id']).toBeTruthy();
    const input = openaiPromptTokens(emulators.openai.lastRequest()!.body);
    expect(Number(trailers['x-keygate-cost-usd'])).toBeCloseTo(priced('openai', 'gpt-4o-mini', input, openaiTokens(ANSWER), CACHED), 9);
  });

  it('streams to an HTTP/1.0 client, which cannot take trailers, without them, and records the call', async () => {
    const apiKey = await gateway.createApp({ name: 'old-client', team: 'ledger-team' });
    const url = new URL(gateway.proxyUrl);
    const body = JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: HELLO });
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        // Written, not ended: a client that half-closes has left, as far as the server is concerned.
        socket.write(`POST /v1/chat/completions HTTP/1.0\r\nHost: ${url.host}\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const [head, stream] = raw.split('\r\n\r\n', 2) as [string, string];
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.toLowerCase()).not.toContain('transfer-encoding');
    expect(head.toLowerCase()).not.toContain('trailer');
    expect(stream).toContain('data: [DONE]');
    const [row] = await gateway.usage({ groupBy: 'status', app: 'old-client' });
    expect(row).toMatchObject({ status: 200, calls: 1 });
    expect(row!.costUsd).toBeGreaterThan(0);
  });

  it.each([
    ['reports no usage', 'groq', 'estimated'],
    ['reports usage without completion_tokens', 'together', 'half-reported'],
  ])("records a call to a provider that %s as estimated, from the gateway's own token count, and goes on recording", async (_what, provider, app) => {
    const apiKey = await gateway.createApp({ name: app, team: 'ledger-team', budget: { dailyUsd: 100 } });
    const model = 'qwen/qwen3-32b';
    const plain = await gateway.chat<{ usage: { prompt_tokens: number; completion_tokens: number } }>(apiKey, { model: `${provider}/${model}`, messages: HELLO });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-keygate-usage-estimated')).toBe('true');
    const input = estimatePromptTokens(HELLO);
    const output = estimateTokens(ANSWER);
    expect(plain.body.usage).toMatchObject({ prompt_tokens: input, completion_tokens: output });
    expect(Number(plain.headers.get('x-keygate-cost-usd'))).toBeCloseTo(priced('groq', model, input, output), 9);
    const streamed = await gateway.chat(apiKey, { model: `${provider}/${model}`, stream: true, stream_options: { include_usage: true }, messages: HELLO });
    expect(streamed.status).toBe(200);
    // The client asked for usage: it gets a usage chunk, the provider's or else the gateway's estimate, before [DONE].
    const data = streamed.text.split('\n\n').filter((event) => event.startsWith('data: ')).map((event) => event.slice(6));
    expect(data.at(-1)).toBe('[DONE]');
    const usageChunk = JSON.parse(data.at(-2)!) as { object: string; choices: unknown[]; usage: { prompt_tokens: number; completion_tokens: number } };
    expect(usageChunk).toMatchObject({ object: 'chat.completion.chunk', choices: [] });
    if (provider === 'groq') expect(usageChunk.usage).toMatchObject({ prompt_tokens: input, completion_tokens: output });
    expect(data.slice(0, -1).filter((event) => (JSON.parse(event) as { usage?: unknown }).usage)).toHaveLength(1);
    // A call after them, to a provider that reports in full, is recorded too: the batch they were in was written.
    expect((await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO })).status).toBe(200);

    const rows = byKey(await gateway.usage({ groupBy: 'provider', app }), 'provider');
    expect(rows[provider]).toMatchObject({ calls: 2, inputTokens: 2 * input, outputTokens: 2 * output, estimatedCalls: 2 });
    expect(rows[provider]!.costUsd).toBeCloseTo(2 * priced('groq', model, input, output), 9);
    expect(rows.openai).toMatchObject({ calls: 1, estimatedCalls: 0 });
  });

  it("counts a refusal's words as the answer's tokens when the provider reports no usage, streamed or not", async () => {
    const apiKey = await gateway.createApp({ name: 'refused', team: 'ledger-team' });
    const body = { model: 'groq/qwen/qwen3-32b', max_tokens: 64, messages: HELLO };
    // The gateway counts with the tokenizer: so does the test.
    await loadTokenizer();
    const output = estimateTokens(REFUSAL);
    silent.setMode('refuses');
    try {
      const plain = await gateway.call<{ stop_reason: string; usage: { output_tokens: number } }>('POST', '/v1/messages', apiKey, body);
      expect(plain.body).toMatchObject({ stop_reason: 'refusal', usage: { output_tokens: output } });
      const streamed = await gateway.call('POST', '/v1/messages', apiKey, { ...body, stream: true });
      expect(streamed.text).toContain(`"usage":{"input_tokens":${estimatePromptTokens(HELLO)},"output_tokens":${output}`);
    } finally {
      silent.setMode('normal');
    }
    const [row] = await gateway.usage({ groupBy: 'provider', app: 'refused' });
    expect(row).toMatchObject({ calls: 2, outputTokens: 2 * output, estimatedCalls: 2 });
  });
});

describe('prompt-cache writes', () => {
  const WRITES = { fiveMinute: 1_000, oneHour: 500 };
  const READ = 200;
  const MODEL = 'claude-sonnet-4-6';
  let gateway: AiGateway;
  let anthropic: Awaited<ReturnType<typeof startAnthropicEmulator>>;
  let apiKey: string;

  beforeAll(async () => {
    anthropic = await startAnthropicEmulator({ cacheReadInputTokens: READ, cacheCreation: WRITES });
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'anthropic', type: 'anthropic', baseUrl: anthropic.url }] });
    await gateway.addProviderKey('anthropic', 'test-anthropic-key');
    apiKey = await gateway.createApp({ name: 'cacher', team: 'cache-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await anthropic?.stop();
  });

  /** The price of a call whose prompt held `plain` uncached tokens besides the cache read and the writes. */
  const cost = (plain: number, output: number) => {
    const { inputPerMillion, cachedInputPerMillion, outputPerMillion } = CATALOG.lookup('anthropic', MODEL)!;
    return (plain * inputPerMillion + READ * cachedInputPerMillion! + (WRITES.fiveMinute * 1.25 + WRITES.oneHour * 2) * inputPerMillion + output * outputPerMillion) / 1e6;
  };

  it("answers, and records, a call whose provider reports a cache write count that is no token count, priced without it", async () => {
    const odd = await startAnthropicEmulator({ cacheCreation: { fiveMinute: 1_005, oneHour: -5 } });
    try {
      await gateway.configure({ providers: [{ name: 'anthropic', type: 'anthropic', baseUrl: anthropic.url }, { name: 'odd', type: 'anthropic', baseUrl: odd.url }] });
      await gateway.addProviderKey('odd', 'test-anthropic-key');
      const oddKey = await gateway.createApp({ name: 'odd-cacher', team: 'cache-team' });
      const result = await gateway.chat(oddKey, { model: `odd/${MODEL}`, messages: HELLO });
      expect(result.status).toBe(200);
      expect(Number(result.headers.get('x-keygate-cost-usd'))).toBeGreaterThan(0);
      const [row] = await gateway.usage({ groupBy: 'provider', app: 'odd-cacher' });
      expect(row).toMatchObject({ provider: 'odd', calls: 1 });
      expect(row!.costUsd).toBeCloseTo(Number(result.headers.get('x-keygate-cost-usd')), 9);
    } finally {
      await odd.stop();
    }
  });

  it('prices them at 1.25× (5 minutes) and 2× (1 hour) the input price, in the header and the ledger', async () => {
    const result = await gateway.chat<{ usage: { prompt_tokens: number; completion_tokens: number } }>(apiKey, { model: `anthropic/${MODEL}`, messages: HELLO });
    expect(result.status).toBe(200);
    const plain = inputTokensFor(anthropic.lastRequest()!.body);
    const output = anthropicTokens(ANSWER);
    expect(result.body.usage).toMatchObject({ prompt_tokens: plain + READ + WRITES.fiveMinute + WRITES.oneHour, completion_tokens: output });
    expect(Number(result.headers.get('x-keygate-cost-usd'))).toBeCloseTo(cost(plain, output), 9);
    const rows = byKey(await gateway.usage({ groupBy: 'app', app: 'cacher' }), 'app');
    expect(rows.cacher!.costUsd).toBeCloseTo(cost(plain, output), 9);
  });

  it('reports them to a Messages API client as cache_creation_input_tokens, streamed and not', async () => {
    const body = { model: `anthropic/${MODEL}`, max_tokens: 64, messages: HELLO };
    const answer = await gateway.call<{ usage: Record<string, number> }>('POST', '/v1/messages', apiKey, body);
    const plain = inputTokensFor(anthropic.lastRequest()!.body);
    const usage = { input_tokens: plain, cache_read_input_tokens: READ, cache_creation_input_tokens: WRITES.fiveMinute + WRITES.oneHour };
    expect(answer.body.usage).toMatchObject(usage);
    const streamed = await gateway.call('POST', '/v1/messages', apiKey, { ...body, stream: true });
    const events = streamed.text.split('\n\n').filter((event) => event.includes('data: ')).map((event) => JSON.parse(event.slice(event.indexOf('data: ') + 6)) as { type: string; message?: { usage: unknown }; usage?: unknown });
    expect(events.find((event) => event.type === 'message_start')!.message!.usage).toMatchObject(usage);
    expect(events.find((event) => event.type === 'message_delta')!.usage).toMatchObject(usage);
  });

  it("tells a Messages API client the writes by the lifetime of their entries (cache_creation), as Anthropic reported them, streamed and not", async () => {
    const body = { model: `anthropic/${MODEL}`, max_tokens: 64, messages: HELLO };
    const byLifetime = { cache_creation: { ephemeral_5m_input_tokens: WRITES.fiveMinute, ephemeral_1h_input_tokens: WRITES.oneHour } };
    const answer = await gateway.call<{ usage: Record<string, unknown> }>('POST', '/v1/messages', apiKey, body);
    expect(answer.body.usage).toMatchObject(byLifetime);
    const streamed = await gateway.call('POST', '/v1/messages', apiKey, { ...body, stream: true });
    const events = streamed.text.split('\n\n').filter((event) => event.includes('data: ')).map((event) => JSON.parse(event.slice(event.indexOf('data: ') + 6)) as { type: string; message?: { usage: unknown }; usage?: unknown });
    expect(events.find((event) => event.type === 'message_start')!.message!.usage).toMatchObject(byLifetime);
    expect(events.find((event) => event.type === 'message_delta')!.usage).toMatchObject(byLifetime);
  });
});

/**
 * Gemini embeds at most 100 inputs a call: a larger request goes in parts, one after another. A part that fails
 * fails the request, but Gemini did, and bills, the parts before it; it reports no usage for embeddings, so the
 * gateway counts their tokens (an estimate, and marked so).
 */
describe('an embeddings request sent to Gemini in parts whose later part fails', () => {
  const MODEL = 'gemini-embedding-2';
  /** 250 inputs: parts of 100, 100 and 50. */
  const INPUT = Array.from({ length: 250 }, (_, i) => `sentence number ${i} to embed`);
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  /** The tokens of the two parts Gemini answers before the third fails, as the gateway's tokenizer counts them. */
  let answeredTokens: number;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'gemini', type: 'gemini', baseUrl: emulators.gemini.url },
        { name: 'openai', type: 'openai', baseUrl: emulators.openai.url },
      ],
      aliases: [{ name: 'embed', targets: [{ provider: 'gemini', model: MODEL }], fallbacks: [{ provider: 'openai', model: 'text-embedding-3-small' }] }],
    });
    await gateway.addProviderKey('gemini', PROVIDER_SECRETS.gemini);
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    await loadTokenizer();
    answeredTokens = INPUT.slice(0, 200).reduce((sum, text) => sum + estimateTokens(text), 0);
  });
  afterEach(() => emulators.gemini.setMode('normal'));
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it('records, on the failed call, the estimated tokens and the cost of the parts Gemini answered, which budgets count', async () => {
    const apiKey = await gateway.createApp({ name: 'parts-failed', team: 'parts-failed-team' });
    const before = emulators.gemini.requests().length;
    emulators.gemini.setMode('server-error', 2);
    const failed = await gateway.call('POST', '/v1/embeddings', apiKey, { model: `gemini/${MODEL}`, input: INPUT });
    expect(failed.status).toBe(502);
    expect(emulators.gemini.requests().length - before).toBe(3);

    const cost = priced('gemini', MODEL, answeredTokens, 0);
    expect(cost).toBeGreaterThan(0);
    const [row] = await gateway.usage({ groupBy: 'provider', app: 'parts-failed' });
    expect(row).toMatchObject({ provider: 'gemini', calls: 1, failedCalls: 1, inputTokens: answeredTokens, outputTokens: 0, estimatedCalls: 1 });
    expect(row!.costUsd).toBeCloseTo(cost, 9);

    // A team budget below what the parts cost: spent, so the next call is refused before any provider is called.
    emulators.gemini.setMode('normal');
    await gateway.admin(200, 'PUT', '/teams/parts-failed-team', { name: 'parts-failed-team', budget: { dailyUsd: cost / 2 } });
    const refused = await gateway.call<OpenAIErrorBody>('POST', '/v1/embeddings', apiKey, { model: `gemini/${MODEL}`, input: 'one more' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'budget_exceeded', message: expect.stringContaining('team "parts-failed-team" has spent its daily budget') });
  });

  it('records both the parts Gemini answered and the fallback that served the request, each once', async () => {
    const apiKey = await gateway.createApp({ name: 'parts-fell-back', team: 'parts-fell-back-team' });
    emulators.gemini.setMode('server-error', 2);
    const served = await gateway.call<{ data: unknown[]; usage: { prompt_tokens: number } }>('POST', '/v1/embeddings', apiKey, { model: 'embed', input: INPUT });
    expect(served.status).toBe(200);
    expect(served.headers.get('x-keygate-provider')).toBe('openai');
    expect(served.body.data).toHaveLength(INPUT.length);

    const rows = byKey(await gateway.usage({ groupBy: 'provider', app: 'parts-fell-back' }), 'provider');
    expect(Object.keys(rows).sort()).toEqual(['gemini', 'openai']);
    expect(rows.gemini).toMatchObject({ calls: 1, failedCalls: 1, inputTokens: answeredTokens, estimatedCalls: 1 });
    expect(rows.gemini!.costUsd).toBeCloseTo(priced('gemini', MODEL, answeredTokens, 0), 9);
    const openaiTokens = served.body.usage.prompt_tokens;
    expect(rows.openai).toMatchObject({ calls: 1, failedCalls: 0, inputTokens: openaiTokens, estimatedCalls: 0 });
    expect(rows.openai!.costUsd).toBeCloseTo(priced('openai', 'text-embedding-3-small', openaiTokens, 0), 9);
    expect(Number(served.headers.get('x-keygate-cost-usd'))).toBeCloseTo(rows.openai!.costUsd, 9);
  });
});
