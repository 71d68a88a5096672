import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_SECRETS } from './ai-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';
import { eventually, startKeygate, type RunningKeygate } from './keygate-process.js';
import { REDIS_URL, redisAvailable, redisTestKeys, type RedisTestKeys } from './redis.js';

const HELLO = { model: 'up/gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] };

/**
 * `keygate start` with two worker processes on its default SQLite store, as a user runs it on a machine of two CPUs,
 * and Redis: each call on a connection of its own, which the kernel gives to either worker.
 */
describe.skipIf(!redisAvailable)('an app budget on one node of two workers, with Redis', () => {
  const run = randomBytes(4).toString('hex');
  let upstream: OpenAIEmulator;
  let keygate: RunningKeygate;
  let dir: string;
  let keys: RedisTestKeys;

  const admin = async (method: string, path: string, body?: unknown) => {
    const answer = await fetch(`${keygate.adminUrl}${path}`, { method, headers: { authorization: 'Bearer w', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await answer.text();
    expect(answer.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const call = (apiKey: string, method = 'POST', path = '/v1/chat/completions') =>
    fetch(`${keygate.proxyUrl}${path}`, { method, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', connection: 'close' }, body: method === 'POST' ? JSON.stringify(HELLO) : undefined });
  /** An app with an API key, once every worker knows it: twelve listings of its models on new connections all answer. */
  const appOf = async (name: string, budget?: Record<string, number>) => {
    await admin('PUT', `/apps/${name}`, { name, team: `team-${run}`, ...(budget ? { budget } : {}) });
    const apiKey = String((await admin('POST', `/apps/${name}/api-keys`, {})).secret);
    await eventually(async () => (await Promise.all(Array.from({ length: 12 }, () => call(apiKey, 'GET', '/v1/models').then((r) => r.status)))).every((s) => s === 200), `both workers knowing app ${name}`);
    return apiKey;
  };

  beforeAll(async () => {
    [upstream, keys] = await Promise.all([startOpenAIEmulator(), redisTestKeys()]);
    dir = mkdtempSync(join(tmpdir(), 'keygate-budget-workers-'));
    const config = join(dir, 'keygate.yaml');
    writeFileSync(config, `version: 1\nroutes:\n  - name: ai\n    paths: ["/v1/*"]\n    ai: {}\n    auth:\n      methods: [api-key]\nai:\n  providers:\n    - name: up\n      type: openai\n      baseUrl: ${upstream.url}\n`);
    keygate = await startKeygate({ KEYGATE_WORKERS: '2', KEYGATE_ADMIN_TOKEN: 'w', KEYGATE_REDIS_URL: REDIS_URL }, ['--config', config]);
    await admin('PUT', `/teams/team-${run}`, { name: `team-${run}` });
    await admin('POST', '/ai/providers/up/keys', { secret: PROVIDER_SECRETS.openai });
  }, 60_000);
  afterAll(async () => {
    await keygate?.stop();
    await upstream?.stop();
    const mine = await keys?.client.keys(`keygate:ai-budgets:*${run}*`);
    if (mine?.length) await keys?.client.del(...mine);
    await keys?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('admits the calls the budget pays for, whichever worker takes each, and refuses the rest for good', async () => {
    const probe = await call(await appOf(`probe-${run}`));
    const cost = Number(probe.headers.get('x-keygate-cost-usd'));
    expect(cost).toBeGreaterThan(0);
    const apiKey = await appOf(`paced-${run}`, { dailyUsd: cost * 3.5 });
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await call(apiKey));
    // Four calls fit; without Redis each worker lets four of its own through, which a probe saw as 2.2x the budget.
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
    for (const refused of answers.slice(4)) expect(refused.headers.get('x-should-retry')).toBe('false');
  }, 60_000);
});
