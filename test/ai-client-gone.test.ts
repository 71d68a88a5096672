import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AiGateway, PROVIDER_SECRETS, configureThreeProviders, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';
import { LocalIssuer } from './auth-fixtures.js';

/**
 * An OpenAI-compatible host that takes each request and never finishes its answer: for a stream it sends the head
 * and one chunk (OpenAI's wire format), for anything else nothing. Tells when the gateway lets go of a request.
 */
async function startStuckHost() {
  const received: IncomingMessage[] = [];
  const closed: Array<Promise<void>> = [];
  let waiter: { n: number; wake: () => void } | undefined;
  const server: Server = createServer((req, res) => {
    closed.push(new Promise((resolve) => req.socket.once('close', () => resolve())));
    received.push(req);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if ((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { stream?: boolean }).stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ id: 'chatcmpl-stuck', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hello there, this is the start' }, finish_reason: null }] })}\n\n`);
      }
      if (waiter && received.length >= waiter.n) waiter.wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => received.length,
    /** Resolves once the host has read the body of its `n`-th request. */
    holding: (n: number) => new Promise<void>((resolve) => (received.length >= n ? resolve() : (waiter = { n, wake: resolve }))),
    /** Resolves once the gateway has closed the connection of the `i`-th request. */
    released: (i: number) => closed[i]!,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a unified API call whose client goes away before the answer', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let stuck: Awaited<ReturnType<typeof startStuckHost>>;
  let apiKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    stuck = await startStuckHost();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      providers: [{ name: 'stuck', type: 'openai-compatible', baseUrl: stuck.url }],
      aliases: [{ name: 'slow', targets: [{ provider: 'stuck', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    await gateway.addProviderKey('stuck', 'sk-stuck-host-key');
    apiKey = await gateway.createApp({ name: 'leaver', team: 'leaver-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await stuck?.stop();
  });

  const left = async () => (await gateway.usage({ app: 'leaver', groupBy: 'status' })).find((row) => row.status === 499);

  /** Waits for one more 499 record than `before` counted, and returns it. */
  const nextLeft = (before: number) =>
    vi.waitFor(async () => {
      const row = await left();
      expect(row?.calls).toBe(before + 1);
      return row!;
    }, { timeout: 10_000, interval: 20 });

  /** Sends a call, waits until the stuck host holds it (and, for a stream, the client has its first event), then drops the connection. */
  async function leave(path: string, body: Record<string, unknown>): Promise<number> {
    const index = stuck.count();
    const req = request(`${gateway.proxyUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    const firstEvent = body.stream ? new Promise<void>((resolve) => req.on('response', (res) => res.once('data', () => resolve()))) : stuck.holding(index + 1);
    req.end(JSON.stringify(body));
    await firstEvent;
    req.destroy();
    return index;
  }

  it.each([
    ['a chat completion', '/v1/chat/completions', { model: 'slow', messages: [{ role: 'user', content: 'Hello' }] }],
    ["a message in Anthropic's format", '/v1/messages', { model: 'slow', max_tokens: 16, messages: [{ role: 'user', content: 'Hello' }] }],
    ["a Response in OpenAI's Responses API", '/v1/responses', { model: 'slow', input: 'Hello' }],
  ])('stops the provider call of %s, tries no fallback, and is recorded as 499 with no tokens', async (_what, path, body) => {
    const fallbackCalls = emulators.openai.requests().length;
    const before = (await left())?.calls ?? 0;
    await stuck.released(await leave(path, body));
    expect(await nextLeft(before)).toMatchObject({ failedCalls: before + 1, inputTokens: 0, outputTokens: 0, costUsd: 0 });
    expect(emulators.openai.requests().length).toBe(fallbackCalls);
  });

  it('stops the provider call of an embeddings call, and records it as 499', async () => {
    const before = (await left())?.calls ?? 0;
    await stuck.released(await leave('/v1/embeddings', { model: 'stuck/text-embedding-3-small', input: 'Hello' }));
    expect(await nextLeft(before)).toMatchObject({ failedCalls: before + 1, inputTokens: 0, costUsd: 0 });
  });

  it.each([
    ['a chat completion', '/v1/chat/completions', { model: 'slow', stream: true, messages: [{ role: 'user', content: 'Hello' }] }],
    ["a Response in OpenAI's Responses API", '/v1/responses', { model: 'slow', stream: true, input: 'Hello' }],
  ])('stops the stream of %s the client leaves after its first event, and records the tokens streamed until then as 499', async (_what, path, body) => {
    const before = await left();
    await stuck.released(await leave(path, body));
    const row = await nextLeft(before?.calls ?? 0);
    expect(row.outputTokens).toBeGreaterThan(before?.outputTokens ?? 0);
    expect(row.estimatedCalls).toBe((before?.estimatedCalls ?? 0) + 1);
  });

  it('records a client that leaves in the middle of sending its body as 499', async () => {
    const before = (await left())?.calls ?? 0;
    const { hostname, port } = new URL(gateway.proxyUrl);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${apiKey}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"model": "slow", "mess`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await nextLeft(before);
  });
});

describe('a unified API call whose client goes away while its token is checked for the first time', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let issuer: LocalIssuer;
  /** JWKS requests the issuer holds until the test answers them. */
  const held: Array<() => void> = [];

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    issuer = await LocalIssuer.start();
    const serve = issuer.server.handler;
    issuer.server.handler = (req, res) => void held.push(() => serve(req, res));
    gateway = await AiGateway.start();
    await gateway.admin(200, 'PUT', '/config', {
      version: 1,
      routes: [{ name: 'ai', paths: ['/v1/*'], ai: {}, auth: { methods: ['issuer:sso'] } }],
      issuers: [{ name: 'sso', jwksUri: `${issuer.url}/jwks`, audiences: ['keygate-ai'], algorithms: ['RS256'] }],
      ai: { providers: [{ name: 'openai', type: 'openai', baseUrl: emulators.openai.url }] },
    });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
  });
  afterAll(async () => {
    for (const answer of held.splice(0)) answer();
    await gateway?.stop();
    await emulators?.stop();
    await issuer?.close();
  });

  it('is recorded as 499 once the check ends, and never reaches the provider', async () => {
    const token = await issuer.sign({ aud: 'keygate-ai' });
    const providerBefore = emulators.openai.lastRequest();
    const req = request(`${gateway.proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }] }));
    // The whole request is sent; the gateway waits for the issuer's keys when the client goes.
    await vi.waitFor(() => expect(held).toHaveLength(1), { interval: 5 });
    req.destroy();
    // Long enough for the gateway to see the connection close, on a loaded machine too.
    await new Promise((resolve) => setTimeout(resolve, 300));
    held.shift()!();
    const row = await vi.waitFor(async () => {
      const [left] = await gateway.usage({ groupBy: 'status' });
      expect(left).toMatchObject({ status: 499, calls: 1, inputTokens: 0, costUsd: 0 });
      return left!;
    }, { timeout: 5_000, interval: 20 });
    expect(row.failedCalls).toBe(1);
    expect(emulators.openai.lastRequest()).toBe(providerBefore);
  });
});
