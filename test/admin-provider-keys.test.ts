import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { AiGateway } from './ai-fixtures.js';
import { STORE_KINDS, createTestDatabase, type TestDatabase } from './databases.js';

/** Providers' key pools through the admin API, on each store. */
describe.each(STORE_KINDS)("providers' key pools through the admin API (%s)", (kind) => {
  let db: TestDatabase;
  let gateway: AiGateway;
  // Time stands still: every key below is added in the same millisecond.
  const clock = new ManualClock(Date.UTC(2026, 11, 10, 12));

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    gateway = await AiGateway.start({ clock, env: { KEYGATE_DATABASE_URL: db.url } });
  });
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  const send = (method: string, path: string, body?: unknown) => gateway.send(method, path, body);

  it.each(['OpenAI', 'open ai', 'ünï', '-openai'])('refuses a key for "%s", a name no provider can have, with 400 invalid_request', async (name) => {
    const refused = await send('POST', `/ai/providers/${encodeURIComponent(name)}/keys`, { secret: 'sk-misnamed-0123456789' });
    expect(refused).toEqual({ status: 400, body: { error: { code: 'invalid_request', message: 'params/name must match pattern "^[a-z0-9][a-z0-9._-]{0,62}$"' } } });
  });

  it('answers the pool of a name no provider can have, and nothing is stored under, with 404 not_found', async () => {
    const { status, body } = await send('GET', '/ai/providers/OpenAI/keys');
    expect(status).toBe(404);
    expect(body).toEqual({ error: { code: 'not_found', message: expect.stringContaining('no provider can be named "OpenAI"') } });
  });

  it('still lists and removes a key an earlier release stored under such a name', async () => {
    const stored = await gateway.gateway.providerKeys.add('Old_Pool', 'sk-earlier-release-0123', {}, 'test');
    expect(await send('GET', '/ai/providers/Old_Pool/keys')).toMatchObject({ status: 200, body: { keys: [{ id: stored.id }] } });
    expect(await send('DELETE', `/ai/providers/Old_Pool/keys/${stored.id}`)).toEqual({ status: 204, body: undefined });
    expect((await send('GET', '/ai/providers/Old_Pool/keys')).status).toBe(404);
  });

  it('lists keys of one priority added in the same millisecond in the order of their ids', async () => {
    for (let i = 0; i < 8; i++) await gateway.addProviderKey('pooled', `sk-pooled-key-${i}-0123456789`);
    const { keys } = await gateway.admin<{ keys: Array<{ id: string }> }>(200, 'GET', '/ai/providers/pooled/keys');
    const ids = keys.map((k) => k.id);
    expect(ids).toEqual([...ids].sort());
  });
});
