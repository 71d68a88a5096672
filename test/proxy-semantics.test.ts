import { once } from 'node:events';
import { request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { eventually, tempDataDir } from './keygate-process.js';
import { TestUpstream, refusingTargetUrl, type Echo } from './upstream-server.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('the proxy as an HTTP intermediary', () => {
  let gateway: Gateway;
  let proxyUrl: string;
  let upstream: TestUpstream;

  beforeAll(async () => {
    upstream = await TestUpstream.start('echo');
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1', KEYGATE_LOG_LEVEL: 'silent' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
    proxyUrl = gateway.proxyUrl!;
    await gateway.config.apply(
      {
        version: 1,
        services: [
          { name: 'echo', targets: [{ url: upstream.url }] },
          { name: 'drained', targets: [{ url: upstream.url, weight: 0 }] },
          { name: 'refused', targets: [{ url: await refusingTargetUrl() }] },
        ],
        routes: [
          { name: 'plain', service: 'echo', paths: ['/echo', '/hop-headers'] },
          { name: 'preserve', service: 'echo', paths: ['/preserve'], preserveHost: true },
          { name: 'strip', service: 'echo', paths: ['/strip/*'], stripPrefix: true },
          { name: 'rewrite', service: 'echo', paths: ['/users/:id/orders/*'], rewrite: '/v2/customers/:id/orders/*' },
          { name: 'colon', service: 'echo', paths: ['/search/:index'], rewrite: '/v1/:index/items:search' },
          { name: 'small', service: 'echo', paths: ['/small'], methods: ['POST'], maxBodySize: '1kb' },
          { name: 'listed', service: 'echo', paths: ['/listed'], methods: ['GET', 'OPTIONS'] },
          { name: 'drained', service: 'drained', paths: ['/drained'] },
          { name: 'refused', service: 'refused', paths: ['/refused'] },
        ],
      },
      'test',
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  /** One request on its own connection, with exactly the headers given; `chunks` without a length go chunked. */
  function send(path: string, options: { method?: string; headers?: OutgoingHttpHeaders; chunks?: Buffer[] } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(`${proxyUrl}${path}`, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      for (const chunk of options.chunks ?? []) req.write(chunk);
      req.end();
    });
  }

  /** Writes `text` on a new connection to the proxy and resolves to all it answered, once the connection closes. */
  async function sendRaw(text: string): Promise<string> {
    const socket = connect(Number(new URL(proxyUrl).port), '127.0.0.1');
    socket.setEncoding('latin1');
    let read = '';
    socket.on('data', (chunk: string) => (read += chunk));
    socket.write(text);
    await once(socket, 'close');
    return read;
  }

  const echo = async (path: string, headers: OutgoingHttpHeaders = {}): Promise<Echo> => {
    const answer = await send(path, { headers });
    expect(answer.status).toBe(200);
    return JSON.parse(answer.body) as Echo;
  };

  const errorOf = (answer: Answer) => (JSON.parse(answer.body) as { error: { code: string; message: string } }).error;

  it('removes hop-by-hop request headers, and those the client named in Connection, before forwarding', async () => {
    const seen = await echo('/echo', {
      connection: 'keep-alive, x-hop-secret',
      'x-hop-secret': 'for the proxy only',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      upgrade: 'h2c',
      'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
      'x-end-to-end': 'kept',
    });
    for (const name of ['x-hop-secret', 'keep-alive', 'te', 'upgrade', 'proxy-authorization']) expect(seen.headers).not.toHaveProperty(name);
    expect(seen.headers.connection ?? '').not.toContain('x-hop-secret');
    expect(seen.headers['x-end-to-end']).toBe('kept');
  });

  it('removes hop-by-hop response headers, and those the upstream named in Connection, before answering', async () => {
    const answer = await send('/hop-headers');
    expect(answer.status).toBe(200);
    expect(answer.headers).not.toHaveProperty('x-upstream-hop');
    expect(answer.headers).not.toHaveProperty('proxy-authenticate');
    expect(answer.headers['keep-alive']).not.toBe('timeout=99, max=7');
    expect(answer.headers.connection ?? '').not.toContain('x-upstream-hop');
    expect(answer.headers['x-end-to-end']).toBe('kept');
    expect(answer.body).toBe('ok');
  });

  it('starts X-Forwarded-For with the client address, or appends it to the one received', async () => {
    expect((await echo('/echo')).headers['x-forwarded-for']).toBe('127.0.0.1');
    expect((await echo('/echo', { 'x-forwarded-for': '203.0.113.7' })).headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });

  it('adds itself to Via on the request it forwards, after the hops the client named (RFC 9110 §7.6.3)', async () => {
    expect((await echo('/echo')).headers.via).toBe('1.1 keygate');
    expect((await echo('/echo', { via: '1.1 edge-cache' })).headers.via).toBe('1.1 edge-cache, 1.1 keygate');
  });

  it('forwards an OPTIONS or a TRACE with Max-Forwards one lower, and other methods with it as sent (RFC 9110 §7.6.2)', async () => {
    for (const method of ['OPTIONS', 'TRACE']) {
      const answer = await send('/echo', { method, headers: { 'max-forwards': '3' } });
      expect((JSON.parse(answer.body) as Echo).headers['max-forwards']).toBe('2');
    }
    expect((await echo('/echo', { 'max-forwards': '3' })).headers['max-forwards']).toBe('3');
  });

  it("answers an OPTIONS whose Max-Forwards is 0 itself, with 200 and the route's methods in Allow, and sends it nowhere", async () => {
    const before = upstream.requests;
    const answer = await send('/listed', { method: 'OPTIONS', headers: { 'max-forwards': '0' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.allow).toBe('GET, OPTIONS');
    expect(answer.headers['x-request-id']).toBeTruthy();
    expect(answer.body).toBe('');
    expect((await send('/echo', { method: 'OPTIONS', headers: { 'max-forwards': '0' } })).headers.allow).toBe('GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
    expect(upstream.requests).toBe(before);
  });

  it('answers a TRACE whose Max-Forwards is 0 with 405, echoing nothing of the request', async () => {
    const before = upstream.requests;
    const answer = await send('/echo', { method: 'TRACE', headers: { 'max-forwards': '0', cookie: 'session=s3cret' } });
    expect(answer.status).toBe(405);
    expect(errorOf(answer).code).toBe('method_not_allowed');
    expect(answer.body).not.toContain('s3cret');
    expect(upstream.requests).toBe(before);
  });

  it('refuses an OPTIONS whose Max-Forwards is not a number of hops with 400, before any target', async () => {
    const before = upstream.requests;
    const answer = await send('/echo', { method: 'OPTIONS', headers: { 'max-forwards': 'many' } });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).code).toBe('invalid_request');
    expect(upstream.requests).toBe(before);
  });

  it('sets X-Forwarded-Proto, X-Forwarded-Host and an RFC 7239 Forwarded element describing the client', async () => {
    const host = new URL(proxyUrl).host;
    const seen = await echo('/echo', { 'x-forwarded-proto': 'https', forwarded: 'for=203.0.113.7;proto=https' });
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe(host);
    expect(seen.headers.forwarded).toBe(`for=203.0.113.7;proto=https, for=127.0.0.1;proto=http;host="${host}"`);
  });

  it('keeps the X-Request-Id the client sent, upstream and in the answer', async () => {
    const answer = await send('/echo', { headers: { 'x-request-id': 'client-chosen-42' } });
    expect((JSON.parse(answer.body) as Echo).headers['x-request-id']).toBe('client-chosen-42');
    expect(answer.headers['x-request-id']).toBe('client-chosen-42');
  });

  it('generates an X-Request-Id when the client sent none, and returns the same one', async () => {
    const answer = await send('/echo');
    const id = answer.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((JSON.parse(answer.body) as Echo).headers['x-request-id']).toBe(id);
  });

  it("sends the target's Host upstream", async () => {
    expect((await echo('/echo', { host: 'shop.example.test' })).headers.host).toBe(`127.0.0.1:${upstream.port}`);
  });

  it("sends the client's Host upstream when the route preserves it", async () => {
    expect((await echo('/preserve', { host: 'shop.example.test' })).headers.host).toBe('shop.example.test');
  });

  it('forwards the method, the path and the query as received', async () => {
    const answer = await send('/echo?q=a%20b&q=2', { method: 'DELETE' });
    expect(JSON.parse(answer.body)).toMatchObject({ method: 'DELETE', url: '/echo?q=a%20b&q=2' });
  });

  it('strips the matched prefix when the route says so', async () => {
    expect((await echo('/strip/a/b?x=1')).url).toBe('/a/b?x=1');
    expect((await echo('/strip')).url).toBe('/');
  });

  it('rewrites the path from the route template with its parameters and wildcard, keeping the query', async () => {
    expect((await echo('/users/42/orders/7/items?page=2')).url).toBe('/v2/customers/42/orders/7/items?page=2');
  });

  it('forwards an empty query as sent, its "?" kept, and none as none', async () => {
    // Raw: a URL-parsing client drops an empty query before sending.
    const urlOf = async (target: string) => (JSON.parse((await sendRaw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)).split('\r\n\r\n')[1]!) as Echo).url;
    expect(await urlOf('/echo?')).toBe('/echo?');
    expect(await urlOf('/echo')).toBe('/echo');
    expect(await urlOf('/users/1/orders/2?')).toBe('/v2/customers/1/orders/2?');
  });

  it('keeps a colon inside a segment of the rewrite as text: only a whole segment names a parameter', async () => {
    expect((await echo('/search/books?q=x')).url).toBe('/v1/books/items:search?q=x');
  });

  it('rewrites with the request path taken literally, even where it holds "*" or "$&"', async () => {
    expect((await echo('/users/a*b/orders/$&/x')).url).toBe('/v2/customers/a*b/orders/$&/x');
  });

  it('refuses a request with two Host lines with 400, before the upstream sees it (RFC 9112 §3.2)', async () => {
    const before = upstream.requests;
    const read = await sendRaw('GET /echo HTTP/1.1\r\nHost: other.example\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(read).toMatch(/^HTTP\/1\.1 400 /);
    expect(read).toContain('"invalid_request"');
    expect(upstream.requests).toBe(before);
  });

  it('refuses a body over maxBodySize declared by Content-Length with 413 payload_too_large, before the upstream sees it', async () => {
    const before = upstream.requests;
    const answer = await send('/small', { method: 'POST', headers: { 'content-length': 2048 }, chunks: [Buffer.alloc(2048, 1)] });
    expect(answer.status).toBe(413);
    expect(errorOf(answer)).toMatchObject({ code: 'payload_too_large', message: expect.stringContaining('1024 bytes') });
    expect(upstream.requests).toBe(before);
  });

  it('accepts a body of exactly maxBodySize', async () => {
    const answer = await send('/small', { method: 'POST', headers: { 'content-length': 1024 }, chunks: [Buffer.alloc(1024, 1)] });
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.body) as Echo).bodyLength).toBe(1024);
  });

  it('refuses a chunked body with 413 payload_too_large once it passes maxBodySize', async () => {
    const answer = await send('/small', { method: 'POST', chunks: [Buffer.alloc(600, 1), Buffer.alloc(600, 2), Buffer.alloc(600, 3)] });
    expect(answer.status).toBe(413);
    expect(errorOf(answer).code).toBe('payload_too_large');
  });

  it('closes the connection after refusing a chunked body, rather than leave the rest of the body unread on it', async () => {
    const req = request(`${proxyUrl}/small`, { method: 'POST', agent: false, headers: { connection: 'keep-alive' } });
    const answered = new Promise<Answer>((resolve) => req.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' })));
    req.on('error', () => undefined);
    for (let i = 0; i < 64; i++) req.write(Buffer.alloc(64 * 1024, i));
    const answer = await answered;
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    await eventually(async () => req.socket?.destroyed ?? true, 'the proxy to close the connection');
  });

  it.each([2_000, 200_000])('answers Expect: 100-continue itself and forwards a %i-byte body without the header, as curl sends it', async (size) => {
    const body = Buffer.alloc(size, 'k');
    const req = request(`${proxyUrl}/echo`, { method: 'PUT', agent: false, headers: { expect: '100-continue', 'content-length': body.length } });
    let continued = false;
    // The body goes only once the gateway said 100 Continue, as curl does.
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    const answer = await new Promise<Answer>((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
    });
    expect(continued).toBe(true);
    expect(answer.status).toBe(200);
    const echo = JSON.parse(answer.body) as Echo;
    expect(echo.bodyLength).toBe(size);
    expect(echo.headers.expect).toBeUndefined();
  });

  it('refuses a request head over 16 KiB with 431', async () => {
    const before = upstream.requests;
    const answer = await send('/echo', { headers: { 'x-large': 'a'.repeat(17 * 1024) } });
    expect(answer.status).toBe(431);
    expect(upstream.requests).toBe(before);
  });

  it('answers 404 route_not_found when no route matches', async () => {
    const answer = await send('/nowhere');
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(errorOf(answer)).toEqual({ code: 'route_not_found', message: 'no route matches GET /nowhere' });
  });

  it('answers 503 no_healthy_target when every target of the service is drained', async () => {
    const answer = await send('/drained');
    expect(answer.status).toBe(503);
    expect(errorOf(answer)).toEqual({ code: 'no_healthy_target', message: 'service "drained" has no healthy target' });
  });

  it('answers 502 upstream_failed when the only target refuses connections', async () => {
    const answer = await send('/refused', { headers: { 'x-request-id': 'failing-1' } });
    expect(answer.status).toBe(502);
    expect(errorOf(answer)).toEqual({ code: 'upstream_failed', message: 'service "refused" could not be reached' });
    expect(answer.headers['x-request-id']).toBe('failing-1');
  });
});
