import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { AiGateway, PROVIDER_SECRETS, type OpenAIErrorBody } from './ai-fixtures.js';
import { startGeminiEmulator, type GeminiEmulator } from './emulators/gemini.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];

describe("the AI gateway's circuit breaker", () => {
  const clock = new ManualClock();
  const lines: string[] = [];
  let gateway: AiGateway;
  /** The first target of the chain, made to fail; `backup` serves when it is skipped or fails. */
  let flaky: OpenAIEmulator;
  let backup: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    flaky = await startOpenAIEmulator();
    backup = await startOpenAIEmulator();
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(chunk.toString('utf8')), done()) });
    gateway = await AiGateway.start({ clock, logger: pino({ level: 'warn' }, sink) });
    await gateway.configure({
      providers: [
        { name: 'flaky', type: 'openai', baseUrl: flaky.url },
        { name: 'backup', type: 'openai', baseUrl: backup.url },
      ],
      aliases: [
        { name: 'chain', targets: [{ provider: 'flaky', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'backup', model: 'gpt-4o-mini' }] },
        { name: 'retired', targets: [{ provider: 'flaky', model: 'no-such-model' }], fallbacks: [{ provider: 'backup', model: 'gpt-4o-mini' }] },
      ],
      circuitBreaker: { failures: 3, cooldown: '30s' },
    });
    await gateway.addProviderKey('flaky', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('backup', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'circuit-app', team: 'circuit-team' });
  });
  afterEach(async () => {
    // Each test starts with the flaky target's circuit closed: a success closes it, once any cooldown has passed.
    flaky.setMode('normal');
    clock.advance(60_000);
    expect((await gateway.chat(apiKey, { model: 'flaky/gpt-4o-mini', messages: HELLO })).status).toBe(200);
  });
  afterAll(async () => {
    await gateway?.stop();
    await flaky?.stop();
    await backup?.stop();
  });

  /** Calls the chain `times` times; returns who answered each. */
  async function callChain(times: number): Promise<string[]> {
    const served: string[] = [];
    for (let i = 0; i < times; i++) {
      const result = await gateway.chat(apiKey, { model: 'chain', messages: HELLO });
      expect(result.status).toBe(200);
      served.push(result.headers.get('x-keygate-provider')!);
    }
    return served;
  }

  it("stops sending an alias's calls to a target whose model is gone once it has said so `failures` times", async () => {
    const asked = () => flaky.requests().filter((request) => (request.body as { model?: string }).model === 'no-such-model').length;
    const before = asked();
    for (let i = 0; i < 5; i++) {
      const result = await gateway.chat(apiKey, { model: 'retired', messages: HELLO });
      expect(result.headers.get('x-keygate-provider')).toBe('backup');
    }
    expect(asked() - before).toBe(3);
  });

  it('skips a target that failed `failures` times in a row for the next of its chain, without calling it, until its cooldown has passed', async () => {
    flaky.setMode('server-error');
    const before = flaky.requests().length;
    expect(await callChain(3)).toEqual(['backup', 'backup', 'backup']);
    expect(flaky.requests().length).toBe(before + 3);
    // Open: the next calls go straight to the fallback.
    expect(await callChain(2)).toEqual(['backup', 'backup']);
    expect(flaky.requests().length).toBe(before + 3);
    clock.advance(29_000);
    await callChain(1);
    expect(flaky.requests().length).toBe(before + 3);
    // The cooldown over, it is tried again; one more failure opens it again at once.
    clock.advance(1_000);
    expect(await callChain(2)).toEqual(['backup', 'backup']);
    expect(flaky.requests().length).toBe(before + 4);
    // Recovered, and tried once the cooldown is over: it serves again, and stays in.
    flaky.setMode('normal');
    clock.advance(30_000);
    expect(await callChain(3)).toEqual(['flaky', 'flaky', 'flaky']);
  });

  it('logs a warning naming the provider and model when a circuit opens, and no secret', async () => {
    lines.length = 0;
    flaky.setMode('server-error');
    await callChain(3);
    const warnings = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => typeof line.msg === 'string' && line.msg.includes('keeps failing'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ provider: 'flaky', model: 'gpt-4o-mini', failures: 3, cooldownMs: 30_000 });
    expect(lines.join('')).not.toContain(PROVIDER_SECRETS.openai);
  });

  it('answers 503 no_provider_available with a Retry-After when every target of the call is skipped, without calling any', async () => {
    flaky.setMode('server-error');
    for (let i = 0; i < 3; i++) expect((await gateway.chat(apiKey, { model: 'flaky/gpt-4o-mini', messages: HELLO })).status).toBe(502);
    const before = flaky.requests().length;
    clock.advance(10_500);
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'flaky/gpt-4o-mini', messages: HELLO });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ type: 'api_error', code: 'no_provider_available' });
    expect(refused.headers.get('retry-after')).toBe('20');
    expect(flaky.requests().length).toBe(before);
    // Streams too; and the alias that names the same provider and model skips it for its fallback: one circuit.
    const streamed = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'flaky/gpt-4o-mini', stream: true, messages: HELLO });
    expect(streamed.status).toBe(503);
    expect(await callChain(1)).toEqual(['backup']);
    expect(flaky.requests().length).toBe(before);
  });

  it('counts only failures in a row: an answer in between, or a refusal of the request, starts the count again', async () => {
    const before = flaky.requests().length;
    for (const mode of ['server-error', 'server-error', 'normal', 'server-error', 'server-error'] as const) {
      flaky.setMode(mode);
      await callChain(1);
    }
    // A 400 is the request's fault: the provider answered.
    flaky.setMode('normal');
    expect((await gateway.chat(apiKey, { model: 'chain', messages: HELLO, max_tokens: 1_000_000 })).status).toBe(400);
    flaky.setMode('server-error');
    await callChain(2);
    expect(flaky.requests().length).toBe(before + 8);
  });

  it('leaves rate limits to Retry-After and the key pool: 429s in a row do not open the circuit', async () => {
    flaky.setMode('rate-limited');
    const before = flaky.requests().length;
    expect(await callChain(4)).toEqual(['backup', 'backup', 'backup', 'backup']);
    expect(flaky.requests().length).toBe(before + 4);
  });

  it("counts a lone target's stream that fails after its head before the model said anything, but not one that fails after words", async () => {
    flaky.setMode('stream-error');
    const before = flaky.requests().length;
    for (let i = 0; i < 3; i++) {
      const broken = await gateway.chat(apiKey, { model: 'flaky/gpt-4o-mini', stream: true, messages: HELLO });
      expect(broken.status).toBe(200);
      expect(broken.text).toContain('provider_stream_error');
    }
    expect((await gateway.chat(apiKey, { model: 'flaky/gpt-4o-mini', stream: true, messages: HELLO })).status).toBe(503);
    expect(flaky.requests().length).toBe(before + 3);
    // The model's words show it is up: such failures do not open it.
    clock.advance(60_000);
    flaky.setMode('stream-error-midway');
    for (let i = 0; i < 4; i++) expect((await gateway.chat(apiKey, { model: 'flaky/gpt-4o-mini', stream: true, messages: HELLO })).status).toBe(200);
    expect(flaky.requests().length).toBe(before + 3 + 4);
  });

  it('counts a stream that fails before the model said anything, and falls back from it', async () => {
    flaky.setMode('stream-error');
    const before = flaky.requests().length;
    for (let i = 0; i < 4; i++) {
      const result = await gateway.chat(apiKey, { model: 'chain', stream: true, messages: HELLO });
      expect(result.status).toBe(200);
      expect(result.headers.get('x-keygate-provider')).toBe('backup');
    }
    expect(flaky.requests().length).toBe(before + 3);
  });
});

describe('a circuit breaker turned off', () => {
  let gateway: AiGateway;
  let flaky: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    flaky = await startOpenAIEmulator();
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'flaky', type: 'openai', baseUrl: flaky.url }], circuitBreaker: { failures: 0 } });
    await gateway.addProviderKey('flaky', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'no-circuit-app', team: 'circuit-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await flaky?.stop();
  });

  it('calls a target however often it has failed, with failures 0', async () => {
    flaky.setMode('server-error');
    const before = flaky.requests().length;
    for (let i = 0; i < 8; i++) expect((await gateway.chat(apiKey, { model: 'flaky/gpt-4o-mini', messages: HELLO })).status).toBe(502);
    expect(flaky.requests().length).toBe(before + 8);
  });
});

describe('the circuit breaker and generations a provider says failed', () => {
  let gateway: AiGateway;
  let gemini: GeminiEmulator;
  let backup: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    gemini = await startGeminiEmulator();
    backup = await startOpenAIEmulator();
    gateway = await AiGateway.start({ clock: new ManualClock() });
    await gateway.configure({
      providers: [
        { name: 'gemini', type: 'gemini', baseUrl: gemini.url },
        { name: 'backup', type: 'openai', baseUrl: backup.url },
      ],
      aliases: [{ name: 'chain', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }], fallbacks: [{ provider: 'backup', model: 'gpt-4o-mini' }] }],
      circuitBreaker: { failures: 2, cooldown: '30s' },
    });
    await gateway.addProviderKey('gemini', PROVIDER_SECRETS.gemini);
    await gateway.addProviderKey('backup', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'generations-app', team: 'generations-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await gemini?.stop();
    await backup?.stop();
  });

  it("falls back from each, but does not skip the provider for them: they are answers, often to the request's own prompt or tools", async () => {
    gemini.setMode('malformed-function-call');
    const before = gemini.requests().length;
    for (let i = 0; i < 4; i++) {
      const result = await gateway.chat(apiKey, { model: 'chain', messages: HELLO });
      expect(result.status).toBe(200);
      expect(result.headers.get('x-keygate-provider')).toBe('backup');
    }
    expect(gemini.requests().length).toBe(before + 4);
    gemini.setMode('normal');
    expect((await gateway.chat(apiKey, { model: 'chain', messages: HELLO })).headers.get('x-keygate-provider')).toBe('gemini');
  });
});
