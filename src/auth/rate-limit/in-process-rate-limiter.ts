import type { Clock } from '../../clock.js';
import { CHARGE_LIMIT, assertHitArguments, type RateLimitDecision, type RateLimiter } from './rate-limiter.js';
import { rollWindow, slidingWindowDecision, type WindowCounter } from './sliding-window.js';

export interface InProcessRateLimiterOptions {
  clock: Clock;
  /** How often, at most, counters whose both windows are over are dropped. Default 60 s. */
  sweepIntervalMs?: number;
}

const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/**
 * The default limiter: counts in this process's memory with the sliding window counter (sliding-window.ts).
 * A hit is one Map look-up and a few integer operations; a counter object is made only for a key's first hit.
 * Counters whose windows are both over are swept while hitting, at most once per `sweepIntervalMs` of the clock,
 * so memory follows the keys active in the last two windows — and no timer is left to clear.
 *
 * Each node (and each worker process) counts on its own; use the Redis limiter to share one count.
 */
export class InProcessRateLimiter implements RateLimiter {
  readonly #counters = new Map<string, WindowCounter>();
  readonly #clock: Clock;
  readonly #sweepIntervalMs: number;
  #nextSweepAt: number;

  constructor(options: InProcessRateLimiterOptions) {
    this.#clock = options.clock;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    this.#nextSweepAt = this.#clock.now() + this.#sweepIntervalMs;
  }

  /** The number of keys with a live counter. */
  get size(): number {
    return this.#counters.size;
  }

  hit(key: string, limit: number, windowMs: number, cost = 1): RateLimitDecision {
    assertHitArguments(limit, windowMs, cost);
    const now = this.#clock.now();
    if (now >= this.#nextSweepAt) this.#sweep(now);
    let counter = this.#counters.get(key);
    if (counter === undefined) {
      counter = { windowMs, windowStart: now - (now % windowMs), count: 0, previous: 0 };
      this.#counters.set(key, counter);
    } else {
      rollWindow(counter, now, windowMs);
    }
    const decision = slidingWindowDecision(counter.previous, counter.count, Math.max(now - counter.windowStart, 0), limit, windowMs, cost, counter.windowStart);
    if (decision.allowed) counter.count += cost;
    return decision;
  }

  refund(key: string, windowMs: number, cost: number, countedIn: number): void {
    const counter = this.#counters.get(key);
    if (counter === undefined || counter.windowMs !== windowMs) return;
    rollWindow(counter, this.#clock.now(), windowMs);
    if (counter.windowStart === countedIn) counter.count = Math.max(counter.count - cost, 0);
    else if (counter.windowStart === countedIn + windowMs) counter.previous = Math.max(counter.previous - cost, 0);
  }

  charge(key: string, windowMs: number, cost: number): void {
    this.hit(key, CHARGE_LIMIT, windowMs, cost);
  }

  async close(): Promise<void> {
    this.#counters.clear();
  }

  #sweep(now: number): void {
    // Deleting the entry being visited is safe while iterating a Map.
    for (const [key, counter] of this.#counters) {
      if (counter.windowStart + 2 * counter.windowMs <= now) this.#counters.delete(key);
    }
    this.#nextSweepAt = now + this.#sweepIntervalMs;
  }
}
