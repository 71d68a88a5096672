import { once } from 'node:events';
import { createServer as createTcpServer, connect, type AddressInfo, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoopbackServer, TestGateway } from './auth-fixtures.js';

const WEBSOCKET_HANDSHAKE = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

/**
 * Sends `first` on a new connection to the gateway, then, once the first answer has come (or the connection closed),
 * `second` on the same connection if it is still open; resolves to all the client read, once the connection closes.
 */
async function exchange(port: number, first: string, second?: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  socket.on('error', () => undefined);
  let read = '';
  const closed = once(socket, 'close');
  socket.on('data', (text: string) => {
    const before = read;
    read += text;
    if (second !== undefined && before === '' && !socket.destroyed) socket.write(second);
  });
  socket.write(first);
  await closed;
  return read;
}

/** Upgrades through the proxy: only an upstream's 101 opens a tunnel, and only the upgrades that cannot hide requests from the routes. */
describe('upgrade handshakes', () => {
  let gateway: TestGateway;
  let plain: LoopbackServer;
  let silent: TcpServer;
  let closing: TcpServer;
  let port: number;

  beforeAll(async () => {
    // An upstream with no upgrade of its own: it answers a handshake as any request, and keeps the connection.
    plain = await LoopbackServer.start((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('no upgrade here'));
    // A TLS target whose server takes the TCP connection and never answers the handshake: connecting never ends.
    // The same server as a plain HTTP target takes the handshake and never answers it.
    silent = createTcpServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    // A target that closes every connection as soon as the request has come, without answering.
    closing = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.destroy());
    });
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    gateway = await TestGateway.start();
    await gateway.applyConfig({
      version: 1,
      services: [
        { name: 'plain', targets: [{ url: plain.url }] },
        { name: 'silent', targets: [{ url: `https://127.0.0.1:${silentPort}` }], timeouts: { connect: '300ms' } },
        { name: 'leaving', targets: [{ url: `https://127.0.0.1:${silentPort}` }], timeouts: { connect: '300ms' }, healthCheck: { passive: { failures: 1, cooldown: '1h' } } },
        { name: 'mute', targets: [{ url: `http://127.0.0.1:${silentPort}` }], timeouts: { idle: '300ms' } },
        { name: 'closing', targets: [{ url: `http://127.0.0.1:${(closing.address() as AddressInfo).port}` }] },
      ],
      routes: [
        { name: 'plain', service: 'plain', paths: ['/plain/*'] },
        { name: 'silent', service: 'silent', paths: ['/silent/*'] },
        { name: 'leaving', service: 'leaving', paths: ['/leaving/*'] },
        { name: 'mute', service: 'mute', paths: ['/mute/*'] },
        { name: 'closing', service: 'closing', paths: ['/closing/*'] },
      ],
    });
    port = Number(new URL(gateway.proxyUrl).port);
  });
  afterAll(async () => {
    await gateway?.stop();
    await plain?.stop();
    silent?.close();
    closing?.close();
  });

  it("gives the client a declined handshake's answer and closes the connection, so that no request after it reaches the upstream unrouted", async () => {
    const read = await exchange(port, `GET /plain/room HTTP/1.1\r\nHost: x\r\n${WEBSOCKET_HANDSHAKE}\r\n`, 'GET /not-routed/secret HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(read).toMatch(/^HTTP\/1\.1 200 /);
    expect(read).toMatch(/\r\nconnection: close\r\n/i);
    expect(read.endsWith('no upgrade here')).toBe(true);
    expect(plain.hits('/not-routed/secret')).toBe(0);
  });

  it('refuses an h2c upgrade with 400 upgrade_not_supported, which the upstream never sees', async () => {
    const hits = plain.hits('/plain/h2c');
    const read = await exchange(port, 'GET /plain/h2c HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n');
    expect(read).toMatch(/^HTTP\/1\.1 400 /);
    expect(read).toContain('"upgrade_not_supported"');
    expect(plain.hits('/plain/h2c')).toBe(hits);
  });

  it('counts no failure against a target whose handshake the client left before it connected', async () => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`GET /leaving/room HTTP/1.1\r\nHost: x\r\n${WEBSOCKET_HANDSHAKE}\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // A reset, which the gateway sees at once (a FIN waits until the upgraded socket is read).
    socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // One failure would have opened the circuit (503 no_healthy_target); the target is tried, and times out.
    const read = await exchange(port, `GET /leaving/room HTTP/1.1\r\nHost: x\r\n${WEBSOCKET_HANDSHAKE}\r\n`);
    expect(read).toMatch(/^HTTP\/1\.1 504 /);
  });

  it('answers a handshake the target takes and never answers with 504 upstream_timeout after timeouts.idle', async () => {
    const read = await exchange(port, `GET /mute/room HTTP/1.1\r\nHost: x\r\n${WEBSOCKET_HANDSHAKE}\r\n`);
    expect(read).toMatch(/^HTTP\/1\.1 504 /);
    expect(read).toContain('did not answer the handshake');
  });

  it('answers a handshake whose target closes the connection without answering with 502 upstream_failed', async () => {
    const read = await exchange(port, `GET /closing/room HTTP/1.1\r\nHost: x\r\n${WEBSOCKET_HANDSHAKE}\r\n`);
    expect(read).toMatch(/^HTTP\/1\.1 502 /);
    expect(read).toContain('service \\"closing\\" closed the connection without answering the handshake');
  });

  it('refuses a handshake that carries a body with 400 upgrade_not_supported', async () => {
    const hits = plain.hits('/plain/body');
    const read = await exchange(port, `POST /plain/body HTTP/1.1\r\nHost: x\r\n${WEBSOCKET_HANDSHAKE}Content-Length: 5\r\n\r\nhello`);
    expect(read).toMatch(/^HTTP\/1\.1 400 /);
    expect(read).toContain('"upgrade_not_supported"');
    expect(plain.hits('/plain/body')).toBe(hits);
  });

  it('answers a handshake whose target does not connect within timeouts.connect with 504 upstream_timeout', async () => {
    const read = await exchange(port, `GET /silent/room HTTP/1.1\r\nHost: x\r\n${WEBSOCKET_HANDSHAKE}\r\n`);
    expect(read).toMatch(/^HTTP\/1\.1 504 /);
    expect(read).toContain('"upstream_timeout"');
  });
});
