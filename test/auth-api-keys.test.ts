import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { TestGateway, expectRefused, startEchoUpstream, type LoopbackServer } from './auth-fixtures.js';

const HOUR = 3_600_000;

/** API keys: how callers present them, when they stop working, and how the store keeps them. */
describe('API keys on the proxy port', () => {
  let upstream: LoopbackServer;
  let gateway: TestGateway;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    gateway = await TestGateway.start({}, { clock });
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'orders', service: 'orders', paths: ['/orders/*'], auth: { methods: ['api-key'] } }],
    });
    await gateway.createApp({ name: 'reporting', team: 'analytics', subscribe: ['orders'] });
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it('accepts a key sent in X-API-Key', async () => {
    const { secret } = await gateway.createApiKey('reporting');
    expect((await gateway.call('/orders/today', { 'x-api-key': secret })).status).toBe(200);
  });

  it('accepts a key sent as "Authorization: Bearer"', async () => {
    const { secret } = await gateway.createApiKey('reporting');
    expect((await gateway.call('/orders/today', { authorization: `Bearer ${secret}` })).status).toBe(200);
  });

  it('refuses a key that was never issued with 401', async () => {
    expectRefused(await gateway.call('/orders/today', { 'x-api-key': `kg_key_${'A'.repeat(43)}` }));
  });

  it('refuses a key once it has expired with 401', async () => {
    const { secret } = await gateway.createApiKey('reporting', { expiresAt: new Date(clock.now() + HOUR).toISOString() });
    expect((await gateway.call('/orders/today', { 'x-api-key': secret })).status).toBe(200);
    clock.advance(HOUR);
    expectRefused(await gateway.call('/orders/today', { 'x-api-key': secret }));
  });

  it('refuses a revoked key with 401', async () => {
    const { id, secret } = await gateway.createApiKey('reporting');
    expect((await gateway.call('/orders/today', { authorization: `Bearer ${secret}` })).status).toBe(200);
    await gateway.adminExpect(204, 'POST', `/apps/reporting/credentials/${id}/revoke`);
    expectRefused(await gateway.call('/orders/today', { authorization: `Bearer ${secret}` }));
  });

  it('stores only the SHA-256 of a key, never the key itself', async () => {
    const { id, secret } = await gateway.createApiKey('reporting');
    const row = await gateway.gateway.store.db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(Object.values(row).some((value) => String(value).includes(secret))).toBe(false);
    expect(secret.startsWith(row.prefix)).toBe(true);
    expect(row.prefix.length).toBeLessThan(secret.length / 2);
    // Nowhere in the store's files either (an audit row, the write-ahead log), where the hash is.
    const files = readdirSync(gateway.dataDir).map((file) => readFileSync(join(gateway.dataDir, file)));
    expect(files.some((content) => content.includes(row.hash))).toBe(true);
    expect(files.some((content) => content.includes(secret))).toBe(false);
  });
});
