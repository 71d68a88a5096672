import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiCommand, dollars } from './ai-command.js';

describe('dollars as the CLI prints them', () => {
  it('prints whole cents with two decimals, thousands grouped', () => {
    expect([12.5, 5, 0.01, 0.2, 1e9].map(dollars)).toEqual(['$12.50', '$5.00', '$0.01', '$0.20', '$1,000,000,000.00']);
  });

  it('prints an amount between whole cents to a hundredth of a cent', () => {
    expect([1234.5678, 0.12345, 48.7959, 4.9999535].map(dollars)).toEqual(['$1,234.5678', '$0.1235', '$48.7959', '$5.00']);
  });

  it('prints four significant digits below a dime, in decimals however small', () => {
    expect([0.0149, 0.0155, 0.0051, 0.0099, 0.000584, 0.0000775, 1e-7, 2.5e-8].map(dollars)).toEqual(['$0.0149', '$0.0155', '$0.0051', '$0.0099', '$0.000584', '$0.0000775', '$0.0000001', '$0.000000025']);
  });

  it('never rounds a non-zero amount to $0.00, which is nothing', () => {
    expect([0, 1e-9, 1.23456e-30].map(dollars)).toEqual(['$0.00', '$0.000000001', `$0.${'0'.repeat(29)}1235`]);
  });
});

/** What the admin API answers in the tests below, by path. */
const ANSWERS: Record<string, unknown> = {
  '/ai/budgets': {
    teams: [],
    apps: [{ name: 'chatbot', team: 'research', tokensPerMinute: null, daily: { limitUsd: 0.02, spentUsd: 0.0149, remainingUsd: 0.0051, resetsAt: '2026-12-03T00:00:00.000Z' }, monthly: { limitUsd: null, spentUsd: 0, remainingUsd: null, resetsAt: '2027-01-01T00:00:00.000Z' } }],
  },
  '/ai/usage': {
    groupBy: 'model',
    rows: [0.0149, 0.0155, 0.12345, 12.5, 0, 1234.5678].map((costUsd, i) => ({ model: `model-${i}`, calls: 1, failedCalls: 0, inputTokens: 10, outputTokens: 5, costUsd })),
  },
  '/ai/calls': {
    calls: [0.0149, 1234.5678, 0].map((costUsd, i) => ({ requestId: `req-${i}`, at: '2026-12-02T09:29:58.112Z', app: 'chatbot', model: 'gpt-4o', provider: 'openai', status: 200, inputTokens: 10, outputTokens: 5, costUsd, latencyMs: 12 })),
    next: null,
  },
};

describe('keygate ai, printing what the admin API answers', () => {
  let server: Server;
  let env: Record<string, string>;
  const asked: string[] = [];

  const run = async (...args: string[]): Promise<string[]> => {
    const lines: string[] = [];
    await aiCommand(args, env, (line) => lines.push(line));
    return lines;
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      asked.push(req.url!);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(ANSWERS[new URL(req.url!, 'http://x').pathname]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env = { KEYGATE_ADMIN_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, KEYGATE_ADMIN_TOKEN: 't' };
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('budgets prints what is spent, the limit and what is left in figures that agree with each other', async () => {
    const lines = await run('budgets');
    expect(lines[1]).toMatch(/ \$0\.0149 of \$0\.02 \(75%\), \$0\.0051 left, resets 2026-12-03T00:00Z$/);
    expect(lines[2]).toMatch(/ \$0\.00 spent, no limit$/);
  });

  it('usage prints each cost as precisely as the API gives it, the column aligned to the right', async () => {
    const lines = await run('usage', '--group-by', 'model');
    const table = lines.slice(0, lines.indexOf(''));
    const costs = ['$0.0149', '$0.0155', '$0.1235', '$12.50', '$0.00', '$1,234.5678'];
    expect(table.slice(1).map((line) => line.split(/\s+/).at(-1))).toEqual(costs);
    expect(new Set(table.map((line) => line.length)).size).toBe(1);
    // The chart's bars say the same amounts as the table.
    expect(lines.slice(lines.indexOf('') + 2).map((line) => line.split(/\s+/).at(-1))).toEqual(costs);
  });

  it('calls prints each cost as precisely as the API gives it, the columns aligned whatever its length', async () => {
    const lines = await run('calls');
    const costs = lines.map((line) => /COST|\$\S+/.exec(line)!);
    expect(costs.slice(1).map((cost) => cost[0])).toEqual(['$0.0149', '$1,234.5678', '$0.00']);
    // The cost column ends, and the latency column after it, at the same place on every line.
    expect(new Set(costs.map((cost) => cost.index + cost[0].length)).size).toBe(1);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });

  it('passes each option of calls to the admin API as its query parameter, an empty filter as empty', async () => {
    await run('calls', '--from', '2026-12-01T00:00:00Z', '--to', '2026-12-02T00:00:00Z', '--credential', 'k1', '--route', 'ai', '--provider=', '--request-id', 'r1', '--limit', '5');
    const query = new URL(asked.at(-1)!, 'http://x').searchParams;
    expect(Object.fromEntries(query)).toEqual({ from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z', credential: 'k1', route: 'ai', provider: '', requestId: 'r1', limit: '5' });
  });
});
