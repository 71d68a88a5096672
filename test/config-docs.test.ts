import { readFileSync } from 'node:fs';
import pino from 'pino';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelCatalog } from '../src/ai/catalog/index.js';
import { ConfigFileSchema, parseConfigText } from '../src/config/config-file.js';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { tempDataDir } from './keygate-process.js';

const docs = new URL('../docs/', import.meta.url);

describe('the published config schema and example', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('docs/keygate.schema.json is exactly the schema the gateway validates with (npm run schema)', () => {
    expect(JSON.parse(readFileSync(new URL('keygate.schema.json', docs), 'utf8'))).toEqual(JSON.parse(JSON.stringify(ConfigFileSchema)));
  });

  it('the admin API serves the same schema', async () => {
    const served = await (await fetch(`${gateway.adminUrl}/config/schema`, { headers: { authorization: 'Bearer t' } })).json();
    expect(served).toEqual(JSON.parse(JSON.stringify(ConfigFileSchema)));
  });

  it('docs/examples/keygate.yaml validates, applies, and exports back unchanged', async () => {
    const text = readFileSync(new URL('examples/keygate.yaml', docs), 'utf8');
    const config = parseConfigText(text, 'keygate.yaml');
    const applied = await fetch(`${gateway.adminUrl}/config`, { method: 'PUT', headers: { authorization: 'Bearer t', 'content-type': 'application/yaml' }, body: text });
    expect(applied.status).toBe(200);
    expect(await applied.json()).toMatchObject({ services: 2, routes: 3 });
    const exported = await (await fetch(`${gateway.adminUrl}/config?format=yaml`, { headers: { authorization: 'Bearer t' } })).text();
    expect(parse(exported)).toEqual(config);
    expect(gateway.snapshot().proxy.services.size).toBe(2);
  });
});

describe("the AI gateway page's catalog table", () => {
  it('says how many entries the shipped catalog has for each catalog key, and in all', () => {
    const page = readFileSync(new URL('ai-gateway.md', docs), 'utf8');
    const counted: Record<string, number> = {};
    for (const entry of ModelCatalog.shipped().list()) counted[entry.provider] = (counted[entry.provider] ?? 0) + 1;
    const table: Record<string, number> = {};
    for (const [, key, count] of page.matchAll(/\| `([a-z-]+)` \| (\d+)(?: \([^)]*\))? (?=\|)/g)) table[key!] = Number(count);
    expect(table).toEqual(counted);
    const total = ModelCatalog.shipped().size;
    expect(page).toContain(`a catalog of **${total} models**`);
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(`a catalog of ${total} models`);
  });
});
