import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendJson, startEmulatorServer, type EmulatorExchange } from '../../../../test/emulators/emulator-http.js';
import { embeddingFor, startGeminiEmulator, type GeminiEmulator } from '../../../../test/emulators/gemini.js';
import { failureOf } from '../../../../test/provider-calls.js';
import { CallCancelled, Cancellation, callEmbeddings } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { GeminiProvider } from './index.js';

const KEY = 'test-gemini-key';
let emulator: GeminiEmulator;
const ctx = (baseUrl = emulator.url): CallContext => ({
  provider: { name: 'google', type: 'gemini', baseUrl },
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

  it('come back of length 1 when shortened with dimensions, which Gemini leaves unnormalized, pointing the same way', async () => {
    const response = await callEmbeddings(GeminiProvider, { model: 'embed', input: ['first'], dimensions: 4 }, ctx());
    const values = response.data[0]!.embedding as number[];
    const raw = embeddingFor('first', 4);
    expect(Math.hypot(...raw)).not.toBeCloseTo(1, 3);
    expect(Math.hypot(...values)).toBeCloseTo(1, 12);
    values.forEach((value, i) => expect(value).toBeCloseTo(raw[i]! / Math.hypot(...raw), 12));
  });

  it('leave an embedding already of length 1 exactly as Gemini gave it', () => {
    const values = [0.6, 0.8, 0];
    expect(GeminiProvider.parseEmbeddings({ embeddings: [{ values }] }, ctx(), { model: 'embed', input: 'first' }).data[0]!.embedding).toBe(values);
  });

  it('report no usage, Gemini counting none (the gateway estimates it)', () => {
    const response = GeminiProvider.parseEmbeddings({ embeddings: [{ values: [0.5] }, { values: [0.25] }] }, ctx(), { model: 'embed', input: ['12345', '123'] });
    expect(response.usage).toBeUndefined();
  });

  it('come back as base64 float32 when the request asks for base64', () => {
    const values = [0.5, -0.5, 0.5, 0.5];
    const response = GeminiProvider.parseEmbeddings({ embeddings: [{ values }] }, ctx(), { model: 'embed', input: 'first', encoding_format: 'base64' });
    const bytes = Buffer.from(response.data[0]!.embedding as string, 'base64');
    expect([...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)]).toEqual(values);
  });

  it.each([
    ['no embeddings', {}],
    ['an embedding without its values', { embeddings: [{}] }],
    ['the JSON null', null],
  ])("take an answer of %s as the provider's bad response, which another target may answer", async (_what, body) => {
    const failure = await failureOf(Promise.resolve().then(() => GeminiProvider.parseEmbeddings(body, ctx(), { model: 'embed', input: 'first' })));
    expect(failure).toMatchObject({ status: 502, code: 'provider_bad_response', retryable: true });
  });

  it('refuse token arrays as input, which Gemini cannot embed', async () => {
    await expect(callEmbeddings(GeminiProvider, { model: 'embed', input: [[1, 2, 3]] }, ctx())).rejects.toMatchObject({ failure: { status: 400, code: 'unsupported_input' } });
  });

  describe('of more inputs than one batchEmbedContents call takes', () => {
    const texts = Array.from({ length: 250 }, (_, i) => `text number ${i}`);
    const textsOf = (body: unknown) => (body as { requests: Array<{ content: { parts: Array<{ text: string }> } }> }).requests.map((r) => r.content.parts[0]!.text);

    /**
     * A Gemini that answers each batch with `answer`, given the batch's place (from 1) and how many calls the client
     * had sent by then; and the client's dispatcher, which counts the calls it sends.
     */
    async function scriptedGemini(answer: (call: number, sent: number, exchange: EmulatorExchange) => void) {
      const counted = { sent: 0 };
      const agent = new Agent();
      const dispatcher = agent.compose((dispatch) => (options, handler) => {
        counted.sent += 1;
        return dispatch(options, handler);
      });
      let calls = 0;
      const server = await startEmulatorServer((exchange) => answer(++calls, counted.sent, exchange));
      return { server, dispatcher, counted, stop: async () => Promise.all([server.stop(), agent.close()]) };
    }
    const embed = ({ res, body }: EmulatorExchange) => sendJson(res, 200, { embeddings: textsOf(body).map((text) => ({ values: embeddingFor(text) })) });

    it('go in calls of at most 100, joined into one answer indexed by input', async () => {
      const before = emulator.requests().length;
      const response = await callEmbeddings(GeminiProvider, { model: 'embed', input: texts }, ctx());
      const sent = emulator.requests().slice(before).map((r) => textsOf(r.body));
      // The parts go at once (four at a time), so they may arrive in any order.
      expect(sent.map((batch) => batch.length).sort((a, b) => a - b)).toEqual([50, 100, 100]);
      expect(sent.flat().sort()).toEqual([...texts].sort());
      expect(response.data.map((d) => d.index)).toEqual(texts.map((_, i) => i));
      expect(response.data.map((d) => d.embedding)).toEqual(texts.map((text) => embeddingFor(text)));
      expect(response.usage).toBeUndefined();
    });

    it('fail as one failure when a part fails', async () => {
      const gemini = await scriptedGemini((call, _sent, exchange) => {
        if (call === 2) return sendJson(exchange.res, 503, { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } });
        embed(exchange);
      });
      try {
        const failure = await failureOf(callEmbeddings(GeminiProvider, { model: 'embed', input: texts }, ctx(gemini.server.url), { dispatcher: gemini.dispatcher }));
        expect(failure).toMatchObject({ status: 503, retryable: true });
      } finally {
        await gemini.stop();
      }
    });

    it('stop at the caller\'s cancellation, calling for no part after the four under way', async () => {
      const cancel = new Cancellation();
      const many = Array.from({ length: 1_000 }, (_, i) => `text ${i}`);
      const gemini = await scriptedGemini((_call, _sent, exchange) => {
        cancel.cancel(new CallCancelled('the client closed the connection before the answer'));
        embed(exchange);
      });
      try {
        await expect(callEmbeddings(GeminiProvider, { model: 'embed', input: many }, ctx(gemini.server.url), { dispatcher: gemini.dispatcher, cancel })).rejects.toBeInstanceOf(CallCancelled);
        expect(gemini.counted.sent).toBe(4);
      } finally {
        await gemini.stop();
      }
    });
  });
});
