import { readFileSync, readdirSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AiGateway, PROVIDER_SECRETS, startProviderEmulators, type AiResult, type OpenAIErrorBody, type ProviderEmulators } from './ai-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';
import { startScriptedProvider, type ScriptedProvider } from './scripted-provider.js';
import { ManualClock } from '../src/clock.js';
import { estimateTokens, loadTokenizer } from '../src/ai/token-estimate.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];
/** Keys the emulators refuse, each tried first in its pool. */
const WRONG = { openai: 'sk-wrong-0000000000000000000000wxyz', anthropic: 'sk-ant-wrong-00000000000000000000', gemini: 'AIza-wrong-0000000000000000000000' };
const ALL_SECRETS = [...Object.values(WRONG), ...Object.values(PROVIDER_SECRETS)];

/** Fails the test if any provider secret (or OpenAI's masked echo of one) shows in the answer's body or headers. */
function expectNoSecrets(result: AiResult<unknown>): void {
  const headers = [...result.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n');
  for (const secret of ALL_SECRETS) {
    expect(result.text).not.toContain(secret);
    expect(headers).not.toContain(secret);
  }
  expect(result.text).not.toMatch(/Incorrect API key provided|\*{4}/);
}

describe('the key pool of a provider', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let apiKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'openai', type: 'openai', baseUrl: emulators.openai.url },
        { name: 'anthropic', type: 'anthropic', baseUrl: emulators.anthropic.url },
        { name: 'gemini', type: 'gemini', baseUrl: emulators.gemini.url },
        { name: 'refused', type: 'openai', baseUrl: emulators.openai.url },
      ],
    });
    for (const provider of ['openai', 'anthropic', 'gemini'] as const) {
      await gateway.addProviderKey(provider, WRONG[provider], 0);
      await gateway.addProviderKey(provider, PROVIDER_SECRETS[provider], 1);
    }
    await gateway.addProviderKey('refused', WRONG.openai, 0);
    apiKey = await gateway.createApp({ name: 'pool-app', team: 'pool-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it('answers with the next key when the first one is refused, and sets the refused key aside', async () => {
    const results: Array<AiResult<unknown>> = [];
    results.push(await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO }));
    results.push(await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', stream: true, messages: HELLO }));
    results.push(await gateway.call('POST', '/v1/embeddings', apiKey, { model: 'openai/text-embedding-3-small', input: 'text' }));
    results.push(await gateway.chat(apiKey, { model: 'openai/gpt-4o-mini', messages: HELLO }));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const bearers = emulators.openai.requests().map((r) => r.headers.authorization);
    expect(bearers.filter((b) => b === `Bearer ${WRONG.openai}`)).toHaveLength(1);
    expect(bearers.filter((b) => b === `Bearer ${PROVIDER_SECRETS.openai}`)).toHaveLength(4);
    for (const result of results) expectNoSecrets(result);
  });

  it.each(['anthropic', 'gemini'] as const)('answers through %s with the next key when its first key is refused', async (provider) => {
    const model = provider === 'anthropic' ? 'anthropic/claude-haiku-4-5-20251001' : 'gemini/gemini-2.5-flash';
    for (let i = 0; i < 2; i++) {
      const result = await gateway.chat(apiKey, { model, messages: HELLO });
      expect(result.status).toBe(200);
      expectNoSecrets(result);
    }
    const headers = emulators[provider].lastRequest()?.headers;
    expect(headers?.[provider === 'anthropic' ? 'x-api-key' : 'x-goog-api-key']).toBe(PROVIDER_SECRETS[provider]);
  });

  it('never sends the caller\'s Keygate API key on to a provider', async () => {
    await gateway.call('POST', '/v1/chat/completions', apiKey, { model: 'anthropic/claude-haiku-4-5-20251001', messages: HELLO });
    const sent = [...emulators.openai.requests(), emulators.anthropic.lastRequest(), emulators.gemini.lastRequest()].map((r) => JSON.stringify(r?.headers ?? {}) + JSON.stringify(r?.body ?? {}));
    expect(sent.length).toBeGreaterThan(2);
    for (const request of sent) expect(request).not.toContain(apiKey);
  });

  it('answers 502 provider_authentication_failed, naming no key, when the provider refuses every key', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'refused/gpt-4o-mini', messages: HELLO });
    expect(result.status).toBe(502);
    expect(result.body.error).toMatchObject({ type: 'api_error', code: 'provider_authentication_failed' });
    expectNoSecrets(result);
  });

  it('answers 503 no_provider_available, not to be retried, once every key of the pool is refused and set aside', async () => {
    const before = emulators.openai.requests().length;
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'refused/gpt-4o-mini', messages: HELLO });
    expect(result.status).toBe(503);
    expect(result.body.error.code).toBe('no_provider_available');
    expect(result.body.error.message).toMatch(/an administrator must add keys/);
    expect(result.headers.get('x-should-retry')).toBe('false');
    expect(result.headers.get('retry-after')).toBeNull();
    expect(emulators.openai.requests().length).toBe(before);
    expectNoSecrets(result);
  });

  it('lists a pool through the admin API by last four characters, never by secret', async () => {
    const added = await gateway.admin<Record<string, unknown>>(201, 'POST', '/ai/providers/openai/keys', { secret: 'sk-listed-secret-1234', priority: 5 });
    expect(JSON.stringify(added)).not.toContain('sk-listed-secret');
    expect(added.last4).toBe('1234');
    const listed = await gateway.admin<{ keys: Array<{ last4: string }> }>(200, 'GET', '/ai/providers/openai/keys');
    const text = JSON.stringify(listed);
    for (const secret of [...ALL_SECRETS, 'sk-listed-secret-1234']) expect(text).not.toContain(secret);
    expect(listed.keys.map((k) => k.last4)).toEqual([WRONG.openai.slice(-4), PROVIDER_SECRETS.openai.slice(-4), '1234']);
  });

  it('shows none of a key shorter than 12 characters, nor of one an earlier release stored with its last four', async () => {
    for (const secret of ['vllm-k1', 'abc', 'sk-11-chars']) {
      const added = await gateway.admin<{ id: string; last4: string }>(201, 'POST', '/ai/providers/short-keys/keys', { secret });
      expect(added.last4).toBe('');
      // As an earlier release stored it: the whole of a key of four characters or fewer.
      await gateway.gateway.store.db.updateTable('provider_keys').set({ last4: secret.slice(-4) }).where('id', '=', added.id).execute();
    }
    const listed = await gateway.admin<{ keys: Array<{ last4: string }> }>(200, 'GET', '/ai/providers/short-keys/keys');
    expect(listed.keys.map((k) => k.last4)).toEqual(['', '', '']);
    expect((await gateway.admin<{ last4: string }>(201, 'POST', '/ai/providers/short-keys/keys', { secret: 'sk-12-chars!' })).last4).toBe('ars!');
  });

  it('trims a key pasted with a line break, and refuses one no HTTP header can carry', async () => {
    const added = await gateway.admin<{ last4: string }>(201, 'POST', '/ai/providers/openai/keys', { secret: ' sk-pasted-secret-5678\n', priority: 9 });
    expect(added.last4).toBe('5678');
    for (const secret of ['sk-bell\u0007-secret', 'sk-inner space', 'sk-clé-secrète', 'sk-line\nbreak']) {
      const refused = await gateway.admin<{ error: { code: string; message: string } }>(400, 'POST', '/ai/providers/openai/keys', { secret });
      expect(refused.error.code).toBe('invalid_request');
      expect(JSON.stringify(refused)).not.toContain(secret);
    }
  });
});

describe('a provider key its project may not use the model with (403)', () => {
  const DENIED = 'sk-denied-0000000000000000000000000quux';
  let gateway: AiGateway;
  let upstream: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    upstream = await startOpenAIEmulator({ deniedKeys: [DENIED] });
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'mixed', type: 'openai', baseUrl: upstream.url }] });
    await gateway.addProviderKey('mixed', DENIED, 0);
    apiKey = await gateway.createApp({ name: 'denied-app', team: 'denied-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it('answers 403 permission_error without the provider\'s words, which name its project, and sets no key aside', async () => {
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'mixed/gpt-4o-mini', messages: HELLO });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ type: 'permission_error', code: 'model_not_found' });
    expect(JSON.stringify(refused.body)).not.toContain('proj_emulator0001');
    expectNoSecrets(refused);
    // The key is still in the pool: the next call is sent with it again.
    await gateway.chat(apiKey, { model: 'mixed/gpt-4o-mini', messages: HELLO });
    expect(upstream.requests().map((r) => r.headers.authorization)).toEqual([`Bearer ${DENIED}`, `Bearer ${DENIED}`]);
  });

  it('tries the next key of the pool, whose project may, and keeps trying the first for later calls', async () => {
    await gateway.addProviderKey('mixed', PROVIDER_SECRETS.openai, 1);
    const before = upstream.requests().length;
    const answers = [await gateway.chat(apiKey, { model: 'mixed/gpt-4o-mini', messages: HELLO }), await gateway.chat(apiKey, { model: 'mixed/gpt-4o-mini', messages: HELLO })];
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(upstream.requests().slice(before).map((r) => r.headers.authorization)).toEqual([`Bearer ${DENIED}`, `Bearer ${PROVIDER_SECRETS.openai}`, `Bearer ${DENIED}`, `Bearer ${PROVIDER_SECRETS.openai}`]);
  });
});

describe('provider keys out of credit, at rest and in the logs', () => {
  const EXHAUSTED = 'sk-exhausted-000000000000000000000quux';
  const lines: string[] = [];
  let gateway: AiGateway;
  let metered: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    metered = await startOpenAIEmulator({ exhaustedKeys: [EXHAUSTED] });
    // The most verbose level the node has, every line kept: no provider secret may be among them.
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(chunk.toString('utf8')), done()) });
    gateway = await AiGateway.start({ logger: pino({ level: 'trace' }, sink) });
    await gateway.configure({ providers: [{ name: 'metered', type: 'openai', baseUrl: metered.url }] });
    await gateway.addProviderKey('metered', EXHAUSTED, 0);
    await gateway.addProviderKey('metered', PROVIDER_SECRETS.openai, 1);
    apiKey = await gateway.createApp({ name: 'metered-app', team: 'metered-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await metered?.stop();
  });

  it('sets aside a key whose account is out of credit (429 insufficient_quota) and answers with the next', async () => {
    const first = await gateway.chat(apiKey, { model: 'metered/gpt-4o-mini', messages: HELLO });
    const second = await gateway.chat(apiKey, { model: 'metered/gpt-4o-mini', messages: HELLO });
    expect([first.status, second.status]).toEqual([200, 200]);
    const bearers = metered.requests().map((r) => r.headers.authorization);
    expect(bearers).toEqual([`Bearer ${EXHAUSTED}`, `Bearer ${PROVIDER_SECRETS.openai}`, `Bearer ${PROVIDER_SECRETS.openai}`]);
    expectNoSecrets(first);
  });

  it('tells the operator, once, which key was set aside, why and until when, by its id', async () => {
    const keys = (await gateway.admin<{ keys: Array<{ id: string; priority: number }> }>(200, 'GET', '/ai/providers/metered/keys')).keys;
    const exhausted = keys.find((key) => key.priority === 0)!;
    const told = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.reason !== undefined);
    expect(told).toEqual([expect.objectContaining({ level: 40, provider: 'metered', key: exhausted.id, reason: 'quota', until: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })]);
  });

  it('keeps the keys sealed in the store: no file of the data folder holds one in the clear', async () => {
    await gateway.usage({ app: 'metered-app' });
    const files = readdirSync(gateway.dataFolder, { recursive: true, encoding: 'utf8' }).filter((name) => statSync(join(gateway.dataFolder, name)).isFile());
    expect(files).toContain('keygate.db');
    for (const name of files) {
      const bytes = readFileSync(join(gateway.dataFolder, name));
      for (const secret of [EXHAUSTED, PROVIDER_SECRETS.openai]) expect(bytes.includes(secret), `${name} holds a provider key`).toBe(false);
    }
  });

  it('writes no provider key to the log, whatever the calls did', async () => {
    metered.setMode('server-error');
    try {
      expect((await gateway.chat(apiKey, { model: 'metered/gpt-4o-mini', messages: HELLO })).status).toBe(502);
    } finally {
      metered.setMode('normal');
    }
    expect(lines.length).toBeGreaterThan(0);
    const log = lines.join('');
    for (const secret of [EXHAUSTED, PROVIDER_SECRETS.openai]) expect(log).not.toContain(secret);
  });
});

describe('several keys of one provider', () => {
  const KEYS = ['sk-turn-a-000000000000000000000aaaa', 'sk-turn-b-000000000000000000000bbbb', 'sk-turn-c-000000000000000000000cccc'];
  const LATER = 'sk-turn-later-0000000000000000dddd';
  const clock = new ManualClock();
  let gateway: AiGateway;
  let host: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    host = await startOpenAIEmulator({ apiKey: KEYS[0], moreKeys: [...KEYS.slice(1), LATER] });
    gateway = await AiGateway.start({ clock });
    await gateway.configure({ providers: [{ name: 'pooled', type: 'openai', baseUrl: host.url }] });
    for (const key of KEYS) await gateway.addProviderKey('pooled', key, 0);
    await gateway.addProviderKey('pooled', LATER, 1);
    apiKey = await gateway.createApp({ name: 'turns-app', team: 'pool-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await host?.stop();
  });

  /** Makes `times` calls, each answered 200; returns the keys the provider was sent, in order. */
  async function keysSent(times: number, stream = false): Promise<string[]> {
    const before = host.requests().length;
    for (let i = 0; i < times; i++) expect((await gateway.chat(apiKey, { model: 'pooled/gpt-4o-mini', stream, messages: HELLO })).status).toBe(200);
    return host.requests().slice(before).map((r) => String(r.headers.authorization).slice('Bearer '.length));
  }

  it('shares the calls between the keys of one priority in turn, and leaves a key of a later priority out', async () => {
    const sent = await keysSent(6);
    expect(new Set(sent.slice(0, 3))).toEqual(new Set(KEYS));
    expect(sent.slice(3)).toEqual(sent.slice(0, 3));
    expect(sent).not.toContain(LATER);
  });

  it("tries the next key at once when the provider rate limits one, and starts later calls with the others until its Retry-After has passed", async () => {
    host.rateLimitKeys([KEYS[0]!]);
    try {
      const sent = await keysSent(6, true);
      // The limited key is tried once, by the call whose turn it was, which its next key answers; then not again.
      expect(sent.filter((key) => key === KEYS[0])).toHaveLength(1);
      expect(sent.filter((key) => key !== KEYS[0])).toHaveLength(6);
      expect(sent).not.toContain(LATER);
      // The emulator's Retry-After is 20 s.
      clock.advance(20_001);
      host.rateLimitKeys([]);
      expect(await keysSent(3)).toContain(KEYS[0]);
    } finally {
      host.rateLimitKeys([]);
    }
  });

  it('answers 429 with the Retry-After when every key is rate limited, having tried each once', async () => {
    host.rateLimitKeys([...KEYS, LATER]);
    try {
      const before = host.requests().length;
      const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'pooled/gpt-4o-mini', messages: HELLO });
      expect(result.status).toBe(429);
      expect(result.body.error).toMatchObject({ type: 'rate_limit_error' });
      expect(result.headers.get('retry-after')).toBe('20');
      const sent = host.requests().slice(before).map((r) => String(r.headers.authorization).slice('Bearer '.length));
      expect(sent.sort()).toEqual([...KEYS, LATER].sort());
      // A later call, every key still limited: only the first of its order is tried, not the pool again.
      expect((await gateway.chat(apiKey, { model: 'pooled/gpt-4o-mini', messages: HELLO })).status).toBe(429);
      expect(host.requests().length - before).toBe(4 + 1);
    } finally {
      host.rateLimitKeys([]);
      clock.advance(60_001);
    }
  });
});

describe('a key deleted while calls that took it from the pool are under way', () => {
  const SPARE = 'sk-spare-00000000000000000000000spare';
  const LIMITED = 'sk-limited-000000000000000000000limit';
  let gateway: AiGateway;
  /** Holds each call until the test lets it go, then answers 500: the alias falls back from it. */
  let held: ScriptedProvider;
  let spare: OpenAIEmulator;
  /** Rate limits every call with a Retry-After of 2 s, short enough for the gateway to wait out and try again. */
  let limited: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    held = await startScriptedProvider(() => undefined);
    spare = await startOpenAIEmulator({ apiKey: SPARE });
    limited = await startOpenAIEmulator({ apiKey: LIMITED, retryAfterSeconds: 2 });
    limited.setMode('rate-limited');
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'held', type: 'openai', baseUrl: held.url },
        { name: 'spare', type: 'openai', baseUrl: spare.url },
        { name: 'limited', type: 'openai', baseUrl: limited.url },
      ],
      aliases: [{ name: 'held-first', targets: [{ provider: 'held', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'spare', model: 'gpt-4o-mini' }] }],
      circuitBreaker: { failures: 0 },
    });
    await gateway.addProviderKey('held', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'deleting-app', team: 'pool-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    held?.stop();
    await spare?.stop();
    await limited?.stop();
  });

  it('sends the fallback no key deleted while the call waited on its first target', async () => {
    const id = await gateway.addProviderKey('spare', SPARE);
    let release = () => undefined as void;
    const holding = new Promise<void>((resolve) => {
      held.script = (_req, res) => {
        release = () => void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'down', type: 'server_error' } }));
        resolve();
      };
    });
    const call = gateway.chat<OpenAIErrorBody>(apiKey, { model: 'held-first', messages: HELLO });
    await holding;
    await gateway.admin(204, 'DELETE', `/ai/providers/spare/keys/${id}`);
    release();
    const result = await call;
    expect(spare.requests()).toHaveLength(0);
    expect(result.status).toBe(502);
  });

  it('does not try again, after a Retry-After it waited out, with a key deleted during the wait', async () => {
    const id = await gateway.addProviderKey('limited', LIMITED);
    const call = gateway.chat<OpenAIErrorBody>(apiKey, { model: 'limited/gpt-4o-mini', messages: HELLO });
    await vi.waitFor(() => expect(limited.requests()).toHaveLength(1), { interval: 5 });
    await gateway.admin(204, 'DELETE', `/ai/providers/limited/keys/${id}`);
    const result = await call;
    // The DELETE answered within the 2 s wait: the try after it is not sent, with the key or any other (the pool has
    // none), and the call ends with the rate limit it met.
    expect(limited.requests()).toHaveLength(1);
    expect(result.status).toBe(429);
  });
});

/**
 * Gemini embeds at most 100 inputs a call, and a larger request goes in parts, four at a time: a key deleted while
 * the first four are under way must not be sent by the parts after them, as no try of a chat call sends one.
 */
describe('an embeddings request in parts whose key is deleted while it is under way', () => {
  const MODEL = 'gemini-embedding-2';
  const FIRST = 'AIza-first-0000000000000000000000first';
  const SECOND = 'AIza-second-000000000000000000000second';
  /** 600 inputs: six parts of 100, the last two sent once the first four are answered. */
  const INPUT = Array.from({ length: 600 }, (_, i) => `sentence number ${i} to embed`);
  let gateway: AiGateway;
  /** Speaks Gemini's batchEmbedContents: holds the first four calls until the test lets them go, answers the rest at once. */
  let host: ScriptedProvider;
  /** The key each call to the host carried, in the order they came. */
  let keysSent: string[];
  let release: () => void;

  const answer = (res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ embeddings: Array.from({ length: 100 }, () => ({ values: [0.6, 0.8] })) }));
  };

  beforeAll(async () => {
    host = await startScriptedProvider(() => undefined);
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'pooled', type: 'gemini', baseUrl: host.url },
        { name: 'alone', type: 'gemini', baseUrl: host.url },
      ],
    });
  });
  beforeEach(() => {
    keysSent = [];
    const held: ServerResponse[] = [];
    let released = false;
    release = () => {
      released = true;
      held.splice(0).forEach(answer);
    };
    host.script = (req, res) => {
      keysSent.push(String(req.headers['x-goog-api-key']));
      if (released) return answer(res);
      held.push(res);
    };
  });
  afterAll(async () => {
    await gateway?.stop();
    host?.stop();
  });

  /** The request to `provider`, with the key `keyId` deleted once four parts are under way, then those four answered. */
  async function deletedMidway<T>(apiKey: string, provider: string, keyId: string): Promise<AiResult<T>> {
    const call = gateway.call<T>('POST', '/v1/embeddings', apiKey, { model: `${provider}/${MODEL}`, input: INPUT });
    await vi.waitFor(() => expect(keysSent).toHaveLength(4), { interval: 5 });
    await gateway.admin(204, 'DELETE', `/ai/providers/${provider}/keys/${keyId}`);
    release();
    return call;
  }

  it("sends the parts after the DELETE with the pool's next key, and none of those already answered again", async () => {
    const first = await gateway.addProviderKey('pooled', FIRST, 0);
    await gateway.addProviderKey('pooled', SECOND, 1);
    const apiKey = await gateway.createApp({ name: 'parts-next-key', team: 'pool-team' });
    const result = await deletedMidway<{ data: Array<{ index: number }> }>(apiKey, 'pooled', first);
    expect(result.status).toBe(200);
    expect(result.body.data.map((item) => item.index)).toEqual(INPUT.map((_, i) => i));
    expect(keysSent).toEqual([FIRST, FIRST, FIRST, FIRST, SECOND, SECOND]);
  });

  it('fails, when no key is left, with the error a chat call to the emptied pool gets, sending nothing more', async () => {
    const only = await gateway.addProviderKey('alone', FIRST);
    const apiKey = await gateway.createApp({ name: 'parts-no-key', team: 'pool-team' });
    const result = await deletedMidway<OpenAIErrorBody>(apiKey, 'alone', only);
    expect(keysSent).toEqual([FIRST, FIRST, FIRST, FIRST]);
    const chat = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'alone/gemini-2.5-flash', messages: HELLO });
    expect(chat.status).toBe(503);
    expect(result.status).toBe(chat.status);
    expect(result.body).toEqual(chat.body);
    expect(result.headers.get('x-should-retry')).toBe(chat.headers.get('x-should-retry'));
  });

  it('records, on the call that failed for want of a key, the tokens of the parts answered before the DELETE', async () => {
    const only = await gateway.addProviderKey('alone', FIRST);
    const apiKey = await gateway.createApp({ name: 'parts-recorded', team: 'pool-team' });
    expect((await deletedMidway(apiKey, 'alone', only)).status).toBe(503);
    await loadTokenizer();
    const answered = INPUT.slice(0, 400).reduce((sum, text) => sum + estimateTokens(text), 0);
    const [row] = await gateway.usage({ groupBy: 'provider', app: 'parts-recorded' });
    expect(row).toMatchObject({ provider: 'alone', calls: 1, failedCalls: 1, inputTokens: answered, estimatedCalls: 1 });
  });
});

describe('a pool whose every key is out of quota for a while', () => {
  const KEYS = ['sk-quota-a-0000000000000000000000aaaa', 'sk-quota-b-0000000000000000000000bbbb'];
  const clock = new ManualClock();
  let gateway: AiGateway;
  let host: ScriptedProvider;
  let apiKey: string;

  beforeAll(async () => {
    // Every key's account is out of quota, and the provider says when it comes back: in 30 s.
    host = await startScriptedProvider((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end(JSON.stringify({ error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } }));
    });
    gateway = await AiGateway.start({ clock });
    await gateway.configure({ providers: [{ name: 'spent', type: 'openai', baseUrl: host.url }, { name: 'empty', type: 'openai', baseUrl: host.url }] });
    for (const key of KEYS) await gateway.addProviderKey('spent', key);
    apiKey = await gateway.createApp({ name: 'quota-app', team: 'pool-team' });
    // Both keys tried, both set aside: the call gets the provider's 429.
    expect((await gateway.chat(apiKey, { model: 'spent/gpt-4o-mini', messages: HELLO })).status).toBe(429);
  });
  afterAll(async () => {
    await gateway?.stop();
    host?.stop();
  });

  it('answers 503 no_provider_available with a Retry-After of when the first key comes back, saying the keys are out of quota', async () => {
    clock.advance(10_000);
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'spent/gpt-4o-mini', messages: HELLO });
    expect(result.status).toBe(503);
    expect(result.body.error.code).toBe('no_provider_available');
    expect(result.headers.get('retry-after')).toBe('20');
    expect(result.headers.get('x-should-retry')).toBeNull();
    expect(result.body.error.message).toMatch(/out of quota/);
    expect(result.body.error.message).not.toMatch(/an administrator must add keys/);
  });

  it("answers a Messages API client overloaded_error with the Retry-After, and api_error, not to be retried, for a pool with no key", async () => {
    const messages = (model: string) => gateway.call<{ type: string; error: { type: string } }>('POST', '/v1/messages', apiKey, { model, max_tokens: 16, messages: HELLO });
    const spent = await messages('spent/gpt-4o-mini');
    expect(spent.status).toBe(503);
    expect(spent.body.error.type).toBe('overloaded_error');
    expect(Number(spent.headers.get('retry-after'))).toBeGreaterThan(0);
    const empty = await messages('empty/gpt-4o-mini');
    expect(empty.status).toBe(503);
    expect(empty.body.error.type).toBe('api_error');
    expect(empty.headers.get('x-should-retry')).toBe('false');
  });
});

describe('a pool whose every key is out of quota, its provider not saying until when', () => {
  let gateway: AiGateway;
  let host: ScriptedProvider;
  let apiKey: string;

  beforeAll(async () => {
    // OpenAI's usual insufficient_quota: no Retry-After.
    host = await startScriptedProvider((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } }));
    });
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'untold', type: 'openai', baseUrl: host.url }] });
    await gateway.addProviderKey('untold', 'sk-quota-untold-00000000000000000000000');
    apiKey = await gateway.createApp({ name: 'untold-app', team: 'pool-team' });
    expect((await gateway.chat(apiKey, { model: 'untold/gpt-4o-mini', messages: HELLO })).status).toBe(429);
  });
  afterAll(async () => {
    await gateway?.stop();
    host?.stop();
  });

  it('answers 503 with no Retry-After of its own guessing, and x-should-retry: false', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'untold/gpt-4o-mini', messages: HELLO });
    expect(result.status).toBe(503);
    expect(result.headers.get('retry-after')).toBeNull();
    expect(result.headers.get('x-should-retry')).toBe('false');
    expect(result.body.error.message).toMatch(/did not say until when/);
  });
});
