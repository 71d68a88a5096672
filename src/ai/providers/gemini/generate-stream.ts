import { randomUUID } from 'node:crypto';
import type { ChatCompletionChunk, FinishReason, Usage } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { SseParser, type SseEvent } from '../../sse.js';
import type { StreamTranslator } from '../provider.js';
import { incompleteStream, translateEach } from '../stream-events.js';
import { googleFailure } from './gemini-error.js';
import { finishReasonFor, toolCallFor, usageFor } from './generate-response.js';
import type { GeminiErrorBody, GeminiGenerateResponse } from './wire-types.js';
import { choiceLogprobsOf, logprobsPerText } from './logprobs.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/**
 * Gemini's streamGenerateContent with `alt=sse` (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent)
 * as OpenAI chunks. Every event is a GenerateContentResponse: its text parts are content deltas (thought parts,
 * there only when the request asked for them, `reasoning_content` deltas), each
 * functionCall arrives whole and becomes one tool call delta with all its arguments, a finishReason is the
 * finish chunk, and the usage of the last event that had one is sent as the usage chunk when the stream ends
 * (Gemini has no end-of-stream event). An event carrying `error` is thrown as a ProviderCallError, as is the stream's
 * end before every candidate asked for (`choices`) has its finishReason.
 */
export function geminiStreamTranslator(created: number, fallbackModel: string, choices = 1): StreamTranslator {
  const parser = new SseParser();
  let id: string | undefined;
  let model = fallbackModel;
  let usage: Usage | undefined;
  /** Per choice (candidate index): tool calls so far, or absent before its role chunk. */
  const toolCalls = new Map<number, number>();
  const finished = new Set<number>();
  // A prompt Gemini blocked answers every candidate asked for with its one refusal.
  let blocked = false;

  const chunk = (index: number, delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk => ({
    id: id as string,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index, delta, finish_reason: finishReason, logprobs: null }],
  });
  const opened = (index: number, out: ChatCompletionChunk[]): void => {
    if (toolCalls.has(index)) return;
    toolCalls.set(index, 0);
    out.push(chunk(index, { role: 'assistant', content: '' }));
  };

  const translate = (event: GeminiGenerateResponse & Partial<GeminiErrorBody>): ChatCompletionChunk[] => {
    if (event.error) throw new ProviderCallError(googleFailure(event.error.code ?? 500, event.error, {}));
    id ??= event.responseId ?? `chatcmpl-${randomUUID()}`;
    model = event.modelVersion ?? model;
    if (event.usageMetadata) usage = usageFor(event.usageMetadata);
    const out: ChatCompletionChunk[] = [];
    if (!event.candidates?.length && event.promptFeedback?.blockReason) {
      opened(0, out);
      finished.add(0);
      blocked = true;
      out.push(chunk(0, {}, 'content_filter'));
    }
    for (const candidate of event.candidates ?? []) {
      const index = candidate.index ?? 0;
      opened(index, out);
      // The event's log probabilities, split among its text parts: OpenAI's chunks carry those of their own tokens.
      const texts = (candidate.content?.parts ?? []).filter((part) => !part.thought && typeof part.text === 'string' && part.text !== '').map((part) => part.text as string);
      const logprobs = logprobsPerText(choiceLogprobsOf(candidate.logprobsResult), texts);
      let textIndex = 0;
      for (const part of candidate.content?.parts ?? []) {
        if (part.thought) {
          if (typeof part.text === 'string' && part.text !== '') out.push(chunk(index, { reasoning_content: part.text }));
          continue;
        }
        if (typeof part.text === 'string' && part.text !== '') {
          const text = chunk(index, { content: part.text });
          const own = logprobs[textIndex++];
          if (own) text.choices[0]!.logprobs = own;
          out.push(text);
        }
        if (part.functionCall) {
          const n = toolCalls.get(index) ?? 0;
          toolCalls.set(index, n + 1);
          const call = toolCallFor(part.functionCall, part.thoughtSignature);
          out.push(chunk(index, { tool_calls: [{ index: n, ...call }] }));
        }
      }
      const finish = finishReasonFor(candidate.finishReason, (toolCalls.get(index) ?? 0) > 0, usage);
      if (finish && !finished.has(index)) {
        finished.add(index);
        out.push(chunk(index, {}, finish));
      }
    }
    return out;
  };

  const translateAll = (events: SseEvent[]) => translateEach(events, (event) => (event.data === '' ? [] : translate(JSON.parse(event.data) as GeminiGenerateResponse)));
  /**
   * Every candidate asked for (`candidateCount`), and any other begun, has its finishReason: Gemini has no event of its
   * own to end a stream, this is its end.
   */
  const whole = () => blocked || finished.size >= Math.max(toolCalls.size, choices);
  // Every event carries the counts so far: only a stream whose every candidate finished has said what it cost. A
  // stream cut before then reports none, and the gateway counts the tokens it saw (marked as estimated).
  const finalUsage = () => (usage && whole() ? usage : undefined);
  return {
    push: (bytes) => translateAll(parser.push(bytes)),
    end: () => {
      const last = translateAll(parser.end());
      if (!whole()) throw incompleteStream(last);
      const final = finalUsage();
      if (!final || id === undefined) return last;
      return [...last, { id, object: 'chat.completion.chunk', created, model, choices: [], usage: final }];
    },
    usage: finalUsage,
  };
}
