import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { TestGateway, eventually, startEchoUpstream, type CallResult, type LoopbackServer } from './auth-fixtures.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './databases.js';
import { REDIS_URL, redisAvailable } from './redis.js';

const limit = (per: 'app' | 'route' | 'app-route', requests: number) => [{ per, requests, window: '1m' }];

describe('rate limits per app, per route and per app and route, counted in process', () => {
  let upstream: LoopbackServer;
  let gateway: TestGateway;
  let appCount = 0;

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    gateway = await TestGateway.start();
    const route = (name: string, per: 'app' | 'route' | 'app-route', requests: number) => ({ name, service: 'orders', paths: [`/${name}/*`], auth: { methods: ['api-key'] }, limits: limit(per, requests) });
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [route('per-app', 'app', 3), route('per-route', 'route', 3), route('app-route-a', 'app-route', 2), route('app-route-b', 'app-route', 2)],
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  /** A new app subscribed to the service; returns a caller of `path` with its API key. */
  async function newCaller(): Promise<(path: string) => Promise<CallResult<{ error?: { code: string } }>>> {
    appCount += 1;
    const name = `caller-${appCount}`;
    await gateway.createApp({ name, team: 'clients', subscribe: ['orders'] });
    const key = (await gateway.createApiKey(name)).secret;
    return (path) => gateway.call(path, { 'x-api-key': key });
  }

  it('sends RateLimit-Limit, -Remaining, -Reset and -Policy on every allowed call', async () => {
    const call = await newCaller();
    for (const remaining of ['2', '1', '0']) {
      const allowed = await call('/per-app/orders');
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('ratelimit-limit')).toBe('3');
      expect(allowed.headers.get('ratelimit-remaining')).toBe(remaining);
      expect(allowed.headers.get('ratelimit-policy')).toBe('3;w=60');
      expect(Number(allowed.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    }
  });

  it('refuses a call over the limit with 429 rate_limited and a Retry-After the client can wait', async () => {
    const call = await newCaller();
    for (let i = 0; i < 3; i++) expect((await call('/per-app/orders')).status).toBe(200);
    const refused = await call('/per-app/orders');
    expect(refused.status).toBe(429);
    expect(refused.body.error?.code).toBe('rate_limited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect(refused.headers.get('ratelimit-reset')).toBe(String(retryAfter));
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
  });

  it('counts a per-app limit for each app on its own', async () => {
    const [first, second] = [await newCaller(), await newCaller()];
    for (let i = 0; i < 3; i++) expect((await first('/per-app/orders')).status).toBe(200);
    expect((await first('/per-app/orders')).status).toBe(429);
    const other = await second('/per-app/orders');
    expect(other.status).toBe(200);
    expect(other.headers.get('ratelimit-remaining')).toBe('2');
  });

  it('counts a per-route limit for every app together', async () => {
    const [first, second] = [await newCaller(), await newCaller()];
    expect((await first('/per-route/orders')).status).toBe(200);
    expect((await second('/per-route/orders')).status).toBe(200);
    expect((await first('/per-route/orders')).status).toBe(200);
    expect((await second('/per-route/orders')).status).toBe(429);
    expect((await first('/per-route/orders')).status).toBe(429);
  });

  it('counts a per-app-route limit for each app on each route: apps do not share it, nor do routes', async () => {
    const [first, second] = [await newCaller(), await newCaller()];
    for (let i = 0; i < 2; i++) expect((await first('/app-route-a/orders')).status).toBe(200);
    expect((await first('/app-route-a/orders')).status).toBe(429);
    expect((await second('/app-route-a/orders')).status).toBe(200);
    expect((await first('/app-route-b/orders')).status).toBe(200);
  });
});

describe('several limits on one route, counted in process', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let upstream: LoopbackServer;
  let gateway: TestGateway;
  let key: string;

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    gateway = await TestGateway.start({}, { clock });
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'orders', service: 'orders', paths: ['/orders/*'], auth: { methods: ['api-key'] }, limits: [{ per: 'app', requests: 3, window: '1h' }, { per: 'app', requests: 1, window: '1s' }] }],
    });
    await gateway.createApp({ name: 'burst', team: 'clients', subscribe: ['orders'] });
    key = (await gateway.createApiKey('burst')).secret;
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it('spends no hourly quota on calls the per-second limit refused', async () => {
    const call = async () => (await gateway.call('/orders/today', { 'x-api-key': key })).status;
    expect([await call(), await call(), await call(), await call()]).toEqual([200, 429, 429, 429]);
    // Two seconds on, the sliding per-second window has let go of the first call.
    clock.advance(2_000);
    expect(await call()).toBe(200);
    clock.advance(2_000);
    expect(await call()).toBe(200);
    clock.advance(2_000);
    // Three served this hour: now the hourly limit refuses.
    const refused = await gateway.call<{ error: { message: string } }>('/orders/today', { 'x-api-key': key });
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain('per 3600 s');
  });
});

describe.skipIf(!postgresAvailable || !redisAvailable)('a rate limit counted in Redis by two nodes on one PostgreSQL store', () => {
  // Redis outlives test runs: names unique to this run keep counters of earlier runs out (limiter keys hold the route).
  const run = randomBytes(4).toString('hex');
  const shared = `shared-${run}`;
  const warmUp = `warm-up-${run}`;
  const refunded = `refunded-${run}`;
  const counterKeys = [...[shared, warmUp].map((route) => `keygate:rate-limit:r\n${route}\n60000`), `keygate:rate-limit:r\n${refunded}\n86400000`, `keygate:rate-limit:r\n${refunded}\n3600000`];
  let upstream: LoopbackServer;
  let db: TestDatabase;
  let nodes: TestGateway[] = [];
  let redis: Redis;
  let apiKey: string;

  beforeAll(async () => {
    [upstream, db] = await Promise.all([startEchoUpstream(), createTestDatabase('postgres')]);
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const env = { KEYGATE_DATABASE_URL: db.url, KEYGATE_MASTER_KEY: randomBytes(32).toString('base64url'), KEYGATE_REDIS_URL: REDIS_URL };
    // One after the other: the first migrates the store and creates the keys the second then loads.
    nodes.push(await TestGateway.start(env));
    nodes.push(await TestGateway.start(env));
    const [first] = nodes as [TestGateway];
    const route = (name: string, requests: number) => ({ name, service: 'orders', paths: [`/${name}/*`], auth: { methods: ['api-key'] }, limits: limit('route', requests) });
    const twoLimits = { name: refunded, service: 'orders', paths: [`/${refunded}/*`], auth: { methods: ['api-key'] }, limits: [{ per: 'route', requests: 5, window: '1d' }, { per: 'route', requests: 1, window: '1h' }] };
    await first.applyConfig({ version: 1, services: [{ name: 'orders', targets: [{ url: upstream.url }] }], routes: [route(shared, 10), route(warmUp, 1000), twoLimits] });
    await first.createApp({ name: `app-${run}`, team: `team-${run}`, subscribe: ['orders'] });
    apiKey = (await first.createApiKey(`app-${run}`)).secret;
    const version = first.gateway.snapshot().version;
    await eventually(async () => nodes.every((node) => node.gateway.snapshot().version >= version), 'both nodes serving the same config and catalog');
    // A limiter counts once its Redis connection is up; until then it fails open and sends no RateLimit headers.
    for (const node of nodes) {
      await eventually(async () => (await node.call(`/${warmUp}/ping`, { 'x-api-key': apiKey })).headers.get('ratelimit-limit') === '1000', 'the node counting in Redis');
    }
  });
  afterAll(async () => {
    await redis?.del(...counterKeys);
    redis?.disconnect();
    for (const node of nodes) await node.stop();
    nodes = [];
    await db?.drop();
    await upstream?.stop();
  });

  it('takes back what a limit counted for a call another limit refused', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await nodes[i % 2]!.call(`/${refunded}/orders`, { 'x-api-key': apiKey })).status);
    expect(statuses).toEqual([200, 429, 429, 429]);
    // The daily limit counted the three refused calls too, and gave them back: only the served call remains.
    await eventually(async () => (await redis.hget(`keygate:rate-limit:r\n${refunded}\n86400000`, 'c')) === '1', 'the refunds applied');
  });

  it('lets exactly the limit through when calls alternate between the nodes', async () => {
    const statuses: number[][] = [[], []];
    for (let i = 0; i < 20; i++) {
      const node = i % 2;
      statuses[node]!.push((await nodes[node]!.call(`/${shared}/orders`, { 'x-api-key': apiKey })).status);
    }
    const all = statuses.flat();
    expect(all.filter((status) => status === 200)).toHaveLength(10);
    expect(all.filter((status) => status === 429)).toHaveLength(10);
    // Each node let 5 through and then refused: neither counted on its own.
    expect(statuses.map((perNode) => perNode.filter((status) => status === 200).length)).toEqual([5, 5]);
    expect(await redis.exists(counterKeys[0]!)).toBe(1);
  });
});
