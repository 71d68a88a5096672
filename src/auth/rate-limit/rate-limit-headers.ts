import type { RateLimitDecision } from './rate-limiter.js';

/**
 * The response header fields for the limits one request was checked against, per "RateLimit header fields for
 * HTTP" (draft-ietf-httpapi-ratelimit-headers-06, the last revision with these four fields):
 *
 * - `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (delay-seconds) describe one limit, the most
 *   restrictive: a refused one (the longest wait first), else the one with the lowest remaining quota — "Server
 *   Behavior": with more than one time window, reply with the fields of the window with the lower remaining.
 * - `RateLimit-Policy` lists every applied limit as a quota policy `<limit>;w=<window seconds>`, that one first.
 * - On refusal, `Retry-After` (RFC 9110 §10.2.3, delay-seconds), with `RateLimit-Reset` naming the same moment,
 *   as "Server Behavior" asks when both are sent.
 *
 * Limits that were not counted because their backend was down and failed open are left out: advertising a full
 * quota nobody counted would mislead the client. Seconds are rounded up, so a client that waits them is not early.
 *
 * @example
 * const headers = rateLimitHeaders([await limiter.hit(`consumer:${id}`, 100, 60_000)]);
 * // { 'RateLimit-Limit': '100', 'RateLimit-Remaining': '99', 'RateLimit-Reset': '60', 'RateLimit-Policy': '100;w=60' }
 */
export function rateLimitHeaders(decisions: readonly RateLimitDecision[]): Record<string, string> {
  // One pass, no intermediate lists: nearly every request has one decision, and this runs for each of them.
  let chosen: RateLimitDecision | undefined;
  let counted = 0;
  for (const decision of decisions) {
    if (!isCounted(decision)) continue;
    counted += 1;
    if (chosen === undefined || isMoreRestrictive(decision, chosen)) chosen = decision;
  }
  if (chosen === undefined) return {};
  let policies = policy(chosen);
  if (counted > 1) {
    const items = [policies];
    for (const decision of decisions) {
      const item = isCounted(decision) ? policy(decision) : undefined;
      if (item !== undefined && !items.includes(item)) items.push(item);
    }
    policies = items.join(', ');
  }
  const reset = String(seconds(chosen.allowed ? chosen.resetMs : chosen.retryAfterMs));
  const headers: Record<string, string> = {
    'RateLimit-Limit': String(chosen.limit),
    'RateLimit-Remaining': String(chosen.remaining),
    'RateLimit-Reset': reset,
    'RateLimit-Policy': policies,
  };
  if (!chosen.allowed) headers['Retry-After'] = reset;
  return headers;
}

/** A limit whose backend was down and failed open counted nothing: it is left out of the fields. */
function isCounted(decision: RateLimitDecision): boolean {
  return !(decision.unavailable && decision.allowed);
}

function isMoreRestrictive(a: RateLimitDecision, b: RateLimitDecision): boolean {
  if (a.allowed !== b.allowed) return !a.allowed;
  if (!a.allowed) return a.retryAfterMs > b.retryAfterMs;
  if (a.remaining !== b.remaining) return a.remaining < b.remaining;
  return a.resetMs > b.resetMs;
}

function policy(decision: RateLimitDecision): string {
  return `${decision.limit};w=${seconds(decision.windowMs)}`;
}

function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}
