import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestGateway, startEchoUpstream, type EchoedRequest, type LoopbackServer } from './auth-fixtures.js';

/** A request with its target exactly as written: fetch and URL would resolve the dot segments first. */
function rawGet(base: string, target: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: target, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Routing sees the path an upstream will resolve: no dot segment or escape walks past a route's checks. */
describe('request paths', () => {
  let upstream: LoopbackServer;
  let gateway: TestGateway;
  let key: string;

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    gateway = await TestGateway.start();
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'site', targets: [{ url: upstream.url }] }],
      routes: [
        { name: 'public', service: 'site', paths: ['/public/*', '/*'] },
        { name: 'admin', service: 'site', paths: ['/admin/*'], auth: { methods: ['api-key'] } },
        // Written with escapes a request path loses on normalization: the pattern is normalized the same way.
        { name: 'home', service: 'site', paths: ['/files/%7euser/*', '/caf%c3%a9'], auth: { methods: ['api-key'] } },
      ],
    });
    await gateway.createApp({ name: 'ops', team: 'ops', subscribe: ['site'] });
    key = (await gateway.createApiKey('ops')).secret;
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it.each(['/public/../admin/users', '/public/%2e%2e/admin/users', '/public/./../admin/users', '//admin/users', '/%61dmin/users'])('%s is the admin route, and needs its key', async (target) => {
    const refused = await rawGet(gateway.proxyUrl, target);
    expect(refused.status).toBe(401);
    const served = await rawGet(gateway.proxyUrl, target, { 'x-api-key': key });
    expect(served.status).toBe(200);
    expect((JSON.parse(served.body) as EchoedRequest).url).toBe('/admin/users');
  });

  it.each([
    ['/files/%7Euser/a.txt', '/files/~user/a.txt'],
    ['/files/~user/a.txt', '/files/~user/a.txt'],
    ['/caf%c3%a9', '/caf%C3%A9'],
  ])('matches a route written with escapes: %s', async (target, forwarded) => {
    // The route's own check answers, not the catch-all's.
    expect((await rawGet(gateway.proxyUrl, target)).status).toBe(401);
    const served = await rawGet(gateway.proxyUrl, target, { 'x-api-key': key });
    expect(served.status).toBe(200);
    expect((JSON.parse(served.body) as EchoedRequest).url).toBe(forwarded);
  });

  it('forwards the normalized path with the query as it came', async () => {
    const served = await rawGet(gateway.proxyUrl, '/public/a/./b/../c%7e?q=%2e%2e');
    expect(served.status).toBe(200);
    expect((JSON.parse(served.body) as EchoedRequest).url).toBe('/public/a/c~?q=%2e%2e');
  });

  it.each(['/public/..%2Fadmin/users', '/public/..%5cadmin/users', '/public/..\\admin/users', '/public/..;/admin/users', '/public/%zz'])('refuses %s with 400 invalid_path', async (target) => {
    const refused = await rawGet(gateway.proxyUrl, target);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'invalid_path' } });
  });

  it('routes an absolute-form target by its own path and authority', async () => {
    const served = await rawGet(gateway.proxyUrl, 'http://ignored.example/public/../admin/users', { 'x-api-key': key });
    expect(served.status).toBe(200);
    const echoed = JSON.parse(served.body) as EchoedRequest;
    expect(echoed.url).toBe('/admin/users');
  });
});
