import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import process from 'node:process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { LocalIssuer, TestGateway } from './auth-fixtures.js';
import { startKeygate, type RunningKeygate } from './keygate-process.js';
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

/**
 * No one consumes an upgraded socket until it is piped upstream: a client that resets the connection while its
 * credential is checked surfaces as an error, but one that closes it is noticed only if the gateway reads what it
 * sent. Either way its handshake must open no upstream connection.
 */
describe('a WebSocket handshake cut while its credential is checked, on a keygate process', () => {
  const ADMIN = 'ws-cut-admin-token';
  const CUTS = ['reset', 'close'] as const;
  /** The routes, each with an issuer of its own: one per way of cutting, and one for a client that does not cut. */
  const ROUTES = [...CUTS, 'early'] as const;
  let node: RunningKeygate;
  /** An outside issuer per route, whose JWK Set no check has fetched before that route's test. */
  const issuers = new Map<string, LocalIssuer>();
  /** An echoing WebSocket server, and the TCP connections its port accepted. */
  let upstream: { server: Server; sockets: WebSocketServer; url: string; connections: number };
  /** The issuer's JWKS requests, held until the test answers them: the credential check waits meanwhile. */
  const held: Array<() => void> = [];

  beforeAll(async () => {
    for (const name of ROUTES) issuers.set(name, await LocalIssuer.start());
    const server = createServer((_req, res) => res.writeHead(404).end());
    const sockets = new WebSocketServer({ server });
    sockets.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstream = { server, sockets, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: 0 };
    server.on('connection', () => (upstream.connections += 1));
    node = await startKeygate({ KEYGATE_ADMIN_TOKEN: ADMIN });
    const applied = await fetch(`${node.adminUrl}/config`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: 1,
        services: [{ name: 'chat', targets: [{ url: upstream.url }] }],
        routes: ROUTES.map((name) => ({ name, service: 'chat', paths: [`/${name}/*`], auth: { methods: [`issuer:${name}`] } })),
        issuers: ROUTES.map((name) => ({ name, jwksUri: `${issuers.get(name)!.url}/jwks`, audiences: ['chat'], algorithms: ['RS256'] })),
      }),
    });
    expect(applied.status, await applied.text()).toBe(200);
  });
  afterAll(async () => {
    for (const answer of held.splice(0)) answer();
    await node?.stop();
    for (const client of upstream?.sockets.clients ?? []) client.terminate();
    upstream?.server.closeAllConnections();
    await new Promise((resolve) => upstream?.server.close(resolve));
    for (const issuer of issuers.values()) await issuer.close();
  });

  it.each(CUTS)('opens no upstream connection for a handshake whose client sends a %s, and serves the next one', async (cut) => {
    const issuer = issuers.get(cut)!;
    const token = await issuer.sign({ aud: 'chat' });
    const serve = issuer.server.handler;
    issuer.server.handler = (req, res) => void held.push(() => serve(req, res));
    const connections = upstream.connections;

    const socket = connect(Number(new URL(node.proxyUrl).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => undefined);
    socket.write(`GET /${cut}/room HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    // The handshake is being checked: keygate waits for the issuer's keys.
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 10_000, interval: 5 });
    if (cut === 'reset') socket.resetAndDestroy();
    else socket.destroy();
    await once(socket, 'close');
    issuer.server.handler = serve;
    held.shift()!();

    // The next handshake, with the same token: its upstream connection comes after any the cut one opened.
    const ws = new WebSocket(`${node.proxyUrl.replace('http:', 'ws:')}/${cut}/room`, { headers: { authorization: `Bearer ${token}` } });
    await once(ws, 'open');
    ws.send('still here');
    const [data] = (await once(ws, 'message')) as [RawData];
    expect(String(data)).toBe('still here');
    ws.close();
    await once(ws, 'close');
    expect(upstream.connections - connections).toBe(1);
    expect(node.child.exitCode).toBeNull();
  });

  it('sends upstream, after the handshake, what a client sent while its handshake was checked', async () => {
    const issuer = issuers.get('early')!;
    const serve = issuer.server.handler;
    issuer.server.handler = (req, res) => void held.push(() => serve(req, res));
    const socket = connect(Number(new URL(node.proxyUrl).port), '127.0.0.1');
    await once(socket, 'connect');
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.write(`GET /early/room HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer ${await issuer.sign({ aud: 'chat' })}\r\n\r\n`);
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 10_000, interval: 5 });
    // A masked text frame (RFC 6455 §5.2) sent before the answer, while keygate waits for the issuer's keys.
    const mask = Buffer.from([1, 2, 3, 4]);
    const text = Buffer.from('early');
    await new Promise((resolve) => socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | text.length]), mask, text.map((byte, i) => byte ^ mask[i % 4]!)]), resolve));
    issuer.server.handler = serve;
    held.shift()!();

    const echoed = Buffer.concat([Buffer.from([0x81, text.length]), text]);
    await vi.waitFor(() => expect(received.includes(echoed)).toBe(true), { timeout: 10_000, interval: 5 });
    expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    socket.destroy();
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
