import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import type { ServiceSpec } from '../src/proxy/service-schema.js';
import { tempDataDir } from './keygate-process.js';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { BUFFERED_BODY_LIMIT } from '../src/proxy/proxy-handler.js';
import { TestUpstream, refusingTargetUrl, type Echo } from './upstream-server.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface Answer {
  status: number;
  upstream: string | null;
  body: string;
}

describe('retries and timeouts', () => {
  let gateway: Gateway;
  let proxyUrl: string;
  const upstreams: TestUpstream[] = [];
  let a: TestUpstream, b: TestUpstream, c: TestUpstream, d: TestUpstream;
  let dead: string;

  beforeAll(async () => {
    upstreams.push(...(await Promise.all(['a', 'b', 'c', 'd'].map((name) => TestUpstream.start(name)))));
    [a, b, c, d] = upstreams as [TestUpstream, TestUpstream, TestUpstream, TestUpstream];
    dead = await refusingTargetUrl();
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1', KEYGATE_LOG_LEVEL: 'silent' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
    proxyUrl = gateway.proxyUrl!;
  });
  afterAll(async () => {
    await gateway?.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
  });
  beforeEach(() => {
    for (const u of upstreams) u.failWith = undefined;
  });

  let serial = 0;
  /**
   * Routes every path to one new service over `targets` (a new name each time, so its balancing state and retry
   * budget start fresh). Passive health checks are off, so the counts depend on balancing and retries alone.
   */
  async function serve(targets: string[], spec: Partial<ServiceSpec> = {}): Promise<void> {
    const name = `svc-${++serial}`;
    const service: ServiceSpec = { name, targets: targets.map((url) => ({ url })), healthCheck: { passive: { failures: 1000 } }, ...spec };
    await gateway.config.apply({ version: 1, services: [service], routes: [{ name: 'all', service: name, paths: ['/*'] }] }, 'test');
  }

  async function send(path: string, init: RequestInit = {}): Promise<Answer> {
    const response = await fetch(`${proxyUrl}${path}`, init);
    return { status: response.status, upstream: response.headers.get('x-upstream'), body: await response.text() };
  }

  async function sendMany(n: number, path: string, init: RequestInit = {}): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (let i = 0; i < n; i++) answers.push(await send(path, init));
    return answers;
  }

  /** Requests each upstream received while `run` ran. */
  async function counting<T>(run: () => Promise<T>): Promise<{ result: T; received: Record<string, number> }> {
    const before = upstreams.map((u) => u.requests);
    const result = await run();
    return { result, received: Object.fromEntries(upstreams.map((u, i) => [u.name, u.requests - before[i]!])) };
  }

  const statuses = (answers: Answer[]) => answers.map((x) => x.status).sort();

  describe('retries', () => {
    it('retries a GET answered with a configured status on another target, and answers from there', async () => {
      await serve([a.url, b.url], { retries: { attempts: 1, onStatus: [503] } });
      a.failWith = 503;
      const { result, received } = await counting(() => sendMany(10, '/echo'));
      expect(result.map((x) => `${x.status} ${x.upstream}`)).toEqual(Array(10).fill('200 b'));
      expect(received).toMatchObject({ a: 5, b: 10 });
    });

    it('passes on a status that is not configured for retries', async () => {
      await serve([a.url, b.url], { retries: { attempts: 1, onStatus: [503] } });
      a.failWith = 500;
      const { result, received } = await counting(() => sendMany(4, '/echo'));
      expect(statuses(result)).toEqual([200, 200, 500, 500]);
      expect(received).toMatchObject({ a: 2, b: 2 });
    });

    it('does not retry a POST with a body, and passes the status on', async () => {
      await serve([a.url, b.url], { retries: { attempts: 1, onStatus: [503] } });
      a.failWith = 503;
      const { result, received } = await counting(() => sendMany(4, '/echo', { method: 'POST', body: 'not replayable' }));
      expect(statuses(result)).toEqual([200, 200, 503, 503]);
      expect(received).toMatchObject({ a: 2, b: 2 });
    });

    it('retries a PUT with a small body on another target, which receives the same bytes', async () => {
      await serve([a.url, b.url], { retries: { attempts: 1, onStatus: [503] } });
      a.failWith = 503;
      const body = JSON.stringify({ replayed: 'x'.repeat(4000) });
      const { result, received } = await counting(() => sendMany(4, '/echo', { method: 'PUT', body, headers: { 'content-type': 'application/json' } }));
      expect(result.map((x) => `${x.status} ${x.upstream}`)).toEqual(Array(4).fill('200 b'));
      for (const answer of result) {
        const echo = JSON.parse(answer.body) as Echo;
        expect(echo).toMatchObject({ method: 'PUT', bodyLength: body.length, bodySha256: sha256(body) });
        expect(echo.headers['content-length']).toBe(String(body.length));
      }
      expect(received).toMatchObject({ a: 2, b: 4 });
    });

    it('does not retry a PUT whose body is larger than the buffered-body limit: it is streamed once', async () => {
      await serve([a.url, b.url], { retries: { attempts: 1, onStatus: [503] } });
      a.failWith = 503;
      const body = 'y'.repeat(BUFFERED_BODY_LIMIT + 1);
      const { result, received } = await counting(() => sendMany(4, '/echo', { method: 'PUT', body }));
      expect(statuses(result)).toEqual([200, 200, 503, 503]);
      expect(received).toMatchObject({ a: 2, b: 2 });
    });

    it('retries a GET whose target refused the connection on a live one', async () => {
      await serve([dead, b.url]);
      const { result, received } = await counting(() => sendMany(6, '/echo'));
      expect(result.map((x) => `${x.status} ${x.upstream}`)).toEqual(Array(6).fill('200 b'));
      expect(received.b).toBe(6);
    });

    it('retries a PUT with a small body whose target refused the connection on a live one, which receives the same bytes', async () => {
      await serve([dead, b.url]);
      const body = JSON.stringify({ replayed: 'z'.repeat(100) });
      const { result, received } = await counting(() => sendMany(4, '/echo', { method: 'PUT', body, headers: { 'content-type': 'application/json' } }));
      expect(result.map((x) => `${x.status} ${x.upstream}`)).toEqual(Array(4).fill('200 b'));
      for (const answer of result) expect(JSON.parse(answer.body)).toMatchObject({ method: 'PUT', bodyLength: body.length, bodySha256: sha256(body) });
      expect(received.b).toBe(4);
    });

    it('counts a refused connection of a request with a body against its target: the circuit opens', async () => {
      await serve([dead], { healthCheck: { passive: { failures: 2, cooldown: '1h' } } });
      for (const method of ['PUT', 'POST']) expect((await send('/echo', { method, body: 'abc' })).status).toBe(502);
      const refused = await send('/echo');
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'no_healthy_target' } });
    });

    it('retries a GET whose target dropped the connection without answering', async () => {
      await serve([a.url, b.url]);
      a.failWith = 'drop';
      const { result, received } = await counting(() => sendMany(6, '/echo'));
      expect(result.map((x) => `${x.status} ${x.upstream}`)).toEqual(Array(6).fill('200 b'));
      expect(received).toMatchObject({ a: 3, b: 6 });
    });

    it('passes on the status and Retry-After of an answer given up for a retry that then could not connect', async () => {
      await serve([a.url, dead], { retries: { attempts: 1, onStatus: [503] } });
      a.failWith = 503;
      const answers: Array<{ status: number; retryAfter: string | null }> = [];
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`${proxyUrl}/echo?retry-after=7`);
        await response.text();
        answers.push({ status: response.status, retryAfter: response.headers.get('retry-after') });
      }
      expect(answers).toEqual(Array(4).fill({ status: 503, retryAfter: '7' }));
    });

    it('stops after `attempts` extra attempts and passes the last answer on', async () => {
      await serve([a.url, b.url, c.url, d.url], { retries: { attempts: 2, onStatus: [503] } });
      for (const u of upstreams) u.failWith = 503;
      const { result, received } = await counting(() => send('/echo'));
      expect(result.status).toBe(503);
      expect(Object.values(received).reduce((x, y) => x + y)).toBe(3);
    });

    it('never retries when the service sets attempts to 0', async () => {
      await serve([a.url, b.url], { retries: { attempts: 0, onStatus: [503] } });
      a.failWith = 503;
      const { result, received } = await counting(() => sendMany(4, '/echo'));
      expect(statuses(result)).toEqual([200, 200, 503, 503]);
      expect(received).toMatchObject({ a: 2, b: 2 });
    });

    it('never retries a refused connection when the service sets attempts to 0', async () => {
      await serve([dead, b.url], { retries: { attempts: 0 } });
      const { result, received } = await counting(() => sendMany(4, '/echo'));
      expect(statuses(result)).toEqual([200, 200, 502, 502]);
      expect(received.b).toBe(2);
    });

    it('lets the failure stand once the retry budget is spent', async () => {
      // Budget 0 leaves only the floor of 10 retries: of the 20 requests that meet the failing target first,
      // 10 are retried and 10 are not.
      await serve([a.url, b.url], { retries: { attempts: 1, onStatus: [503], budget: 0 } });
      a.failWith = 503;
      const answers = await sendMany(40, '/echo');
      expect(answers.filter((x) => x.status === 503)).toHaveLength(10);
      expect(answers.filter((x) => x.status === 200)).toHaveLength(30);
    });
  });

  describe('timeouts', () => {
    it('answers 504 upstream_timeout when the upstream sends no head within timeouts.idle', async () => {
      await serve([a.url], { timeouts: { idle: '300ms' } });
      const answer = await send('/slow?ms=5000');
      expect(answer.status).toBe(504);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: 'upstream_timeout', message: `service "svc-${serial}" did not answer in time` } });
    });

    it('answers 504 upstream_timeout when the exchange outlasts timeouts.total', async () => {
      await serve([a.url], { timeouts: { idle: '30s', total: '300ms' } });
      const answer = await send('/slow?ms=5000');
      expect(answer.status).toBe(504);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'upstream_timeout' } });
    });

    it('holds to timeouts.total while the connection to the target is still being made', async () => {
      // A TLS target whose server takes the TCP connection and never answers the handshake: undici is connecting
      // for as long as timeouts.connect allows, and no attempt has started.
      const silent = createServer((socket) => socket.on('error', () => undefined));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        await serve([`https://127.0.0.1:${(silent.address() as AddressInfo).port}`], { timeouts: { connect: '60s', idle: '60s', total: '300ms' } });
        // Bounded far above the 300 ms total and far below the 60 s connect timeout that ended it before.
        const answer = await Promise.race([send('/anything'), new Promise<'still waiting'>((resolve) => setTimeout(resolve, 15_000, 'still waiting'))]);
        expect(answer).not.toBe('still waiting');
        expect(answer).toMatchObject({ status: 504 });
        expect(JSON.parse((answer as Answer).body)).toMatchObject({ error: { code: 'upstream_timeout' } });
      } finally {
        silent.close();
      }
    });

    it('waits as long as the upstream takes when timeouts.idle and timeouts.total are 0s', async () => {
      await serve([a.url], { timeouts: { idle: '0s', total: '0s' } });
      const answer = await send('/slow?ms=300');
      expect(answer).toMatchObject({ status: 200, upstream: 'a' });
    });

    it('does not retry a request that outlasted timeouts.total on another target', async () => {
      await serve([a.url, b.url], { timeouts: { idle: '30s', total: '300ms' } });
      const { result, received } = await counting(() => send('/slow?ms=5000'));
      expect(result.status).toBe(504);
      expect(received.a! + received.b!).toBe(1);
    });

    it('cuts an answer whose body stalls longer than timeouts.idle', async () => {
      await serve([a.url], { timeouts: { idle: '300ms' } });
      const responding = fetch(`${proxyUrl}/chunked`);
      const held = await a.nextHeld();
      held.write('first chunk');
      const response = await responding;
      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow();
    });

    it('cuts a streaming answer that outlasts timeouts.total', async () => {
      await serve([a.url], { timeouts: { idle: '30s', total: '300ms' } });
      const responding = fetch(`${proxyUrl}/sse`);
      const held = await a.nextHeld();
      held.write('data: one\n\n');
      const response = await responding;
      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow();
    });
  });
});
