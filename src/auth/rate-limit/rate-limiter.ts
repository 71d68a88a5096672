import { KeygateError } from '../../errors.js';

/**
 * What one hit against one limit decided. Times are relative (milliseconds from now), never timestamps, so
 * they mean the same on every node whatever its clock says — the reason the RateLimit header fields use
 * delay-seconds too (draft-ietf-httpapi-ratelimit-headers-06 §3.3).
 */
export interface RateLimitDecision {
  /** Whether the hit fits in the limit; only allowed hits are counted. */
  allowed: boolean;
  /** The quota per window the hit was checked against. */
  limit: number;
  /** The window the limit applies to, in milliseconds (`RateLimit-Policy: <limit>;w=<seconds>`). */
  windowMs: number;
  /** Quota units still available now, after this hit; never negative. */
  remaining: number;
  /** Milliseconds until the current window ends and its count starts to slide out. */
  resetMs: number;
  /** When refused: milliseconds until a hit of the same cost would be allowed. 0 when allowed. */
  retryAfterMs: number;
  /**
   * Set when the counter backend could not be reached and the decision comes from the limiter's fail mode
   * (open or closed) instead of a count.
   */
  unavailable?: true;
  /**
   * Set on a counted hit: the start of the window it was counted in (epoch milliseconds on the counting clock),
   * which `refund` needs to take it back.
   */
  countedIn?: number;
}

/**
 * A counter of hits per key and window. One key is one limit: callers put everything that identifies the limit
 * (route, consumer, policy) in the key.
 */
export interface RateLimiter {
  /**
   * Counts `cost` quota units against `key` if they fit in `limit` per `windowMs`, and says whether they did.
   * The in-process limiter answers synchronously; shared backends answer with a promise. Never rejects for a
   * backend outage (the fail mode decides); throws for arguments that are not whole numbers in range.
   */
  hit(key: string, limit: number, windowMs: number, cost?: number): Promise<RateLimitDecision> | RateLimitDecision;
  /**
   * Takes back `cost` units an allowed hit counted in the window starting at `countedIn` (its decision's), from
   * that window's count, or from the fading share once the window has rolled on; nothing once it has slid out.
   * For a request that one limit allowed and another refused: a refused request uses up no quota. Never
   * rejects (a backend outage loses the refund, the smaller harm).
   */
  refund(key: string, windowMs: number, cost: number, countedIn: number): Promise<void> | void;
  /**
   * Counts `cost` units against `key` whatever they come to: for what was spent already (an answer's tokens, known
   * once it is written), which fills the window so that the next hit waits. Never rejects (a backend outage loses it).
   */
  charge(key: string, windowMs: number, cost: number): Promise<void> | void;
  /** Frees the limiter's counters (in process) or its connection (shared backends). */
  close(): Promise<void>;
}

/** The limit a charge is counted with: one no count reaches, since a limit only decides whether a hit is allowed. */
export const CHARGE_LIMIT = Number.MAX_SAFE_INTEGER;

/** The checks every backend makes before counting, so a typo in a policy fails loudly instead of limiting nothing. */
export function assertHitArguments(limit: number, windowMs: number, cost: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new KeygateError('invalid_config', `Rate limit "limit" must be a whole number of quota units, 0 or more; got ${limit}`);
  }
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) {
    throw new KeygateError('invalid_config', `Rate limit "windowMs" must be a whole number of milliseconds above 0; got ${windowMs}`);
  }
  if (!Number.isSafeInteger(cost) || cost < 0) {
    throw new KeygateError('invalid_config', `Rate limit "cost" must be a whole number of quota units, 0 or more; got ${cost}`);
  }
}
