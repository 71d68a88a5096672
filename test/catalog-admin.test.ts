import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { tempDataDir } from './keygate-process.js';

describe('the model catalog through the admin API', () => {
  let gateway: Gateway;
  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${gateway.adminUrl}${path}`, { method, headers: { authorization: 'Bearer t', ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: r.status === 204 ? null : ((await r.json()) as Record<string, unknown>) };
  };
  const entry = { id: 'my-finetune', provider: 'openai', kind: 'chat', contextWindow: 128000, maxOutputTokens: 16384, inputPerMillion: 0.3, outputPerMillion: 1.2, cachedInputPerMillion: null, capabilities: ['chat', 'streaming'] };

  beforeAll(async () => {
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('lists over a hundred shipped models with their prices', async () => {
    const { body } = await admin('GET', '/ai/catalog');
    const models = body!.models as Array<{ provider: string; id: string; inputPerMillion: number }>;
    expect(models.length).toBeGreaterThan(100);
    expect(models.find((m) => m.provider === 'openai' && m.id === 'gpt-4o-mini')?.inputPerMillion).toBe(0.15);
  });

  it('refuses an edit before the config has an ai section', async () => {
    expect((await admin('PUT', '/ai/catalog/openai/my-finetune', entry)).status).toBe(409);
  });

  it('adds an entry, which the running catalog then prices with, and removes it again', async () => {
    await gateway.config.apply({ version: 1, ai: { providers: [{ name: 'oai', type: 'openai', baseUrl: 'http://127.0.0.1:9' }] } }, 'test');
    expect((await admin('PUT', '/ai/catalog/openai/my-finetune', entry)).status).toBe(200);
    expect(gateway.snapshot().ai.catalog.lookup('openai', 'my-finetune')?.outputPerMillion).toBe(1.2);
    expect(((await admin('GET', '/config')).body!.ai as { models: unknown[] }).models).toHaveLength(1);
    expect((await admin('DELETE', '/ai/catalog/openai/my-finetune')).status).toBe(204);
    expect(gateway.snapshot().ai.catalog.lookup('openai', 'my-finetune')).toBeUndefined();
  });

  it('refuses a config with the same catalog entry twice, and stores nothing', async () => {
    const before = (await admin('GET', '/config')).body;
    const response = await admin('PUT', '/config', { version: 1, ai: { providers: [{ name: 'oai', type: 'openai', baseUrl: 'http://127.0.0.1:9' }], models: [entry, entry] } });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain('ai.models');
    expect((await admin('GET', '/config')).body).toEqual(before);
  });

  it.each(['-lab', `l${'a'.repeat(63)}`])('refuses a provider whose catalog key %s no catalog entry could be filed under, and stores nothing', async (key) => {
    const before = (await admin('GET', '/config')).body;
    const response = await admin('PUT', '/config', { version: 1, ai: { providers: [{ name: 'lab', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:9', catalog: key }] } });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain('ai.providers[0].catalog');
    expect((await admin('GET', '/config')).body).toEqual(before);
  });

  it('refuses an entry that does not validate, naming the field', async () => {
    const response = await admin('PUT', '/ai/catalog/openai/bad', { ...entry, id: 'bad', inputPerMillion: -1 });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain('inputPerMillion');
  });
});
