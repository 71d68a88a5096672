import type { RateLimitDecision } from './rate-limiter.js';

/**
 * The sliding window counter both backends count with (the scheme Cloudflare describes in "How we built rate
 * limiting capable of scaling to millions of domains", and NGINX-style limiters approximate).
 *
 * Time is cut into fixed windows aligned to the Unix epoch. A key keeps two numbers: the count of the window in
 * progress and the count of the window before it. The usage at a moment is estimated as
 *
 *     previous × (windowMs − elapsed) / windowMs + current
 *
 * i.e. the previous window's hits are assumed evenly spread and slide out linearly as the current window ages.
 *
 * Why not plain fixed windows: they let a client spend its whole quota at the end of one window and again at the
 * start of the next — twice the limit within a few milliseconds. The estimate above closes that gap, still costs
 * O(1) memory and work per key (two integers, no per-hit log), and needs only one small atomic script in Redis.
 * Why not a sliding log: it stores every hit, which is exact but unbounded per key.
 *
 * All arithmetic is done on integers scaled by `windowMs` (multiply instead of divide), so the in-process and the
 * Redis backend (whose Lua numbers are the same IEEE doubles) reach identical decisions; it is exact while
 * `limit × windowMs` stays below 2^53 (e.g. 100 million units a day).
 */
export interface WindowCounter {
  windowMs: number;
  /** Start of the window in progress, in epoch milliseconds (a multiple of windowMs). */
  windowStart: number;
  /** Quota units counted in the window in progress. */
  count: number;
  /** Quota units counted in the window before it. */
  previous: number;
}

/** Brings a counter to the window that contains `now`. The Redis script in redis-rate-limiter.ts does the same. */
export function rollWindow(counter: WindowCounter, now: number, windowMs: number): void {
  const start = now - (now % windowMs);
  // A stored window at or after `start` is still the one in progress (after a clock step back, it stays so).
  if (counter.windowMs === windowMs && counter.windowStart >= start) return;
  // The window just before: its count becomes the fading share. Anything older, or a changed window length
  // (a config reload), no longer weighs on now.
  const adjacent = counter.windowMs === windowMs && counter.windowStart === start - windowMs;
  counter.previous = adjacent ? counter.count : 0;
  counter.count = 0;
  counter.windowStart = start;
  counter.windowMs = windowMs;
}

/**
 * Decides one hit of `cost` against a counter already rolled to the window in progress (`elapsed` ms into it,
 * which started at `windowStart`). The caller adds `cost` to the count when the decision allows it.
 */
export function slidingWindowDecision(
  previous: number,
  current: number,
  elapsed: number,
  limit: number,
  windowMs: number,
  cost: number,
  windowStart?: number,
): RateLimitDecision {
  const used = previous * (windowMs - elapsed) + current * windowMs;
  const allowed = used + cost * windowMs <= limit * windowMs;
  const usedAfter = allowed ? used + cost * windowMs : used;
  const remaining = Math.max(Math.floor((limit * windowMs - usedAfter) / windowMs), 0);
  return {
    allowed,
    limit,
    windowMs,
    remaining,
    // The end of this window; for the hit that took the last unit, when the next unit fits (the counted hits fade
    // into the next window: the end of this one would tell a client to come back too early).
    resetMs: allowed && remaining === 0 ? retryAfter(previous, current + cost, elapsed, limit, windowMs, 1) : windowMs - elapsed,
    retryAfterMs: allowed ? 0 : retryAfter(previous, current, elapsed, limit, windowMs, cost),
    // One object shape either way: the decision is made on every request of a limited route.
    countedIn: allowed ? windowStart : undefined,
  };
}

/** The first moment a refused hit of the same cost would fit, assuming no other hits meanwhile. */
function retryAfter(previous: number, current: number, elapsed: number, limit: number, windowMs: number, cost: number): number {
  const room = limit - cost;
  // A cost above the limit never fits; point past the moment everything counted has slid out.
  if (room < 0) return windowMs - elapsed + windowMs;
  // The current count fits: wait, within this window, until the previous window's share has faded enough.
  // (previous > 0 here, or the hit would have been allowed.)
  if (current <= room) return windowMs - Math.floor(((room - current) * windowMs) / previous) - elapsed;
  // It does not: wait for the next window, where this window's count becomes the fading share.
  return windowMs - elapsed + windowMs - Math.floor((room * windowMs) / current);
}
