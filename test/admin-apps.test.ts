import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { AiGateway } from './ai-fixtures.js';
import { STORE_KINDS, createTestDatabase, type TestDatabase } from './databases.js';

/** Teams, apps, their credentials and subscriptions through the admin API, on each store. */
describe.each(STORE_KINDS)('teams, apps, credentials and subscriptions through the admin API (%s)', (kind) => {
  let db: TestDatabase;
  let gateway: AiGateway;
  // Time stands still: every change below happens in the same millisecond.
  const clock = new ManualClock(Date.UTC(2026, 11, 10, 12));

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    gateway = await AiGateway.start({ clock, env: { KEYGATE_DATABASE_URL: db.url } });
    await gateway.admin(200, 'PUT', '/teams/shop', { name: 'shop' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  const send = (method: string, path: string, body?: unknown) => gateway.send(method, path, body);

  it('answers the credentials of an app that does not exist with 404 not_found, as the app itself', async () => {
    expect(await send('GET', '/apps/nope')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await send('GET', '/apps/nope/credentials')).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no app is named "nope"' } } });
  });

  it('lists credentials created in the same millisecond in the order of their ids', async () => {
    await gateway.admin(200, 'PUT', '/apps/keyring', { name: 'keyring', team: 'shop' });
    for (let i = 0; i < 8; i++) await gateway.admin(201, 'POST', '/apps/keyring/api-keys', { label: `k${i}` });
    const { credentials } = await gateway.admin<{ credentials: Array<{ id: string }> }>(200, 'GET', '/apps/keyring/credentials');
    const ids = credentials.map((c) => c.id);
    expect(ids).toEqual([...ids].sort());
  });

  it('lists subscriptions requested in the same millisecond by app, then service', async () => {
    const target = [{ url: 'http://127.0.0.1:9' }];
    await gateway.admin(200, 'PUT', '/config', { version: 1, services: [{ name: 'orders', targets: target, subscription: 'open' }, { name: 'stock', targets: target, subscription: 'open' }] });
    const requests = [['zeta', 'stock'], ['alpha', 'stock'], ['mid', 'orders'], ['alpha', 'orders']] as const;
    for (const name of new Set(requests.map(([app]) => app))) await gateway.admin(200, 'PUT', `/apps/${name}`, { name, team: 'shop' });
    for (const [app, service] of requests) await gateway.admin(201, 'POST', `/apps/${app}/subscriptions`, { service });
    const { subscriptions } = await gateway.admin<{ subscriptions: Array<{ app: string; service: string }> }>(200, 'GET', '/subscriptions');
    expect(subscriptions.map((s) => `${s.app}/${s.service}`)).toEqual(['alpha/orders', 'alpha/stock', 'mid/orders', 'zeta/stock']);
  });

  it.each([
    ['/apps/greedy', { name: 'greedy', team: 'shop', budget: { tokensPerMinute: 1e300 } }, 'body/budget/tokensPerMinute must be <= 1000000000000'],
    ['/apps/greedy', { name: 'greedy', team: 'shop', budget: { dailyUsd: 1e10 } }, 'body/budget/dailyUsd must be <= 1000000000'],
    ['/teams/greedy', { name: 'greedy', budget: { monthlyUsd: 1e300 } }, 'body/budget/monthlyUsd must be <= 1000000000'],
  ])('refuses PUT %s with a budget beyond any real one (%j) with 400 invalid_request', async (path, body, message) => {
    expect(await send('PUT', path, body)).toEqual({ status: 400, body: { error: { code: 'invalid_request', message } } });
  });

  it('takes budgets at their bounds: a billion dollars, a trillion tokens a minute', async () => {
    await gateway.admin(200, 'PUT', '/teams/rich', { name: 'rich', budget: { dailyUsd: 1e9, monthlyUsd: 1e9 } });
    await gateway.admin(200, 'PUT', '/apps/rich', { name: 'rich', team: 'rich', budget: { dailyUsd: 1e9, monthlyUsd: 1e9, tokensPerMinute: 1e12 } });
  });
});

/** A list's order is the admin API's, not the store's: PostgreSQL orders text by its collation, which may be a language's. */
describe.each(STORE_KINDS)("teams, apps, budgets and subscriptions listed on %s with a language's collation", (kind) => {
  let db: TestDatabase;
  let gateway: AiGateway;
  const NAMES = ['ab', 'a_d', 'a-c', 'a9', 'b'];
  const ORDER = ['a-c', 'a9', 'a_d', 'ab', 'b'];
  // Time stands still: subscriptions requested in one millisecond are ordered by their apps' names alone.
  const clock = new ManualClock(Date.UTC(2026, 11, 10, 12));

  beforeAll(async () => {
    db = await createTestDatabase(kind, { language: 'en-US' });
    gateway = await AiGateway.start({ clock, env: { KEYGATE_DATABASE_URL: db.url } });
    for (const name of NAMES) {
      await gateway.admin(200, 'PUT', `/teams/t${name}`, { name: `t${name}`, budget: { dailyUsd: 1 } });
      await gateway.admin(200, 'PUT', `/apps/${name}`, { name, team: `t${name}`, budget: { dailyUsd: 1 } });
    }
  });
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  it("lists them in the order of their names' characters, as every store does", async () => {
    expect((await gateway.admin<{ teams: Array<{ name: string }> }>(200, 'GET', '/teams')).teams.map((t) => t.name)).toEqual(ORDER.map((n) => `t${n}`));
    expect((await gateway.admin<{ apps: Array<{ name: string }> }>(200, 'GET', '/apps')).apps.map((a) => a.name)).toEqual(ORDER);
    const budgets = await gateway.admin<{ teams: Array<{ name: string }>; apps: Array<{ name: string }> }>(200, 'GET', '/ai/budgets');
    expect(budgets.apps.map((a) => a.name)).toEqual(ORDER);
    expect(budgets.teams.map((t) => t.name)).toEqual(ORDER.map((n) => `t${n}`));
  });

  it("lists subscriptions requested in one millisecond in the order of their apps' names' characters", async () => {
    await gateway.admin(200, 'PUT', '/config', { version: 1, services: [{ name: 'orders', targets: [{ url: 'http://127.0.0.1:9' }], subscription: 'open' }] });
    for (const name of NAMES) await gateway.admin(201, 'POST', `/apps/${name}/subscriptions`, { service: 'orders' });
    const { subscriptions } = await gateway.admin<{ subscriptions: Array<{ app: string }> }>(200, 'GET', '/subscriptions');
    expect(subscriptions.map((s) => s.app)).toEqual(ORDER);
  });
});
