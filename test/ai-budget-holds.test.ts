import { once } from 'node:events';
import { request } from 'node:http';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SpendTracker } from '../src/ai/spend-tracker.js';
import { ManualClock } from '../src/clock.js';
import { ModelCatalog } from '../src/ai/catalog/index.js';
import { AiGateway, PROVIDER_SECRETS, configureThreeProviders, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './databases.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';
import { streamedBurst } from './streamed-burst.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];
const CATALOG = ModelCatalog.shipped();

// PostgreSQL, whose reads can be held up: a budget's figure read from the store is when calls wait at its check.
describe.skipIf(!postgresAvailable)('holds of calls under way against budget checks that wait for the store', () => {
  let gateway: AiGateway;
  let held: OpenAIEmulator;
  let db: TestDatabase;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    held = await startOpenAIEmulator({ holdStreams: true });
    gateway = await AiGateway.start({ clock, env: { KEYGATE_DATABASE_URL: db.url } });
    await gateway.configure({ providers: [{ name: 'held', type: 'openai', baseUrl: held.url }] });
    await gateway.addProviderKey('held', PROVIDER_SECRETS.openai);
  });
  afterAll(async () => {
    held?.releaseStreams();
    await gateway?.stop();
    await held?.stop();
    await db?.drop();
  });

  // Each may cost up to $0.0012 (2,000 answer tokens of gpt-4o-mini at $0.60 a million): one fills the $0.001 budget.
  const BURST_BODY = JSON.stringify({ model: 'held/gpt-4o-mini', stream: true, max_tokens: 2_000, messages: HELLO });

  it("lets one of twenty calls through when they all waited on the budget's figure from the store, and refuses the rest", async () => {
    const apiKey = await gateway.createApp({ name: 'burst', team: 'burst-team', budget: { dailyUsd: 0.001 } });
    // The key known and the budget's figure read once.
    expect((await gateway.chat(apiKey, { model: 'held/gpt-4o-mini', max_tokens: 5, messages: HELLO })).status).toBe(200);
    // The figure is due to be read again (every 10 s); the store's table is locked meanwhile, so that every call of
    // the burst waits on that read, as they would on a remote store's round trip.
    clock.advance(11_000);
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE ai_spend_daily IN ACCESS EXCLUSIVE MODE');
    const before = held.requests().length;
    const { answers, closed } = await streamedBurst([gateway.proxyUrl], apiKey, 20, BURST_BODY);
    // The gateway's read is waiting on the lock: then the calls have arrived, and wait behind it.
    await vi.waitFor(async () => {
      const waiting = await locker.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
      expect(waiting.rows[0].n).toBeGreaterThan(0);
    });
    await locker.query('COMMIT');
    await locker.end();
    // Every call either refused (its connection closed) or held at the provider.
    await vi.waitFor(() => expect(closed() + held.heldStreams()).toBe(20), { timeout: 10_000 });
    expect(held.requests().length - before).toBe(1);
    held.releaseStreams();
    const answered = (await answers).map((text) => text.slice('HTTP/1.1 '.length, 'HTTP/1.1 '.length + 3));
    expect(answered.filter((status) => status === '200')).toHaveLength(1);
    expect(answered.filter((status) => status === '429')).toHaveLength(19);
  }, 30_000);
});

describe('the budget hold of a streamed call whose client leaves', () => {
  let gateway: AiGateway;
  let held: OpenAIEmulator;

  beforeAll(async () => {
    held = await startOpenAIEmulator({ holdStreams: true });
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'held', type: 'openai', baseUrl: held.url }] });
    await gateway.addProviderKey('held', PROVIDER_SECRETS.openai);
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    held?.releaseStreams();
    await gateway?.stop();
    await held?.stop();
  });

  it('lasts until the cost of what the call had the provider do is counted, in the same turn, so no check sees neither', async () => {
    const apiKey = await gateway.createApp({ name: 'leaving', team: 'leaving-team', budget: { dailyUsd: 1 } });
    // For each release of the app's hold: whether the app's cost was counted before anything else could run.
    const countedInTurn: boolean[] = [];
    let releaseOpen: { open: boolean } | undefined;
    const release = SpendTracker.prototype.release;
    vi.spyOn(SpendTracker.prototype, 'release').mockImplementation(function (this: SpendTracker, app, team, usd) {
      if (app === 'leaving') {
        const turn = { open: true };
        releaseOpen = turn;
        queueMicrotask(() => {
          if (turn.open) countedInTurn.push(false);
          turn.open = false;
        });
      }
      return release.call(this, app, team, usd);
    });
    const add = SpendTracker.prototype.add;
    vi.spyOn(SpendTracker.prototype, 'add').mockImplementation(function (this: SpendTracker, app, team, usd, at) {
      if (app === 'leaving' && usd > 0 && releaseOpen?.open) {
        releaseOpen.open = false;
        countedInTurn.push(true);
      }
      return add.call(this, app, team, usd, at);
    });
    // The provider holds the stream after its head: the client sees the head and leaves.
    const req = request(`${gateway.proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    const head = once(req, 'response');
    req.end(JSON.stringify({ model: 'held/gpt-4o-mini', stream: true, max_tokens: 2_000, messages: HELLO }));
    await head;
    req.destroy();
    const row = await vi.waitFor(async () => {
      const [left] = await gateway.usage({ app: 'leaving', groupBy: 'status' });
      expect(left?.status).toBe(499);
      return left!;
    }, { timeout: 10_000, interval: 20 });
    // The prompt was billed (estimated): the record counted a cost, which the hold covered until then.
    expect(row.costUsd).toBeGreaterThan(0);
    expect(countedInTurn).toEqual([true]);
  });
});

describe('the budget hold of a call that asks for reasoning beside the older max_tokens', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators);
  });
  // Each test spies on the holds afresh: a spy wrapping the last one would call itself.
  afterEach(() => vi.restoreAllMocks());

  /** The amounts held for `app` from now on, each hold still taken. */
  function holdsOf(app: string): number[] {
    const holds: number[] = [];
    const hold = SpendTracker.prototype.hold;
    vi.spyOn(SpendTracker.prototype, 'hold').mockImplementation(function (this: SpendTracker, held, team, usd) {
      if (held === app) holds.push(usd);
      return hold.call(this, held, team, usd);
    });
    return holds;
  }
  afterAll(async () => {
    vi.restoreAllMocks();
    await gateway?.stop();
    await emulators?.stop();
  });

  it('covers the limit Claude is sent, the thinking budget added to max_tokens, not max_tokens alone', async () => {
    const apiKey = await gateway.createApp({ name: 'thinker', team: 'thinker-team', budget: { dailyUsd: 100 } });
    const holds = holdsOf('thinker');
    const answer = await gateway.chat(apiKey, { model: 'anthropic/claude-sonnet-4-6', reasoning_effort: 'high', max_tokens: 16, messages: HELLO });
    expect(answer.status).toBe(200);
    const sent = (emulators.anthropic.lastRequest()?.body as { max_tokens: number; thinking?: { budget_tokens: number } });
    // The adapter added the budget: the call may bill that many output tokens.
    expect(sent.thinking?.budget_tokens).toBeGreaterThan(0);
    expect(sent.max_tokens).toBeGreaterThan(16);
    const { inputPerMillion, outputPerMillion } = CATALOG.lookup('anthropic', 'claude-sonnet-4-6')!;
    expect(holds).toHaveLength(1);
    expect(holds[0]).toBeGreaterThanOrEqual((sent.max_tokens * outputPerMillion) / 1e6);
    // The limit sent and the prompt (a few tokens, far under 1,000), not the model's whole output limit.
    expect(holds[0]).toBeLessThan((sent.max_tokens * outputPerMillion + 1_000 * inputPerMillion) / 1e6);
  });

  it("holds what a provider that counts reasoning within max_tokens is sent, max_tokens, not the model's whole output limit", async () => {
    const apiKey = await gateway.createApp({ name: 'reasoner', team: 'reasoner-team', budget: { dailyUsd: 100 } });
    const holds = holdsOf('reasoner');
    // Gemini bills its thinking within maxOutputTokens, which it is sent as max_tokens.
    const answer = await gateway.chat(apiKey, { model: 'gemini/gemini-2.5-flash', reasoning_effort: 'high', max_tokens: 16, messages: HELLO });
    expect(answer.status, answer.text).toBe(200);
    expect((emulators.gemini.lastRequest()?.body as { generationConfig?: { maxOutputTokens?: number } }).generationConfig?.maxOutputTokens).toBe(16);
    const { inputPerMillion, outputPerMillion, maxOutputTokens } = CATALOG.lookup('gemini', 'gemini-2.5-flash')!;
    expect(maxOutputTokens).toBeGreaterThan(1_000);
    expect(holds).toHaveLength(1);
    expect(holds[0]).toBeLessThan((16 * outputPerMillion + 1_000 * inputPerMillion) / 1e6);
  });
});
