import type { Clock } from '../../clock.js';
import { RedisScripts, redisScript } from '../../cluster/redis-scripts.js';
import { CHARGE_LIMIT, assertHitArguments, type RateLimitDecision, type RateLimiter } from './rate-limiter.js';

/**
 * One hit, atomically: the same sliding window counter as sliding-window.ts (rollWindow, then
 * slidingWindowDecision), line for line, so both backends decide alike. Time is the Redis server's TIME unless
 * ARGV[4] carries one, so gateway nodes with skewed clocks still share one timeline. The counter is a hash
 * {w: window, s: window start, c: count, p: previous count} that expires once both its windows are over.
 * Needs Redis 5 or later (a script may write after reading TIME).
 * KEYS[1] = counter; ARGV = limit, windowMs, cost, now-or-''. Returns {allowed, remaining, resetMs, retryAfterMs, start}.
 */
const SLIDING_WINDOW = redisScript(`
local limit = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local start = now - now % w
local stored = redis.call('HMGET', KEYS[1], 'w', 's', 'c', 'p')
local previous, current = 0, 0
if tonumber(stored[1]) == w then
  local s = tonumber(stored[2])
  if s >= start then
    start = s
    current = tonumber(stored[3])
    previous = tonumber(stored[4])
  elseif s == start - w then
    previous = tonumber(stored[3])
  end
end
local elapsed = math.max(now - start, 0)
-- When a hit of cost n would fit, with c counted in this window and nothing more: retryAfter in sliding-window.ts.
local function wait(c, n)
  local room = limit - n
  if room < 0 then
    return w - elapsed + w
  elseif c <= room then
    return w - math.floor((room - c) * w / previous) - elapsed
  end
  return w - elapsed + w - math.floor(room * w / c)
end
local used = previous * (w - elapsed) + current * w
local allowed = used + cost * w <= limit * w
local retry = 0
local reset = w - elapsed
if allowed then
  used = used + cost * w
  redis.call('HSET', KEYS[1], 'w', w, 's', start, 'c', current + cost, 'p', previous)
  redis.call('PEXPIRE', KEYS[1], start + 2 * w - now)
else
  retry = wait(current, cost)
end
local remaining = math.max(math.floor((limit * w - used) / w), 0)
if allowed and remaining == 0 then reset = wait(current + cost, 1) end
return { allowed and 1 or 0, remaining, reset, retry, start }
`);

/**
 * Takes back a counted hit (RateLimiter.refund): from the count of the window it was counted in while that is
 * still the window in progress, else from the fading share of the window after it. KEYS[1] = counter;
 * ARGV = windowMs, cost, countedIn.
 */
const REFUND = redisScript(`
local w = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local counted = tonumber(ARGV[3])
local stored = redis.call('HMGET', KEYS[1], 'w', 's', 'c', 'p')
if tonumber(stored[1]) ~= w then return 0 end
local s = tonumber(stored[2])
if s == counted then
  redis.call('HSET', KEYS[1], 'c', math.max(tonumber(stored[3]) - cost, 0))
elseif s == counted + w then
  redis.call('HSET', KEYS[1], 'p', math.max(tonumber(stored[4]) - cost, 0))
end
return 1
`);


/** When failing closed, how long refused clients are told to wait: an outage is expected to be short. */
const UNAVAILABLE_RETRY_AFTER_MS = 1_000;

export interface RedisRateLimiterOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** Called when counting fails after having worked (and on the first failure): once per outage, not per hit. */
  onError: (error: Error) => void;
  /**
   * What a hit decides while Redis cannot be reached. Default 'open' (allow): the limiter protects capacity,
   * not identity — authentication and authorization still run — so a Redis outage should degrade limiting,
   * not turn into an outage of every API behind the gateway. Choose 'closed' where the limit guards money
   * or a fragile upstream.
   */
  failMode?: 'open' | 'closed';
  /** The longest a hit waits for Redis before the fail mode decides. Default 100 ms. */
  commandTimeoutMs?: number;
  /** Prefix of every counter key. Default 'keygate:rate-limit:'. */
  keyPrefix?: string;
  /**
   * Where "now" comes from. Leave unset in production: the Redis server's clock is the one every node shares.
   * Tests set it to run the Redis script on the same timeline as the in-process limiter.
   */
  clock?: Clock;
}

/**
 * Counts in Redis so that every gateway node and worker shares one limit. Each hit is one EVALSHA of the
 * sliding window script (falling back to EVAL when Redis has not seen the script yet). A dead or slow Redis
 * never stalls a request: commands are not queued while disconnected and time out after `commandTimeoutMs`,
 * and the fail mode decides instead.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #scripts: RedisScripts;
  readonly #failOpen: boolean;
  readonly #keyPrefix: string;
  readonly #clock: Clock | undefined;

  constructor(options: RedisRateLimiterOptions) {
    this.#failOpen = (options.failMode ?? 'open') === 'open';
    this.#keyPrefix = options.keyPrefix ?? 'keygate:rate-limit:';
    this.#clock = options.clock;
    this.#scripts = new RedisScripts({ url: options.url, onError: options.onError, commandTimeoutMs: options.commandTimeoutMs });
  }

  /** Resolves once the connection is ready; hits before then are decided by the fail mode. */
  ready(): Promise<void> {
    return this.#scripts.ready();
  }

  async hit(key: string, limit: number, windowMs: number, cost = 1): Promise<RateLimitDecision> {
    assertHitArguments(limit, windowMs, cost);
    const args = [limit, windowMs, cost, this.#clock === undefined ? '' : this.#clock.now()];
    let reply: unknown;
    try {
      reply = await this.#scripts.run(SLIDING_WINDOW, [this.#keyPrefix + key], args);
    } catch {
      return this.#unavailable(limit, windowMs);
    }
    const [allowed, remaining, resetMs, retryAfterMs, start] = reply as [number, number, number, number, number];
    return allowed === 1 ? { allowed: true, limit, windowMs, remaining, resetMs, retryAfterMs, countedIn: start } : { allowed: false, limit, windowMs, remaining, resetMs, retryAfterMs };
  }

  async refund(key: string, windowMs: number, cost: number, countedIn: number): Promise<void> {
    // A failure was told by the runner; the hit stays counted.
    await this.#scripts.run(REFUND, [this.#keyPrefix + key], [windowMs, cost, countedIn]).catch(() => undefined);
  }

  async charge(key: string, windowMs: number, cost: number): Promise<void> {
    // hit() reports an outage and never rejects for one; its decision says nothing a charge needs.
    await this.hit(key, CHARGE_LIMIT, windowMs, cost);
  }

  close(): Promise<void> {
    return this.#scripts.close();
  }

  #unavailable(limit: number, windowMs: number): RateLimitDecision {
    if (this.#failOpen) return { allowed: true, limit, windowMs, remaining: limit, resetMs: windowMs, retryAfterMs: 0, unavailable: true };
    return { allowed: false, limit, windowMs, remaining: 0, resetMs: UNAVAILABLE_RETRY_AFTER_MS, retryAfterMs: UNAVAILABLE_RETRY_AFTER_MS, unavailable: true };
  }
}
