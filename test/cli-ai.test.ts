import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
