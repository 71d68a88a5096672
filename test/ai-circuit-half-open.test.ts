import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { AiGateway } from './ai-fixtures.js';

const COMPLETION = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } });

describe("a circuit's half-open try", () => {
  const clock = new ManualClock();
  let gateway: AiGateway;
  let provider: http.Server;
  let mode: 'fail' | 'normal' = 'fail';
  const seen: string[] = [];
  let apiKey: string;

  beforeAll(async () => {
    provider = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const auth = String(req.headers.authorization);
        seen.push(auth);
        if (mode === 'fail') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom","type":"server_error"}}');
        if (auth === 'Bearer bad-key') return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(COMPLETION);
      });
    });
    provider.listen(0, '127.0.0.1');
    await once(provider, 'listening');
    gateway = await AiGateway.start({ clock });
    const baseUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    await gateway.configure({ providers: [{ name: 'p', type: 'openai', baseUrl }, { name: 'm', type: 'mistral', baseUrl }], circuitBreaker: { failures: 1, cooldown: '10s' } });
    await gateway.addProviderKey('m', 'good-key', 0);
    await gateway.addProviderKey('p', 'bad-key', 0);
    await gateway.addProviderKey('p', 'good-key', 1);
    apiKey = await gateway.createApp({ name: 'probe-app', team: 'probe-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    provider?.closeAllConnections();
    provider?.close();
  });

  it("goes on to the pool's next key after a refused one, and leaves no call locked out", async () => {
    const ask = () => gateway.chat(apiKey, { model: 'p/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect((await ask()).status).toBe(502); // 500 → circuit opens (failures: 1)
    clock.advance(10_000); // cooldown over: half-open
    mode = 'normal';
    seen.length = 0;
    const probe = await ask();
    // The refused key first, then the pool's next key, in the same call.
    const next = await ask();
    expect(probe.status).toBe(200);
    expect(seen).toEqual(['Bearer bad-key', 'Bearer good-key', 'Bearer good-key']);
    expect(next.status).toBe(200);
  });

  it('is given back by a request the gateway refuses before calling the provider, for the next call to make', async () => {
    mode = 'fail';
    const ask = (extra: Record<string, unknown> = {}) => gateway.chat(apiKey, { model: 'm/mistral-small-latest', messages: [{ role: 'user', content: 'hi' }], ...extra });
    expect((await ask()).status).toBe(502); // circuit opens
    clock.advance(10_000);
    mode = 'normal';
    expect((await ask({ tools: [{ type: 'web_search' }] })).status).toBe(400);
    const next = await ask();
    expect(next.status).toBe(200);
  });
});

describe('a refusal the gateway makes itself', () => {
  const clock = new ManualClock();
  let gateway: AiGateway;
  let provider: http.Server;
  let reached = 0;
  let apiKey: string;

  beforeAll(async () => {
    provider = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        reached += 1;
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":500,"message":"Internal error","status":"INTERNAL"}}');
      });
    });
    provider.listen(0, '127.0.0.1');
    await once(provider, 'listening');
    gateway = await AiGateway.start({ clock });
    const baseUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    await gateway.configure({ providers: [{ name: 'g', type: 'gemini', baseUrl }], circuitBreaker: { failures: 2, cooldown: '10s' } });
    await gateway.addProviderKey('g', 'gemini-key');
    apiKey = await gateway.createApp({ name: 'local-app', team: 'local-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    provider?.closeAllConnections();
    provider?.close();
  });

  it('neither closes a half-open circuit nor counts as its try: a reasoning_effort Gemini does not map', async () => {
    const ask = (extra: Record<string, unknown> = {}) => gateway.chat(apiKey, { model: 'g/gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], ...extra });
    expect((await ask()).status).toBe(502);
    expect((await ask()).status).toBe(502); // open
    clock.advance(10_000); // half-open
    expect((await ask({ reasoning_effort: 'max' })).status).toBe(400);
    // The half-open try, which fails: the circuit opens again at once.
    expect((await ask()).status).toBe(502);
    const after = await ask();
    expect(after.status).toBe(503);
    expect(reached).toBe(3);
  });
});
