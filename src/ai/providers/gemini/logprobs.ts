import type { ChatRequest, ChoiceLogprobs, TopLogprob } from '../../chat-types.js';
import type { GeminiGenerationConfig, GeminiLogprobsResult } from './wire-types.js';

/** Gemini takes at most 20 top candidates a step, as OpenAI's top_logprobs does. */
const MOST_TOP = 20;

/**
 * OpenAI's `logprobs` and `top_logprobs` as Gemini's `responseLogprobs` and `logprobs` (the alternatives a step):
 * https://ai.google.dev/api/generate-content#generationconfig. Only some models return them: the others' 400 is
 * Gemini's to say, and lets an alias move on (googleFailure).
 */
export function logprobsConfig(request: ChatRequest, config: GeminiGenerationConfig): void {
  const asked = request as { logprobs?: unknown; top_logprobs?: unknown };
  // OpenAI's top_logprobs goes only with logprobs: true (validateChat holds it to 0–20).
  if (asked.logprobs !== true) return;
  config.responseLogprobs = true;
  if (typeof asked.top_logprobs === 'number' && asked.top_logprobs > 0) config.logprobs = Math.min(asked.top_logprobs, MOST_TOP);
}

const bytesOf = (token: string): number[] => [...Buffer.from(token, 'utf8')];

/**
 * A candidate's `logprobsResult` in OpenAI's shape: one entry a decoding step, the chosen token with its log
 * probability, bytes, and the step's top candidates (an empty list when none were asked). Null when Gemini gave none.
 */
/**
 * An event's log probabilities split among its text parts (`texts`, in order), each token going with the part its
 * text begins in: OpenAI's chunks carry the tokens of their own text only. Null for a part with none.
 */
export function logprobsPerText(logprobs: ChoiceLogprobs | null, texts: readonly string[]): Array<ChoiceLogprobs | null> {
  const tokens = logprobs?.content ?? [];
  if (tokens.length === 0 || texts.length === 0) return texts.map(() => null);
  const out: Array<ChoiceLogprobs | null> = [];
  let next = 0;
  texts.forEach((text, i) => {
    const own: NonNullable<ChoiceLogprobs['content']> = [];
    let length = 0;
    // The last part takes every token left.
    while (next < tokens.length && (length < text.length || i === texts.length - 1)) {
      own.push(tokens[next]!);
      length += tokens[next]!.token.length;
      next += 1;
    }
    out.push(own.length > 0 ? { content: own, refusal: null } : null);
  });
  return out;
}

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
