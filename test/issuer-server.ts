import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the test server answers one path. */
export interface TestResponse {
  status?: number;
  /** An object is sent as JSON; a string is sent as it is (for garbage). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Park the request unanswered until {@link IssuerTestServer.release} or close: a server slower than any timeout. */
  hold?: boolean;
}

/**
 * A stand-in for an outside issuer on 127.0.0.1: serves JWK Sets and discovery documents whose answers a test
 * switches at will (keys, Cache-Control, status, garbage, a hang, down), and counts the requests per path.
 * Paths it has no answer for go to the `delegate` handler (a real OpenID provider), or get a 404.
 * Used by the issuer tests only.
 */
export class IssuerTestServer {
  readonly #server: Server;
  readonly #responses = new Map<string, TestResponse>();
  readonly #hits = new Map<string, number>();
  #held: Array<{ path: string; res: ServerResponse }> = [];
  #delegate: RequestListener | undefined;
  #port = 0;

  private constructor() {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(): Promise<IssuerTestServer> {
    const server = new IssuerTestServer();
    await server.#listen(0);
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Sets how `path` answers from now on. */
  serve(path: string, response: TestResponse): void {
    this.#responses.set(path, response);
  }

  /** Sends every path without an answer of its own to `handler`. */
  delegate(handler: RequestListener | undefined): void {
    this.#delegate = handler;
  }

  /** Requests received for `path` so far. */
  hits(path: string): number {
    return this.#hits.get(path) ?? 0;
  }

  /** Requests parked by `hold` and not yet answered. */
  get held(): number {
    return this.#held.length;
  }

  /** Answers the parked requests with what their path serves now (without the hold). */
  release(): void {
    const held = this.#held;
    this.#held = [];
    for (const { path, res } of held) this.#respond(res, { ...this.#responses.get(path), hold: false });
  }

  /** Stops listening, so connections are refused, until {@link restart}. */
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    for (const { res } of this.#held) res.destroy();
    this.#held = [];
    if (this.#server.listening) await this.stop();
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', this.url).pathname;
    this.#hits.set(path, this.hits(path) + 1);
    const response = this.#responses.get(path);
    if (response === undefined && this.#delegate) {
      this.#delegate(req, res);
      return;
    }
    if (response?.hold) {
      this.#held.push({ path, res });
      return;
    }
    this.#respond(res, response ?? { status: 404, body: { error: 'not_found' } });
  }

  #respond(res: ServerResponse, response: TestResponse): void {
    const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body ?? {});
    res.writeHead(response.status ?? 200, { 'content-type': 'application/json', ...response.headers });
    res.end(body);
  }
}
