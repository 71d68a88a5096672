import type { ChatRequest, ChoiceLogprobs, TopLogprob } from '../../chat-types.js';
import type { GeminiGenerationConfig, GeminiLogprobsResult } from './wire-types.js';

/** Gemini takes at most 20 top candidates a step, as OpenAI's top_logprobs does. */
const MOST_TOP = 20;

/**
 * OpenAI's `logprobs` and `top_logprobs` as Gemini's `responseLogprobs` and `logprobs` (the alternatives a step):
 * https://ai.google.dev/api/generate-content#generationconfig. A `top_logprobs` asks for the chosen tokens too, which
 * OpenAI requires beside it. Only some models return them: the others' 400 is Gemini's to say.
 */
export function logprobsConfig(request: ChatRequest, config: GeminiGenerationConfig): void {
  const asked = request as { logprobs?: unknown; top_logprobs?: unknown };
  const top = typeof asked.top_logprobs === 'number' && asked.top_logprobs > 0 ? Math.min(Math.floor(asked.top_logprobs), MOST_TOP) : 0;
  if (asked.logprobs !== true && top === 0) return;
  config.responseLogprobs = true;
  if (top > 0) config.logprobs = top;
}

const bytesOf = (token: string): number[] => [...Buffer.from(token, 'utf8')];

/**
 * A candidate's `logprobsResult` in OpenAI's shape: one entry a decoding step, the chosen token with its log
 * probability, bytes, and the step's top candidates (an empty list when none were asked). Null when Gemini gave none.
 */
export function choiceLogprobsOf(result: GeminiLogprobsResult | undefined): ChoiceLogprobs | null {
  const chosen = result?.chosenCandidates;
  if (!Array.isArray(chosen)) return null;
  const top = result?.topCandidates ?? [];
  return {
    content: chosen.map((candidate, step) => ({
      token: candidate.token ?? '',
      logprob: candidate.logProbability ?? 0,
      bytes: bytesOf(candidate.token ?? ''),
      top_logprobs: (top[step]?.candidates ?? []).map((alternative): TopLogprob => ({ token: alternative.token ?? '', logprob: alternative.logProbability ?? 0, bytes: bytesOf(alternative.token ?? '') })),
    })),
    refusal: null,
  };
}
