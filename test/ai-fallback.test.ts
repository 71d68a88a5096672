import { spawn } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AiGateway, PROVIDER_SECRETS, startProviderEmulators, type OpenAIErrorBody, type ProviderEmulators } from './ai-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];

describe('fallback between an alias\'s targets', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  /** An OpenAI account whose 429s ask for a wait short enough to be waited out. */
  let briefly: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    briefly = await startOpenAIEmulator({ retryAfterSeconds: 1 });
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'openai', type: 'openai', baseUrl: emulators.openai.url },
        { name: 'briefly', type: 'openai', baseUrl: briefly.url },
        { name: 'anthropic', type: 'anthropic', baseUrl: emulators.anthropic.url },
        { name: 'gemini', type: 'gemini', baseUrl: emulators.gemini.url },
        // No baseUrl: the gateway cannot make a call to it, and says so before any request.
        { name: 'vllm', type: 'openai-compatible' },
      ],
      aliases: [
        { name: 'unset-first', targets: [{ provider: 'vllm', model: 'm' }], fallbacks: [{ provider: 'anthropic', model: 'claude-haiku-4-5-20251001' }] },
        { name: 'resilient', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'anthropic', model: 'claude-haiku-4-5-20251001' }] },
        { name: 'claude-first', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5-20251001' }], fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'patient', targets: [{ provider: 'briefly', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'shared', targets: [{ provider: 'openai', model: 'gpt-4o-mini', weight: 1 }, { provider: 'gemini', model: 'gemini-2.5-flash', weight: 1 }] },
        { name: 'skewed', targets: [{ provider: 'openai', model: 'gpt-4o', weight: 3 }, { provider: 'gemini', model: 'gemini-2.5-pro', weight: 1 }] },
        { name: 'skewed-back', targets: [{ provider: 'openai', model: 'gpt-4o', weight: 1 }, { provider: 'gemini', model: 'gemini-2.5-pro', weight: 3 }] },
        // The emulators answer 404, model not found, to `no-such-model`: a model retired since the alias was written.
        { name: 'retired-first', targets: [{ provider: 'openai', model: 'no-such-model' }], fallbacks: [{ provider: 'anthropic', model: 'claude-haiku-4-5-20251001' }] },
        { name: 'all-retired', targets: [{ provider: 'openai', model: 'no-such-model' }], fallbacks: [{ provider: 'gemini', model: 'no-such-model' }] },
      ],
      // These tests make the same targets fail again and again, each expecting them tried: the circuit breaker,
      // which would skip them, has tests of its own (ai-circuit-breaker.test.ts).
      circuitBreaker: { failures: 0 },
    });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('briefly', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('anthropic', PROVIDER_SECRETS.anthropic);
    await gateway.addProviderKey('gemini', PROVIDER_SECRETS.gemini);
    await gateway.addProviderKey('vllm', 'vllm-key');
    apiKey = await gateway.createApp({ name: 'fallback-app', team: 'fallback-team' });
  });
  afterEach(() => {
    emulators.openai.setMode('normal');
    briefly.setMode('normal');
    emulators.anthropic.setMode('normal');
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await briefly?.stop();
  });

  it('moves on from a target that cannot give what the request asks (log probabilities from Claude) to one that can', async () => {
    const anthropicBefore = emulators.anthropic.lastRequest();
    const result = await gateway.chat(apiKey, { model: 'claude-first', messages: HELLO, logprobs: true });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('openai');
    expect(emulators.openai.lastRequest()!.body).toMatchObject({ logprobs: true });
    // Claude was not called: the adapter refused the request before it went out.
    expect(emulators.anthropic.lastRequest()).toBe(anthropicBefore);
  });

  it('moves on from a target that answers with one choice to one that gives the two asked for (n: 2)', async () => {
    const anthropicBefore = emulators.anthropic.lastRequest();
    const result = await gateway.chat<{ choices: unknown[] }>(apiKey, { model: 'claude-first', messages: HELLO, n: 2 });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('openai');
    expect(result.body.choices).toHaveLength(2);
    expect(emulators.anthropic.lastRequest()).toBe(anthropicBefore);
  });

  it("answers the last target's refusal when no target of the alias can serve the request", async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'anthropic/claude-haiku-4-5-20251001', messages: HELLO, n: 2 });
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param: 'n' });
  });

  it('answers from the fallback when the first target answers 500', async () => {
    emulators.openai.setMode('server-error');
    const before = emulators.openai.requests().length;
    const result = await gateway.chat(apiKey, { model: 'resilient', messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('anthropic');
    expect(result.body).toMatchObject({ choices: [{ message: { content: 'Echo: Hello there' } }] });
    expect(emulators.openai.requests().length).toBe(before + 1);
  });

  it('answers from the fallback at once when the first target answers 429 with a long Retry-After', async () => {
    emulators.openai.setMode('rate-limited');
    const started = Date.now();
    const result = await gateway.chat(apiKey, { model: 'resilient', messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('anthropic');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('waits out a short Retry-After once on the same target, then falls back', async () => {
    briefly.setMode('rate-limited');
    const before = briefly.requests().length;
    const started = Date.now();
    const result = await gateway.chat(apiKey, { model: 'patient', messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('gemini');
    expect(briefly.requests().length).toBe(before + 2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('stops waiting out a Retry-After when the client leaves, and neither retries nor falls back', async () => {
    briefly.setMode('rate-limited');
    const leaver = await gateway.createApp({ name: 'impatient-app', team: 'fallback-team' });
    const before = briefly.requests().length;
    const geminiBefore = emulators.gemini.lastRequest();
    const req = request(`${gateway.proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${leaver}`, 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ model: 'patient', messages: HELLO }));
    // The first try got its 429 (asking for 1 s): the gateway is waiting it out when the client goes.
    await vi.waitFor(() => expect(briefly.requests().length).toBe(before + 1), { interval: 5 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
    const row = await vi.waitFor(async () => {
      const [left] = await gateway.usage({ app: 'impatient-app', groupBy: 'status' });
      expect(left).toMatchObject({ status: 499, calls: 1 });
      return left!;
    }, { timeout: 5_000, interval: 20 });
    // Recorded when the client went, not once the second's wait was over.
    expect(row.avgLatencyMs).toBeLessThan(1_000);
    expect(briefly.requests().length).toBe(before + 1);
    expect(emulators.gemini.lastRequest()).toBe(geminiBefore);
  });

  it('falls back before the first byte of a stream when the first target answers 500', async () => {
    emulators.openai.setMode('server-error');
    const result = await gateway.chat(apiKey, { model: 'resilient', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('anthropic');
    const chunks = result.text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices: Array<{ delta: { content?: string } }> });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: Hello there');
    expect(result.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('keeps answering through an alias whose targets share by weight while one of them fails', async () => {
    emulators.openai.setMode('server-error');
    for (let i = 0; i < 4; i++) {
      const result = await gateway.chat(apiKey, { model: 'shared', messages: HELLO });
      expect(result.status).toBe(200);
      expect(result.headers.get('x-keygate-provider')).toBe('gemini');
    }
  });

  it('shares calls between an alias\'s healthy targets by weight', async () => {
    const providers = new Set<string | null>();
    for (let i = 0; i < 4; i++) providers.add((await gateway.chat(apiKey, { model: 'shared', messages: HELLO })).headers.get('x-keygate-provider'));
    expect(providers).toEqual(new Set(['openai', 'gemini']));
  });

  it('shares calls by the targets\' weights, 3 to 1, spread out rather than in runs', async () => {
    const order: Array<string | null> = [];
    for (let i = 0; i < 8; i++) order.push((await gateway.chat(apiKey, { model: 'skewed', messages: HELLO })).headers.get('x-keygate-provider'));
    expect(order.filter((p) => p === 'openai')).toHaveLength(6);
    expect(order.filter((p) => p === 'gemini')).toHaveLength(2);
    // Smooth weighted round robin spreads the lighter target out: once in each half of the eight calls.
    expect(order.slice(0, 4).filter((p) => p === 'gemini')).toHaveLength(1);
  });

  it("keeps each alias's own weights when two aliases share the same provider models, called in turn", async () => {
    const skewed: Array<string | null> = [];
    const back: Array<string | null> = [];
    for (let i = 0; i < 8; i++) {
      skewed.push((await gateway.chat(apiKey, { model: 'skewed', messages: HELLO })).headers.get('x-keygate-provider'));
      back.push((await gateway.chat(apiKey, { model: 'skewed-back', messages: HELLO })).headers.get('x-keygate-provider'));
    }
    expect(skewed.filter((p) => p === 'openai')).toHaveLength(6);
    expect(back.filter((p) => p === 'gemini')).toHaveLength(6);
  });

  it("falls back from an alias's target whose provider says its model does not exist (404), streamed or not", async () => {
    for (const stream of [false, true]) {
      const result = await gateway.chat(apiKey, { model: 'retired-first', stream, messages: HELLO });
      expect(result.status).toBe(200);
      expect(result.headers.get('x-keygate-provider')).toBe('anthropic');
    }
  });

  it('answers 502 provider_model_not_found, naming the alias to correct, when every target says its model does not exist', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'all-retired', messages: HELLO });
    expect(result.status).toBe(502);
    expect(result.body.error).toMatchObject({ type: 'api_error', code: 'provider_model_not_found' });
    expect(result.body.error.message).toMatch(/the alias `all-retired`.*an administrator must correct the alias/);
  });

  it('names in x-keygate-attempts the targets tried, each with its status, when a fallback answers, streamed or not', async () => {
    emulators.openai.setMode('server-error');
    for (const stream of [false, true]) {
      const result = await gateway.chat(apiKey, { model: 'resilient', stream, messages: HELLO });
      expect(result.status).toBe(200);
      expect(result.headers.get('x-keygate-attempts')).toBe('"openai/gpt-4o-mini";status=500, "anthropic/claude-haiku-4-5-20251001";status=200');
    }
  });

  it('names in x-keygate-attempts a target the gateway could not call with 502, the status its client alone is answered', async () => {
    for (const stream of [false, true]) {
      const alone = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'vllm/m', stream, messages: HELLO });
      expect(alone.status).toBe(502);
      const result = await gateway.chat(apiKey, { model: 'unset-first', stream, messages: HELLO });
      expect(result.status).toBe(200);
      expect(result.headers.get('x-keygate-attempts')).toBe('"vllm/m";status=502, "anthropic/claude-haiku-4-5-20251001";status=200');
    }
  });

  it('names in x-keygate-attempts every target tried when none answered', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'all-retired', messages: HELLO });
    expect(result.status).toBe(502);
    expect(result.headers.get('x-keygate-attempts')).toBe('"openai/no-such-model";status=404, "gemini/no-such-model";status=404');
  });

  it('sends no x-keygate-attempts when the first target answers', async () => {
    const result = await gateway.chat(apiKey, { model: 'resilient', messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-attempts')).toBeNull();
  });

  it("answers 404 model_not_found, as the provider did, to a caller that named the provider's model itself", async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'openai/no-such-model', messages: HELLO });
    expect(result.status).toBe(404);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found' });
  });

  it('does not fall back on a 400 from the provider, which keeps its meaning in OpenAI\'s shape', async () => {
    const anthropicBefore = emulators.anthropic.lastRequest();
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'resilient', max_tokens: 100_000, messages: HELLO });
    expect(result.status).toBe(400);
    expect(Object.keys(result.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value' });
    expect(result.body.error.message).toMatch(/max_tokens is too large/);
    expect(emulators.anthropic.lastRequest()).toBe(anthropicBefore);
  });

  it("falls back when the first target's stream fails after its 200 head, before the model said anything (Anthropic overloaded)", async () => {
    emulators.anthropic.setMode('stream-overloaded');
    const result = await gateway.chat(apiKey, { model: 'claude-first', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('openai');
    expect(result.text).not.toContain('provider_stream_error');
    expect(result.text).toContain('data: [DONE]');
    // The only target: an error the client's SDK can retry, not a 200 that breaks off; overloaded, as the provider said.
    const alone = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'anthropic/claude-haiku-4-5-20251001', stream: true, messages: HELLO });
    expect(alone.status).toBe(503);
    expect(alone.body.error).toMatchObject({ type: 'api_error', code: 'overloaded_error', message: 'the provider is overloaded or unavailable: Overloaded' });
  });

  it("falls back when the first target's OpenAI-format stream reports an error before the model said anything", async () => {
    emulators.openai.setMode('stream-error');
    const app = 'openai-stream-error-app';
    const key = await gateway.createApp({ name: app, team: 'fallback-team' });
    const result = await gateway.chat(key, { model: 'resilient', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('anthropic');
    // Nothing of the failed stream reached the client, not even its opening chunk: one answer, from its start.
    expect(result.text).not.toContain('chatcmpl-emulator');
    expect(result.text).not.toContain('error');
    expect(result.text).toContain('"content":"Echo: "');
    expect(result.text).toContain('data: [DONE]');
    const rows = await gateway.usage({ app, groupBy: 'status' });
    expect(rows.map((row) => [row.status, row.calls])).toEqual([[200, 1]]);
  });

  it("ends a lone target's OpenAI-format stream that reports an error with that error, in the provider's words, which the official client raises", async () => {
    emulators.openai.setMode('stream-error');
    const app = 'openai-stream-error-alone-app';
    const key = await gateway.createApp({ name: app, team: 'fallback-team' });
    const stream = await gateway.openai(key).chat.completions.create({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Hello there' }] });
    const error = await (async () => {
      for await (const chunk of stream) void chunk;
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      type: 'api_error',
      code: 'provider_stream_error',
      message: 'the provider stream failed: The server had an error while processing your request. Sorry about that!',
    });
    // The client raised the error at its event, before the stream's end, after which the call is recorded.
    await vi.waitFor(async () => expect((await gateway.usage({ app, groupBy: 'status' })).map((row) => [row.status, row.calls])).toEqual([[502, 1]]), { timeout: 5_000, interval: 20 });
  });

  it('does not fall back once the model has said something: the stream ends with the error, after the words that came', async () => {
    emulators.openai.setMode('stream-error-midway');
    const result = await gateway.chat(apiKey, { model: 'resilient', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('openai');
    const data = result.text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices?: Array<{ delta: { content?: string } }>; error?: unknown });
    expect(data.map((d) => d.choices?.[0]?.delta.content ?? '').join('')).toBe('Echo:');
    expect(data.at(-1)!.error).toMatchObject({ code: 'provider_stream_error', message: expect.stringContaining('The server had an error') });
    expect(result.text).not.toContain('[DONE]');
  });

  it("tells an Anthropic-format client of an OpenAI-format provider's stream error in the provider's words", async () => {
    emulators.openai.setMode('stream-error');
    const result = await gateway.call('POST', '/v1/messages', apiKey, { model: 'openai/gpt-4o-mini', stream: true, max_tokens: 20, messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.text).toContain('event: error\ndata: {"type":"error","error":{"type":"api_error","message":"the provider stream failed: The server had an error while processing your request. Sorry about that!"}}');
  });

  it('falls back when the first target answers 200 with a body that is not JSON', async () => {
    emulators.openai.setMode('garbled');
    const result = await gateway.chat(apiKey, { model: 'resilient', messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('anthropic');
    expect(result.body).toMatchObject({ choices: [{ message: { content: 'Echo: Hello there' } }] });
  });

  it('falls back when the first target answers a stream request 200 with a page, not a stream', async () => {
    emulators.openai.setMode('garbled');
    const result = await gateway.chat(apiKey, { model: 'resilient', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('anthropic');
    expect(result.text).toContain('"content":"Echo: "');
    expect(result.text).toContain('data: [DONE]');
    // The only target: a 502, as for the same answer to a whole request.
    const alone = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'openai/gpt-4o-mini', stream: true, messages: HELLO });
    expect(alone.status).toBe(502);
    expect(alone.body.error).toMatchObject({ type: 'api_error', code: 'provider_bad_response' });
    expect(JSON.stringify(alone.body)).not.toContain('nginx');
  });

  it('falls back when the first target answers a stream request with a whole completion, and records what that completion cost', async () => {
    emulators.openai.setMode('ignores-stream');
    const app = 'ignored-stream-app';
    const key = await gateway.createApp({ name: app, team: 'fallback-team' });
    const result = await gateway.chat(key, { model: 'resilient', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('anthropic');
    expect(result.text).toContain('data: [DONE]');
    // Two records: the completion no client got, as OpenAI counted it (the emulator's usage), and the answer.
    const rows = await gateway.usage({ app, groupBy: 'provider' });
    const unused = rows.find((row) => row.provider === 'openai');
    expect(unused).toMatchObject({ calls: 1, estimatedCalls: 0 });
    expect(unused!.inputTokens).toBeGreaterThan(0);
    expect(unused!.outputTokens).toBeGreaterThan(0);
    expect(unused!.costUsd).toBeGreaterThan(0);
    expect(rows.find((row) => row.provider === 'anthropic')).toMatchObject({ calls: 1 });
    const statuses = await gateway.usage({ app, groupBy: 'status' });
    expect(statuses.map((row) => [row.status, row.calls]).sort()).toEqual([[200, 1], [502, 1]]);
    // The only target: the call's own record, a 502, carries what the completion cost.
    const alone = await gateway.chat(key, { model: 'openai/gpt-4o-mini', stream: true, messages: HELLO });
    expect(alone.status).toBe(502);
    const failed = (await gateway.usage({ app, groupBy: 'status' })).find((row) => row.status === 502);
    expect(failed).toMatchObject({ calls: 2, inputTokens: 2 * unused!.inputTokens, outputTokens: 2 * unused!.outputTokens });
  });

  it.each(['garbled', 'null-body'] as const)('answers 502 provider_bad_response when the only target answers with a body that is not a JSON object (%s)', async (mode) => {
    emulators.openai.setMode(mode);
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO });
    expect(result.status).toBe(502);
    expect(result.body.error).toMatchObject({ type: 'api_error', code: 'provider_bad_response' });
    expect(JSON.stringify(result.body)).not.toContain('nginx');
  });

  it.each([false, true])("answers 502 for a provider error whose fields are not text, and goes on serving (stream: %s)", async (stream) => {
    emulators.openai.setMode('odd-error');
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'openai/gpt-4o-mini', stream, messages: HELLO });
    expect(result.status).toBe(502);
    expect(result.body.error).toMatchObject({ type: 'api_error', message: 'the provider failed: the provider answered 500' });
    emulators.openai.setMode('normal');
    expect((await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO })).status).toBe(200);
  });

  it('answers 502 in OpenAI\'s shape when the target and every fallback fail', async () => {
    emulators.openai.setMode('server-error');
    emulators.anthropic.setMode('server-error');
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'resilient', messages: HELLO });
    expect(result.status).toBe(502);
    expect(result.body.error).toMatchObject({ type: 'api_error' });
    expect(result.headers.get('x-request-id')).toBeTruthy();
  });
});

/**
 * A port on loopback whose connection attempts go unanswered, as behind a firewall that drops them: a process that
 * listens with room for one waiting connection and never accepts any (its event loop blocked), the room taken by
 * connections of our own. The kernel drops the SYNs that find the queue full.
 */
async function startHole(): Promise<{ port: number; stop: () => void }> {
  const listener = `const s = require('node:net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
    console.log(s.address().port);
    setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 100);
  });`;
  const child = spawn(process.execPath, ['-e', listener], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim()))));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const fillers = Array.from({ length: 3 }, () => connect(port, '127.0.0.1').on('error', () => undefined));
  await new Promise((resolve) => setTimeout(resolve, 300));
  return {
    port,
    stop: () => {
      for (const socket of fillers) socket.destroy();
      child.kill('SIGKILL');
    },
  };
}

describe('a provider that does not answer within the configured timeout', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  /** An OpenAI-compatible host that reads each request and never answers it. */
  let silent: Server;
  /** One that never even takes the connection. */
  let hole: Awaited<ReturnType<typeof startHole>>;
  let apiKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    silent = createServer((req) => req.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    hole = await startHole();
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'openai', type: 'openai', baseUrl: emulators.openai.url },
        { name: 'silent', type: 'openai-compatible', baseUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` },
        { name: 'hole', type: 'openai-compatible', baseUrl: `http://127.0.0.1:${hole.port}` },
      ],
      aliases: [
        { name: 'hurried', targets: [{ provider: 'silent', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'walled', targets: [{ provider: 'hole', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      timeout: '300ms',
    });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('silent', 'sk-silent-host-key');
    await gateway.addProviderKey('hole', 'sk-hole-host-key');
    apiKey = await gateway.createApp({ name: 'hurried-app', team: 'hurried-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    hole?.stop();
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('falls back once the timeout has passed', async () => {
    const result = await gateway.chat(apiKey, { model: 'hurried', messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('openai');
    expect(result.body).toMatchObject({ choices: [{ message: { content: 'Echo: Hello there' } }] });
  });

  // The limit under test is a time: the connection pool's own (10 s) would pass the test's 5 s, ai.timeout (300 ms) not.
  it('falls back from a provider that never takes the connection once the timeout has passed, not the pool\'s 10 s', { timeout: 5_000 }, async () => {
    const result = await gateway.chat(apiKey, { model: 'walled', messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('openai');
  });

  it('answers 504 provider_timeout in OpenAI\'s shape when there is nothing to fall back to, and records it', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'silent/gpt-4o-mini', messages: HELLO });
    expect(result.status).toBe(504);
    expect(result.body.error).toMatchObject({ type: 'api_error', code: 'provider_timeout' });
    const rows = await gateway.usage({ app: 'hurried-app', groupBy: 'status' });
    expect(rows.find((row) => row.status === 504)).toMatchObject({ calls: 1, failedCalls: 1, costUsd: 0 });
  });
});
