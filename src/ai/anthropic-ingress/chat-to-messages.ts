import { randomUUID } from 'node:crypto';
import { outputTokensOf } from '../output-tokens.js';
import { ANTHROPIC_BLOCKS, CACHE_WRITES, STOP_SEQUENCE, WINDOW_EXCEEDED, cachedPromptTokens, type ChatCompletion, type FinishReason, type StopSequence, type Usage } from '../chat-types.js';
import type { ThinkingAsked } from '../providers/client-thinking.js';
import { keygateSignature, type HiddenReasoning } from './keygate-thinking.js';
import type { AnthropicContentBlock, AnthropicMessage, AnthropicStopReason, AnthropicUsage } from './wire-types.js';

/**
 * An OpenAI finish reason as Anthropic's `stop_reason` (https://docs.anthropic.com/en/api/handling-stop-reasons),
 * and `stop_sequence`. A `length` is `max_tokens`, or `model_context_window_exceeded` when the provider said the
 * context window ended it (WINDOW_EXCEEDED). A `stop` is `stop_sequence` when the provider said the answer reached one of the request's
 * stop sequences (STOP_SEQUENCE, with the sequence when it said which, or when the request had only one: `stops`),
 * else `end_turn`; a `stop` with tool calls (some providers answer so) is `tool_use`, because Anthropic clients run
 * tools only on that reason. An answer that is a refusal (`refused`: OpenAI's `refusal` member,
 * https://platform.openai.com/docs/guides/structured-outputs#refusals), which OpenAI ends as `stop`, is `refusal`
 * whatever its finish, as a filtered one (`content_filter`) is: a structured-output client checks that reason
 * before it reads the text as the schema's JSON (https://docs.anthropic.com/en/docs/build-with-claude/structured-outputs).
 */
export function anthropicStopFor(finishReason: FinishReason | null | undefined, calledTools: boolean, stopped: StopSequence = {}, stops: readonly string[] = [], refused = false): { stop_reason: AnthropicStopReason; stop_sequence: string | null } {
  const stop = (reason: AnthropicStopReason) => ({ stop_reason: reason, stop_sequence: null });
  if (refused) return stop('refusal');
  switch (finishReason) {
    case 'length':
      return stop(WINDOW_EXCEEDED in stopped ? 'model_context_window_exceeded' : 'max_tokens');
    case 'tool_calls':
    case 'function_call':
      return stop('tool_use');
    case 'content_filter':
      return stop('refusal');
    default:
      if (calledTools) return stop('tool_use');
      return STOP_SEQUENCE in stopped ? { stop_reason: 'stop_sequence', stop_sequence: stopped[STOP_SEQUENCE] ?? (stops.length === 1 ? stops[0]! : null) } : stop('end_turn');
  }
}

/** A finish reason that is not OpenAI's but some OpenAI-compatible hosts' (OpenRouter's): the choice failed. */
export const failedChoice = (finishReason: FinishReason | string | null | undefined): boolean => finishReason === 'error';

/**
 * OpenAI's prompt tokens include cache reads and writes; Anthropic counts both apart from `input_tokens`. Both
 * cache fields are always there, as in Anthropic's answers (clients add them up); writes are known where the
 * provider reported them (CACHE_WRITES: Anthropic's and Bedrock's), else 0, and then also by the lifetime of their
 * entries (`cache_creation`, Anthropic's Usage: https://docs.anthropic.com/en/api/messages), which they are billed by.
 */
export function anthropicUsageFor(usage: Usage | null | undefined): AnthropicUsage {
  const cached = cachedPromptTokens(usage);
  const writes = usage?.[CACHE_WRITES];
  const written = writes ? writes.fiveMinute + writes.oneHour : 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached - written),
    // Thinking included, as Anthropic counts it, also from a host that counts reasoning apart (xAI).
    output_tokens: outputTokensOf(usage),
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    ...(writes ? { cache_creation: { ephemeral_5m_input_tokens: writes.fiveMinute, ephemeral_1h_input_tokens: writes.oneHour } } : {}),
  };
}

/** Anthropic's message ids start `msg_`: an Anthropic provider's id is kept, any other is given the prefix. */
export function messageIdFor(id: string | undefined): string {
  if (!id) return `msg_${randomUUID().replaceAll('-', '')}`;
  return id.startsWith('msg_') ? id : `msg_${id.replace(/^chatcmpl-/, '')}`;
}

/** Tool arguments are JSON text in OpenAI's shape and an object in Anthropic's; arguments that do not parse to one are `{}`. */
export function toolInputOf(args: string): Record<string, unknown> {
  try {
    const input = JSON.parse(args) as unknown;
    return typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * A chat completion, from any provider, as the Message a non-streamed `POST /v1/messages` answers
 * (https://docs.anthropic.com/en/api/messages): the first choice's text is one text block, its tool calls are
 * `tool_use` blocks after it, and `model` is the one the client asked for (an alias stays an alias). An Anthropic
 * provider's answer with thinking blocks (ANTHROPIC_BLOCKS) is its blocks, as Anthropic wrote them. Another
 * provider's reasoning (`reasoning_content`) is a thinking block before the text, signed as Keygate's
 * (keygate-thinking.ts), when the client asked for thinking (`thinking`, thinkingAsked): its text empty, and kept in
 * the signature, for `display: "omitted"`. When it did not, the reasoning `hidden` says to hand back all the same
 * (HiddenReasoning) is such a block with its text empty. `stops` are the request's stop sequences (see anthropicStopFor).
 * A refusal's words are the text block, and its stop reason `refusal`.
 *
 * @example chatToMessages(await callChat(adapter, messagesToChat(body), ctx), body.model)
 */
export function chatToMessages(completion: ChatCompletion, requestedModel: string, stops: readonly string[] = [], thinking?: ThinkingAsked, hidden?: HiddenReasoning): AnthropicMessage {
  const choice = completion.choices[0];
  // OpenRouter and others end a choice that failed with `finish_reason: "error"`: no Message can say that, and an
  // `end_turn` would pass a cut answer off as whole. The caller answers 502, as for any completion it cannot read.
  if (failedChoice(choice?.finish_reason)) throw new Error('the provider answered with a choice that failed');
  const content: AnthropicContentBlock[] = [];
  const calls = choice?.message.tool_calls ?? [];
  const blocks = choice?.message[ANTHROPIC_BLOCKS];
  const refusal = typeof choice?.message.refusal === 'string' ? choice.message.refusal : '';
  if (blocks) content.push(...(blocks as AnthropicContentBlock[]));
  else {
    const reasoning = choice?.message.reasoning_content;
    if (typeof reasoning === 'string' && reasoning !== '') {
      if (thinking?.on && !thinking.omitted) content.push({ type: 'thinking', thinking: reasoning, signature: keygateSignature() });
      else if (thinking?.on || hidden === 'turn' || (hidden === 'tool-calls' && calls.length > 0)) content.push({ type: 'thinking', thinking: '', signature: keygateSignature(reasoning) });
    }
    const text = choice?.message.content || refusal || '';
    // Anthropic refuses an empty text block when a client sends the answer back in its next turn.
    if (text !== '') content.push({ type: 'text', text });
    for (const call of calls) content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInputOf(call.function.arguments) });
  }
  return {
    id: messageIdFor(completion.id),
    type: 'message',
    role: 'assistant',
    model: requestedModel,
    content,
    ...anthropicStopFor(choice?.finish_reason, calls.length > 0, choice, stops, refusal !== ''),
    usage: anthropicUsageFor(completion.usage),
  };
}
