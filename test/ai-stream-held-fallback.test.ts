import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway } from './ai-fixtures.js';

const SSE_HEAD = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const chunkJson = (content: string) => `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]}`;
const finish = '{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}';

describe('a held stream whose first words and error come in one read', () => {
  let gateway: AiGateway;
  let provider: http.Server;
  let apiKey: string;

  beforeAll(async () => {
    provider = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, SSE_HEAD);
        if (req.headers.authorization === 'Bearer first-key') {
          // The first words and the failure in one write, before anything went to the client.
          return void res.end(`data: ${chunkJson('')}\n\ndata: ${chunkJson('Hel')}\n\ndata: {"error":{"message":"The server had an error","type":"server_error"}}\n\n`);
        }
        res.end(`data: ${chunkJson('')}\n\ndata: ${chunkJson('Hello from the fallback')}\n\ndata: ${finish}\n\ndata: [DONE]\n\n`);
      });
    });
    provider.listen(0, '127.0.0.1');
    await once(provider, 'listening');
    gateway = await AiGateway.start();
    const baseUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    await gateway.configure({
      providers: [{ name: 'first', type: 'openai', baseUrl }, { name: 'second', type: 'openai', baseUrl }],
      aliases: [{ name: 'chain', targets: [{ provider: 'first', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'second', model: 'gpt-4o-mini' }] }],
    });
    await gateway.addProviderKey('first', 'first-key');
    await gateway.addProviderKey('second', 'second-key');
    apiKey = await gateway.createApp({ name: 'held-app', team: 'held-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    provider?.closeAllConnections();
    provider?.close();
  });

  it('falls back whole, since the client was sent nothing yet', async () => {
    const response = await gateway.chat(apiKey, { model: 'chain', stream: true, messages: [{ role: 'user', content: 'go' }] });
    expect(response.headers.get('x-keygate-provider')).toBe('second');
    expect(response.text).not.toContain('provider_stream_error');
    expect(response.text).not.toContain('"Hel"');
    expect(response.text).toContain('Hello from the fallback');
  });
});
