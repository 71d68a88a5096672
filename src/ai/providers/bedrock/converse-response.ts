import { randomUUID } from 'node:crypto';
import { STOP_SEQUENCE, type ChatCompletion, type FinishReason, type StopSequence, type ToolCall, type Usage } from '../../chat-types.js';
import type { CallContext } from '../provider.js';

/** The parts of a Converse response Keygate reads (API_runtime_Converse.html, "Response Syntax"). */
interface ConverseResponse {
  output?: { message?: { content?: Array<{ text?: string; toolUse?: { toolUseId: string; name: string; input?: unknown } }> } };
  stopReason?: string;
  usage?: ConverseUsage;
}

export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

const FINISH_REASONS: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter',
  guardrail_intervened: 'content_filter',
};

export function finishReasonOf(stopReason: string | undefined): FinishReason {
  return FINISH_REASONS[stopReason ?? ''] ?? 'stop';
}

/** A `stop_sequence` stop, for the choice: Converse does not say which of the sequences it was. */
export function stopSequenceOf(stopReason: string | undefined): StopSequence {
  return stopReason === 'stop_sequence' ? { [STOP_SEQUENCE]: null } : {};
}

/**
 * Converse counts cached prompt tokens apart from `inputTokens`; OpenAI counts them inside `prompt_tokens` and names
 * the cache reads in `prompt_tokens_details.cached_tokens`.
 */
export function usageOf(usage: ConverseUsage | undefined): Usage {
  const cacheRead = usage?.cacheReadInputTokens ?? 0;
  const written = usage?.cacheWriteInputTokens ?? 0;
  const prompt = (usage?.inputTokens ?? 0) + cacheRead + written;
  const completion = usage?.outputTokens ?? 0;
  // Cache writes count as plain input: what Bedrock charges above that depends on the model, and the gateway's
  // requests set no cachePoint, so it writes none but a model's own.
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, ...(cacheRead > 0 ? { prompt_tokens_details: { cached_tokens: cacheRead } } : {}) };
}

export function fromConverseResponse(body: unknown, ctx: CallContext): ChatCompletion {
  const response = body as ConverseResponse;
  const blocks = response.output?.message?.content ?? [];
  const text = blocks.map((block) => block.text ?? '').join('');
  const toolCalls: ToolCall[] = blocks.flatMap((block) =>
    block.toolUse ? [{ id: block.toolUse.toolUseId, type: 'function' as const, function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) } }] : [],
  );
  return {
    // Converse names no completion id in its body (only the x-amzn-requestid header).
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(ctx.now / 1000),
    model: ctx.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) }, finish_reason: finishReasonOf(response.stopReason), logprobs: null, ...stopSequenceOf(response.stopReason) }],
    usage: usageOf(response.usage),
  };
}
