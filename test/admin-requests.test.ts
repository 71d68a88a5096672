import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway } from './ai-fixtures.js';

/** How the admin API routes and validates a request before any endpoint runs: paths, query strings, their errors. */
describe('requests to the admin API', () => {
  let gateway: AiGateway;

  beforeAll(async () => {
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'vllm', type: 'openai-compatible', baseUrl: 'http://127.0.0.1:9' }] });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const send = (method: string, path: string, body?: unknown) => gateway.send(method, path, body);

  it('adds and removes a catalog entry whose id is 200 characters with a "/", CJK characters and emoji', async () => {
    const id = `meta/${'模'.repeat(100)}${'😀'.repeat(50)}${'x'.repeat(45)}`;
    expect([...id]).toHaveLength(200);
    const entry = { id, provider: 'vllm', kind: 'chat', contextWindow: 8192, maxOutputTokens: 1024, inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: null, capabilities: ['chat'] };
    const path = `/ai/catalog/vllm/${encodeURIComponent(id)}`;
    expect(await send('PUT', path, entry)).toMatchObject({ status: 200, body: { id } });
    expect(await send('DELETE', path)).toEqual({ status: 204, body: undefined });
  });

  it('answers a path segment longer than any name or id with 414 uri_too_long in the error shape', async () => {
    const { status, body } = await send('GET', `/apps/${'a'.repeat(2401)}`);
    expect(status).toBe(414);
    expect(body).toEqual({ error: { code: 'uri_too_long', message: expect.stringContaining('path segment') } });
  });

  it('answers a malformed percent-encoding in the path with 400 invalid_request in the error shape', async () => {
    const { status, body } = await send('GET', '/apps/%E0%A4%A');
    expect(status).toBe(400);
    expect(body).toEqual({ error: { code: 'invalid_request', message: expect.stringContaining('encodeURIComponent') } });
  });

  it.each([
    ['/teams?limit=1', 'limit'],
    ['/apps?team=zzz', 'team'],
    ['/apps/shop?expand=all', 'expand'],
    ['/apps/shop/credentials?kind=api_key', 'kind'],
    ['/ai/providers/vllm/keys?limit=1', 'limit'],
    ['/services?limit=1', 'limit'],
    ['/services/web?expand=all', 'expand'],
    ['/routes?service=web', 'service'],
    ['/routes/web?expand=all', 'expand'],
    ['/config/schema?format=yaml', 'format'],
    ['/keys/some-kid?format=pem', 'format'],
  ])('refuses GET %s, a query parameter the endpoint does not take, with 400 invalid_request naming it', async (path, parameter) => {
    expect(await send('GET', path)).toEqual({ status: 400, body: { error: { code: 'invalid_request', message: `querystring has an unknown member "${parameter}"` } } });
  });

  it.each([
    ['/ai/usage?groupBy=day', 'querystring/groupBy must be one of app, team, model, provider, route, status, credential'],
    ['/ai/usage?groupBy=', 'querystring/groupBy must be one of app, team, model, provider, route, status, credential'],
    ['/ai/usage?interval=week', 'querystring/interval must be one of hour, day, month'],
    ['/ai/catalog?kind=image', 'querystring/kind must be one of chat, embedding'],
    ['/subscriptions?state=bogus', 'querystring/state must be one of pending, approved, rejected, revoked'],
    ['/keys?state=bogus', 'querystring/state must be one of next, active, retiring, retired, revoked, trusted'],
    ['/keys?use=both', 'querystring/use must be one of sig, enc'],
    ['/keys/some-kid/public?format=der', 'querystring/format must be one of jwk, pem'],
    ['/config?format=toml', 'querystring/format must be one of json, yaml'],
  ])('refuses GET %s, a value a query parameter does not take, with 400 invalid_request naming the values it takes', async (path, message) => {
    expect(await send('GET', path)).toEqual({ status: 400, body: { error: { code: 'invalid_request', message } } });
  });

  it.each([
    ['/services/web', { name: 'web', targets: [{ url: 'http://127.0.0.1:9' }], balancing: 'random' }, 'body/balancing must be one of round-robin, least-connections'],
    ['/routes/web', { name: 'web', paths: ['/web/*'], ai: {}, methods: ['GET', 'FETCH'] }, 'body/methods/1 must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
    ['/ai/catalog/vllm/m', { id: 'm', provider: 'vllm', kind: 'chatt', contextWindow: 8192, maxOutputTokens: 1024, inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: null, capabilities: ['chat'] }, 'body/kind must be one of chat, embedding'],
  ])('refuses PUT %s with a value a member does not take, with 400 invalid_request naming the values it takes', async (path, body, message) => {
    expect(await send('PUT', path, body)).toEqual({ status: 400, body: { error: { code: 'invalid_request', message } } });
  });

  it('describes the values each query parameter takes in the OpenAPI document', async () => {
    const doc = (await send('GET', '/openapi.json')).body as { paths: Record<string, { get: { parameters: Array<{ in: string; name: string; schema: { type?: string; enum?: string[] } }> } }> };
    const values = (path: string, name: string) => doc.paths[path]!.get.parameters.find((p) => p.in === 'query' && p.name === name)?.schema;
    expect(values('/ai/usage', 'groupBy')).toMatchObject({ type: 'string', enum: ['app', 'team', 'model', 'provider', 'route', 'status', 'credential'] });
    expect(values('/ai/usage', 'interval')).toMatchObject({ type: 'string', enum: ['hour', 'day', 'month'] });
    expect(values('/ai/catalog', 'kind')).toMatchObject({ type: 'string', enum: ['chat', 'embedding'] });
    expect(values('/subscriptions', 'state')).toMatchObject({ type: 'string', enum: ['pending', 'approved', 'rejected', 'revoked'] });
  });
});
