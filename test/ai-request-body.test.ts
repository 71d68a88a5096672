import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, configureThreeProviders, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';

/**
 * One request written to the proxy port by hand: the head, then the body in `pieces` (each after a pause, so that
 * they reach the gateway in reads of their own) or with the head in one write. Resolves with the status and body.
 */
function rawCall(url: string, apiKey: string, body: string, pieces: number): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${apiKey}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`;
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [top = '', ...rest] = received.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(top)?.[1]), body: rest.join('\r\n\r\n') });
    });
    socket.on('connect', async () => {
      if (pieces === 0) return void socket.write(head + body);
      socket.write(head);
      const size = Math.ceil(body.length / pieces);
      for (let at = 0; at < body.length; at += size) {
        await new Promise((r) => setTimeout(r, 30));
        if (socket.destroyed) return;
        socket.write(body.slice(at, at + size));
      }
    });
  });
}

describe('the body of a unified API request', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let apiKey: string;
  const request = (content: string) => JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }] });

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {}, { maxBodySize: '1kb' });
    apiKey = await gateway.createApp({ name: 'body-app', team: 'body-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it('is read when it comes with the head, in one write', async () => {
    const result = await rawCall(gateway.proxyUrl, apiKey, request('Hello in one go'), 0);
    expect(result.status).toBe(200);
    expect(emulators.openai.requests().at(-1)?.body).toMatchObject({ messages: [{ role: 'user', content: 'Hello in one go' }] });
  });

  it('is read when it comes after the head, in pieces', async () => {
    const result = await rawCall(gateway.proxyUrl, apiKey, request('Hello in three pieces'), 3);
    expect(result.status).toBe(200);
    expect(emulators.openai.requests().at(-1)?.body).toMatchObject({ messages: [{ role: 'user', content: 'Hello in three pieces' }] });
  });

  it.each([
    ['with the head', 0],
    ['after the head, in pieces', 4],
  ])("is refused with 413 request_too_large over the route's limit, sent %s", async (_how, pieces) => {
    const calls = emulators.openai.requests().length;
    const result = await rawCall(gateway.proxyUrl, apiKey, request('x'.repeat(2048)), pieces);
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_too_large' } });
    expect(emulators.openai.requests().length).toBe(calls);
  });

  it('that is not JSON is refused with 400 invalid_json, sent in pieces', async () => {
    const result = await rawCall(gateway.proxyUrl, apiKey, '{"model": "openai/gpt-4o-mini", "messages": [', 2);
    expect(result.status).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'invalid_json' } });
  });

  it('may name a model beyond Latin-1: answered, streamed and embedded, the model header percent-encoded, each call recorded as answered', async () => {
    const model = 'openai/gpt-4o-模型\u2028';
    const client = gateway.openai(apiKey);
    const { response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    expect(decodeURIComponent(response.headers.get('x-keygate-model')!)).toBe('gpt-4o-模型\u2028');
    const chunks = [];
    for await (const chunk of await client.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Hello' }] })) chunks.push(chunk);
    expect(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'stop')).toBe(true);
    const { response: embedded } = await client.embeddings.create({ model, input: 'a' }).withResponse();
    expect(embedded.status).toBe(200);
    expect(await gateway.usage({ app: 'body-app', model: 'gpt-4o-模型\u2028', groupBy: 'status' })).toEqual([expect.objectContaining({ status: 200, calls: 3 })]);
  });

  it.each(['gzip', 'br', 'deflate'])('refuses a body sent with content-encoding %s with 415, saying to send it uncompressed', async (encoding) => {
    const before = emulators.openai.requests().length;
    const response = await fetch(`${gateway.proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'content-encoding': encoding }, body: request('Hello') });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'unsupported_content_encoding' } });
    expect(emulators.openai.requests().length).toBe(before);
  });

  it('reads a body whose content-encoding is identity as it is', async () => {
    const response = await fetch(`${gateway.proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', 'content-encoding': 'identity' }, body: request('Hello') });
    expect(response.status).toBe(200);
  });
});
