import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, PROVIDER_SECRETS } from './ai-fixtures.js';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from './databases.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];

interface LoggedCall {
  requestId: string;
  at: string;
  app: string | null;
  team: string | null;
  credential: string | null;
  route: string;
  provider: string | null;
  model: string;
  status: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  estimated: boolean;
  costUsd: number;
  latencyMs: number;
  ttftMs: number | null;
  cacheHit: boolean;
}
interface Page {
  calls: LoggedCall[];
  next: string | null;
}

describe.each(STORE_KINDS)('the log of AI calls, on %s', (kind) => {
  let gateway: AiGateway;
  let openai: OpenAIEmulator;
  let db: TestDatabase;
  let keys: Array<{ id: string; secret: string }>;
  /** The request ids of the calls made, in order, with what each was. */
  const made: Array<{ requestId: string; key: number; status: number; cost: number }> = [];

  const page = async (query: Record<string, string>): Promise<Page> => {
    await gateway.gateway.flushUsage();
    return gateway.admin<Page>(200, 'GET', `/ai/calls?${new URLSearchParams(query).toString()}`);
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    openai = await startOpenAIEmulator();
    gateway = await AiGateway.start({ env: { KEYGATE_DATABASE_URL: db.url } });
    await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }] });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    await gateway.createApp({ name: 'logged', team: 'logs' });
    keys = [
      await gateway.admin<{ id: string; secret: string }>(201, 'POST', '/apps/logged/api-keys', {}),
      await gateway.admin<{ id: string; secret: string }>(201, 'POST', '/apps/logged/api-keys', {}),
    ];
    for (const [key, model] of [[0, 'openai/gpt-4o-mini'], [1, 'openai/gpt-4o-mini'], [0, 'no-such-model'], [1, 'openai/gpt-4o-mini'], [0, 'openai/gpt-4o-mini']] as const) {
      const answer = await gateway.chat(keys[key]!.secret, { model, messages: HELLO });
      made.push({ requestId: answer.headers.get('x-request-id')!, key, status: answer.status, cost: Number(answer.headers.get('x-keygate-cost-usd') ?? 0) });
    }
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
    await db?.drop();
  });

  it('lists the calls newest first, each as recorded: request id, app, key, model, status, tokens and cost', async () => {
    const { calls, next } = await page({ app: 'logged' });
    expect(next).toBeNull();
    expect(calls.map((c) => c.requestId)).toEqual(made.map((m) => m.requestId).reverse());
    const [last] = calls;
    expect(last).toMatchObject({ app: 'logged', team: 'logs', credential: keys[0]!.id, route: 'ai', provider: 'openai', model: 'gpt-4o-mini', status: 200, estimated: false, cacheHit: false, ttftMs: null });
    expect(last!.costUsd).toBeCloseTo(made[4]!.cost, 9);
    expect(last!.inputTokens).toBeGreaterThan(0);
    expect(Date.parse(last!.at)).toBeGreaterThan(Date.now() - 60_000);
    // The unknown model: refused before any provider, with no tokens and no cost.
    expect(calls[2]).toMatchObject({ status: 404, provider: null, model: 'no-such-model', inputTokens: 0, costUsd: 0 });
  });

  it('pages through every call once, each page holding at most the limit, the last one saying there is no next', async () => {
    const seen: string[] = [];
    let pages = 0;
    let query: Record<string, string> = { app: 'logged', limit: '2' };
    while (pages < 10) {
      pages += 1;
      const { calls, next } = await page(query);
      expect(calls.length).toBeLessThanOrEqual(2);
      seen.push(...calls.map((c) => c.requestId));
      if (next === null) break;
      query = { ...query, before: next };
    }
    expect(seen).toEqual(made.map((m) => m.requestId).reverse());
    // Five calls, two a page: three pages, the last with one call and no next.
    expect(pages).toBe(3);
    // A page that holds exactly what is left says there is nothing after it.
    expect(await page({ app: 'logged', limit: '5' })).toMatchObject({ next: null, calls: { length: 5 } });
  });

  it('finds a call by its request id, and the calls of one key, one status or no provider', async () => {
    expect((await page({ requestId: made[1]!.requestId })).calls.map((c) => c.requestId)).toEqual([made[1]!.requestId]);
    const second = await page({ credential: keys[1]!.id });
    expect(second.calls.map((c) => c.requestId)).toEqual([made[3]!.requestId, made[1]!.requestId]);
    expect((await page({ app: 'logged', status: '404' })).calls.map((c) => c.requestId)).toEqual([made[2]!.requestId]);
    expect((await page({ app: 'logged', provider: '' })).calls.map((c) => c.requestId)).toEqual([made[2]!.requestId]);
  });

  it('refuses with 400 invalid_request a cursor it did not give, a limit out of range and an unknown filter', async () => {
    for (const query of ['before=12', 'before=c!', 'limit=0', 'limit=1001', 'status=abc', 'user=x']) {
      const refused = await gateway.admin<{ error: { code: string } }>(400, 'GET', `/ai/calls?${query}`);
      expect(refused.error.code, query).toBe('invalid_request');
    }
  });

  it('refuses a range whose from is after its to with 400 invalid_request, rather than answer that no call was made', async () => {
    const refused = await gateway.admin<{ error: { code: string; message: string } }>(400, 'GET', '/ai/calls?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z');
    expect(refused.error).toMatchObject({ code: 'invalid_request', message: 'from (2026-12-02T00:00:00Z) is after to (2026-12-01T00:00:00Z)' });
  });
});
