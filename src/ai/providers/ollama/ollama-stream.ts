import { randomUUID } from 'node:crypto';
import type { ChatCompletionChunk, FinishReason, Usage } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { NdjsonParser } from '../../sse.js';
import type { CallContext, StreamTranslator } from '../provider.js';
import { incompleteStream, translateEach } from '../stream-events.js';
import { finishReasonOf, toolCallsOf, usageOf, type OllamaChatLine } from './ollama-response.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/**
 * Ollama's NDJSON stream as OpenAI chunks: the first line opens with the role chunk, each line's thinking (a
 * thinking model streams it before its answer) a `reasoning_content` chunk and its text a content chunk, tool calls arrive whole (one chunk each, arguments serialized), and the `done` line gives the finish chunk
 * and the usage chunk. An `error` line, or the stream's end before the `done` line, ends it with a ProviderCallError.
 */
export function ollamaStreamTranslator(ctx: CallContext): StreamTranslator {
  const parser = new NdjsonParser();
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(ctx.now / 1000);
  let started = false;
  let toolCount = 0;
  let usage: Usage | undefined;
  /** The `done` line came: Ollama's last, without which the answer is not whole. */
  let done = false;

  const chunk = (delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: ctx.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
  });

  const translate = (value: unknown): ChatCompletionChunk[] => {
    const line = value as OllamaChatLine;
    if (typeof line.error === 'string') throw new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_stream_error', message: line.error, retryable: true });
    const out: ChatCompletionChunk[] = [];
    if (!started) {
      started = true;
      out.push(chunk({ role: 'assistant', content: '' }));
    }
    if (line.message?.thinking) out.push(chunk({ reasoning_content: line.message.thinking }));
    if (line.message?.content) out.push(chunk({ content: line.message.content }));
    for (const call of toolCallsOf(line)) out.push(chunk({ tool_calls: [{ index: toolCount++, id: call.id, type: 'function', function: call.function }] }));
    if (line.done) {
      done = true;
      usage = usageOf(line);
      out.push(chunk({}, finishReasonOf(line.done_reason, toolCount > 0)), { id, object: 'chat.completion.chunk', created, model: ctx.model, choices: [], usage });
    }
    return out;
  };

  return {
    push: (bytes) => translateEach(parser.push(bytes), translate),
    end: () => {
      const last = translateEach(parser.end(), translate);
      if (!done) throw incompleteStream(last);
      return last;
    },
    usage: () => usage,
  };
}
