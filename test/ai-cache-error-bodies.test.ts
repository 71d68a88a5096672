import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway } from './ai-fixtures.js';

describe('the response cache and a 200 that holds an error, not an answer', () => {
  let gateway: AiGateway;
  let provider: http.Server;
  let healthy = false;
  let apiKey: string;

  beforeAll(async () => {
    provider = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        // An OpenAI-compatible host that reports a failure in a 200 body, as some do.
        if (!healthy) return void res.end('{"error":{"message":"upstream model is loading, retry later","code":503}}');
        res.end('{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"e","usage":{"prompt_tokens":2,"total_tokens":2}}');
      });
    });
    provider.listen(0, '127.0.0.1');
    await once(provider, 'listening');
    gateway = await AiGateway.start();
    const baseUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
    await gateway.configure({ providers: [{ name: 'host', type: 'openai-compatible', baseUrl }], cache: { ttl: '10m' } });
    await gateway.addProviderKey('host', 'host-key');
    apiKey = await gateway.createApp({ name: 'embed-app', team: 'embed-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    provider?.closeAllConnections();
    provider?.close();
  });

  it('keeps no embeddings answer without its embeddings: the host is asked again once it has recovered', async () => {
    const embed = () => gateway.call('POST', '/v1/embeddings', apiKey, { model: 'host/e', input: 'hello' });
    expect((await embed()).body).toHaveProperty('error');
    healthy = true;
    const second = await embed();
    expect(second.headers.get('x-keygate-cache')).toBeNull();
    expect((second.body as { data?: unknown[] }).data).toHaveLength(1);
  });

  it('keeps no chat completion without choices: the host is asked again once it has recovered', async () => {
    healthy = false;
    const ask = () => gateway.chat(apiKey, { model: 'host/c', messages: [{ role: 'user', content: 'x' }] });
    expect((await ask()).body).toHaveProperty('error');
    healthy = true;
    const second = await ask();
    expect(second.headers.get('x-keygate-cache')).toBeNull();
  });
});
