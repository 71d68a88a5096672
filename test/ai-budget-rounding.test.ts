import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, PROVIDER_SECRETS, type OpenAIErrorBody } from './ai-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

/**
 * Budgets reached to the cent by costs whose floating-point sum falls short of it: the emulator answers "Hello
 * there" with 5 tokens, and the catalog entries below price input at nothing and output so that 5 tokens cost
 * $0.01 or $0.06.
 */
const HELLO = [{ role: 'user' as const, content: 'Hello there' }];
const entry = (id: string, outputPerMillion: number) => ({ id, provider: 'openai', kind: 'chat', contextWindow: 128_000, maxOutputTokens: 1_000, inputPerMillion: 0, outputPerMillion, cachedInputPerMillion: null, capabilities: ['chat', 'streaming'] });

describe('a budget reached to the cent', () => {
  let gateway: AiGateway;
  let openai: OpenAIEmulator;

  beforeAll(async () => {
    openai = await startOpenAIEmulator();
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }] });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    await gateway.admin(200, 'PUT', '/ai/catalog/openai/cent', entry('cent', 2_000));
    await gateway.admin(200, 'PUT', '/ai/catalog/openai/six-cents', entry('six-cents', 12_000));
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
  });

  it('refuses the next call once $0.01 and $0.06 have spent $0.07 of $0.07, though 0.01 + 0.06 is 0.06999999999999999 in floating point', async () => {
    const apiKey = await gateway.createApp({ name: 'to-the-cent', team: 'to-the-cent-team', budget: { dailyUsd: 0.07 } });
    expect((await gateway.chat(apiKey, { model: 'openai/cent', messages: HELLO })).headers.get('x-keygate-cost-usd')).toBe('0.010000000');
    expect((await gateway.chat(apiKey, { model: 'openai/six-cents', messages: HELLO })).headers.get('x-keygate-cost-usd')).toBe('0.060000000');
    const after = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'openai/cent', messages: HELLO });
    expect(after.status).toBe(429);
    expect(after.body.error.code).toBe('budget_exceeded');
  });

  it('lets through only the calls whose holds fill the budget exactly, of twenty at once: five of $0.01 for $0.05', async () => {
    const apiKey = await gateway.createApp({ name: 'at-once', team: 'at-once-team', budget: { dailyUsd: 0.05 } });
    const sdk = new OpenAI({ baseURL: `${gateway.proxyUrl}/v1`, apiKey, maxRetries: 0 });
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () =>
        sdk.chat.completions
          .create({ model: 'openai/cent', max_tokens: 5, messages: HELLO })
          .then(() => 200)
          .catch((error: unknown) => (error as InstanceType<typeof OpenAI.APIError>).status ?? 0),
      ),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status !== 200).every((status) => status === 429)).toBe(true);
  });
});
