import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIEmulator, type OpenAIEmulator } from '../../test/emulators/openai.js';
import type { ChatRequest } from './chat-types.js';
import { ProviderCallError, callEmbeddings, chatAnswer, type ChatAnswer } from './provider-call.js';
import { OpenAIProvider } from './providers/openai/index.js';
import type { CallContext } from './providers/provider.js';

const request: ChatRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };

describe('a non-streamed chat call without a promise', () => {
  let emulator: OpenAIEmulator;
  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: 'sk-test' });
  });
  afterAll(() => emulator?.stop());
  const ctx = (baseUrl = emulator.url): CallContext => ({ provider: { name: 'up', type: 'openai', baseUrl }, credential: { id: 'k1', secret: 'sk-test' }, model: 'gpt-4o-mini', stream: false, now: 0 });
  /** Lets undici finish the exchange's bookkeeping, and whatever it would do with an exception, before the test looks. */
  const settled = () => new Promise((resolve) => setTimeout(resolve, 0)).then(() => new Promise((resolve) => setImmediate(resolve)));

  it('calls back once with the answer, even when the callback throws (undici would report it as a second, failed end)', async () => {
    const calls: Array<[Error | undefined, ChatAnswer | undefined]> = [];
    await new Promise<void>((resolve) => {
      chatAnswer(OpenAIProvider, request, ctx(), {}, (error, answer) => {
        calls.push([error, answer]);
        resolve();
        throw new Error('the caller failed while handling the answer');
      });
    });
    await settled();
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBeUndefined();
    expect(calls[0]![1]!.completion.object).toBe('chat.completion');
  });

  it('calls back with the failure when the call cannot be made at all, instead of throwing', async () => {
    const calls: Array<Error | undefined> = [];
    chatAnswer(OpenAIProvider, request, ctx('not a url'), {}, (error) => calls.push(error));
    await settled();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(Error);
  });
});

describe('embeddings past the most inputs a provider takes in one call', () => {
  let emulator: OpenAIEmulator;
  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: 'sk-test' });
  });
  afterAll(() => emulator?.stop());
  const ctx = (): CallContext => ({ provider: { name: 'up', type: 'openai', baseUrl: emulator.url }, credential: { id: 'k1', secret: 'sk-test' }, model: 'text-embedding-3-small', stream: false, now: 0 });
  /** OpenAI as if it took two inputs a call: its answers report usage, which the parts' answers add up to. */
  const twoAtATime = { ...OpenAIProvider, maxEmbeddingInputs: 2 };

  it('add up the usage every part reported', async () => {
    const input = ['one', 'two two', 'three three three', 'four', 'five'];
    const whole = await callEmbeddings(OpenAIProvider, { model: 'text-embedding-3-small', input }, ctx());
    const before = emulator.requests().length;
    const parted = await callEmbeddings(twoAtATime, { model: 'text-embedding-3-small', input }, ctx());
    expect(emulator.requests().slice(before).map((r) => (r.body as { input: string[] }).input)).toEqual([['one', 'two two'], ['three three three', 'four'], ['five']]);
    expect(parted.data).toEqual(whole.data);
    expect(parted.usage).toEqual(whole.usage);
  });

  it('send a single token array as one input, however many tokens it has', async () => {
    const before = emulator.requests().length;
    // The emulator embeds text only and refuses the call: what counts here is what was sent.
    await callEmbeddings(twoAtATime, { model: 'text-embedding-3-small', input: [1, 2, 3, 4, 5] }, ctx()).catch(() => undefined);
    expect(emulator.requests().slice(before).map((r) => (r.body as { input: unknown }).input)).toEqual([[1, 2, 3, 4, 5]]);
  });
});

describe('ProviderCallError', () => {
  it.each([[Object], [200], [Number.NaN], [600]])('makes a failure whose status is no HTTP error status (%s) a retryable 502', (status) => {
    const error = new ProviderCallError({ status: status as unknown as number, type: 'invalid_request_error', code: null, message: 'odd', retryable: false });
    expect(error.failure).toMatchObject({ status: 502, retryable: true, message: 'odd' });
  });
});
