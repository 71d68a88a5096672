import type { CatalogModel } from './catalog-model.js';

/** Token counts as OpenAI reports them: `cachedInputTokens` are part of `inputTokens`, not added to them. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  /** Input tokens written to the provider's prompt cache, also part of `inputTokens` (see CACHE_WRITE_RATES). */
  cacheWrites?: CacheWrites;
}

/** Write prices by entry lifetime, as multiples of the model's input price. */
export interface CacheWriteRates {
  fiveMinute: number;
  oneHour: number;
}

/**
 * Prompt tokens a call wrote to the provider's cache, by how long the entry lives; priced at the model's write
 * prices where its catalog entry has them, else at `rates`, or at CACHE_WRITE_RATES when the provider bills as
 * Anthropic does.
 */
export interface CacheWrites {
  fiveMinute: number;
  oneHour: number;
  rates?: Readonly<CacheWriteRates>;
}

/**
 * What a cache write costs as a multiple of the model's input price: Anthropic's prompt caching bills a 5-minute
 * entry at 1.25× and a 1-hour entry at 2× (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#pricing).
 * The Anthropic adapter reports writes at these rates; the Bedrock adapter at INPUT_RATES (converse-response.ts).
 * A catalog entry's own write prices (`cacheWrite5mPerMillion`, `cacheWrite1hPerMillion`) come before either.
 */
export const CACHE_WRITE_RATES: Readonly<CacheWriteRates> = { fiveMinute: 1.25, oneHour: 2 };

/** Cache writes priced as plain input: for a provider whose write prices, where the catalog entry holds none, are not known. */
export const INPUT_RATES: Readonly<CacheWriteRates> = { fiveMinute: 1, oneHour: 1 };

function tokenCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`"${name}" must be a whole number of tokens, 0 or more; got ${value}`);
  return value;
}

/** The prices of a catalog entry that `costUsd` reads. */
export type ModelPrices = Pick<CatalogModel, 'inputPerMillion' | 'outputPerMillion' | 'cachedInputPerMillion' | 'cacheWrite5mPerMillion' | 'cacheWrite1hPerMillion'>;

/**
 * What one call cost, in USD rounded to 1e-9 (a nano-dollar). Cached input tokens are billed at the model's
 * cached rate, or at the input rate when it has none; a cached count larger than the input count is read as
 * all input cached. Cache writes, never more tokens than the input holds besides the cached ones, are billed at
 * the model's write price for their entry's lifetime, or where it has none at their rates (CACHE_WRITE_RATES
 * unless they say) of the input rate. Usage and cached-token semantics follow OpenAI's
 * `usage.prompt_tokens_details.cached_tokens` (https://platform.openai.com/docs/guides/prompt-caching).
 *
 * @example costUsd(gpt4oMini, { inputTokens: 1_000, outputTokens: 500 }) // 0.00045 at $0.15 / $0.60
 */
export function costUsd(model: ModelPrices, usage: TokenUsage): number {
  const input = tokenCount('inputTokens', usage.inputTokens);
  const output = tokenCount('outputTokens', usage.outputTokens);
  const cached = Math.min(tokenCount('cachedInputTokens', usage.cachedInputTokens ?? 0), input);
  const cachedRate = model.cachedInputPerMillion ?? model.inputPerMillion;
  const fiveMinute = Math.min(tokenCount('cacheWrites.fiveMinute', usage.cacheWrites?.fiveMinute ?? 0), input - cached);
  const oneHour = Math.min(tokenCount('cacheWrites.oneHour', usage.cacheWrites?.oneHour ?? 0), input - cached - fiveMinute);
  const rates = usage.cacheWrites?.rates ?? CACHE_WRITE_RATES;
  const fiveMinuteRate = model.cacheWrite5mPerMillion ?? rates.fiveMinute * model.inputPerMillion;
  const oneHourRate = model.cacheWrite1hPerMillion ?? rates.oneHour * model.inputPerMillion;
  // Sum in micro-dollars (tokens × USD per million), then scale once: fewer floating-point steps.
  const micro = (input - cached - fiveMinute - oneHour) * model.inputPerMillion + cached * cachedRate + fiveMinute * fiveMinuteRate + oneHour * oneHourRate + output * model.outputPerMillion;
  return Math.round(micro * 1_000) / 1e9;
}
