import type { CatalogModel } from './catalog-model.js';

/** Token counts as OpenAI reports them: `cachedInputTokens` are part of `inputTokens`, not added to them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
}

function tokenCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`"${name}" must be a whole number of tokens, 0 or more; got ${value}`);
  return value;
}

/**
 * What one call cost, in USD rounded to 1e-9 (a nano-dollar). Cached input tokens are billed at the model's
 * cached rate, or at the input rate when it has none; a cached count larger than the input count is read as
 * all input cached. Usage and cached-token semantics follow OpenAI's `usage.prompt_tokens_details.cached_tokens`
 * (https://platform.openai.com/docs/guides/prompt-caching).
 *
 * @example costUsd(gpt4oMini, { inputTokens: 1_000, outputTokens: 500 }) // 0.00045 at $0.15 / $0.60
 */
export function costUsd(model: Pick<CatalogModel, 'inputPerMillion' | 'outputPerMillion' | 'cachedInputPerMillion'>, usage: TokenUsage): number {
  const input = tokenCount('inputTokens', usage.inputTokens);
  const output = tokenCount('outputTokens', usage.outputTokens);
  const cached = Math.min(tokenCount('cachedInputTokens', usage.cachedInputTokens ?? 0), input);
  const cachedRate = model.cachedInputPerMillion ?? model.inputPerMillion;
  // Sum in micro-dollars (tokens × USD per million), then scale once: fewer floating-point steps.
  const micro = (input - cached) * model.inputPerMillion + cached * cachedRate + output * model.outputPerMillion;
  return Math.round(micro * 1_000) / 1e9;
}
