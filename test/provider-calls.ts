import { expect } from 'vitest';
import type { ChatCompletionChunk, ChatRequest } from '../src/ai/chat-types.js';
import { ProviderCallError, openChatStream } from '../src/ai/provider-call.js';
import type { CallContext, ProviderAdapter, ProviderFailure } from '../src/ai/providers/provider.js';

/** The adapter unit tests' shared steps: how a call failed, and a stream read whole. */

/** The ProviderFailure a call rejected with; the test fails if it resolved or threw anything else. */
export async function failureOf(call: Promise<unknown>): Promise<ProviderFailure> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderCallError);
  return (error as ProviderCallError).failure;
}

/** Every chunk of one streamed chat completion through `adapter`, in order. */
export async function streamedChunks(adapter: ProviderAdapter, chat: ChatRequest, ctx: CallContext): Promise<ChatCompletionChunk[]> {
  const { chunks } = await callChatStream(adapter, chat, ctx);
  const out: ChatCompletionChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

/** One streamed chat completion as an async iterable of OpenAI chunks, on the sink the gateway's handler uses. */
export async function callChatStream(adapter: ProviderAdapter, request: ChatRequest, ctx: CallContext) {
  const stream = await openChatStream(adapter, request, ctx);
  const queue: ChatCompletionChunk[] = [];
  let done = false;
  let error: Error | undefined;
  let wake: (() => void) | undefined;
  stream.pipe({
    chunk(chunk) {
      queue.push(chunk);
      wake?.();
      return true;
    },
    end(e) {
      done = true;
      error = e;
      wake?.();
    },
  });
  async function* chunks(): AsyncGenerator<ChatCompletionChunk> {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (done) {
        if (error) throw error;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  }
  return { chunks: chunks(), usage: () => stream.usage() };
}
