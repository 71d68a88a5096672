import { rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { ADMIN_TOKEN, AiGateway, PROVIDER_SECRETS } from './ai-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';
import { startScriptedProvider, type ScriptedProvider } from './scripted-provider.js';

const answerWith = (status: number, body: unknown) => (_req: unknown, res: ServerResponse) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('a provider whose config changes', () => {
  let gateway: AiGateway;
  let healthy: OpenAIEmulator;
  let broken: ScriptedProvider;
  let apiKey: string;

  const configure = (baseUrl: string, extra: Record<string, unknown> = {}) =>
    gateway.configure({ providers: [{ name: 'p', type: 'openai', baseUrl }], circuitBreaker: { failures: 2, cooldown: '60s' }, ...extra } as never);
  const ask = (content = 'Hello there') => gateway.chat(apiKey, { model: 'p/gpt-4o-mini', messages: [{ role: 'user', content }] });

  beforeAll(async () => {
    healthy = await startOpenAIEmulator();
    broken = await startScriptedProvider(answerWith(500, { error: { message: 'down', type: 'server_error' } }));
    gateway = await AiGateway.start();
    await configure(broken.url);
    await gateway.addProviderKey('p', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'changer', team: 'changes' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await healthy?.stop();
    broken?.stop();
  });

  it('starts afresh once its base URL is fixed: the circuit its old host opened no longer skips it', async () => {
    await configure(broken.url);
    for (let i = 0; i < 2; i++) expect((await ask()).status).toBe(502);
    // Open: skipped without a try for the cooldown's 60 s.
    expect((await ask()).status).toBe(503);
    await configure(healthy.url);
    expect((await ask()).status).toBe(200);
  });

  it('turns its circuits off at once with failures: 0, though one was open', async () => {
    await configure(broken.url);
    for (let i = 0; i < 2; i++) expect((await ask()).status).toBe(502);
    expect((await ask()).status).toBe(503);
    await configure(broken.url, { circuitBreaker: { failures: 0 } });
    // Tried again, and failing as it fails: no circuit stands in the way.
    expect((await ask()).status).toBe(502);
  });

  it('takes back the keys its old host refused once its base URL is fixed', async () => {
    broken.script = answerWith(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } });
    await configure(broken.url);
    expect((await ask()).status).toBe(502);
    // The only key is set aside: nothing left to call.
    expect((await ask()).status).toBe(503);
    await configure(healthy.url);
    expect((await ask()).status).toBe(200);
  });

  /** Has the broken host hold each call until `release`, then answer as `then` says; resolves once a call is held. */
  function holdBroken(then: (req: unknown, res: ServerResponse) => void): { held: Promise<void>; release: () => void } {
    let release = () => undefined as void;
    const held = new Promise<void>((resolve) => {
      broken.script = (req, res) => {
        release = () => then(req, res);
        resolve();
      };
    });
    return { held, release: () => release() };
  }

  it('keeps no key aside that a call still under way on the old base URL had refused after the fix', async () => {
    await configure(broken.url);
    const refusal = holdBroken(answerWith(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }));
    const old = ask();
    await refusal.held;
    await configure(healthy.url);
    refusal.release();
    expect((await old).status).toBe(502);
    expect((await ask()).status).toBe(200);
  });

  it('opens no circuit for failures of calls still under way on the old base URL after the fix', async () => {
    await configure(broken.url);
    const calls = [];
    for (let i = 0; i < 2; i++) {
      const failure = holdBroken(answerWith(500, { error: { message: 'down', type: 'server_error' } }));
      calls.push({ answer: ask(), failure });
      await failure.held;
    }
    await configure(healthy.url);
    for (const { answer, failure } of calls) {
      failure.release();
      expect((await answer).status).toBe(502);
    }
    expect((await ask()).status).toBe(200);
  });

  it('keeps in the cache no answer of its old host that arrives after the change', async () => {
    await configure(broken.url, { cache: { ttl: '10m' } });
    const late = holdBroken(answerWith(200, { id: 'chatcmpl-old', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'FROM THE OLD HOST' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }));
    const old = ask('Late answer');
    await late.held;
    await configure(healthy.url, { cache: { ttl: '10m' } });
    late.release();
    expect((await old).text).toContain('FROM THE OLD HOST');
    const after = await ask('Late answer');
    expect(after.headers.get('x-keygate-cache')).toBeNull();
    expect(after.text).not.toContain('FROM THE OLD HOST');
  });

  it('no longer answers from the cache what its old host said', async () => {
    await configure(healthy.url, { cache: { ttl: '10m' } });
    const first = await ask('Cache me');
    expect(first.status).toBe(200);
    expect((await ask('Cache me')).headers.get('x-keygate-cache')).toBe('hit');
    const other = await startOpenAIEmulator();
    try {
      await configure(other.url, { cache: { ttl: '10m' } });
      const after = await ask('Cache me');
      expect(after.status).toBe(200);
      expect(after.headers.get('x-keygate-cache')).toBeNull();
      expect(other.requests().length).toBe(1);
    } finally {
      await other.stop();
    }
  });
});

describe('a node started on a store that already holds its providers', () => {
  it('keeps what calls learn of them from its first snapshot on: a second identical call is a cache hit', async () => {
    const healthy = await startOpenAIEmulator();
    const first = await AiGateway.start();
    const dataDir = first.dataFolder;
    let node: Gateway | undefined;
    try {
      await first.configure({ providers: [{ name: 'p', type: 'openai', baseUrl: healthy.url }], cache: { ttl: '10m' } } as never);
      await first.addProviderKey('p', PROVIDER_SECRETS.openai);
      const apiKey = await first.createApp({ name: 'restarted', team: 'changes' });
      await first.gateway.stop();
      const settings = loadSettings({ KEYGATE_DATA_DIR: dataDir, KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN, KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1' });
      node = await startGateway(settings, { logger: pino({ level: 'silent' }), timers: false });
      const ask = () => fetch(`${node!.proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/gpt-4o-mini', messages: [{ role: 'user', content: 'Once more' }] }) });
      expect((await ask()).status).toBe(200);
      expect((await ask()).headers.get('x-keygate-cache')).toBe('hit');
    } finally {
      await node?.stop();
      rmSync(dirname(dataDir), { recursive: true, force: true });
      await healthy.stop();
    }
  });
});
