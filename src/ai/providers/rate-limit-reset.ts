import type { IncomingHttpHeaders } from 'node:http';

/** A Go duration, as OpenAI writes its resets: `1s`, `6m0s`, `1.5s`, `120ms`, `23h47m36.648s`. */
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000_001 };

/** A duration in OpenAI's format as milliseconds, rounded up; undefined for anything else. */
function durationMs(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART)) ms += Number(amount) * UNIT_MS[unit!]!;
  return Math.ceil(ms);
}

/**
 * When an OpenAI-style rate limit resets, from `x-ratelimit-reset-requests` and `x-ratelimit-reset-tokens`: "the time
 * until the rate limit (based on requests / tokens) resets to its initial state", as a duration
 * (https://platform.openai.com/docs/guides/rate-limits, rate limits in headers). Many of OpenAI's 429s say when to
 * come back only there. The reset of the limit that is spent (its `x-ratelimit-remaining-*` at 0); with requests
 * left, the tokens' (the count let the request through); the later of the two when both are spent or the headers do
 * not tell; undefined when neither reset is given.
 *
 * @example rateLimitResetMs({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20s', 'x-ratelimit-reset-tokens': '6m0s' }) // 20_000
 */
export function rateLimitResetMs(headers: IncomingHttpHeaders): number | undefined {
  const requests = durationMs(headers['x-ratelimit-reset-requests']);
  const tokens = durationMs(headers['x-ratelimit-reset-tokens']);
  if (requests === undefined && tokens === undefined) return undefined;
  // A limit whose remaining count is told and above 0 is not the one spent (a daily request limit with 499 left, whose
  // reset is hours away, must not keep a key out when the tokens of the minute are what ran short).
  const requestsLeft = left(headers['x-ratelimit-remaining-requests']);
  const tokensLeft = left(headers['x-ratelimit-remaining-tokens']);
  const requestsSpent = requests !== undefined && requestsLeft === 0;
  const tokensSpent = tokens !== undefined && tokensLeft === 0;
  if (requestsSpent !== tokensSpent) return requestsSpent ? requests : tokens;
  if (!requestsSpent) {
    // Requests left: the count let this one through, so its tokens are what did not fit.
    if (requestsLeft !== undefined && requestsLeft > 0 && tokens !== undefined) return tokens;
    // Tokens told left, requests not told: the request count is what ran out.
    if (tokensLeft !== undefined && tokensLeft > 0 && requestsLeft === undefined && requests !== undefined) return requests;
  }
  return Math.max(requests ?? 0, tokens ?? 0);
}

/** A `x-ratelimit-remaining-*` count; undefined when absent or not a count. */
function left(value: string | string[] | undefined): number | undefined {
  return typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}
