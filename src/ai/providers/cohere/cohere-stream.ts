import type { ChatCompletionChunk, FinishReason, StopSequence, Usage } from '../../chat-types.js';
import { SseParser, type SseEvent } from '../../sse.js';
import type { CallContext, StreamTranslator } from '../provider.js';
import { incompleteStream, translateEach } from '../stream-events.js';
import { finishReasonOf, stopSequenceOf, usageOf, type CohereUsage } from './cohere-response.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

interface CohereStreamEvent {
  type?: string;
  id?: string;
  index?: number;
  delta?: {
    message?: { content?: { text?: string; thinking?: string }; tool_plan?: string; tool_calls?: { id?: string; function?: { name?: string; arguments?: string } } };
    finish_reason?: string;
    error?: string;
    usage?: CohereUsage;
  };
}

/**
 * Cohere's chat stream events (https://docs.cohere.com/v2/docs/streaming) as OpenAI chunks: message-start → the role
 * chunk, content-delta → content, or `reasoning_content` for a reasoning model's thinking (its `thinking` content
 * block, whose deltas carry `thinking` instead of `text`), tool-call-start and tool-call-delta → tool-call chunks, message-end → the finish
 * chunk and the usage chunk (or, when the generation ended in ERROR, a ProviderCallError; a stream that ends before
 * message-end fails too). tool-plan-delta (what the model says before it calls tools) → content, as an OpenAI
 * assistant says it beside its calls (and as an assistant's such text goes back to Cohere: its `tool_plan`);
 * citations have no OpenAI counterpart and are dropped.
 */
export function cohereStreamTranslator(ctx: CallContext): StreamTranslator {
  const parser = new SseParser();
  let id = `chatcmpl-${ctx.now}`;
  const created = Math.floor(ctx.now / 1000);
  const toolIndexByEvent = new Map<number, number>();
  /** Tool calls not yet ended, and whether argument text came for each: one that ends without any has `{}`. */
  const openCalls = new Map<number, boolean>();
  let usage: Usage | undefined;
  /** message-end came: Cohere's last event, without which the answer is not whole. */
  let messageEnded = false;

  const chunk = (delta: Delta, finishReason: FinishReason | null = null, stopped: StopSequence = {}): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: ctx.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null, ...stopped }],
  });

  const translate = (sse: SseEvent): ChatCompletionChunk[] => {
    if (sse.data === '' || sse.data === '[DONE]') return [];
    const event = JSON.parse(sse.data) as CohereStreamEvent;
    switch (event.type ?? sse.event) {
      case 'message-start':
        if (event.id) id = event.id;
        return [chunk({ role: 'assistant', content: '' })];
      case 'content-delta': {
        const { text, thinking } = event.delta?.message?.content ?? {};
        return [...(thinking ? [chunk({ reasoning_content: thinking })] : []), ...(text ? [chunk({ content: text })] : [])];
      }
      case 'tool-plan-delta': {
        const plan = event.delta?.message?.tool_plan;
        return plan ? [chunk({ content: plan })] : [];
      }
      case 'tool-call-start': {
        const call = event.delta?.message?.tool_calls;
        const index = toolIndexByEvent.size;
        toolIndexByEvent.set(event.index ?? index, index);
        const args = call?.function?.arguments ?? '';
        openCalls.set(index, args !== '');
        return [chunk({ tool_calls: [{ index, id: call?.id ?? `call_${index}`, type: 'function', function: { name: call?.function?.name ?? '', arguments: args } }] })];
      }
      case 'tool-call-delta': {
        const args = event.delta?.message?.tool_calls?.function?.arguments;
        const index = toolIndexByEvent.get(event.index ?? -1) ?? toolIndexByEvent.size - 1;
        if (!args) return [];
        if (openCalls.has(index)) openCalls.set(index, true);
        return [chunk({ tool_calls: [{ index, function: { arguments: args } }] })];
      }
      case 'tool-call-end': {
        const index = toolIndexByEvent.get(event.index ?? -1);
        return index === undefined ? [] : ended([index]);
      }
      case 'message-end': {
        messageEnded = true;
        const reason = event.delta?.finish_reason;
        // Kept before a failed generation (ERROR) is thrown: Cohere made it, and bills it, all the same.
        usage = usageOf(event.delta?.usage);
        const finish = chunk({}, finishReasonOf(reason, event.delta?.error, usage), stopSequenceOf(reason));
        // A call Cohere did not end (no tool-call-end) ends with the message.
        // Without Cohere's counts no usage chunk: the gateway estimates the call's, as for any provider that tells none.
        return [...ended([...openCalls.keys()]), finish, ...(usage ? [{ id, object: 'chat.completion.chunk' as const, created, model: ctx.model, choices: [], usage }] : [])];
      }
      default:
        return [];
    }
  };

  /** The calls' ends: a call of a tool without parameters comes with arguments "" and no delta; its arguments are `{}`. */
  const ended = (indexes: number[]): ChatCompletionChunk[] => {
    const out: ChatCompletionChunk[] = [];
    for (const index of indexes) {
      if (openCalls.get(index) === false) out.push(chunk({ tool_calls: [{ index, function: { arguments: '{}' } }] }));
      openCalls.delete(index);
    }
    return out;
  };

  return {
    push: (bytes) => translateEach(parser.push(bytes), translate),
    end: () => {
      const last = translateEach(parser.end(), translate);
      if (!messageEnded) throw incompleteStream(last);
      return last;
    },
    usage: () => usage,
  };
}
