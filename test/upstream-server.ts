import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

/**
 * A request the upstream holds open until the test says what to send (`/hold`, `/sse`, `/chunked`), so a test
 * can prove ordering ("the client read event 1 before event 2 was sent") without measuring time.
 */
export class HeldExchange {
  constructor(
    readonly request: IncomingMessage,
    private readonly response: ServerResponse,
  ) {}

  /** Sends one chunk of the body (and the head, if it has not gone yet). */
  write(chunk: string): void {
    this.response.write(chunk);
  }

  end(chunk?: string): void {
    this.response.end(chunk);
  }

  destroy(): void {
    this.response.destroy();
  }
}

/** What `/echo` (and every path without a behaviour of its own) answers: the request as the upstream saw it. */
export interface Echo {
  upstream: string;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyLength: number;
  bodySha256: string;
}

/**
 * A test upstream on 127.0.0.1 that misbehaves on demand. Paths:
 *
 * - `/health`: 200, or 500 while `healthy` is false (not counted in `requests`)
 * - `/status/:code`: answers with that status
 * - `/slow?ms=N`: sends the head only after N ms
 * - `/drop`: destroys the socket without answering
 * - `/hop-headers`: answers with hop-by-hop headers (and one named in `Connection`) that a proxy must remove
 * - `/hold`: sends nothing until the test ends the exchange (see `nextHeld`)
 * - `/sse`, `/chunked`: sends the head at once, then each chunk when the test writes it
 * - a WebSocket upgrade on any path: echoes every message
 * - anything else: `Echo` as JSON
 *
 * Every answer carries `x-upstream: <name>`. `failWith` makes every counted request answer that status (or drop).
 */
export class TestUpstream {
  /** Requests received (health probes excluded) since the upstream was created. */
  requests = 0;
  /** WebSocket handshakes that reached this upstream. */
  upgrades = 0;
  healthy = true;
  failWith: number | 'drop' | undefined = undefined;
  #port: number;
  #server: Server | undefined;
  #sockets: WebSocketServer | undefined;
  readonly #held: HeldExchange[] = [];
  readonly #heldWaiters: Array<(exchange: HeldExchange) => void> = [];
  readonly #open = new Set<HeldExchange>();
  readonly #timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly name: string,
    port: number,
  ) {
    this.#port = port;
  }

  /** Starts an upstream on 127.0.0.1; port 0 picks a free one, which `restart()` reuses. */
  static async start(name: string, port = 0): Promise<TestUpstream> {
    const upstream = new TestUpstream(name, port);
    await upstream.restart();
    return upstream;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Listens again on the same port after `stop()`. */
  async restart(): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res));
    const sockets = new WebSocketServer({ server });
    server.on('upgrade', () => (this.upgrades += 1));
    sockets.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    this.#sockets = sockets;
  }

  /** The next request held at `/hold`, `/sse` or `/chunked` (one that already arrived, or the next to arrive). */
  nextHeld(): Promise<HeldExchange> {
    const ready = this.#held.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.#heldWaiters.push(resolve));
  }

  /** Closes the port and every connection, keep-alive, held and WebSocket ones included. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const exchange of this.#open) exchange.destroy();
    this.#open.clear();
    this.#held.length = 0;
    for (const client of this.#sockets?.clients ?? []) client.terminate();
    this.#sockets?.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  #hold(req: IncomingMessage, res: ServerResponse): void {
    const exchange = new HeldExchange(req, res);
    this.#open.add(exchange);
    res.on('close', () => this.#open.delete(exchange));
    const waiter = this.#heldWaiters.shift();
    if (waiter) waiter(exchange);
    else this.#held.push(exchange);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://upstream');
    res.setHeader('x-upstream', this.name);
    if (url.pathname === '/health') {
      req.resume();
      res.writeHead(this.healthy ? 200 : 500, { 'content-type': 'text/plain' });
      res.end(this.healthy ? 'ok' : 'unhealthy');
      return;
    }
    this.requests += 1;
    if (this.failWith === 'drop' || url.pathname === '/drop') {
      req.socket.destroy();
      return;
    }
    if (this.failWith !== undefined) {
      // `?retry-after=N` adds that Retry-After to the failure.
      const after = url.searchParams.get('retry-after');
      if (after !== null) res.setHeader('retry-after', after);
      return this.#json(req, res, this.failWith, { upstream: this.name, status: this.failWith });
    }
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) return this.#json(req, res, Number(status[1]), { upstream: this.name, status: Number(status[1]) });
    switch (url.pathname) {
      case '/slow': {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          this.#echo(req, res);
        }, Number(url.searchParams.get('ms') ?? '1000'));
        this.#timers.add(timer);
        return;
      }
      case '/hop-headers':
        req.resume();
        res.writeHead(200, {
          'content-type': 'text/plain',
          connection: 'x-upstream-hop',
          'x-upstream-hop': 'secret',
          'keep-alive': 'timeout=99, max=7',
          'proxy-authenticate': 'Basic realm="upstream"',
          'x-end-to-end': 'kept',
        });
        res.end('ok');
        return;
      case '/hold':
        req.resume();
        return this.#hold(req, res);
      case '/sse':
      case '/chunked':
        req.resume();
        res.writeHead(200, url.pathname === '/sse' ? { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } : { 'content-type': 'text/plain' });
        res.flushHeaders();
        return this.#hold(req, res);
      default:
        return this.#echo(req, res);
    }
  }

  #json(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
    req.resume();
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  #echo(req: IncomingMessage, res: ServerResponse): void {
    const hash = createHash('sha256');
    let bodyLength = 0;
    req.on('data', (chunk: Buffer) => {
      bodyLength += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      const echo: Echo = { upstream: this.name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyLength, bodySha256: hash.digest('hex') };
      this.#json(req, res, 200, echo);
    });
  }
}

/** The origin of a target that refuses connections: a port bound once on 127.0.0.1, then released. */
export async function refusingTargetUrl(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
