import type { Usage } from './chat-types.js';

/** A token count a provider reported: a whole number, at least 0; anything else is as good as none. */
export function countOf(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? (value as number) : undefined;
}

/**
 * Reasoning tokens a host counts apart from `completion_tokens`, which are output all the same: xAI's ("counted
 * separately from completion_tokens, but counted in the total_tokens",
 * https://docs.x.ai/docs/key-information/consumption-and-rate-limits, and billed as output), told by a total that
 * holds them beside the completion; 0 where the completion holds them already, as OpenAI's does (its total is the
 * prompt and the completion).
 */
export function reasoningApart(usage: Usage, input: number, completion: number): number {
  const reasoning = countOf(usage.completion_tokens_details?.reasoning_tokens);
  return reasoning !== undefined && reasoning > 0 && countOf(usage.total_tokens) === input + completion + reasoning ? reasoning : 0;
}

/**
 * The output tokens of a usage, reasoning included, as OpenAI's Responses and Anthropic's Messages count them: the
 * completion's, and the reasoning a host counted apart from it (reasoningApart).
 */
export function outputTokensOf(usage: Usage | null | undefined): number {
  const completion = usage?.completion_tokens ?? 0;
  const input = countOf(usage?.prompt_tokens);
  return usage && input !== undefined && countOf(completion) !== undefined ? completion + reasoningApart(usage, input, completion) : completion;
}
