import type { Clock } from '../../clock.js';
import { InProcessRateLimiter } from './in-process-rate-limiter.js';
import type { RateLimiter } from './rate-limiter.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';

export { InProcessRateLimiter, type InProcessRateLimiterOptions } from './in-process-rate-limiter.js';
export { rateLimitHeaders } from './rate-limit-headers.js';
export type { RateLimitDecision, RateLimiter } from './rate-limiter.js';
export { RedisRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter.js';

export interface CreateRateLimiterOptions {
  /** Count in Redis, shared by every node; without it each process counts in its own memory. */
  redisUrl?: string;
  /** The in-process limiter's time. The Redis limiter reads the Redis server's clock instead. */
  clock: Clock;
  /** Told when the shared counter backend cannot be reached (once per outage). */
  onError: (error: Error) => void;
  /** While Redis cannot be reached: allow ('open', default) or refuse ('closed'). */
  failMode?: 'open' | 'closed';
}

/** The limiter the gateway's settings ask for: Redis when a URL is given, else in-process. */
export function createRateLimiter(options: CreateRateLimiterOptions): RateLimiter {
  if (options.redisUrl === undefined) return new InProcessRateLimiter({ clock: options.clock });
  return new RedisRateLimiter({ url: options.redisUrl, onError: options.onError, failMode: options.failMode });
}
