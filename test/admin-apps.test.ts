import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { ADMIN_TOKEN, AiGateway } from './ai-fixtures.js';
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

  /** An admin call whatever it answers: its status and parsed body. */
  async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${gateway.gateway.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  }

  it('answers the credentials of an app that does not exist with 404 not_found, as the app itself', async () => {
    expect(await send('GET', '/apps/nope')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await send('GET', '/apps/nope/credentials')).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'no app is named "nope"' } } });
  });
});
