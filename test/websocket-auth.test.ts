import { once } from 'node:events';
import { connect } from 'node:net';
import process from 'node:process';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { TestGateway } from './auth-fixtures.js';
import { TestUpstream } from './upstream-server.js';

/** Sends a handshake for `path` and resets the connection (RST) straight after. */
async function handshakeAndReset(proxyUrl: string, path: string, headers: Record<string, string> = {}): Promise<void> {
  const { port } = new URL(proxyUrl);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`);
  socket.resetAndDestroy();
  await once(socket, 'close');
}

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

  /**
   * Node takes its own error listener off a socket once it is upgraded: a client that resets its connection while
   * the handshake is checked, or refused, must not take the gateway down with an unhandled 'error'.
   */
  describe('from clients that reset the connection', () => {
    it.each(['/nowhere', '/ws/room'])('keeps serving after handshakes to %s reset mid-way', async (path) => {
      const errors: unknown[] = [];
      const onError = (error: unknown) => errors.push(error);
      process.on('uncaughtException', onError);
      try {
        for (let i = 0; i < 20; i++) await handshakeAndReset(node.gateway.proxyUrl!, path);
        // The answer to a later request shows the process, and its server, still up after the resets' errors.
        await new Promise((resolve) => setTimeout(resolve, 100));
        const res = await fetch(`${node.gateway.proxyUrl}/ws/room`);
        expect(res.status).toBe(401);
      } finally {
        process.off('uncaughtException', onError);
      }
      expect(errors).toEqual([]);
    });
  });
});

describe('graceful shutdown with a WebSocket open', () => {
  it('ends the open WebSocket once the grace is over, and the gateway stops', async () => {
    const upstream = await TestUpstream.start('sockets');
    const node = await TestGateway.start({ KEYGATE_SHUTDOWN_GRACE: '1s' });
    try {
      await node.applyConfig({ version: 1, services: [{ name: 'chat', targets: [{ url: upstream.url }] }], routes: [{ name: 'chat', service: 'chat', paths: ['/ws/*'] }] });
      const socket = new WebSocket(`${node.gateway.proxyUrl!.replace('http:', 'ws:')}/ws/room`);
      socket.on('error', () => undefined);
      await once(socket, 'open');
      const closed = once(socket, 'close');
      // Bounded far above the 1 s grace: without the cut, stop() waits for the socket for ever.
      const outcome = await Promise.race([node.stop().then(() => 'stopped'), new Promise((resolve) => setTimeout(resolve, 15_000, 'still waiting'))]);
      expect(outcome).toBe('stopped');
      await closed;
    } finally {
      await upstream.stop();
    }
  });
});
