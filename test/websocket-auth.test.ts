import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { TestGateway } from './auth-fixtures.js';
import { TestUpstream } from './upstream-server.js';

describe('WebSocket handshakes on a route with auth', () => {
  let node: TestGateway;
  let upstream: TestUpstream;
  let key: string;
  let wsBase: string;

  beforeAll(async () => {
    upstream = await TestUpstream.start('sockets');
    node = await TestGateway.start();
    await node.applyConfig({
      version: 1,
      services: [{ name: 'chat', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'chat', service: 'chat', paths: ['/ws/*'], auth: { methods: ['api-key'] }, limits: [{ per: 'app', requests: 2, window: '1m' }] }],
    });
    await node.createApp({ name: 'client', team: 'chatters', subscribe: ['chat'] });
    key = (await node.createApiKey('client')).secret;
    wsBase = node.gateway.proxyUrl!.replace('http:', 'ws:');
  });
  afterAll(async () => {
    await node?.stop();
    await upstream?.stop();
  });

  async function refused(headers: Record<string, string>): Promise<{ status: number | undefined; body: { error: { code: string } }; challenge: string | undefined }> {
    const socket = new WebSocket(`${wsBase}/ws/room`, { headers });
    socket.on('error', () => undefined);
    const [, response] = (await once(socket, 'unexpected-response')) as [unknown, IncomingMessage];
    let body = '';
    for await (const chunk of response) body += String(chunk);
    socket.terminate();
    return { status: response.statusCode, body: JSON.parse(body) as { error: { code: string } }, challenge: response.headers['www-authenticate'] as string | undefined };
  }

  it('refuses a handshake without credentials with 401 and a challenge, and the upstream never sees it', async () => {
    const before = upstream.upgrades;
    const answer = await refused({});
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('unauthenticated');
    expect(answer.challenge).toContain('Bearer');
    expect(upstream.upgrades).toBe(before);
  });

  it('refuses a handshake with a wrong key', async () => {
    expect((await refused({ 'x-api-key': 'kg_key_wrong' })).status).toBe(401);
  });

  it('lets an authenticated handshake through, and echoes over it', async () => {
    const socket = new WebSocket(`${wsBase}/ws/room`, { headers: { 'x-api-key': key } });
    await once(socket, 'open');
    socket.send('hello');
    const [data] = (await once(socket, 'message')) as [RawData];
    expect(String(data)).toBe('hello');
    socket.close();
    await once(socket, 'close');
    expect(upstream.upgrades).toBe(1);
  });

  it('counts handshakes against the route limits', async () => {
    const socket = new WebSocket(`${wsBase}/ws/room`, { headers: { 'x-api-key': key } });
    await once(socket, 'open');
    socket.close();
    await once(socket, 'close');
    const answer = await refused({ 'x-api-key': key });
    expect(answer.status).toBe(429);
    expect(answer.body.error.code).toBe('rate_limited');
  });
});
