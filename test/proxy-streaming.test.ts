import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { tempDataDir } from './keygate-process.js';
import { TestUpstream, refusingTargetUrl, type Echo } from './upstream-server.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Reads from the stream until the text read so far contains `expected`; returns all of it. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, sofar: string, expected: string): Promise<string> {
  const decoder = new TextDecoder();
  let text = sofar;
  while (!text.includes(expected)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before "${expected}" arrived; got ${JSON.stringify(text)}`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe('streaming through the proxy', () => {
  let gateway: Gateway;
  let proxyUrl: string;
  let upstream: TestUpstream;
  // An upstream that writes for as long as it is read, and tells when the proxy lets go of its answer.
  let endless: Server;
  let endlessAnswers: Array<ServerResponse> = [];
  const endlessSockets: WebSocket[] = [];
  let afterEnd: Server;

  beforeAll(async () => {
    upstream = await TestUpstream.start('stream');
    endless = createServer((_req, res) => {
      endlessAnswers.push(res);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const piece = Buffer.alloc(64 * 1024, 'z');
      const next = () => {
        while (res.write(piece));
        res.once('drain', next);
      };
      next();
    });
    // Its WebSocket side sends for as long as it is read, too.
    new WebSocketServer({ server: endless }).on('connection', (socket) => {
      endlessSockets.push(socket);
      const piece = Buffer.alloc(64 * 1024, 'w');
      const pump = () => {
        while (socket.readyState === WebSocket.OPEN && socket.bufferedAmount < 1 << 20) socket.send(piece);
        if (socket.readyState === WebSocket.OPEN) setTimeout(pump, 5);
      };
      pump();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    // A raw upgrade (no WebSocket) whose upstream answers only once the client is done sending, for longer than the
    // send timeout, a piece at a time: a client that half-closed and reads.
    afterEnd = createServer();
    afterEnd.on('upgrade', (_req, socket: Socket) => {
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: tcp\r\nconnection: upgrade\r\n\r\n');
      socket.resume();
      socket.on('end', () => {
        let n = 0;
        const timer = setInterval(() => {
          if (socket.destroyed) return clearInterval(timer);
          socket.write(`piece ${++n}\n`);
          if (n === 5) {
            clearInterval(timer);
            socket.end();
          }
        }, 300);
      });
    });
    await new Promise<void>((resolve) => afterEnd.listen(0, '127.0.0.1', resolve));
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_ADMIN_TOKEN: 't', KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1', KEYGATE_LOG_LEVEL: 'silent' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
    proxyUrl = gateway.proxyUrl!;
    await gateway.config.apply(
      {
        version: 1,
        services: [
          { name: 'stream', targets: [{ url: upstream.url }] },
          { name: 'refused', targets: [{ url: await refusingTargetUrl() }] },
          { name: 'endless', targets: [{ url: `http://127.0.0.1:${(endless.address() as AddressInfo).port}` }], timeouts: { send: '1s' } },
          { name: 'after-end', targets: [{ url: `http://127.0.0.1:${(afterEnd.address() as AddressInfo).port}` }], timeouts: { send: '1s' } },
        ],
        routes: [
          { name: 'http', service: 'stream', paths: ['/sse', '/chunked', '/echo'] },
          { name: 'socket', service: 'stream', paths: ['/ws/*'] },
          { name: 'refused-socket', service: 'refused', paths: ['/refused/*'] },
          { name: 'endless', service: 'endless', paths: ['/endless'] },
          { name: 'after-end', service: 'after-end', paths: ['/after-end'] },
        ],
      },
      'test',
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
    endless?.closeAllConnections();
    endless?.close();
    afterEnd?.closeAllConnections();
    afterEnd?.close();
  });

  it('keeps an upgraded connection whose client is done sending (half-closed) while the upstream answers, past the send timeout', async () => {
    const url = new URL(proxyUrl);
    const socket = connect({ port: Number(url.port), host: url.hostname, allowHalfOpen: true });
    await once(socket, 'connect');
    socket.write(`GET /after-end HTTP/1.1\r\nhost: ${url.host}\r\nconnection: upgrade\r\nupgrade: tcp\r\n\r\n`);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => (text += data));
    await vi.waitFor(() => expect(text).toContain('\r\n\r\n'));
    expect(text.startsWith('HTTP/1.1 101')).toBe(true);
    socket.end();
    await once(socket, 'close');
    expect(text.match(/piece \d/g)).toEqual(['piece 1', 'piece 2', 'piece 3', 'piece 4', 'piece 5']);
  });

  it("closes a WebSocket's two connections when the client takes nothing of the upstream's messages for the service's send timeout", async () => {
    const socket = new WebSocket(`${proxyUrl.replace('http:', 'ws:')}/endless`);
    socket.on('error', () => undefined);
    await once(socket, 'open');
    // The client keeps its connection open and reads nothing.
    socket.pause();
    await vi.waitFor(() => expect(endlessSockets).toHaveLength(1));
    const upstreamSide = endlessSockets[0]!;
    await once(upstreamSide, 'close');
    socket.resume();
    await once(socket, 'close');
  });

  it("closes the client's connection and the upstream's when the client takes nothing for the service's send timeout", async () => {
    endlessAnswers = [];
    const url = new URL(proxyUrl);
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => undefined);
    socket.write(`GET /endless HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
    // The client keeps its connection open and reads nothing.
    socket.pause();
    await vi.waitFor(() => expect(endlessAnswers).toHaveLength(1));
    const answer = endlessAnswers[0]!;
    await once(answer, 'close');
    expect(answer.writableFinished).toBe(false);
    // What the client had been sent is there to read, and then the connection's end.
    socket.resume();
    await once(socket, 'close');
  });

  it('delivers Server-Sent Events one at a time: each is read by the client before the upstream sends the next', async () => {
    // The head of an event stream goes out at once, before any event.
    const response = await fetch(`${proxyUrl}/sse`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const held = await upstream.nextHeld();
    const reader = response.body!.getReader();
    let text = '';
    for (const n of [1, 2, 3]) {
      expect(text).not.toContain(`data: event ${n}`);
      held.write(`id: ${n}\ndata: event ${n}\n\n`);
      text = await readUntil(reader, text, `data: event ${n}\n\n`);
    }
    held.end();
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    expect(text).toBe('id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\nid: 3\ndata: event 3\n\n');
  });

  it('streams a chunked answer chunk by chunk', async () => {
    const responding = fetch(`${proxyUrl}/chunked`);
    const held = await upstream.nextHeld();
    held.write('part 1;');
    const response = await responding;
    expect(response.headers.get('content-length')).toBeNull();
    const reader = response.body!.getReader();
    let text = await readUntil(reader, '', 'part 1;');
    for (const n of [2, 3]) {
      expect(text).not.toContain(`part ${n};`);
      held.write(`part ${n};`);
      text = await readUntil(reader, text, `part ${n};`);
    }
    held.end();
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    expect(text).toBe('part 1;part 2;part 3;');
  });

  it('carries a 5 MB request body with a Content-Length to the upstream intact', async () => {
    const body = randomBytes(5 * 1024 * 1024);
    const response = await fetch(`${proxyUrl}/echo`, { method: 'POST', body });
    const echo = (await response.json()) as Echo;
    expect(echo).toMatchObject({ bodyLength: body.length, bodySha256: sha256(body) });
    expect(echo.headers['content-length']).toBe(String(body.length));
  });

  it('carries a small body sent in several pieces to the upstream whole, with its Content-Length', async () => {
    const body = randomBytes(3000);
    const { port } = new URL(proxyUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(`POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`);
    // Each piece goes out in its own write, after the previous one was handed to the kernel.
    for (let offset = 0; offset < body.length; offset += 1000) {
      await new Promise<void>((resolve) => socket.write(body.subarray(offset, offset + 1000), () => resolve()));
    }
    const chunks: Buffer[] = [];
    for await (const chunk of socket) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text.startsWith('HTTP/1.1 200')).toBe(true);
    const echo = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Echo;
    expect(echo).toMatchObject({ bodyLength: body.length, bodySha256: sha256(body) });
    expect(echo.headers['content-length']).toBe(String(body.length));
  });

  it('never calls the upstream for a small body the client stops sending halfway', async () => {
    const before = upstream.requests;
    const { port } = new URL(proxyUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n' + 'z'.repeat(40));
    await new Promise<void>((resolve) => socket.write('z'.repeat(10), () => resolve()));
    socket.destroy();
    await once(socket, 'close');
    // A whole request sent after it is answered, and is the only one the upstream received.
    const response = await fetch(`${proxyUrl}/echo`, { method: 'POST', body: 'complete' });
    expect(((await response.json()) as Echo).bodyLength).toBe(8);
    expect(upstream.requests - before).toBe(1);
  });

  it('carries a 5 MB chunked request body to the upstream intact', async () => {
    const chunks = Array.from({ length: 80 }, () => randomBytes(64 * 1024));
    const whole = Buffer.concat(chunks);
    let next = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = chunks[next++];
        if (chunk) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await fetch(`${proxyUrl}/echo`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    const echo = (await response.json()) as Echo;
    expect(echo).toMatchObject({ method: 'PUT', bodyLength: whole.length, bodySha256: sha256(whole) });
    expect(echo.headers['transfer-encoding']).toBe('chunked');
  });

  it('carries WebSocket messages both ways, text and binary', async () => {
    const socket = new WebSocket(`${proxyUrl.replace('http:', 'ws:')}/ws/echo`);
    await once(socket, 'open');
    const nextMessage = async () => {
      const [data, isBinary] = (await once(socket, 'message')) as [RawData, boolean];
      return { data: Buffer.from(data as Buffer), isBinary };
    };
    socket.send('hello through keygate');
    expect(await nextMessage()).toEqual({ data: Buffer.from('hello through keygate'), isBinary: false });
    const bytes = randomBytes(100_000);
    socket.send(bytes);
    const echoed = await nextMessage();
    expect(echoed.isBinary).toBe(true);
    expect(sha256(echoed.data)).toBe(sha256(bytes));
    socket.close(1000, 'done');
    const [code] = (await once(socket, 'close')) as [number];
    expect(code).toBe(1000);
  });

  /** The answer to a WebSocket handshake that was refused. */
  async function refusedHandshake(path: string): Promise<{ status: number | undefined; body: unknown }> {
    const socket = new WebSocket(`${proxyUrl.replace('http:', 'ws:')}${path}`);
    socket.on('error', () => undefined);
    const [, response] = (await once(socket, 'unexpected-response')) as [unknown, IncomingMessage];
    let body = '';
    for await (const chunk of response) body += String(chunk);
    socket.terminate();
    return { status: response.statusCode, body: JSON.parse(body) };
  }

  it('refuses a WebSocket handshake that no route matches with 404 route_not_found', async () => {
    expect(await refusedHandshake('/nowhere')).toMatchObject({ status: 404, body: { error: { code: 'route_not_found' } } });
  });

  it('answers a WebSocket handshake with 502 upstream_failed when the target refuses connections', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await refusedHandshake('/refused/socket')).toEqual({ status: 502, body: { error: { code: 'upstream_failed', message: 'service "refused" could not be reached' } } });
    }
  });
});
