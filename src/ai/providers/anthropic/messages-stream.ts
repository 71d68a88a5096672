import { randomUUID } from 'node:crypto';
import { PROMPT_USAGE, TEXT_BLOCK, THINKING_DELTA, type AnthropicBlock, type ChatCompletionChunk, type FinishReason, type StopSequence, type Usage } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { SseParser, type SseEvent } from '../../sse.js';
import type { StreamTranslator } from '../provider.js';
import { streamedFailure } from './messages-error.js';
import { finishReasonFor, stopSequenceOf, usageFor } from './messages-response.js';
import { incompleteStream } from '../stream-events.js';
import { JSON_RESPONSE_TOOL } from './response-format.js';
import type { AnthropicStreamEvent, AnthropicToolUseBlock, AnthropicUsage } from './wire-types.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/**
 * Anthropic's streamed Message (https://docs.anthropic.com/en/docs/build-with-claude/streaming) as OpenAI chunks,
 * event by event: `message_start` gives the role chunk (with the prompt's tokens as PROMPT_USAGE), text deltas
 * give content, a `tool_use` block start gives a tool call's id and name and its `input_json_delta`s its
 * arguments, thinking deltas give `reasoning_content` (and, with the start of each thinking or redacted_thinking block
 * and each signature, THINKING_DELTA, which the Anthropic ingress streams on as Anthropic did; likewise each text
 * block's start and its citations, TEXT_BLOCK), `message_delta` gives
 * the finish reason (and STOP_SEQUENCE), and `message_stop` the usage chunk. Content blocks are numbered across text and tools; OpenAI numbers tool
 * calls alone, so each tool block is given the next tool call index. An `error` event is thrown as a
 * ProviderCallError from `push`; a stream that ends before its stop reason (`message_delta`) from `end`.
 */
export function anthropicStreamTranslator(created: number, fallbackModel: string): StreamTranslator {
  const parser = new SseParser();
  let id = `chatcmpl-${randomUUID()}`;
  let model = fallbackModel;
  let counted: AnthropicUsage = {};
  /** `message_delta` came: its counts are the answer's, where `message_start`'s say one output token. */
  let counting = false;
  let usageSent = false;
  let finished = false;
  /** Content block index → OpenAI tool call index, or 'json' for the JSON schema tool whose input is the content. */
  const blocks = new Map<number, number | 'json'>();
  /** The content blocks of tool calls some argument text came for: one that stops without any has `{}`. */
  const argued = new Set<number>();
  let toolCalls = 0;

  const chunk = (delta: Delta, finishReason: FinishReason | null = null, stopped: StopSequence = {}): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null, ...stopped }],
  });
  const usageChunk = (): ChatCompletionChunk => {
    usageSent = true;
    return { id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageFor(counted) };
  };

  const translate = (event: AnthropicStreamEvent): ChatCompletionChunk[] => {
    switch (event.type) {
      case 'message_start': {
        id = event.message.id ?? id;
        model = event.message.model ?? model;
        counted = { ...event.message.usage };
        const role = chunk({ role: 'assistant', content: '' });
        if (typeof counted.input_tokens === 'number') role[PROMPT_USAGE] = usageFor({ ...counted, output_tokens: 0 });
        return [role];
      }
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'text') {
          // The block's start, for the Anthropic ingress to start one where Anthropic did (its citations are its own).
          const text = (block as { text?: string }).text ?? '';
          return [chunk({ [TEXT_BLOCK]: { block: { ...block, text: '' } as AnthropicBlock }, ...(text === '' ? {} : { content: text }) })];
        }
        if (block.type === 'thinking' || block.type === 'redacted_thinking') return [chunk({ [THINKING_DELTA]: { block: block as AnthropicBlock } })];
        if (block.type !== 'tool_use') return [];
        const use = block as AnthropicToolUseBlock;
        if (use.name === JSON_RESPONSE_TOOL) {
          blocks.set(event.index, 'json');
          return [];
        }
        const index = toolCalls++;
        blocks.set(event.index, index);
        return [chunk({ tool_calls: [{ index, id: use.id, type: 'function', function: { name: use.name, arguments: '' } }] })];
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta') return [chunk({ content: (delta as { text: string }).text })];
        if (delta.type === 'citations_delta') return [chunk({ [TEXT_BLOCK]: { citation: (delta as unknown as { citation: Record<string, unknown> }).citation } })];
        if (delta.type === 'thinking_delta') {
          const thinking = (delta as { thinking: string }).thinking;
          return [chunk({ reasoning_content: thinking, [THINKING_DELTA]: { thinking } })];
        }
        if (delta.type === 'signature_delta') return [chunk({ [THINKING_DELTA]: { signature: (delta as { signature: string }).signature } })];
        if (delta.type !== 'input_json_delta') return [];
        const partial = (delta as { partial_json: string }).partial_json;
        const target = blocks.get(event.index);
        if (partial === '' || target === undefined) return [];
        if (target === 'json') return [chunk({ content: partial })];
        argued.add(event.index);
        return [chunk({ tool_calls: [{ index: target, function: { arguments: partial } }] })];
      }
      case 'content_block_stop': {
        // A call of a tool without parameters may stop with no input_json_delta, or only an empty one: its arguments
        // are `{}`, as the whole Message's `input` says, not "", which no client parses.
        const target = blocks.get(event.index);
        if (typeof target !== 'number' || argued.has(event.index)) return [];
        argued.add(event.index);
        return [chunk({ tool_calls: [{ index: target, function: { arguments: '{}' } }] })];
      }
      case 'message_delta':
        // Its usage is cumulative: later counts replace earlier ones.
        counted = { ...counted, ...Object.fromEntries(Object.entries(event.usage ?? {}).filter(([, v]) => typeof v === 'number')) };
        counting ||= typeof event.usage?.output_tokens === 'number';
        if (!event.delta.stop_reason || finished) return [];
        finished = true;
        return [chunk({}, finishReasonFor(event.delta.stop_reason, toolCalls > 0), stopSequenceOf(event.delta.stop_reason, event.delta.stop_sequence))];
      case 'message_stop':
        return usageSent ? [] : [usageChunk()];
      case 'error':
        throw new ProviderCallError(streamedFailure(event.error));
      default:
        // ping, and event types Anthropic adds later
        return [];
    }
  };

  const translateAll = (events: SseEvent[]) => {
    const out: ChatCompletionChunk[] = [];
    for (const event of events) {
      if (event.data === '') continue;
      try {
        out.push(...translate(JSON.parse(event.data) as AnthropicStreamEvent));
      } catch (error) {
        // The model's words before an `error` event of the same read go to the client before the failure.
        if (error instanceof ProviderCallError) error.before = out;
        throw error;
      }
    }
    return out;
  };
  return {
    push: (bytes) => translateAll(parser.push(bytes)),
    // A stream cut after the `message_delta` that says why the answer stopped, before `message_stop`, has the whole
    // answer and its counts, which it reports. Cut before, it is no answer.
    end: () => {
      const last = translateAll(parser.end());
      if (!finished && !usageSent) throw incompleteStream(last);
      return counting && !usageSent ? [...last, usageChunk()] : last;
    },
    usage: (): Usage | undefined => (counting ? usageFor(counted) : undefined),
  };
}
