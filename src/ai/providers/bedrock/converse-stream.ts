import { randomUUID } from 'node:crypto';
import { TEXT_BLOCK, THINKING_DELTA, type ChatCompletionChunk, type FinishReason, type StopSequence, type Usage } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import type { CallContext, StreamTranslator } from '../provider.js';
import { incompleteStream, translateEach } from '../stream-events.js';
import { bedrockFailure } from './bedrock-errors.js';
import { anthropicCitationOf, type ConverseCitation } from './converse-citations.js';
import { documentNamesOf } from './document-names.js';
import { finishReasonOf, generationFailed, generationError, stopSequenceOf, usageOf, type ConverseUsage } from './converse-response.js';
import { isClaudeModel, redactedThinkingBlock, thinkingBlock } from './converse-thinking.js';
import { EventStreamDecoder, EventStreamError, type EventStreamMessage } from './event-stream.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

interface ConverseStreamEvent {
  contentBlockIndex?: number;
  start?: { toolUse?: { toolUseId: string; name: string } };
  /** API_runtime_ContentBlockDelta.html; `reasoningContent` is API_runtime_ReasoningContentBlockDelta.html, one member a delta. */
  delta?: { text?: string; toolUse?: { input?: string }; reasoningContent?: { text?: string; signature?: string; redactedContent?: string }; citation?: ConverseCitation };
  stopReason?: string;
  additionalModelResponseFields?: unknown;
  usage?: ConverseUsage;
}

/**
 * The HTTP status ConverseStreamOutput documents for each exception it may send in the stream: a failure in the stream
 * means what it would have meant as an answer (a throttlingException is a rate limit, retried after a while or
 * elsewhere, not a 502). Any other is a 502.
 */
const STREAM_EXCEPTION_STATUS: Readonly<Record<string, number>> = { internalServerException: 500, modelStreamErrorException: 424, serviceUnavailableException: 503, throttlingException: 429, validationException: 400 };

/**
 * ConverseStream's events (API_runtime_ConverseStreamOutput.html) as OpenAI chunks: messageStart → the role chunk,
 * text and tool-input deltas → content and tool-call chunks (each text block's start, and its citations' deltas
 * (API_runtime_CitationsDelta.html) as Anthropic's, TEXT_BLOCK, for the Anthropic ingress), reasoning text deltas → `reasoning_content` chunks,
 * messageStop → the finish chunk, metadata → the usage chunk. An exception message in the stream, a frame failing
 * its CRC, the stream's end before messageStop, or a messageStop that says the generation failed (its failure thrown
 * at the metadata after it, with the usage) ends it with a ProviderCallError.
 *
 * A Claude model's reasoning is also streamed as Anthropic streams thinking (THINKING_DELTA), for the `/v1/messages`
 * ingress: Converse starts no reasoning block (contentBlockStart has no member for one), so a thinking block starts
 * with the first reasoning delta of a content block (its text, or its signature alone when the thinking's display is
 * omitted), and its `signature` delta is the signature_delta. A
 * redacted block's bytes may come in several deltas: its redacted_thinking block starts, whole, at its
 * contentBlockStop.
 */
export function converseStreamTranslator(ctx: CallContext): StreamTranslator {
  const decoder = new EventStreamDecoder();
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(ctx.now / 1000);
  const toolIndexByBlock = new Map<number, number>();
  /** The tool calls some argument text came for: one whose block stops without any has `{}`, as Converse's whole answer says. */
  const argued = new Set<number>();
  const claude = isClaudeModel(ctx.model);
  /** The names the request gave its documents, whose titles citations are told. */
  const documents = documentNamesOf.get(ctx);
  /** The content block whose thinking block has started, for a Claude model. */
  let thinkingBlockAt: number | undefined;
  /** Redacted reasoning's bytes by content block, until the block stops. */
  const redacted = new Map<number, Buffer[]>();
  let usage: Usage | undefined;
  /** messageStop came: the answer is whole (the metadata event after it only counts it). */
  let stopped = false;
  /** messageStop said the generation failed: the failure waits for the metadata event, whose usage Bedrock bills. */
  let failedStop: string | undefined;

  const chunk = (delta: Delta, finishReason: FinishReason | null = null, stopped: StopSequence = {}): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: ctx.model,
    choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null, ...stopped }],
  });

  const translate = (message: EventStreamMessage): ChatCompletionChunk[] => {
    const messageType = message.headers[':message-type'];
    if (messageType === 'exception') {
      const type = String(message.headers[':exception-type'] ?? '');
      const status = Object.hasOwn(STREAM_EXCEPTION_STATUS, type) ? STREAM_EXCEPTION_STATUS[type]! : 502;
      throw new ProviderCallError(bedrockFailure(status, type.charAt(0).toUpperCase() + type.slice(1), messageOf(message.payload), {}));
    }
    if (messageType === 'error') throw new ProviderCallError(bedrockFailure(502, String(message.headers[':error-code'] ?? ''), String(message.headers[':error-message'] ?? ''), {}));
    const event = JSON.parse(message.payload.toString('utf8')) as ConverseStreamEvent;
    switch (message.headers[':event-type']) {
      case 'messageStart':
        return [chunk({ role: 'assistant', content: '' })];
      case 'contentBlockStart': {
        const toolUse = event.start?.toolUse;
        if (!toolUse) return [];
        const index = toolIndexByBlock.size;
        toolIndexByBlock.set(event.contentBlockIndex ?? index, index);
        return [chunk({ tool_calls: [{ index, id: toolUse.toolUseId, type: 'function', function: { name: toolUse.name, arguments: '' } }] })];
      }
      case 'contentBlockDelta': {
        if (typeof event.delta?.text === 'string') return [...textBlockStart(event.contentBlockIndex ?? -1), chunk({ content: event.delta.text })];
        if (event.delta?.citation) {
          // One Anthropic's citations have no counterpart for (a web page's) says nothing: no block starts for it.
          const citation = anthropicCitationOf(event.delta.citation, documents);
          return citation ? [...textBlockStart(event.contentBlockIndex ?? -1), chunk({ [TEXT_BLOCK]: { citation } })] : [];
        }
        if (event.delta?.reasoningContent) return reasoning(event.contentBlockIndex ?? -1, event.delta.reasoningContent);
        const input = event.delta?.toolUse?.input;
        const index = toolIndexByBlock.get(event.contentBlockIndex ?? -1);
        if (typeof input !== 'string' || index === undefined) return [];
        if (input !== '') argued.add(index);
        return [chunk({ tool_calls: [{ index, function: { arguments: input } }] })];
      }
      case 'contentBlockStop': {
        const call = toolIndexByBlock.get(event.contentBlockIndex ?? -1);
        // A call of a tool without parameters: no delta at all. Its arguments are `{}`, not "", which no client parses.
        if (call !== undefined && !argued.has(call)) {
          argued.add(call);
          return [chunk({ tool_calls: [{ index: call, function: { arguments: '{}' } }] })];
        }
        const bytes = redacted.get(event.contentBlockIndex ?? -1);
        redacted.delete(event.contentBlockIndex ?? -1);
        return bytes ? [chunk({ [THINKING_DELTA]: { block: redactedThinkingBlock(Buffer.concat(bytes).toString('base64')) } })] : [];
      }
      case 'messageStop':
        stopped = true;
        if (generationFailed(event.stopReason)) {
          failedStop = event.stopReason;
          return [];
        }
        return [chunk({}, finishReasonOf(event.stopReason), stopSequenceOf(event.stopReason, event.additionalModelResponseFields))];
      case 'metadata':
        usage = usageOf(event.usage);
        if (failedStop) throw generationError(failedStop, usage);
        return [{ id, object: 'chat.completion.chunk', created, model: ctx.model, choices: [], usage }];
      default:
        return [];
    }
  };

  /** The content block the text came in last: a text block starts (TEXT_BLOCK) where Converse started one, for the Anthropic ingress. */
  let textBlockAt: number | undefined;
  const textBlockStart = (block: number): ChatCompletionChunk[] => {
    if (textBlockAt === block) return [];
    textBlockAt = block;
    return [chunk({ [TEXT_BLOCK]: { block: { type: 'text', text: '' } } })];
  };

  const reasoning = (block: number, delta: NonNullable<NonNullable<ConverseStreamEvent['delta']>['reasoningContent']>): ChatCompletionChunk[] => {
    if (typeof delta.text === 'string' && !claude) return [chunk({ reasoning_content: delta.text })];
    if (claude && (typeof delta.text === 'string' || typeof delta.signature === 'string')) {
      // A block's first delta starts it, a signature too: with thinking display omitted, it is the block's only one.
      const start = thinkingBlockAt === block ? [] : [chunk({ [THINKING_DELTA]: { block: thinkingBlock('', '') } })];
      thinkingBlockAt = block;
      const next = typeof delta.text === 'string' ? chunk({ reasoning_content: delta.text, [THINKING_DELTA]: { thinking: delta.text } }) : chunk({ [THINKING_DELTA]: { signature: delta.signature } });
      return [...start, next];
    }
    if (typeof delta.redactedContent === 'string' && claude) redacted.set(block, [...(redacted.get(block) ?? []), Buffer.from(delta.redactedContent, 'base64')]);
    return [];
  };

  const decode = (step: () => EventStreamMessage[]): EventStreamMessage[] => {
    try {
      return step();
    } catch (error) {
      if (error instanceof EventStreamError) throw new ProviderCallError({ status: 502, type: 'api_error', code: error.code, message: `Bedrock's event stream is corrupt: ${error.message}`, retryable: true });
      throw error;
    }
  };

  return {
    push: (bytes) => translateEach(decode(() => decoder.push(bytes)), translate),
    end: () => {
      decode(() => {
        decoder.end();
        return [];
      });
      if (!stopped) throw incompleteStream();
      if (failedStop) throw generationError(failedStop, usage);
      return [];
    },
    usage: () => usage,
  };
}

function messageOf(payload: Buffer): string {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { message?: unknown; Message?: unknown };
    const text = parsed.message ?? parsed.Message;
    return typeof text === 'string' ? text : '';
  } catch {
    return '';
  }
}
