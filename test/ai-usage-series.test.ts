import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { AiGateway, PROVIDER_SECRETS, type UsageRow } from './ai-fixtures.js';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from './databases.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];
const HOUR = 3_600_000;
/** 22:30 UTC on the last day of November: the calls below cross a day and a month. */
const START = Date.UTC(2026, 10, 30, 22, 30);

interface Standing {
  limitUsd: number | null;
  spentUsd: number;
  remainingUsd: number | null;
  resetsAt: string;
}
interface Budgets {
  at: string;
  teams: Array<{ name: string; daily: Standing; monthly: Standing }>;
  apps: Array<{ name: string; team: string; daily: Standing; monthly: Standing; tokensPerMinute: number | null }>;
}

const sumOf = (rows: readonly UsageRow[], field: 'calls' | 'costUsd' | 'inputTokens') => rows.reduce((sum, row) => sum + row[field], 0);

describe.each(STORE_KINDS)('usage per period and budget standing, on %s', (kind) => {
  let gateway: AiGateway;
  let openai: OpenAIEmulator;
  let db: TestDatabase;
  const clock = new ManualClock(START);
  /** The cost of each call, in the order made, with the hour it was made at. */
  const calls: Array<{ app: string; at: number; cost: number }> = [];

  const call = async (apiKey: string, app: string) => {
    const answer = await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO });
    expect(answer.status).toBe(200);
    calls.push({ app, at: clock.now(), cost: Number(answer.headers.get('x-keygate-cost-usd')) });
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    openai = await startOpenAIEmulator();
    gateway = await AiGateway.start({ clock, env: { KEYGATE_DATABASE_URL: db.url } });
    await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }] });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    // createApp writes the team as given: the team's budget comes with the last app.
    const south = await gateway.createApp({ name: 'south', team: 'maps' });
    const north = await gateway.createApp({ name: 'north', team: 'maps', budget: { dailyUsd: 5, monthlyUsd: 50, tokensPerMinute: 100_000 }, teamBudget: { monthlyUsd: 100 } });
    await gateway.createApp({ name: 'idle', team: 'quiet' });
    // Nov 30, 22:30: north twice, south once; 23:40: north; Dec 1, 00:50: south; 02:00: north twice; Dec 2, 02:00: north.
    await call(north, 'north');
    await call(north, 'north');
    await call(south, 'south');
    clock.advance(70 * 60_000);
    await call(north, 'north');
    clock.advance(70 * 60_000);
    await call(south, 'south');
    clock.advance(70 * 60_000);
    await call(north, 'north');
    await call(north, 'north');
    clock.advance(24 * HOUR);
    await call(north, 'north');
    await gateway.gateway.flushUsage();
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
    await db?.drop();
  });

  it('sums usage per UTC day, each row with its period, in order of period and then group', async () => {
    const rows = await gateway.usage({ groupBy: 'app', interval: 'day', from: new Date(START - 24 * HOUR).toISOString() });
    expect(rows.map((row) => [row.period, row.app, row.calls])).toEqual([
      ['2026-11-30T00:00:00.000Z', 'north', 3],
      ['2026-11-30T00:00:00.000Z', 'south', 1],
      ['2026-12-01T00:00:00.000Z', 'north', 2],
      ['2026-12-01T00:00:00.000Z', 'south', 1],
      ['2026-12-02T00:00:00.000Z', 'north', 1],
    ]);
    const cost = (app: string, from: number, to: number) => calls.filter((c) => c.app === app && c.at >= from && c.at < to).reduce((sum, c) => sum + c.cost, 0);
    const december = Date.UTC(2026, 11, 1);
    expect(rows[0]!.costUsd).toBeCloseTo(cost('north', 0, december), 9);
    expect(rows[2]!.costUsd).toBeCloseTo(cost('north', december, december + 24 * HOUR), 9);
    // The days add up to the whole period's sums.
    const whole = await gateway.usage({ groupBy: 'app', from: new Date(START - 24 * HOUR).toISOString() });
    expect(sumOf(rows, 'calls')).toBe(sumOf(whole, 'calls'));
    expect(sumOf(rows, 'inputTokens')).toBe(sumOf(whole, 'inputTokens'));
    expect(sumOf(rows, 'costUsd')).toBeCloseTo(sumOf(whole, 'costUsd'), 9);
    expect(whole.every((row) => row.period === undefined)).toBe(true);
  });

  it('sums usage per hour, leaving out hours without calls', async () => {
    const rows = await gateway.usage({ groupBy: 'team', interval: 'hour', from: '2026-11-30T00:00:00Z', to: '2026-12-02T00:00:00Z' });
    expect(rows.map((row) => [row.period, row.team, row.calls])).toEqual([
      ['2026-11-30T22:00:00.000Z', 'maps', 3],
      ['2026-11-30T23:00:00.000Z', 'maps', 1],
      ['2026-12-01T00:00:00.000Z', 'maps', 1],
      ['2026-12-01T02:00:00.000Z', 'maps', 2],
    ]);
  });

  it('sums usage per calendar month, folding its days, with averages over the whole month', async () => {
    const months = await gateway.usage({ groupBy: 'team', interval: 'month' });
    expect(months.map((row) => [row.period, row.team, row.calls])).toEqual([
      ['2026-11-01T00:00:00.000Z', 'maps', 4],
      ['2026-12-01T00:00:00.000Z', 'maps', 4],
    ]);
    const days = await gateway.usage({ groupBy: 'team', interval: 'day', from: '2026-11-01T00:00:00Z' });
    expect(months[1]!.costUsd).toBeCloseTo(days.filter((row) => String(row.period) >= '2026-12').reduce((sum, row) => sum + row.costUsd, 0), 9);
  });

  it("averages a month's latency and time to first token over its calls, not over its days' averages", async () => {
    // Written as a node records them: one call on October 3 (100 ms), two on October 9 (300 and 500 ms, one streamed).
    const row = (at: number, latency: number, ttft: number | null, key: string) => ({
      at, request_id: key, app: 'timed', team: 'clocks', route: 'ai', provider: 'openai', model: 'gpt-4o-mini', input_tokens: 1, output_tokens: 1, cached_tokens: 0,
      estimated: 0, cost_usd: 0, latency_ms: latency, ttft_ms: ttft, status: 200, cache_hit: 0, record_key: key,
    });
    await gateway.gateway.store.db.insertInto('ai_usage').values([
      row(Date.UTC(2026, 9, 3), 100, 40, 'timed-1'),
      row(Date.UTC(2026, 9, 9), 300, null, 'timed-2'),
      row(Date.UTC(2026, 9, 9, 1), 500, 80, 'timed-3'),
    ]).execute();
    const [october] = await gateway.usage({ groupBy: 'app', app: 'timed', interval: 'month' });
    // Per call: (100 + 300 + 500) / 3 and (40 + 80) / 2; the days' averages would give 250 and 60.
    expect(october).toMatchObject({ period: '2026-10-01T00:00:00.000Z', calls: 3, avgLatencyMs: 300, avgTtftMs: 60 });
  });

  it('counts a record at the edge of a range asked for finer than a millisecond as the instant says: from included, to excluded', async () => {
    const edge = (at: number, key: string) => ({
      at, request_id: key, app: 'edges', team: 'clocks', route: 'ai', provider: 'openai', model: 'gpt-4o-mini', input_tokens: 1, output_tokens: 1, cached_tokens: 0,
      estimated: 0, cost_usd: 0, latency_ms: 1, ttft_ms: null, status: 200, cache_hit: 0, record_key: key,
    });
    // 2026-09-30T23:59:59.999Z and 2026-10-01T00:00:00.000Z.
    await gateway.gateway.store.db.insertInto('ai_usage').values([edge(Date.UTC(2026, 9, 1) - 1, 'edge-1'), edge(Date.UTC(2026, 9, 1), 'edge-2')]).execute();
    const calls = async (range: Record<string, string>) => sumOf(await gateway.usage({ app: 'edges', ...range }), 'calls');
    expect(await calls({ from: '2026-09-30T23:59:59.9995Z' })).toBe(1);
    expect(await calls({ from: '2026-09-30T23:59:59.999000Z' })).toBe(2);
    expect(await calls({ to: '2026-10-01T00:00:00.0005Z' })).toBe(2);
    expect(await calls({ to: '2026-10-01T00:00:00.000Z' })).toBe(1);
  });

  it('answers an empty model filter with the records of calls whose model could not be read', async () => {
    const apiKey = await gateway.createApp({ name: 'garbled', team: 'clocks' });
    expect((await gateway.call('POST', '/v1/chat/completions', apiKey, '{"model":')).status).toBe(400);
    const rows = await gateway.usage({ groupBy: 'model', app: 'garbled', model: '' });
    expect(rows).toEqual([expect.objectContaining({ model: '', calls: 1, failedCalls: 1 })]);
  });

  it('sums usage per API key, and for one key, so that an operator sees which of an app\'s keys spends', async () => {
    await gateway.createApp({ name: 'keyed', team: 'clocks' });
    const issue = () => gateway.admin<{ id: string; secret: string }>(201, 'POST', '/apps/keyed/api-keys', {});
    const [first, second] = [await issue(), await issue()];
    for (const key of [first, first, second]) expect((await gateway.chat(key.secret, { model: 'openai/gpt-4o-mini', messages: HELLO })).status).toBe(200);
    const rows = await gateway.usage({ groupBy: 'credential', app: 'keyed' });
    expect(rows.map((row) => [row.credential, row.calls]).sort()).toEqual([[first.id, 2], [second.id, 1]].sort());
    expect(await gateway.usage({ groupBy: 'app', credential: second.id })).toEqual([expect.objectContaining({ app: 'keyed', calls: 1 })]);
    // No secret is in a report: a key is named by its id.
    expect(JSON.stringify(rows)).not.toContain(first.secret);
  });

  it('refuses a range whose from is after its to with 400 invalid_request, rather than answer that nothing was spent', async () => {
    const refused = await gateway.admin<{ error: { code: string; message: string } }>(400, 'GET', '/ai/usage?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z');
    expect(refused.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('is after') });
  });

  it('refuses a series it would not answer well with 400 invalid_request: hours or days with no start, more than 1,000 periods, an unknown interval', async () => {
    for (const query of ['interval=day', 'interval=hour&to=2026-12-01T00:00:00Z', 'interval=hour&from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z', 'interval=week&from=2026-11-01T00:00:00Z']) {
      const refused = await gateway.admin<{ error: { code: string; message: string } }>(400, 'GET', `/ai/usage?${query}`);
      expect(refused.error.code, query).toBe('invalid_request');
    }
    const tooLong = await gateway.admin<{ error: { message: string } }>(400, 'GET', '/ai/usage?interval=hour&from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z');
    expect(tooLong.error.message).toContain('at most 1000');
  });

  it("tells where each budget stands: this day's and month's spend, the limit, what is left and when it resets", async () => {
    const standing = await gateway.admin<Budgets>(200, 'GET', '/ai/budgets');
    expect(standing.at).toBe(new Date(clock.now()).toISOString());
    const [december, secondOfDecember] = [Date.UTC(2026, 11, 1), Date.UTC(2026, 11, 2)];
    const spent = (app: string | undefined, from: number) => calls.filter((c) => (app === undefined || c.app === app) && c.at >= from).reduce((sum, c) => sum + c.cost, 0);
    // Only what has a budget is listed: north and its team; south and the team "quiet" have none.
    expect(standing.apps.map((a) => a.name)).toEqual(['north']);
    expect(standing.teams.map((t) => t.name)).toEqual(['maps']);
    const [north] = standing.apps;
    expect(north).toMatchObject({ team: 'maps', tokensPerMinute: 100_000 });
    expect(north!.daily).toMatchObject({ limitUsd: 5, resetsAt: '2026-12-03T00:00:00.000Z' });
    expect(north!.daily.spentUsd).toBeCloseTo(spent('north', secondOfDecember), 9);
    expect(north!.daily.remainingUsd).toBeCloseTo(5 - spent('north', secondOfDecember), 9);
    expect(north!.monthly).toMatchObject({ limitUsd: 50, resetsAt: '2027-01-01T00:00:00.000Z' });
    expect(north!.monthly.spentUsd).toBeCloseTo(spent('north', december), 9);
    const [maps] = standing.teams;
    // The team has no daily limit: its day's spend is told, nothing is left of no limit.
    expect(maps!.daily).toMatchObject({ limitUsd: null, remainingUsd: null });
    expect(maps!.daily.spentUsd).toBeCloseTo(spent(undefined, secondOfDecember), 9);
    expect(maps!.monthly.limitUsd).toBe(100);
    expect(maps!.monthly.remainingUsd).toBeCloseTo(100 - spent(undefined, december), 9);
    expect(spent(undefined, december)).toBeGreaterThan(spent('north', december));
    expect(spent('north', december)).toBeGreaterThan(spent('north', secondOfDecember));
  });

  it('tells the standing of an app or a team asked for by name, with or without a budget, and 404 for one that does not exist', async () => {
    const south = await gateway.admin<Budgets>(200, 'GET', '/ai/budgets?app=south');
    expect(south.apps).toEqual([expect.objectContaining({ name: 'south', team: 'maps', tokensPerMinute: null, daily: expect.objectContaining({ limitUsd: null, remainingUsd: null }) })]);
    // South spent on the first of December, not today, the second.
    expect(south.apps[0]!.daily.spentUsd).toBe(0);
    expect(south.apps[0]!.monthly.spentUsd).toBeGreaterThan(0);
    expect(south.teams.map((t) => t.name)).toEqual(['maps']);
    const quiet = await gateway.admin<Budgets>(200, 'GET', '/ai/budgets?team=quiet');
    expect(quiet.teams).toEqual([expect.objectContaining({ name: 'quiet', daily: expect.objectContaining({ spentUsd: 0 }) })]);
    expect(quiet.apps.map((a) => a.name)).toEqual(['idle']);
    const maps = await gateway.admin<Budgets>(200, 'GET', '/ai/budgets?team=maps');
    expect(maps.apps.map((a) => a.name)).toEqual(['north', 'south']);
    for (const query of ['app=nobody', 'team=nobody', 'app=north&team=quiet']) {
      const missing = await gateway.admin<{ error: { code: string } }>(404, 'GET', `/ai/budgets?${query}`);
      expect(missing.error.code, query).toBe('not_found');
    }
  });
});
