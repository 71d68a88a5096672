import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddingFor, startGeminiEmulator, type GeminiEmulator } from '../../../../test/emulators/gemini.js';
import { callEmbeddings } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { GeminiProvider } from './index.js';

const KEY = 'test-gemini-key';
let emulator: GeminiEmulator;
const ctx = (): CallContext => ({
  provider: { name: 'google', type: 'gemini', baseUrl: emulator.url },
  credential: { id: 'key-1', secret: KEY },
  model: 'gemini-embedding-001',
  stream: false,
  now: 1_700_000_000_000,
});

beforeAll(async () => {
  emulator = await startGeminiEmulator({ apiKey: KEY });
});
afterAll(() => emulator.stop());

describe('Gemini embeddings', () => {
  it('sends every input as one request of a batchEmbedContents call', async () => {
    await callEmbeddings(GeminiProvider, { model: 'embed', input: ['first', 'second'], dimensions: 4 }, ctx());
    const request = emulator.lastRequest()!;
    expect(request.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(request.headers['x-goog-api-key']).toBe(KEY);
    expect(request.body).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'first' }] }, outputDimensionality: 4 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'second' }] }, outputDimensionality: 4 },
      ],
    });
  });

  it('come back in OpenAI’s shape, one embedding per input in order', async () => {
    const response = await callEmbeddings(GeminiProvider, { model: 'embed', input: ['first', 'second'] }, ctx());
    expect(response).toMatchObject({
      object: 'list',
      model: 'gemini-embedding-001',
      data: [
        { object: 'embedding', index: 0, embedding: embeddingFor('first') },
        { object: 'embedding', index: 1, embedding: embeddingFor('second') },
      ],
    });
  });

  it('report no usage, Gemini counting none (the gateway estimates it)', () => {
    const response = GeminiProvider.parseEmbeddings({ embeddings: [{ values: [0.5] }, { values: [0.25] }] }, ctx(), { model: 'embed', input: ['12345', '123'] });
    expect(response.usage).toBeUndefined();
  });

  it('come back as base64 float32 when the request asks for base64', () => {
    const values = [0.5, -0.25, 0.125];
    const response = GeminiProvider.parseEmbeddings({ embeddings: [{ values }] }, ctx(), { model: 'embed', input: 'first', encoding_format: 'base64' });
    const bytes = Buffer.from(response.data[0]!.embedding as string, 'base64');
    expect([...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)]).toEqual(values);
  });

  it('refuse token arrays as input, which Gemini cannot embed', async () => {
    await expect(callEmbeddings(GeminiProvider, { model: 'embed', input: [[1, 2, 3]] }, ctx())).rejects.toMatchObject({ failure: { status: 400, code: 'unsupported_input' } });
  });
});
