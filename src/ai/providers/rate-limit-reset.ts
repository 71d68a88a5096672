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
 * come back only there. The reset of the limit that is spent (its `x-ratelimit-remaining-*` at 0), the later of the
 * two when both are or when the headers do not tell which; undefined when neither reset is given.
 *
 * @example rateLimitResetMs({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20s', 'x-ratelimit-reset-tokens': '6m0s' }) // 20_000
 */
export function rateLimitResetMs(headers: IncomingHttpHeaders): number | undefined {
  const requests = durationMs(headers['x-ratelimit-reset-requests']);
  const tokens = durationMs(headers['x-ratelimit-reset-tokens']);
  if (requests === undefined && tokens === undefined) return undefined;
  const requestsSpent = requests !== undefined && headers['x-ratelimit-remaining-requests'] === '0';
  const tokensSpent = tokens !== undefined && headers['x-ratelimit-remaining-tokens'] === '0';
  if (requestsSpent !== tokensSpent) return requestsSpent ? requests : tokens;
  return Math.max(requests ?? 0, tokens ?? 0);
}
