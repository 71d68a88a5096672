import { generationFailure } from '../generation-failed.js';
import { STOP_SEQUENCE, type ChatCompletion, type FinishReason, type StopSequence, type ToolCall, type Usage } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import type { CallContext, ProviderFailure } from '../provider.js';

/** The parts of a Cohere v2 Chat response Keygate reads (https://docs.cohere.com/reference/chat, "Response"). */
interface CohereChatResponse {
  id?: string;
  finish_reason?: string;
  message?: { content?: Array<{ type?: string; text?: string; thinking?: string }>; tool_plan?: string; tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }> };
  usage?: CohereUsage;
}

export interface CohereUsage {
  tokens?: { input_tokens?: number; output_tokens?: number };
  billed_units?: { input_tokens?: number; output_tokens?: number };
  /** "The number of prompt tokens that hit the inference cache" (https://docs.cohere.com/reference/chat). */
  cached_tokens?: number;
}

const FINISH_REASONS: Record<string, FinishReason> = { COMPLETE: 'stop', STOP_SEQUENCE: 'stop', MAX_TOKENS: 'length', TOOL_CALL: 'tool_calls', ERROR_TOXIC: 'content_filter' };

/**
 * COMPLETE and STOP_SEQUENCE → stop, MAX_TOKENS → length, TOOL_CALL → tool_calls. OpenAI has no finish reason for a
 * failed generation, so ERROR (and any other) is a retryable failure rather than a truncated answer passed as whole.
 */
export function finishReasonOf(reason: string | undefined, error?: string, billed?: Usage): FinishReason {
  const mapped = FINISH_REASONS[reason ?? ''];
  if (mapped) return mapped;
  throw new ProviderCallError(cohereGenerationFailure(reason, error), billed);
}

/** A STOP_SEQUENCE finish, for the choice: Cohere does not say which of the sequences it was. */
export function stopSequenceOf(reason: string | undefined): StopSequence {
  return reason === 'STOP_SEQUENCE' ? { [STOP_SEQUENCE]: null } : {};
}

export function cohereGenerationFailure(reason: string | undefined, error?: string): ProviderFailure {
  return generationFailure(`Cohere's generation ended with ${reason ?? 'no finish reason'}${error ? `: ${error}` : ''}`);
}

/**
 * Cohere reports the tokens the model processed (`tokens`, its own prompt template's included) and the ones it bills
 * (`billed_units`, https://docs.cohere.com/reference/chat): the billed ones, which are what a call costs and what a
 * budget counts; the processed ones only when no billed count is given. None when Cohere gave neither (its usage is
 * optional): the gateway estimates, as for any provider that reports none, rather than book the call at 0 tokens.
 * The prompt tokens Cohere read from its cache (`cached_tokens`) are OpenAI's `prompt_tokens_details.cached_tokens`,
 * whole and never more than the prompt tokens (Cohere types the count as a number, not an integer).
 */
export function usageOf(usage: CohereUsage | undefined): Usage | undefined {
  const prompt = usage?.billed_units?.input_tokens ?? usage?.tokens?.input_tokens;
  const completion = usage?.billed_units?.output_tokens ?? usage?.tokens?.output_tokens;
  if (prompt === undefined && completion === undefined) return undefined;
  const cached = usage?.cached_tokens;
  const details = typeof cached === 'number' && cached >= 0 ? { prompt_tokens_details: { cached_tokens: Math.min(Math.round(cached), prompt ?? 0) } } : {};
  return { prompt_tokens: prompt ?? 0, completion_tokens: completion ?? 0, total_tokens: (prompt ?? 0) + (completion ?? 0), ...details };
}

export function fromCohereChat(body: unknown, ctx: CallContext): ChatCompletion {
  const response = body as CohereChatResponse;
  const usage = usageOf(response.usage);
  const content = response.message?.content ?? [];
  // What the model says before it calls tools (`tool_plan`) is the assistant's text beside its calls, as OpenAI has
  // it (and as such text goes back to Cohere); Cohere gives no content then.
  const plan = typeof response.message?.tool_plan === 'string' ? response.message.tool_plan : '';
  const text = plan + content.map((part) => (part.type === 'text' || part.type === undefined ? (part.text ?? '') : '')).join('');
  // A reasoning model's thinking, a content item of its own before the text.
  const thinking = content.map((part) => (part.type === 'thinking' ? (part.thinking ?? '') : '')).join('');
  const toolCalls: ToolCall[] = (response.message?.tool_calls ?? []).map((call, i) => ({ id: call.id ?? `call_${i}`, type: 'function', function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '{}' } }));
  return {
    id: response.id ?? `chatcmpl-${ctx.now}`,
    object: 'chat.completion',
    created: Math.floor(ctx.now / 1000),
    model: ctx.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, ...(thinking ? { reasoning_content: thinking } : {}), ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) }, finish_reason: finishReasonOf(response.finish_reason, undefined, usage), logprobs: null, ...stopSequenceOf(response.finish_reason) }],
    ...(usage ? { usage } : {}),
  };
}
