import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AiGateway, PROVIDER_SECRETS } from './ai-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];
/** A model of the operator's own, priced in the config: $1 a million tokens in and out. */
const ENTRY = { id: 'house-model', provider: 'house', kind: 'chat', contextWindow: 8192, maxOutputTokens: 1024, inputPerMillion: 1, outputPerMillion: 1, cachedInputPerMillion: null, capabilities: ['chat', 'streaming'] };

describe('a catalog changed while a call is under way', () => {
  let gateway: AiGateway;
  let held: OpenAIEmulator;

  beforeAll(async () => {
    held = await startOpenAIEmulator({ holdStreams: true });
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'house', type: 'openai-compatible', catalog: 'house', baseUrl: held.url }], models: [ENTRY] } as never);
    await gateway.addProviderKey('house', PROVIDER_SECRETS.openai);
  });
  afterAll(async () => {
    held?.releaseStreams();
    await gateway?.stop();
    await held?.stop();
  });

  /** Starts a stream that the provider holds before its first event; resolves with its whole text once released. */
  async function heldStream(apiKey: string): Promise<{ text: Promise<string> }> {
    const answer = fetch(`${gateway.proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'house/house-model', stream: true, messages: HELLO }),
    }).then((response) => response.text());
    await vi.waitFor(() => expect(held.heldStreams()).toBe(1));
    // In an object: an async function's promise would otherwise wait for this one.
    return { text: answer };
  }

  it('prices the call at the catalog it started with: a price raised meanwhile is not charged to it', async () => {
    const apiKey = await gateway.createApp({ name: 'raised', team: 'prices', budget: { dailyUsd: 100 } });
    const streamed = await heldStream(apiKey);
    await gateway.admin(200, 'PUT', '/ai/catalog/house/house-model', { ...ENTRY, inputPerMillion: 100, outputPerMillion: 100 });
    held.releaseStreams();
    expect(await streamed.text).toContain('[DONE]');
    const [row] = await gateway.usage({ groupBy: 'app', app: 'raised' });
    expect(row!.inputTokens + row!.outputTokens).toBeGreaterThan(0);
    expect(row!.costUsd).toBeCloseTo((row!.inputTokens + row!.outputTokens) / 1_000_000, 12);
  });

  it('prices the call at the catalog it started with: an entry removed meanwhile does not make it free', async () => {
    await gateway.admin(200, 'PUT', '/ai/catalog/house/house-model', ENTRY);
    const apiKey = await gateway.createApp({ name: 'removed', team: 'prices', budget: { dailyUsd: 100 } });
    const streamed = await heldStream(apiKey);
    await gateway.admin(204, 'DELETE', '/ai/catalog/house/house-model');
    held.releaseStreams();
    expect(await streamed.text).toContain('[DONE]');
    const [row] = await gateway.usage({ groupBy: 'app', app: 'removed' });
    expect(row!.costUsd).toBeGreaterThan(0);
    expect(row!.costUsd).toBeCloseTo((row!.inputTokens + row!.outputTokens) / 1_000_000, 12);
  });
});
