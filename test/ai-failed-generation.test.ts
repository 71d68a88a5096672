import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, PROVIDER_SECRETS } from './ai-fixtures.js';
import { startCohereEmulator, type CohereEmulator } from './emulators/cohere.js';
import { startMistralEmulator, type MistralEmulator } from './emulators/mistral.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

/**
 * A generation the provider ends as failed (Mistral's finish_reason `error`) was made, and is billed: its tokens and
 * cost are recorded, whether the call fails with it or another target answers after it.
 */
describe('a failed generation the provider bills', () => {
  let gateway: AiGateway;
  let mistral: MistralEmulator;
  let cohere: CohereEmulator;
  let openai: OpenAIEmulator;
  let client: OpenAI;
  const app = 'failed-generation-app';
  const HELLO = [{ role: 'user' as const, content: 'Hello' }];

  beforeAll(async () => {
    [mistral, openai, cohere] = await Promise.all([startMistralEmulator(), startOpenAIEmulator(), startCohereEmulator()]);
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'mistral', type: 'mistral', baseUrl: mistral.url },
        { name: 'openai', type: 'openai', baseUrl: openai.url },
        { name: 'cohere', type: 'cohere', baseUrl: cohere.url },
      ],
      aliases: [{ name: 'steady', targets: [{ provider: 'mistral', model: 'mistral-small-latest' }], fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      circuitBreaker: { failures: 0 },
    });
    await gateway.addProviderKey('mistral', mistral.apiKey);
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('cohere', cohere.apiKey);
    client = gateway.openai(await gateway.createApp({ name: app, team: 'failed-generation-team' }));
    mistral.setMode('generation-error');
  });
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([mistral?.stop(), openai?.stop(), cohere?.stop()]);
  });

  it("records the tokens and cost of a lone target's failed generation with the call's failure", async () => {
    const failure = await client.chat.completions.create({ model: 'mistral/mistral-small-latest', messages: HELLO }).catch((e: unknown) => e);
    expect((failure as { status?: number }).status).toBe(502);
    const [row] = await gateway.usage({ app, groupBy: 'status' });
    expect(row).toMatchObject({ status: 502, calls: 1, inputTokens: 11, outputTokens: 2 });
    expect(row!.costUsd).toBeGreaterThan(0);
  });

  it('records it apart when the next target answers, and the answer with its own tokens', async () => {
    const answer = await client.chat.completions.create({ model: 'steady', messages: HELLO });
    expect(answer.choices[0]!.message.content).toBe('Echo: Hello');
    const rows = await gateway.usage({ app, groupBy: 'provider' });
    expect(rows.find((row) => row.provider === 'mistral')).toMatchObject({ calls: 2, inputTokens: 22, outputTokens: 4, failedCalls: 2 });
    expect(rows.find((row) => row.provider === 'openai')).toMatchObject({ calls: 1, failedCalls: 0, outputTokens: answer.usage!.completion_tokens });
  });

  it('records the tokens Cohere billed for a streamed generation that ended in ERROR, not an estimate', async () => {
    const failing = [{ role: 'user' as const, content: 'please fail' }];
    const stream = await client.chat.completions.create({ model: 'cohere/command-r-plus-08-2024', stream: true, messages: failing });
    await expect((async () => {
      for await (const _chunk of stream);
    })()).rejects.toThrow(/failed to generate/);
    const row = (await gateway.usage({ app, groupBy: 'provider' })).find((r) => r.provider === 'cohere');
    expect(row).toMatchObject({ calls: 1, failedCalls: 1, inputTokens: 9, estimatedCalls: 0 });
  });
});
