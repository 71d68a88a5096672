import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIEmulator, type OpenAIEmulator } from '../../test/emulators/openai.js';
import type { ChatRequest } from './chat-types.js';
import { chatAnswer, type ChatAnswer } from './provider-call.js';
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
