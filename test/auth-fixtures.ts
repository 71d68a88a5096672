import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTHeaderParameters, type JWTPayload } from 'jose';
import pino from 'pino';
import { expect } from 'vitest';
import type { Clock } from '../src/clock.js';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { tempDataDir } from './keygate-process.js';

export { eventually } from './keygate-process.js';

export const ADMIN_TOKEN = 'auth-tests-admin-token';

/** What an upstream answers: the request as it arrived, so a test sees the headers the gateway forwarded. */
export interface EchoedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A proxied call's outcome: the status, the response headers and the parsed JSON body. */
export interface CallResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

async function readJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  return (text === '' ? {} : JSON.parse(text)) as T;
}

/**
 * A plain HTTP server on 127.0.0.1 that counts requests per path and whose handler a test swaps at will; it can
 * stop and listen again on the same port, as an issuer that restarts does.
 */
export class LoopbackServer {
  handler: RequestListener;
  readonly #hits = new Map<string, number>();
  #server: Server | undefined;
  #port = 0;

  private constructor(handler: RequestListener) {
    this.handler = handler;
  }

  static async start(handler: RequestListener = (_req, res) => res.writeHead(404).end()): Promise<LoopbackServer> {
    const server = new LoopbackServer(handler);
    await server.restart();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Requests received for `path` so far. */
  hits(path: string): number {
    return this.#hits.get(path) ?? 0;
  }

  /** Listens (again) on the port it had, or on a free one the first time. */
  async restart(): Promise<void> {
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', this.url).pathname;
      this.#hits.set(path, this.hits(path) + 1);
      this.handler(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Closes the port and every connection, so the next request is refused. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An upstream that answers every request with 200 and the request it received ({@link EchoedRequest}). */
export async function startEchoUpstream(): Promise<LoopbackServer> {
  return LoopbackServer.start((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const echoed: EchoedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
      sendJson(res, 200, echoed);
    });
  });
}

/** A free loopback port with nothing listening on it: an endpoint that is down. */
export async function closedPort(): Promise<number> {
  const server = await LoopbackServer.start();
  const port = Number(new URL(server.url).port);
  await server.stop();
  return port;
}

/**
 * An outside issuer minted with jose: an RS256 key pair, its JWK Set at `/jwks` and a discovery document at
 * `/.well-known/openid-configuration` naming its URL as `issuer`. Other documents can be served at any path.
 */
export class LocalIssuer {
  readonly #documents = new Map<string, unknown>();

  private constructor(
    readonly server: LoopbackServer,
    readonly kid: string,
    readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
    publicJwk: JWK,
  ) {
    server.handler = (req, res) => {
      const path = new URL(req.url ?? '/', server.url).pathname;
      const document = this.#documents.get(path);
      if (document === undefined) return sendJson(res, 404, { error: 'not_found' });
      sendJson(res, 200, document);
    };
    this.serve('/jwks', { keys: [publicJwk] });
    this.serve('/.well-known/openid-configuration', { issuer: server.url, jwks_uri: `${server.url}/jwks` });
  }

  static async start(kid = 'issuer-key-1'): Promise<LocalIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    return new LocalIssuer(await LoopbackServer.start(), kid, privateKey, publicKey, publicJwk);
  }

  get url(): string {
    return this.server.url;
  }

  /** Answers GET `path` with `document` as JSON from now on. */
  serve(path: string, document: unknown): void {
    this.#documents.set(path, document);
  }

  /**
   * A token signed with the issuer's key: `iss` is the issuer, `exp` an hour away, unless `claims` says
   * otherwise (a claim set to undefined is left out). `header` adds or replaces protected header members; the
   * extensions a `crit` header names are signed as given, for a verifier to refuse.
   */
  async sign(claims: JWTPayload = {}, header: Partial<JWTHeaderParameters> = {}, key: CryptoKey = this.privateKey): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload: JWTPayload = { iss: this.url, sub: 'user-1', iat: now, exp: now + 3600, ...claims };
    for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'at+jwt', ...header }).sign(key, header.crit ? { crit: Object.fromEntries(header.crit.map((c) => [c, true])) } : undefined);
  }

  async close(): Promise<void> {
    await this.server.stop();
  }
}

export interface AppSetup {
  name: string;
  team: string;
  scopes?: string[];
  jwks?: { keys: JWK[] };
  /** The AI models and aliases the app may use (all when absent). */
  models?: string[];
  /** Services to subscribe the app to (open services approve at once). */
  subscribe?: string[];
}

/**
 * A Keygate node started in this process (`startGateway`) on ephemeral loopback ports with a silent logger, and
 * the admin and proxy calls the auth tests make through it.
 */
export class TestGateway {
  private constructor(
    readonly gateway: Gateway,
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
  ) {}

  /** Starts a node on a fresh SQLite store unless `env` names another (KEYGATE_DATABASE_URL). */
  static async start(env: Record<string, string> = {}, options: { clock?: Clock; timers?: boolean } = {}): Promise<TestGateway> {
    const dataDir = env.KEYGATE_DATA_DIR ?? tempDataDir();
    const settings = loadSettings({
      KEYGATE_DATA_DIR: dataDir,
      KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      KEYGATE_PROXY_PORT: '0',
      KEYGATE_ADMIN_PORT: '0',
      KEYGATE_PROXY_HOST: '127.0.0.1',
      KEYGATE_LOG_LEVEL: 'silent',
      ...env,
    });
    const gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: options.timers ?? false, ...(options.clock ? { clock: options.clock } : {}) });
    return new TestGateway(gateway, dataDir, env.KEYGATE_DATA_DIR === undefined);
  }

  /** The proxy URL, which is also the gateway's OAuth issuer identifier. */
  get proxyUrl(): string {
    return this.gateway.proxyUrl!;
  }

  async admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.gateway.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await readJson<T>(response) };
  }

  /** An admin call that must answer `status`; its body otherwise fails the test with what the API said. */
  async adminExpect<T = Record<string, unknown>>(status: number, method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.admin<T>(method, path, body);
    expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBe(status);
    return answer.body;
  }

  /** Replaces services, routes and issuers with `config` (PUT /config). */
  async applyConfig(config: unknown): Promise<void> {
    await this.adminExpect(200, 'PUT', '/config', config);
  }

  /** Creates the app (and its team), and subscribes it to `setup.subscribe`. */
  async createApp(setup: AppSetup): Promise<void> {
    await this.adminExpect(200, 'PUT', `/teams/${setup.team}`, { name: setup.team });
    const { subscribe, ...app } = setup;
    await this.adminExpect(200, 'PUT', `/apps/${setup.name}`, app);
    for (const service of subscribe ?? []) await this.adminExpect(201, 'POST', `/apps/${setup.name}/subscriptions`, { service });
  }

  /** A new API key of `app`: its id and the secret, shown this once. */
  async createApiKey(app: string, options: { expiresAt?: string } = {}): Promise<{ id: string; secret: string }> {
    return this.adminExpect<{ id: string; secret: string }>(201, 'POST', `/apps/${app}/api-keys`, options);
  }

  /** A new client secret of `app`, for the token endpoint. */
  async createClientSecret(app: string): Promise<string> {
    return (await this.adminExpect<{ secret: string }>(201, 'POST', `/apps/${app}/client-secrets`, {})).secret;
  }

  /** Calls `path` on the proxy port. */
  async call<T = EchoedRequest>(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<CallResult<T>> {
    const response = await fetch(`${this.proxyUrl}${path}`, { method, headers });
    return { status: response.status, headers: response.headers, body: await readJson<T>(response) };
  }

  /** POSTs a form to one of the OAuth endpoints (`/oauth/token`, `/oauth/introspect`, `/oauth/revoke`). */
  async oauth<T = Record<string, unknown>>(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<CallResult<T>> {
    const response = await fetch(`${this.proxyUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
    return { status: response.status, headers: response.headers, body: await readJson<T>(response) };
  }

  /** An access token from the token endpoint by client_credentials with client_secret_basic. */
  async accessToken(app: string, secret: string, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<string> {
    const answer = await this.oauth<{ access_token: string }>('/oauth/token', { grant_type: 'client_credentials', ...form }, { authorization: basicAuth(app, secret), ...headers });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body.access_token;
  }

  /** Stops the node and removes the data folder it was given. */
  async stop(): Promise<void> {
    await this.gateway.stop();
    if (this.ownsDataDir) rmSync(dirname(this.dataDir), { recursive: true, force: true });
  }
}

/** RFC 6749 §2.3.1: client_secret_basic, with id and secret form-urlencoded inside the Basic credentials. */
export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** The one answer every refused credential gets: it names no reason an attacker could probe with. */
const REFUSED_BODY = { error: { code: 'invalid_token', message: 'the credentials were refused' } };
const REFUSED_CHALLENGE = 'Bearer realm="keygate", error="invalid_token", error_description="the credentials were refused"';

/** Asserts a 401 with the stable `invalid_token` code, the generic body and the generic challenge. */
export function expectRefused(result: CallResult<unknown>): void {
  expect(result.status).toBe(401);
  expect(result.body).toEqual(REFUSED_BODY);
  expect(result.headers.get('www-authenticate')).toBe(REFUSED_CHALLENGE);
}
