import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { AiGateway, PROVIDER_SECRETS, type OpenAIErrorBody } from './ai-fixtures.js';
import { countTokens, promptTokensFor, startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

/**
 * DeepSeek's `finish_reason: "insufficient_system_resource"`, "the request is interrupted due to insufficient resource
 * of the inference system" (https://api-docs.deepseek.com/api/create-chat-completion): no answer, but a generation
 * that failed, which another target may give and which opens no circuit (it says the model was busy for this request,
 * as Gemini's and Bedrock's failed generations say something of theirs).
 */
describe("DeepSeek's inference interrupted for lack of resources", () => {
  let gateway: AiGateway;
  let deepseek: OpenAIEmulator;
  let backup: OpenAIEmulator;
  let apiKey: string;
  const HELLO = [{ role: 'user', content: 'Hello there' }];

  beforeAll(async () => {
    [deepseek, backup] = await Promise.all([startOpenAIEmulator(), startOpenAIEmulator()]);
    gateway = await AiGateway.start({ clock: new ManualClock() });
    await gateway.configure({
      providers: [
        { name: 'deepseek', type: 'openai-compatible', catalog: 'deepseek', baseUrl: deepseek.url },
        { name: 'backup', type: 'openai', baseUrl: backup.url },
      ],
      aliases: [{ name: 'chain', targets: [{ provider: 'deepseek', model: 'deepseek-chat' }], fallbacks: [{ provider: 'backup', model: 'gpt-4o-mini' }] }],
      circuitBreaker: { failures: 2, cooldown: '30s' },
    });
    await gateway.addProviderKey('deepseek', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('backup', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'deepseek-app', team: 'deepseek-team' });
  });
  afterEach(() => deepseek.setMode('normal'));
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([deepseek?.stop(), backup?.stop()]);
  });

  it("answers a lone target's interrupted generation with a retryable 502 provider_generation_failed, and records what DeepSeek billed", async () => {
    deepseek.setMode('insufficient-resource-midway');
    const app = 'deepseek-alone-app';
    const result = await gateway.chat<OpenAIErrorBody>(await gateway.createApp({ name: app, team: 'deepseek-team' }), { model: 'deepseek/deepseek-chat', messages: HELLO });
    expect(result.status).toBe(502);
    expect(result.body.error).toMatchObject({ type: 'api_error', code: 'provider_generation_failed', message: expect.stringContaining('insufficient_system_resource') });
    const [row] = await gateway.usage({ app, groupBy: 'status' });
    expect(row).toMatchObject({ status: 502, calls: 1, inputTokens: promptTokensFor(deepseek.lastRequest()!.body), outputTokens: countTokens('Echo:'), estimatedCalls: 0 });
  });

  it('falls back from it in an alias, and keeps trying DeepSeek after more of them than the circuit counts', async () => {
    deepseek.setMode('insufficient-resource');
    const before = deepseek.requests().length;
    for (let i = 0; i < 4; i++) {
      const result = await gateway.chat(apiKey, { model: 'chain', messages: HELLO });
      expect(result.status).toBe(200);
      expect(result.headers.get('x-keygate-provider')).toBe('backup');
    }
    expect(deepseek.requests().length).toBe(before + 4);
    deepseek.setMode('normal');
    expect((await gateway.chat(apiKey, { model: 'chain', messages: HELLO })).headers.get('x-keygate-provider')).toBe('deepseek');
  });

  it('falls back from a stream interrupted before the model said anything', async () => {
    deepseek.setMode('insufficient-resource');
    const result = await gateway.chat(apiKey, { model: 'chain', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.headers.get('x-keygate-provider')).toBe('backup');
    expect(result.text).not.toContain('insufficient_system_resource');
    expect(result.text).toContain('"content":"Echo: "');
    expect(result.text).toContain('data: [DONE]');
  });

  it("ends a lone target's stream interrupted after the model's first words with the failure, and records DeepSeek's usage", async () => {
    deepseek.setMode('insufficient-resource-midway');
    const app = 'deepseek-stream-app';
    const result = await gateway.chat(await gateway.createApp({ name: app, team: 'deepseek-team' }), { model: 'deepseek/deepseek-chat', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    const data = result.text.split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)) as { choices?: Array<{ delta: { content?: string }; finish_reason: string | null }>; error?: unknown });
    expect(data.map((d) => d.choices?.[0]?.delta.content ?? '').join('')).toBe('Echo:');
    expect(data.some((d) => d.choices?.some((choice) => choice.finish_reason !== null))).toBe(false);
    expect(data.at(-1)!.error).toMatchObject({ type: 'api_error', message: expect.stringContaining("DeepSeek's inference was interrupted for lack of resources") });
    expect(result.text).not.toContain('[DONE]');
    const [row] = await gateway.usage({ app, groupBy: 'status' });
    expect(row).toMatchObject({ status: 502, calls: 1, inputTokens: promptTokensFor(deepseek.lastRequest()!.body), outputTokens: countTokens('Echo:'), estimatedCalls: 0 });
  });
});
