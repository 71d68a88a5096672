import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { createTestDatabase, postgresAvailable } from './databases.js';
import { tempDataDir } from './keygate-process.js';

describe.runIf(postgresAvailable)('when the store goes away', () => {
  let gateway: Gateway | undefined;
  afterAll(async () => {
    await gateway?.stop().catch(() => undefined);
  });

  it('the data plane keeps serving the last good snapshot', async () => {
    const db = await createTestDatabase('postgres');
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_DATABASE_URL: db.url, KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1' });
    gateway = await startGateway(settings, { logger, timers: false });
    const before = await (await fetch(`${gateway.proxyUrl}/.well-known/jwks.json`)).text();

    await db.drop();
    await gateway.sync();

    const after = await fetch(`${gateway.proxyUrl}/.well-known/jwks.json`);
    expect(after.status).toBe(200);
    expect(await after.text()).toBe(before);
    expect(warnings.join('\n')).toContain('store unreachable; serving the last good snapshot');
  });
});
