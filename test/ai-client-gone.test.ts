import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, configureThreeProviders, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';

/** An OpenAI-compatible host that takes each request and never answers it; tells when the gateway lets go of one. */
async function startSilentHost() {
  const received: IncomingMessage[] = [];
  const waiting: Array<() => void> = [];
  const closed: Array<Promise<void>> = [];
  const server: Server = createServer((req) => {
    closed.push(new Promise((resolve) => req.socket.once('close', () => resolve())));
    received.push(req);
    for (const wake of waiting.splice(0)) wake();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => received.length,
    /** Resolves once the host holds `n` requests. */
    holding: (n: number) => new Promise<void>((resolve) => (received.length >= n ? resolve() : waiting.push(() => received.length >= n && resolve()))),
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
  let silent: Awaited<ReturnType<typeof startSilentHost>>;
  let apiKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    silent = await startSilentHost();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      providers: [{ name: 'silent', type: 'openai-compatible', baseUrl: silent.url }],
      aliases: [{ name: 'slow', targets: [{ provider: 'silent', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    await gateway.addProviderKey('silent', 'sk-silent-host-key');
    apiKey = await gateway.createApp({ name: 'leaver', team: 'leaver-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await silent?.stop();
  });

  /** Sends a call, waits until the silent host holds it, then drops the client's connection. */
  async function leave(path: string, body: unknown): Promise<number> {
    const index = silent.count();
    const req = request(`${gateway.proxyUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify(body));
    await silent.holding(index + 1);
    req.destroy();
    return index;
  }

  it.each([
    ['a chat completion', '/v1/chat/completions', { model: 'slow', messages: [{ role: 'user', content: 'Hello' }] }],
    ['a streamed chat completion', '/v1/chat/completions', { model: 'slow', stream: true, messages: [{ role: 'user', content: 'Hello' }] }],
    ['a message in Anthropic\'s format', '/v1/messages', { model: 'slow', max_tokens: 16, messages: [{ role: 'user', content: 'Hello' }] }],
  ])('stops the provider call of %s, tries no fallback and is recorded as 499', async (_what, path, body) => {
    const fallbackCalls = emulators.openai.requests().length;
    const before = (await gateway.usage({ app: 'leaver', groupBy: 'status' })).find((row) => row.status === 499)?.calls ?? 0;
    const index = await leave(path, body);
    await silent.released(index);
    // The record is made when the call ends, just after the provider's connection is let go.
    let rows = await gateway.usage({ app: 'leaver', groupBy: 'status' });
    while ((rows.find((row) => row.status === 499)?.calls ?? 0) === before) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      rows = await gateway.usage({ app: 'leaver', groupBy: 'status' });
    }
    expect(rows.find((row) => row.status === 499)).toMatchObject({ calls: before + 1, failedCalls: before + 1, costUsd: 0 });
    expect(emulators.openai.requests().length).toBe(fallbackCalls);
  });
});
