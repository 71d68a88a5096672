import { ManualClock } from '../src/clock.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAKES } from '../src/cli/ai-command.js';
import { ADMIN_TOKEN, AiGateway, PROVIDER_SECRETS } from './ai-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';
import { runKeygate } from './keygate-process.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];

describe('keygate ai, against a running node', () => {
  let gateway: AiGateway;
  let openai: OpenAIEmulator;
  let env: Record<string, string>;
  /** What the calls below cost, by the gateway's own header. */
  let spent = 0;
  let lastRequestId = '';
  const keygate = (...args: string[]) => runKeygate(['ai', ...args], env);

  beforeAll(async () => {
    openai = await startOpenAIEmulator();
    gateway = await AiGateway.start();
    env = { KEYGATE_ADMIN_URL: gateway.gateway.adminUrl!, KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN };
    await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }] });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    const apiKey = await gateway.createApp({ name: 'charted', team: 'graphs', budget: { dailyUsd: 5, tokensPerMinute: 1000 } });
    for (let i = 0; i < 3; i += 1) {
      const answer = await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO });
      expect(answer.status).toBe(200);
      spent += Number(answer.headers.get('x-keygate-cost-usd'));
      lastRequestId = answer.headers.get('x-request-id')!;
    }
    await gateway.gateway.flushUsage();
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
  });

  it('usage prints a table of the calls and a chart of the spend per day', async () => {
    // From the day before: the calls may have been made either side of midnight (UTC).
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const result = await keygate('usage', '--group-by', 'app', '--interval', 'day', '--from', `${yesterday}T00:00:00Z`);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]!.split(/\s{2,}/)).toEqual(['PERIOD', 'APP', 'CALLS', 'FAILED', 'TOKENS IN', 'TOKENS OUT', 'COST']);
    const rows = lines.slice(1, lines.indexOf('')).map((line) => line.split(/\s+/));
    expect(rows.every((row) => /^\d{4}-\d\d-\d\d$/.test(row[0]!) && row[1] === 'charted')).toBe(true);
    expect(rows.reduce((sum, row) => sum + Number(row[2]), 0)).toBe(3);
    const chart = lines.slice(lines.indexOf('') + 1);
    expect(chart[0]).toMatch(/^Spend per day \(\$[\d.]+ in all\)$/);
    // A bar a day, the largest at full length, each with the day's spend: together what the calls cost.
    const bars = chart.slice(1);
    expect(bars).toHaveLength(rows.length);
    expect(bars.some((line) => /^\d{4}-\d\d-\d\d {2}█{40} {2}\$/.test(line))).toBe(true);
    expect(bars.reduce((sum, line) => sum + Number(line.split('$')[1]), 0)).toBeCloseTo(spent, 6);
  });

  it('budgets shows each limit with a bar of what is spent of it, and the spend where there is no limit', async () => {
    const result = await keygate('budgets', '--app', 'charted');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toContain('app charted (team graphs, 1,000 tokens a minute)');
    const today = lines.find((line) => line.startsWith('  today') && line.includes('of $5.00'));
    expect(today).toMatch(/\(0%\), \$5\.00 left, resets \d{4}-\d\d-\d\dT00:00Z$/);
    expect(lines.find((line) => line.startsWith('  month') && line.includes('no limit'))).toBeDefined();
  });

  it('budgets prints the spend to four significant digits of what the admin API tells, however small', async () => {
    const answer = (await (await fetch(`${env.KEYGATE_ADMIN_URL}/ai/budgets?app=charted`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { apps: Array<{ daily: { spentUsd: number } }> };
    const spentUsd = answer.apps[0]!.daily.spentUsd;
    const result = await keygate('budgets', '--app', 'charted');
    const printed = /^ {2}today .* \$([\d.]+) of \$5\.00/m.exec(result.stdout)![1]!;
    expect(spentUsd).toBeGreaterThan(0);
    expect(Math.abs(Number(printed) - spentUsd) / spentUsd).toBeLessThan(0.0005);
  });

  it('calls lists the latest calls, and says how to see more when there are', async () => {
    const result = await keygate('calls', '--app', 'charted', '--limit', '1');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[1]).toContain(lastRequestId);
    expect(lines[1]).toContain('openai/gpt-4o-mini');
    expect(lines.at(-1)).toMatch(/^more: keygate ai calls … --before c[0-9a-z]+$/);
  });

  it('prints the admin API\'s JSON with --json', async () => {
    const result = await keygate('usage', '--group-by', 'team', '--json');
    expect(JSON.parse(result.stdout)).toMatchObject({ groupBy: 'team', rows: [{ team: 'graphs', calls: 3 }] });
  });

  it('refuses an option its subcommand does not take, and an unknown subcommand, with usage and exit code 2', async () => {
    const stray = await keygate('usage', '--limit', '3');
    expect(stray.code).toBe(2);
    expect(stray.stderr).toContain('keygate ai usage takes no --limit');
    const unknown = await keygate('spend');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown subcommand "spend"');
  });

  it('passes on the admin API\'s refusal of a bad value as one line with its code', async () => {
    const result = await keygate('usage', '--interval', 'day');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('keygate: invalid_request: interval=day needs a start: give from (RFC 3339)');
  });
});

describe("keygate ai's filters, against a running node", () => {
  let gateway: AiGateway;
  let openai: OpenAIEmulator;
  let env: Record<string, string>;
  let keys: Array<{ id: string; secret: string }>;
  /** The calls made, in order: their request ids and when the log says each was made. */
  const made: Array<{ requestId: string; at: string }> = [];
  const keygate = (...args: string[]) => runKeygate(['ai', ...args], env);
  /** The request ids the CLI's --json lists, which must be those the admin API lists for the same query. */
  const callsListed = async (query: Record<string, string>, ...args: string[]): Promise<string[]> => {
    const result = await keygate('calls', '--app', 'filtered', ...args, '--json');
    expect(result.code, result.stderr).toBe(0);
    const listed = JSON.parse(result.stdout) as { calls: Array<{ requestId: string }> };
    expect(listed).toEqual(await gateway.admin(200, 'GET', `/ai/calls?${new URLSearchParams({ app: 'filtered', ...query }).toString()}`));
    return listed.calls.map((c) => c.requestId);
  };

  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    openai = await startOpenAIEmulator();
    gateway = await AiGateway.start({ clock });
    env = { KEYGATE_ADMIN_URL: gateway.gateway.adminUrl!, KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN };
    const route = { ai: {}, auth: { methods: ['api-key'] } };
    await gateway.admin(200, 'PUT', '/config', {
      version: 1,
      routes: [{ name: 'ai', paths: ['/v1/*'], ...route }, { name: 'eu', paths: ['/eu/v1/*'], ...route }],
      ai: { providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }, { name: 'backup', type: 'openai', baseUrl: openai.url }] },
    });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('backup', PROVIDER_SECRETS.openai);
    await gateway.createApp({ name: 'filtered', team: 'filters' });
    keys = [
      await gateway.admin<{ id: string; secret: string }>(201, 'POST', '/apps/filtered/api-keys', {}),
      await gateway.admin<{ id: string; secret: string }>(201, 'POST', '/apps/filtered/api-keys', {}),
    ];
    // Each key, route and provider twice, in a different pair of calls each, so that each filter picks its own pair.
    for (const [key, path, provider] of [[0, '/v1', 'openai'], [1, '/v1', 'backup'], [0, '/eu/v1', 'backup'], [1, '/eu/v1', 'openai']] as const) {
      const answer = await gateway.call('POST', `${path}/chat/completions`, keys[key]!.secret, { model: `${provider}/gpt-4o-mini`, messages: HELLO });
      expect(answer.status, answer.text).toBe(200);
      made.push({ requestId: answer.headers.get('x-request-id')!, at: '' });
      // Calls a second apart on the gateway's clock, for --from and --to to tell them apart.
      clock.advance(1_000);
    }
    await gateway.gateway.flushUsage();
    const { calls } = await gateway.admin<{ calls: Array<{ requestId: string; at: string }> }>(200, 'GET', '/ai/calls?app=filtered');
    for (const call of made) call.at = calls.find((c) => c.requestId === call.requestId)!.at;
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
  });

  const ids = (...which: number[]) => which.map((i) => made[i]!.requestId);

  it('each subcommand takes exactly the query parameters of its admin API endpoint', async () => {
    const spec = await gateway.admin<{ paths: Record<string, { get: { parameters?: Array<{ in: string; name: string }> } }> }>(200, 'GET', '/openapi.json');
    const camel = (option: string) => option.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
    for (const sub of ['usage', 'budgets', 'calls']) {
      const parameters = spec.paths[`/ai/${sub}`]!.get.parameters!.filter((p) => p.in === 'query').map((p) => p.name);
      expect(TAKES[sub]!.map(camel).sort(), sub).toEqual(parameters.sort());
    }
  });

  it('usage --credential sums only the calls made with that API key, as the admin API does', async () => {
    const result = await keygate('usage', '--credential', keys[1]!.id, '--json');
    expect(result.code, result.stderr).toBe(0);
    const answer = JSON.parse(result.stdout) as unknown;
    expect(answer).toMatchObject({ rows: [{ app: 'filtered', calls: 2 }] });
    expect(answer).toEqual(await gateway.admin(200, 'GET', `/ai/usage?credential=${keys[1]!.id}`));
  });

  it('calls --from and --to list the calls made from the one instant up to the other, the first included and the last not', async () => {
    expect(await callsListed({ from: made[1]!.at, to: made[3]!.at }, '--from', made[1]!.at, '--to', made[3]!.at)).toEqual(ids(2, 1));
  });

  it('calls --credential lists only the calls made with that API key', async () => {
    expect(await callsListed({ credential: keys[1]!.id }, '--credential', keys[1]!.id)).toEqual(ids(3, 1));
  });

  it('calls --provider lists only the calls that provider answered', async () => {
    expect(await callsListed({ provider: 'backup' }, '--provider', 'backup')).toEqual(ids(2, 1));
  });

  it('calls --route lists only the calls made on that route', async () => {
    expect(await callsListed({ route: 'eu' }, '--route', 'eu')).toEqual(ids(3, 2));
  });

  it('calls finds a request id between --from and --to, as the docs advise on a large log', async () => {
    const result = await keygate('calls', '--request-id', made[2]!.requestId, '--from', made[2]!.at, '--to', made[3]!.at);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(made[2]!.requestId);
    expect(lines[1]).toContain('backup/gpt-4o-mini');
  });
});
