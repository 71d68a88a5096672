import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, PROVIDER_SECRETS } from './ai-fixtures.js';
import { embeddingFor, startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

interface ErrorBody {
  error: { type: string; code: string | null; param: string | null; message: string };
}

/**
 * What an embeddings request may hold, checked by the gateway for every provider (OpenAI's rules,
 * https://platform.openai.com/docs/api-reference/embeddings/create), the kind of model it may ask, and vectors as
 * the client asked for them, whatever the host answered.
 */
describe('embeddings requests through the gateway', () => {
  let gateway: AiGateway;
  let openai: OpenAIEmulator;
  /** An OpenAI-compatible server that answers floats whatever `encoding_format` asks. */
  let floats: OpenAIEmulator;
  let client: OpenAI;
  let apiKey: string;

  beforeAll(async () => {
    openai = await startOpenAIEmulator();
    floats = await startOpenAIEmulator({ floatsOnly: true });
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'openai', type: 'openai', baseUrl: openai.url },
        { name: 'local', type: 'openai-compatible', baseUrl: floats.url },
      ],
      aliases: [
        { name: 'mixed', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'openai', model: 'text-embedding-3-small' }] },
        { name: 'chat-only', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
    await gateway.addProviderKey('local', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'embed-app', team: 'embed-team' });
    client = gateway.openai(apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
    await floats?.stop();
  });

  const embed = (body: Record<string, unknown>) => gateway.call<ErrorBody>('POST', '/v1/embeddings', apiKey, { model: 'openai/text-embedding-3-small', ...body });

  it.each([
    ['an empty text', { input: '' }, 'input'],
    ['an empty text among others', { input: ['a', ''] }, 'input[1]'],
    ['an empty array', { input: [] }, 'input'],
    ['texts and token ids mixed', { input: ['a', [1, 2]] }, 'input[1]'],
    ['a token id that is no integer', { input: [1, 2.5] }, 'input'],
    ['an empty token array among others', { input: [[1, 2], []] }, 'input[1]'],
    ['an encoding_format of neither float nor base64', { input: 'a', encoding_format: 'bogus' }, 'encoding_format'],
    ['dimensions that are no positive integer', { input: 'a', dimensions: 'abc' }, 'dimensions'],
    ['zero dimensions', { input: 'a', dimensions: 0 }, 'dimensions'],
  ])('refuses %s with OpenAI\'s 400 naming the parameter, before calling the provider', async (_what, body, param) => {
    const before = openai.requests().length;
    const result = await embed(body);
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(openai.requests().length).toBe(before);
  });

  it('passes token ids on to a provider that takes them, one array or several', async () => {
    const one = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: [15339, 1917], encoding_format: 'float' });
    expect(one.data).toHaveLength(1);
    const several = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: [[15339], [1917, 0]], encoding_format: 'float' });
    expect(several.data.map((item) => item.index)).toEqual([0, 1]);
    expect((openai.requests().at(-1)!.body as { input: unknown }).input).toEqual([[15339], [1917, 0]]);
  });

  it('takes one input of more token ids than the 2,048 inputs a request may hold, as OpenAI does (a long text in one chunk)', async () => {
    const tokens = Array.from({ length: 3_000 }, (_, i) => i % 50_000);
    const answer = await client.embeddings.create({ model: 'openai/text-embedding-3-small', input: tokens, encoding_format: 'float' });
    expect(answer.data).toHaveLength(1);
    expect((openai.requests().at(-1)!.body as { input: unknown }).input).toEqual(tokens);
  });

  it('answers base64 when the SDK asks for it, though the host answered floats', async () => {
    // The SDK asks for base64 by default and decodes it: a float array would come back as an empty vector.
    const answer = await client.embeddings.create({ model: 'local/bge-m3', input: ['first text', 'second'] });
    expect((floats.requests().at(-1)!.body as { encoding_format?: string }).encoding_format).toBe('base64');
    answer.data.forEach((item, i) => {
      expect(item.embedding).toHaveLength(8);
      embeddingFor(['first text', 'second'][i]!).forEach((value, j) => expect(item.embedding[j]).toBeCloseTo(value, 5));
    });
  });

  it('refuses a chat model for embeddings with 400 unsupported_model, before calling the provider', async () => {
    const before = openai.requests().length;
    for (const model of ['openai/gpt-4o-mini', 'chat-only']) {
      const result = await embed({ model, input: 'a' });
      expect(result.status).toBe(400);
      expect(result.body.error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_model', param: 'model' });
    }
    expect(openai.requests().length).toBe(before);
  });

  it('refuses an embedding model for chat with 400 unsupported_model, before calling the provider', async () => {
    const before = openai.requests().length;
    const result = await gateway.chat<ErrorBody>(apiKey, { model: 'openai/text-embedding-3-small', messages: [{ role: 'user', content: 'Hello' }] });
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ code: 'unsupported_model', param: 'model' });
    expect(openai.requests().length).toBe(before);
  });

  it('sends an alias of models of both kinds to the one that can answer, for chat and for embeddings', async () => {
    // Its two targets share the traffic: four calls of each kind would reach both, were the kind not minded.
    const before = openai.requests().length;
    for (let i = 0; i < 4; i++) {
      const { response } = await client.chat.completions.create({ model: 'mixed', messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
      expect(response.headers.get('x-keygate-model')).toBe('gpt-4o-mini');
    }
    for (let i = 0; i < 4; i++) {
      const { response } = await client.embeddings.create({ model: 'mixed', input: 'a' }).withResponse();
      expect(response.headers.get('x-keygate-model')).toBe('text-embedding-3-small');
    }
    // Not one call to the wrong kind, failed and fallen back from.
    const sent = openai.requests().slice(before).map((r) => `${r.path} ${(r.body as { model: string }).model}`);
    expect(new Set(sent)).toEqual(new Set(['/v1/chat/completions gpt-4o-mini', '/v1/embeddings text-embedding-3-small']));
    expect(sent).toHaveLength(8);
  });

  it('tries a model the catalog does not list for either', async () => {
    const answer = await client.embeddings.create({ model: 'local/bge-m3', input: 'a', encoding_format: 'float' });
    expect(answer.data[0]!.embedding).toHaveLength(8);
  });
});
