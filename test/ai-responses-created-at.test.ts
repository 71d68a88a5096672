import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { AiGateway, PROVIDER_SECRETS } from './ai-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

/**
 * A Response's `created_at` (https://platform.openai.com/docs/api-reference/responses/object#responses/object-created_at)
 * comes from the gateway's clock, the one its calls are accounted by, streamed or not: a node whose clock is set (a
 * test's, here) dates every Response by it, not one by it and another by the wall clock.
 */
describe("a Response's created_at", () => {
  /** A time no wall clock shows while the test runs. */
  const FIXED = Date.UTC(2031, 4, 6, 7, 8, 9);
  let gateway: AiGateway;
  let openai: OpenAIEmulator;
  let client: OpenAI;

  beforeAll(async () => {
    openai = await startOpenAIEmulator();
    gateway = await AiGateway.start({ clock: new ManualClock(FIXED) });
    await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }] });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    client = gateway.openai(await gateway.createApp({ name: 'created-at-app', team: 'created-at-team' }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
  });

  it("is the gateway clock's time on a non-streamed Response", async () => {
    const response = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello there' });
    expect(response.created_at).toBe(FIXED / 1000);
  });

  it("is the gateway clock's time on a streamed Response, from its first event to its last", async () => {
    const stream = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello there', stream: true });
    const dates: number[] = [];
    for await (const event of stream) if ('response' in event) dates.push(event.response.created_at);
    expect(dates.length).toBeGreaterThan(1);
    expect(new Set(dates)).toEqual(new Set([FIXED / 1000]));
  });

  it('is the one a stored Response is retrieved with', async () => {
    const { id } = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello there' });
    expect((await client.responses.retrieve(id)).created_at).toBe(FIXED / 1000);
  });
});
