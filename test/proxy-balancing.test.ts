import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import type { ServiceSpec } from '../src/proxy/service-schema.js';
import { eventually, tempDataDir } from './keygate-process.js';
import { TestUpstream } from './upstream-server.js';

interface Answer {
  status: number;
  upstream: string | null;
}

describe('balancing and health', () => {
  let gateway: Gateway;
  let proxyUrl: string;
  let a: TestUpstream;
  let b: TestUpstream;

  beforeAll(async () => {
    [a, b] = await Promise.all([TestUpstream.start('a'), TestUpstream.start('b')]);
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1', KEYGATE_LOG_LEVEL: 'silent' });
    // Timers on: the active health checks run as in production.
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: true });
    proxyUrl = gateway.proxyUrl!;
  });
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  });
  beforeEach(async () => {
    for (const u of [a, b]) {
      u.failWith = undefined;
      u.healthy = true;
    }
  });

  let serial = 0;
  let serviceName = '';
  /** Routes every path to a new service (a new name each time, so balancing and health state start fresh). */
  async function serve(targets: Array<{ url: string; weight?: number }>, spec: Partial<ServiceSpec> = {}): Promise<void> {
    serviceName = `svc-${++serial}`;
    const service: ServiceSpec = { name: serviceName, targets, ...spec };
    await gateway.config.apply({ version: 1, services: [service], routes: [{ name: 'all', service: serviceName, paths: ['/*'] }] }, 'test');
  }

  /** The live state of a target of the current service, as the data plane sees it. */
  const target = (upstream: TestUpstream) => gateway.snapshot().proxy.services.get(serviceName)!.targets.find((t) => t.origin === upstream.url)!;

  async function send(path = '/echo'): Promise<Answer> {
    const response = await fetch(`${proxyUrl}${path}`);
    await response.arrayBuffer();
    return { status: response.status, upstream: response.headers.get('x-upstream') };
  }

  /** How many of `n` sequential requests each upstream answered; every one must succeed. */
  async function shares(n: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const answer = await send();
      expect(answer.status).toBe(200);
      counts[answer.upstream!] = (counts[answer.upstream!] ?? 0) + 1;
    }
    return counts;
  }

  // A generous probe timeout: a loaded test machine must not fail a live target's probe.
  const activeCheck = { path: '/health', interval: '200ms', timeout: '2s', healthyThreshold: 1, unhealthyThreshold: 1 };

  it('shares requests exactly 3:1 between targets weighted 3 and 1', async () => {
    await serve([
      { url: a.url, weight: 3 },
      { url: b.url, weight: 1 },
    ]);
    expect(await shares(40)).toEqual({ a: 30, b: 10 });
  });

  it('sends nothing to a target of weight 0', async () => {
    await serve([
      { url: a.url, weight: 1 },
      { url: b.url, weight: 0 },
    ]);
    const before = b.requests;
    expect(await shares(20)).toEqual({ a: 20 });
    expect(b.requests).toBe(before);
  });

  it('with least-connections, sends new requests to the target with fewer requests in flight', async () => {
    await serve([{ url: a.url }, { url: b.url }], { balancing: 'least-connections' });
    const before = { a: a.requests, b: b.requests };
    const holding = send('/hold');
    const busy = await eventually(async () => (a.requests > before.a ? a : b.requests > before.b ? b : undefined), 'the held request to arrive');
    const idle = busy === a ? b : a;
    const held = await busy.nextHeld();
    expect(await shares(6)).toEqual({ [idle.name]: 6 });
    held.end('released');
    expect(await holding).toEqual({ status: 200, upstream: busy.name });
  });

  it('fails over to the live target when one dies: every request succeeds', async () => {
    await serve([{ url: a.url }, { url: b.url }], { healthCheck: { active: activeCheck } });
    expect(await shares(4)).toEqual({ a: 2, b: 2 });
    await a.stop();
    try {
      // Before the health check notices, requests meeting the dead target are retried on the live one.
      expect(await shares(20)).toEqual({ b: 20 });
      await eventually(async () => !target(a).healthy, 'the health check to take the dead target out');
      expect(await shares(10)).toEqual({ b: 10 });
    } finally {
      await a.restart();
    }
  });

  it('sends requests to a target again once it comes back on the same port and passes its health check', async () => {
    await serve([{ url: a.url }, { url: b.url }], { healthCheck: { active: activeCheck } });
    const port = a.port;
    await a.stop();
    await eventually(async () => !target(a).healthy, 'the health check to take the dead target out');
    await a.restart();
    expect(a.port).toBe(port);
    await eventually(async () => (await send()).upstream === 'a', 'the restarted target to receive requests');
    expect(target(a).healthy).toBe(true);
    expect(await shares(4)).toEqual({ a: 2, b: 2 });
  });

  it('takes a target whose health check fails out of rotation even though it still answers, and back when it passes', async () => {
    await serve([{ url: a.url }, { url: b.url }], { healthCheck: { active: activeCheck } });
    a.healthy = false;
    await eventually(async () => !target(a).healthy, 'the failing health check to take the target out');
    const before = a.requests;
    expect(await shares(10)).toEqual({ b: 10 });
    expect(a.requests).toBe(before);
    a.healthy = true;
    await eventually(async () => target(a).healthy, 'the passing health check to put the target back');
    expect(await shares(4)).toEqual({ a: 2, b: 2 });
  });

  it('opens the circuit of a target after its configured run of failed requests', async () => {
    await serve([{ url: a.url }, { url: b.url }], { healthCheck: { passive: { failures: 2, cooldown: '1h' } } });
    a.failWith = 503;
    const before = a.requests;
    expect(await shares(20)).toEqual({ b: 20 });
    expect(a.requests - before).toBe(2);
    expect(target(a).circuitOpen).toBe(true);
  });

  it('answers 503 no_healthy_target once the health check has taken every target out', async () => {
    await serve([{ url: a.url }, { url: b.url }], { healthCheck: { active: activeCheck } });
    a.healthy = false;
    b.healthy = false;
    await eventually(async () => !target(a).healthy && !target(b).healthy, 'the health check to take both targets out');
    const response = await fetch(`${proxyUrl}/echo`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: { code: 'no_healthy_target' } });
  });
});
