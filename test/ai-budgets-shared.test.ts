import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AiGateway, PROVIDER_SECRETS, type AiResult } from './ai-fixtures.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './databases.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';
import { REDIS_URL, redisAvailable, redisTestKeys, type RedisTestKeys } from './redis.js';
import { streamedBurst } from './streamed-burst.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];

// Each may cost up to $0.0012 (2,000 answer tokens of gpt-4o-mini at $0.60 a million): one fills the $0.001 budget.
const BURST_BODY = JSON.stringify({ model: 'held/gpt-4o-mini', stream: true, max_tokens: 2_000, messages: HELLO });

describe.skipIf(!postgresAvailable || !redisAvailable)('budget holds shared in Redis by two nodes on one store', () => {
  const run = randomBytes(4).toString('hex');
  const app = `shared-budgets-${run}`;
  let nodes: AiGateway[] = [];
  let held: OpenAIEmulator;
  let db: TestDatabase;
  let keys: RedisTestKeys;
  let apiKey: string;
  /** An app whose daily budget is 3.5 times what one call below costs. */
  let paced: string;

  beforeAll(async () => {
    [db, held, keys] = await Promise.all([createTestDatabase('postgres'), startOpenAIEmulator({ holdStreams: true }), redisTestKeys()]);
    const env = { KEYGATE_DATABASE_URL: db.url, KEYGATE_MASTER_KEY: randomBytes(32).toString('base64url'), KEYGATE_REDIS_URL: REDIS_URL };
    const first = await AiGateway.start({ env });
    nodes.push(first);
    await first.configure({ providers: [{ name: 'held', type: 'openai', baseUrl: held.url }] });
    await first.addProviderKey('held', PROVIDER_SECRETS.openai);
    apiKey = await first.createApp({ name: app, team: `team-${run}`, budget: { dailyUsd: 0.001 } });
    const probe = await first.createApp({ name: `probe-${run}`, team: `team-${run}` });
    const cost = Number((await first.chat(probe, { model: 'held/gpt-4o-mini', messages: HELLO })).headers.get('x-keygate-cost-usd'));
    expect(cost).toBeGreaterThan(0);
    paced = await first.createApp({ name: `paced-${run}`, team: `team-${run}`, budget: { dailyUsd: cost * 3.5 } });
    // The second node starts from the store as the first left it: the same config, app and provider key.
    nodes.push(await AiGateway.start({ env }));
  });
  afterAll(async () => {
    held?.releaseStreams();
    for (const node of nodes) await node.stop();
    nodes = [];
    await held?.stop();
    await db?.drop();
    const mine = await keys?.client.keys(`keygate:ai-budgets:*${run}*`);
    if (mine?.length) await keys?.client.del(...mine);
    await keys?.cleanup();
  });

  it("lets one of twenty calls made at once on two nodes through, refusing the rest by the other node's hold", async () => {
    // Each node has read the budget's figure, and its shared holds' connection is up.
    for (const node of nodes) expect((await node.chat(apiKey, { model: 'held/gpt-4o-mini', max_tokens: 5, messages: HELLO })).status).toBe(200);
    const before = held.requests().length;
    const { answers, closed } = await streamedBurst(nodes.map((node) => node.proxyUrl), apiKey, 20, BURST_BODY);
    // Every call either refused (its connection closed) or held at the provider.
    await vi.waitFor(() => expect(closed() + held.heldStreams()).toBe(20), { timeout: 10_000 });
    expect(held.requests().length - before).toBe(1);
    // The calls under way hold their room in Redis while they run.
    expect(await keys.client.hlen(`keygate:ai-budgets:holds:app:${app}`)).toBe(1);
    held.releaseStreams();
    const all = await answers;
    expect(all.filter((text) => text.startsWith('HTTP/1.1 200'))).toHaveLength(1);
    const refused = all.filter((text) => text.startsWith('HTTP/1.1 429'));
    expect(refused).toHaveLength(19);
    // Each refused as a budget held by calls under way: worth a retry once they end.
    for (const text of refused) {
      expect(text.toLowerCase()).toContain('retry-after: 1\r\n');
      expect(text).toContain('"code":"budget_exceeded"');
      expect(text).toContain('held by calls under way');
    }
    // The answered call's record released its hold, on both sides.
    await vi.waitFor(async () => expect(await keys.client.hlen(`keygate:ai-budgets:holds:app:${app}`)).toBe(0));
  }, 30_000);

  it("refuses a node's call by the calls the other node made a moment before, not only by its own", async () => {
    const statuses: number[] = [];
    const refusals: Array<AiResult<unknown>> = [];
    for (let i = 0; i < 10; i++) {
      const answer = await nodes[i % 2]!.chat(paced, { model: 'held/gpt-4o-mini', messages: HELLO });
      statuses.push(answer.status);
      if (answer.status === 429) refusals.push(answer);
    }
    // Four calls fit the budget, whichever node made them; each node alone would have let four of its own through.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
    // Refused for good, as a spent budget is on one node: no Retry-After, and told not to retry.
    for (const refusal of refusals) {
      expect(refusal.body).toMatchObject({ error: { code: 'budget_exceeded', type: 'insufficient_quota' } });
      expect(refusal.headers.get('retry-after')).toBeNull();
      expect(refusal.headers.get('x-should-retry')).toBe('false');
    }
  }, 30_000);
});
