import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, AiGateway, type AiResult, type OpenAIErrorBody } from './ai-fixtures.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];
/** A key whose URL-encoded, base64 and base64url forms all differ from it. */
const KEY = 'tok/REDACT+b64/SessionToken+Value==';
/** vLLM and LM Studio take any string: seven characters are enough. */
const SHORT = 'vllm-k1';
const CONFIGURED = 'proxy-token-CONFIGURED-0123456789';
const AKID = 'AKIAREDACT0123456789';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYREDACTKEY';
const SESSION = 'FQoGZXIvYXdzEREDACT/session+token/Value==';
/** A session token as long as STS's can be (several hundred characters). */
const LONG_SESSION = `IQoJb3JpZ2luX2VjEREDACT${'A1b2C3d4'.repeat(100)}==`;
/** An Amazon Bedrock API key (long-term: `ABSK` and base64), sent as a Bearer token. */
const BEDROCK_API_KEY = `ABSK${Buffer.from('BedrockAPIKey-rdct-at-123456789012:redact+api/key=secret').toString('base64')}`;

/** Every form in which a secret must not reach the client. */
function formsOf(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64').replace(/=+$/, ''), Buffer.from(secret).toString('base64url'), Buffer.from(`:${secret}`).toString('base64').replace(/=+$/, '')];
}

function expectNone(result: AiResult<unknown>, secrets: readonly string[]): void {
  const seen = `${[...result.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n')}\n${result.text}`;
  for (const secret of secrets) for (const form of formsOf(secret)) expect(seen).not.toContain(form);
}

const completion = (extra: Record<string, unknown>, usage = true) => ({
  id: 'chatcmpl-echo',
  object: 'chat.completion',
  created: 1,
  model: 'echo',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hi.' }, finish_reason: 'stop' }],
  ...(usage ? { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } } : {}),
  ...extra,
});

/**
 * A provider host that quotes back what it was sent, as careless hosts and proxies do: the model named in the body
 * says where and how. Every request's path is kept.
 */
async function startEchoHost(): Promise<{ url: string; paths: string[]; apiKeys: string[]; stop: () => Promise<void> }> {
  const paths: string[] = [];
  const apiKeys: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      paths.push(req.url ?? '');
      apiKeys.push(String(req.headers['x-api-key'] ?? ''));
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const authorization = req.headers.authorization ?? '';
      const key = authorization.replace(/^Bearer /, '');
      if (req.url?.startsWith('/model/')) {
        if (authorization.startsWith('Bearer ')) {
          res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationException' });
          return res.end(JSON.stringify({ message: `Request rejected for Authorization: ${authorization}; key ${Buffer.from(key).toString('base64')}` }));
        }
        const token = String(req.headers['x-amz-security-token'] ?? '');
        if (req.url.includes('long-session')) {
          res.writeHead(503, { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceUnavailableException' });
          return res.end(JSON.stringify({ message: `Service unavailable for session ${token}` }));
        }
        res.writeHead(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationException' });
        return res.end(JSON.stringify({ message: `Request rejected for credential ${AKID}; X-Amz-Security-Token=${encodeURIComponent(token)} is not valid; signed with ${Buffer.from(`:${AWS_SECRET}`).toString('base64')}` }));
      }
      let model = '';
      try {
        model = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: unknown }).model ?? '');
      } catch {
        return json(400, { error: { message: 'not JSON' } });
      }
      if (req.url?.startsWith('/api/')) return json(400, { error: `model not allowed for ${authorization}` });
      switch (model) {
        case 'echo-message':
          return json(400, { error: { message: `Invalid authorization header: ${authorization}`, type: 'invalid_request_error', code: null, param: null } });
        case 'echo-long':
          // A long message with the key past the first thousand characters, where a shortened text would cut it.
          return json(400, { error: { message: `${'x'.repeat(990)} key ${key} ${'y'.repeat(4000)}`, type: 'invalid_request_error', code: null, param: null } });
        case 'echo-fields':
          return json(400, { error: { message: 'refused', type: `bad_${key}`, code: key, param: key } });
        case 'echo-encoded':
          return json(400, { error: { message: `refused ${encodeURIComponent(key)}, Basic ${Buffer.from(`:${key}`).toString('base64')}, ${Buffer.from(key).toString('base64url')}` } });
        case 'echo-5xx':
          return json(503, { error: { message: `upstream refused ${key}` } });
        case 'echo-config-header':
          return json(400, { error: { message: `x-api-key ${String(req.headers['x-api-key'])} is not allowed here` } });
        case 'echo-200-words':
          // A key that is also a word the model writes, in an answer that is not about keys at all.
          return json(200, { ...completion({}), choices: [{ index: 0, message: { role: 'assistant', content: `In ${key} we trust; the ${key} stays.` }, finish_reason: 'stop' }] });
        case 'echo-200-escaped':
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(JSON.stringify(completion({ warning: 'KEY' })).replace('"KEY"', `"key ${[...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`));
        case 'echo-200':
          return json(200, completion({ error: { message: `key ${key} is about to expire` } }));
        case 'echo-200-no-usage':
          return json(200, completion({ error: { message: `key ${key} is about to expire` } }, false));
        case 'echo-embeddings':
          return json(200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }], model: 'echo', usage: { prompt_tokens: 1, total_tokens: 1 }, error: { message: `key ${key}` } });
        case 'echo-stream': {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = (extra: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'chatcmpl-echo', object: 'chat.completion.chunk', created: 1, model: 'echo', ...extra })}\n\n`;
          res.write(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Hi' }, finish_reason: null }] }));
          // OpenRouter's way of failing mid-stream: an `error` member on a chunk whose choice finishes with "error".
          res.write(chunk({ error: { message: `provider refused key ${key}`, code: 502 }, choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }] }));
          res.write(chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }));
          return res.end('data: [DONE]\n\n');
        }
        case 'echo-stream-text': {
          // A model that writes the key in its answer, streamed whole: every closing event repeats the text.
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const chunk = (extra: Record<string, unknown>) => `data: ${JSON.stringify({ id: 'chatcmpl-echo', object: 'chat.completion.chunk', created: 1, model: 'echo', ...extra })}\n\n`;
          res.write(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: `Your key is ${key}` }, finish_reason: null }] }));
          res.write(chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
          res.write(chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } }));
          return res.end('data: [DONE]\n\n');
        }
        default:
          return json(200, completion({}));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, apiKeys, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('provider answers that quote a credential', () => {
  let gateway: AiGateway;
  let host: Awaited<ReturnType<typeof startEchoHost>>;
  let apiKey: string;

  beforeAll(async () => {
    host = await startEchoHost();
    gateway = await AiGateway.start();
    await gateway.admin(200, 'PUT', '/config', {
      version: 1,
      routes: [{ name: 'ai', paths: ['/v1/*'], ai: {}, auth: { methods: ['api-key'] } }],
      ai: {
        providers: [
          { name: 'main', type: 'openai-compatible', baseUrl: host.url, headers: { 'x-api-key': CONFIGURED } },
          { name: 'short', type: 'openai-compatible', baseUrl: host.url },
          { name: 'proxied', type: 'ollama', baseUrl: host.url, headers: { authorization: `Bearer ${CONFIGURED}` } },
          { name: 'bedrock', type: 'bedrock', region: 'us-east-1', baseUrl: host.url },
          { name: 'bedrock-sts', type: 'bedrock', region: 'us-east-1', baseUrl: host.url },
          { name: 'bedrock-key', type: 'bedrock', region: 'us-east-1', baseUrl: host.url },
        ],
        cache: { ttl: '1m' },
      },
    });
    await gateway.addProviderKey('main', KEY);
    await gateway.addProviderKey('short', SHORT);
    await gateway.addProviderKey('bedrock', `${AKID}:${AWS_SECRET}:${SESSION}`);
    await gateway.addProviderKey('bedrock-sts', `${AKID}:${AWS_SECRET}:${LONG_SESSION}`);
    await gateway.addProviderKey('bedrock-key', BEDROCK_API_KEY);
    apiKey = await gateway.createApp({ name: 'redact-app', team: 'redact-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await host?.stop();
  });

  it('cuts the key out of an error message, on the OpenAI and the Anthropic surfaces', async () => {
    const openai = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'main/echo-message', messages: HELLO });
    expect(openai.status).toBe(400);
    expect(openai.body.error.message).toBe('Invalid authorization header: Bearer [redacted]');
    const anthropic = await gateway.call('POST', '/v1/messages', apiKey, { model: 'main/echo-message', max_tokens: 10, messages: HELLO });
    expect(anthropic.status).toBe(400);
    for (const result of [openai, anthropic]) expectNone(result, [KEY]);
  });

  it('tells at most a thousand characters of a long provider message, cut of the key before it is shortened', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'main/echo-long', messages: HELLO });
    expect(result.status).toBe(400);
    expect(result.body.error.message).toBe(`${'x'.repeat(990)} key [reda…`);
    expectNone(result, [KEY, KEY.slice(0, 4)]);
  });

  it("cuts the key out of an error's code and param", async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'main/echo-fields', messages: HELLO });
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ code: '[redacted]', param: '[redacted]' });
    expectNone(result, [KEY]);
  });

  it('cuts the key quoted URL-encoded, as Basic credentials and in base64url', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'main/echo-encoded', messages: HELLO });
    expect(result.status).toBe(400);
    expect(result.body.error.message).toMatch(/^refused \[redacted\], Basic \[redacted\]=*, \[redacted\]$/);
    expectNone(result, [KEY]);
  });

  it('cuts the key out of a 5xx message (a 503: overloaded or unavailable)', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'main/echo-5xx', messages: HELLO });
    expect(result.status).toBe(503);
    expect(result.body.error.message).toContain('[redacted]');
    expectNone(result, [KEY]);
  });

  it('cuts a 7-character key out of chat and embeddings errors', async () => {
    const chat = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'short/echo-message', messages: HELLO });
    expect(chat.body.error.message).toBe('Invalid authorization header: Bearer [redacted]');
    const embeddings = await gateway.call<OpenAIErrorBody>('POST', '/v1/embeddings', apiKey, { model: 'short/echo-message', input: 'x' });
    expect(embeddings.status).toBe(400);
    for (const result of [chat, embeddings]) expect(result.text).not.toContain(SHORT);
  });

  it("cuts the value of a credential header from the provider's config, with or without a pooled key", async () => {
    const pooled = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'main/echo-config-header', messages: HELLO });
    expect(pooled.body.error.message).toBe('x-api-key [redacted] is not allowed here');
    const keyless = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'proxied/llama3', messages: HELLO });
    expect(keyless.status).toBe(400);
    expect(keyless.body.error.message).toBe('model not allowed for [redacted]');
    for (const result of [pooled, keyless]) expectNone(result, [CONFIGURED]);
  });

  it("cuts every part of a Bedrock credential, the session token URL-encoded in a quoted URL included", async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'bedrock/anthropic.claude-3-haiku-20240307-v1:0', messages: HELLO });
    expect(result.status).toBe(400);
    expect(result.body.error.message).toContain('X-Amz-Security-Token=[redacted]');
    expectNone(result, [AKID, AWS_SECRET, SESSION]);
  });

  it('cuts an Amazon Bedrock API key, sent as its Bearer token, out of a Bedrock message that quotes it as sent and in base64', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'bedrock-key/anthropic.claude-3-haiku-20240307-v1:0', messages: HELLO });
    expect(result.status).toBe(400);
    expect(result.body.error.message).toMatch(/^Request rejected for Authorization: Bearer \[redacted\]; key \[redacted\]=*$/);
    expectNone(result, [BEDROCK_API_KEY]);
  });

  it('cuts a long session token whole out of a Bedrock message, not a shortened part of it', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'bedrock-sts/long-session', messages: HELLO });
    expect(result.status).toBe(503);
    expect(result.body.error.message).toBe('the provider is overloaded or unavailable: Service unavailable for session [redacted]');
    expectNone(result, [LONG_SESSION, LONG_SESSION.slice(0, 400), LONG_SESSION.slice(-400)]);
  });

  it('re-serialises a 200 answer that quotes the key, and caches it only without the key', async () => {
    for (const model of ['main/echo-200', 'main/echo-200-no-usage']) {
      const first = await gateway.chat<{ error: { message: string }; choices: unknown[] }>(apiKey, { model, messages: HELLO });
      expect(first.status).toBe(200);
      expect(first.headers.get('x-keygate-cache')).toBeNull();
      expect(first.body.error.message).toBe('key [redacted] is about to expire');
      expect(first.body.choices).toHaveLength(1);
      const again = await gateway.chat(apiKey, { model, messages: HELLO });
      expect(again.headers.get('x-keygate-cache')).toBe('hit');
      for (const result of [first, again]) expectNone(result, [KEY]);
    }
  });

  it('cuts the key out of a 200 embeddings answer', async () => {
    const result = await gateway.call<{ data: unknown[] }>('POST', '/v1/embeddings', apiKey, { model: 'main/echo-embeddings', input: 'x' });
    expect(result.status).toBe(200);
    expect(result.body.data).toHaveLength(1);
    expectNone(result, [KEY]);
  });

  it("cuts the key out of a streamed chunk's mid-stream error, which ends the stream after the chunks before it", async () => {
    const result = await gateway.chat(apiKey, { model: 'main/echo-stream', stream: true, messages: HELLO });
    expect(result.status).toBe(200);
    const events = result.text.split('\n\n').filter((event) => event.startsWith('data: {')).map((event) => JSON.parse(event.slice(6)) as { error?: { message: string } });
    expect(events.at(-1)?.error).toMatchObject({ message: 'the provider stream failed: provider refused key [redacted]', code: 'provider_stream_error' });
    expect(result.text).toContain('"content":"Hi"');
    expectNone(result, [KEY]);
  });

  it("cuts the key out of a /v1/responses error and out of a stream that failed mid-way, in the Responses API's shapes", async () => {
    const refused = await gateway.call<OpenAIErrorBody>('POST', '/v1/responses', apiKey, { model: 'main/echo-fields', input: 'Hello' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: '[redacted]', param: '[redacted]' });
    const streamed = await gateway.call('POST', '/v1/responses', apiKey, { model: 'main/echo-stream', stream: true, input: 'Hello' });
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain('event: response.failed');
    for (const result of [refused, streamed]) expectNone(result, [KEY]);
  });

  it('cuts the key a streamed Response quotes out of its every event and out of the Response it stores', async () => {
    const streamed = await gateway.call('POST', '/v1/responses', apiKey, { model: 'main/echo-stream-text', stream: true, input: 'Hello' });
    expect(streamed.status).toBe(200);
    const completed = streamed.text.split('\n\n').find((event) => event.startsWith('event: response.completed'));
    const response = JSON.parse(completed!.slice(completed!.indexOf('data: ') + 6)).response as { id: string; store: boolean; output: Array<{ content: Array<{ text: string }> }> };
    expect(response).toMatchObject({ store: true });
    expect(response.output[0]!.content[0]!.text).toBe('Your key is [redacted]');
    const stored = await gateway.call('GET', `/v1/responses/${response.id}`, apiKey);
    expect(stored.status).toBe(200);
    for (const result of [streamed, stored]) expectNone(result, [KEY]);
  });

  it('leaves a short key alone in an answer, where it is a word the model writes, and cuts it from errors', async () => {
    const answered = await gateway.chat<{ choices: Array<{ message: { content: string } }> }>(apiKey, { model: 'short/echo-200-words', messages: HELLO });
    expect(answered.status).toBe(200);
    expect(answered.body.choices[0]?.message.content).toBe(`In ${SHORT} we trust; the ${SHORT} stays.`);
  });

  it('cuts a key a 200 answer quotes with \\u escapes, which the client would read as the key', async () => {
    const result = await gateway.chat<{ warning: string }>(apiKey, { model: 'main/echo-200-escaped', messages: HELLO });
    expect(result.status).toBe(200);
    expect(result.body.warning).toBe('key [redacted]');
  });

  it('shows configured credential headers as [redacted] in the exported config, and keeps them when it is applied back', async () => {
    type Exported = { ai: { providers: Array<{ name: string; headers?: Record<string, string> }> } };
    const exported = await gateway.admin<Exported>(200, 'GET', '/config');
    expect(JSON.stringify(exported)).not.toContain(CONFIGURED);
    expect(exported.ai.providers.find((p) => p.name === 'main')?.headers).toEqual({ 'x-api-key': '[redacted]' });
    expect(exported.ai.providers.find((p) => p.name === 'proxied')?.headers).toEqual({ authorization: '[redacted]' });
    const yaml = await (await fetch(`${gateway.gateway.adminUrl}/config?format=yaml`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    expect(yaml).toContain('x-api-key: "[redacted]"');
    expect(yaml).not.toContain(CONFIGURED);

    await gateway.admin(200, 'PUT', '/config', exported);
    await gateway.chat(apiKey, { model: 'main/plain', messages: HELLO });
    expect(host.apiKeys.at(-1)).toBe(CONFIGURED);

    // A header that carries no credential keeps its own value, `[redacted]` as much as any.
    const noted = { ...exported, ai: { ...exported.ai, providers: exported.ai.providers.map((p) => (p.name === 'short' ? { ...p, headers: { 'x-note': '[redacted]' } } : p)) } };
    await gateway.admin(200, 'PUT', '/config', noted);
    const back = await gateway.admin<Exported>(200, 'GET', '/config');
    expect(back.ai.providers.find((p) => p.name === 'short')?.headers).toEqual({ 'x-note': '[redacted]' });
    await gateway.admin(200, 'PUT', '/config', exported);

    // A placeholder with no stored value behind it would reach the provider as the credential: refused.
    const renamed = { ...exported, ai: { ...exported.ai, providers: exported.ai.providers.map((p) => (p.name === 'main' ? { ...p, name: 'main-2' } : p)) } };
    const refused = await gateway.admin<{ error: { code: string; message: string } }>(400, 'PUT', '/config', renamed);
    expect(refused.error).toMatchObject({ code: 'invalid_config', message: expect.stringContaining('ai.providers[0].headers.x-api-key: "[redacted]" stands for the value stored for provider "main-2", and it has none') });
  });
});

describe('model ids that would change the path of a provider URL', () => {
  let gateway: AiGateway;
  let host: Awaited<ReturnType<typeof startEchoHost>>;
  let apiKey: string;

  beforeAll(async () => {
    host = await startEchoHost();
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'gemini', type: 'gemini', baseUrl: host.url },
        { name: 'azure', type: 'azure-openai', baseUrl: host.url },
        { name: 'bedrock', type: 'bedrock', region: 'us-east-1', baseUrl: host.url },
      ],
    });
    for (const provider of ['gemini', 'azure', 'bedrock']) await gateway.addProviderKey(provider, 'AKIDPATH0123456789:path-secret-0123456789');
    apiKey = await gateway.createApp({ name: 'path-app', team: 'path-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await host?.stop();
  });

  it.each(['gemini/../../x', 'gemini/models/../../v1/files', 'gemini/.', 'azure/..', 'bedrock/..', 'bedrock/./x'])('answers 404 model_not_found for %s, calling no provider', async (model) => {
    const before = host.paths.length;
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model, messages: HELLO });
    expect(result.status).toBe(404);
    expect(result.body.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(host.paths.length).toBe(before);
  });

  it('still calls a model whose id holds dots within a segment', async () => {
    await gateway.chat(apiKey, { model: 'gemini/gemini-2.5-flash..exp', messages: HELLO });
    expect(host.paths.at(-1)).toBe('/v1beta/models/gemini-2.5-flash..exp:generateContent');
  });

  it('refuses an alias whose target model has a `..` segment when the config is validated', async () => {
    const refused = await gateway.admin<{ error: { message: string } }>(400, 'PUT', '/config', {
      version: 1,
      routes: [{ name: 'ai', paths: ['/v1/*'], ai: {}, auth: { methods: ['api-key'] } }],
      ai: { providers: [{ name: 'gemini', type: 'gemini', baseUrl: host.url }], aliases: [{ name: 'sneaky', targets: [{ provider: 'gemini', model: 'models/../../x' }] }] },
    });
    expect(JSON.stringify(refused)).toContain('model');
  });
});
