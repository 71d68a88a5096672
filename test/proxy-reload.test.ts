import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigFile } from '../src/config/config-file.js';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { eventually, tempDataDir } from './keygate-process.js';
import { TestUpstream } from './upstream-server.js';

describe('reloading the config while requests run', () => {
  let gateway: Gateway;
  let proxyUrl: string;
  let a: TestUpstream;
  let b: TestUpstream;

  beforeAll(async () => {
    [a, b] = await Promise.all([TestUpstream.start('a'), TestUpstream.start('b')]);
    // A short grace: services a reload drops are closed soon after, while requests may still run on them.
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1', KEYGATE_LOG_LEVEL: 'silent', KEYGATE_SHUTDOWN_GRACE: '100ms' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
    proxyUrl = gateway.proxyUrl!;
  });
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  /** The config under load: `/load/*` over a and b with the given weights, and optionally a route the load never uses. */
  const loadConfig = (weights: [number, number], extraRoute: boolean): ConfigFile => ({
    version: 1,
    services: [
      { name: 'load', targets: [{ url: a.url, weight: weights[0] }, { url: b.url, weight: weights[1] }] },
      { name: 'other', targets: [{ url: b.url }] },
    ],
    routes: [{ name: 'load', service: 'load', paths: ['/load/*'] }, ...(extraRoute ? [{ name: 'extra', service: 'other', paths: ['/extra'] }] : [])],
  });

  async function putConfig(config: ConfigFile): Promise<void> {
    const response = await fetch(`${gateway.adminUrl}/config`, { method: 'PUT', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: JSON.stringify(config) });
    expect(response.status).toBe(200);
  }

  it('answers all of 2,000 requests from 10 clients with 200 while the config is re-applied again and again', async () => {
    await putConfig(loadConfig([1, 1], false));
    const clients = 10;
    const perClient = 200;
    let reloads = 0;
    let loadDone = false;
    const failures: string[] = [];

    const reloading = (async () => {
      while (!loadDone) {
        await putConfig(loadConfig(reloads % 2 === 0 ? [3, 1] : [1, 1], reloads % 3 !== 0));
        reloads += 1;
        // Pacing only, so the load is not starved of the event loop; the clients' wait below makes the overlap certain.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const client = async (id: number) => {
      for (let i = 0; i < perClient; i++) {
        // Every 20 requests, wait for one more reload: at least 9 reloads land in the middle of each client's run.
        if (i % 20 === 0) await eventually(async () => reloads >= i / 20, 'the next reload', 600, 10);
        try {
          const response = await fetch(`${proxyUrl}/load/${id}/${i}`);
          const body = await response.text();
          if (response.status !== 200) failures.push(`client ${id} request ${i}: ${response.status} ${body}`);
        } catch (error) {
          failures.push(`client ${id} request ${i}: ${(error as Error).message}`);
        }
      }
    };

    try {
      await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
    } finally {
      loadDone = true;
      await reloading;
    }
    expect(failures).toEqual([]);
    expect(reloads).toBeGreaterThanOrEqual(perClient / 20 - 1);
  });

  it('keeps an unchanged service, with its connections and health, across a reload that changes only routes', async () => {
    await putConfig(loadConfig([1, 1], false));
    const before = gateway.snapshot().proxy.services.get('load');
    await putConfig(loadConfig([1, 1], true));
    expect(gateway.snapshot().proxy.router.match('GET', undefined, '/extra', {})?.route.name).toBe('extra');
    expect(gateway.snapshot().proxy.services.get('load')).toBe(before);
    await putConfig(loadConfig([3, 1], true));
    expect(gateway.snapshot().proxy.services.get('load')).not.toBe(before);
  });

  it('lets a request that started before a reload removed its route and service finish, even after the service is closed', async () => {
    await putConfig({
      version: 1,
      services: [{ name: 'slow', targets: [{ url: a.url }] }],
      routes: [{ name: 'hold', service: 'slow', paths: ['/hold'] }],
    });
    const service = gateway.snapshot().proxy.services.get('slow')!;
    const responding = fetch(`${proxyUrl}/hold`);
    const held = await a.nextHeld();

    await putConfig(loadConfig([1, 1], false));
    expect((await fetch(`${proxyUrl}/hold`)).status).toBe(404);
    // The dropped service's pool is closing once the grace has passed, and waits for the request in flight.
    await eventually(async () => service.targets[0]!.pool.closed, 'the dropped service to be closed');

    held.end('finished after the reload');
    const response = await responding;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('finished after the reload');
  });
});
