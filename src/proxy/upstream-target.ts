import { Pool } from 'undici';

export interface TargetOptions {
  url: string;
  weight: number;
  connectTimeout: number;
  /** Idle time allowed between response body chunks (and for an idle keep-alive socket). */
  idleTimeout: number;
  /** Consecutive failures that open the circuit, and how long it stays open. */
  failureThreshold: number;
  cooldown: number;
}

/**
 * One upstream server: its connection pool, its in-flight count (for least-connections), its health as the
 * active checker sees it, and its circuit breaker fed by the requests themselves.
 */
export class UpstreamTarget {
  readonly origin: string;
  /** The Host header for requests to this target. */
  readonly host: string;
  readonly weight: number;
  readonly pool: Pool;
  readonly #failureThreshold: number;
  readonly #cooldown: number;
  /** Requests currently in flight to this target. */
  active = 0;
  /** Set by the active health checker; true until it says otherwise. */
  healthy = true;
  #failures = 0;
  #openUntil = 0;
  /** Smooth weighted round-robin state (nginx's algorithm). */
  currentWeight = 0;

  constructor(options: TargetOptions) {
    const url = new URL(options.url);
    this.origin = url.origin;
    this.host = url.host;
    this.weight = options.weight;
    this.#failureThreshold = options.failureThreshold;
    this.#cooldown = options.cooldown;
    this.pool = new Pool(this.origin, {
      connections: 256,
      pipelining: 1,
      connect: { timeout: options.connectTimeout },
      // idle 0 means no idle timeout; undici refuses a keep-alive timeout of 0.
      keepAliveTimeout: options.idleTimeout > 0 ? Math.min(options.idleTimeout, 60_000) : 60_000,
      keepAliveMaxTimeout: 600_000,
      bodyTimeout: options.idleTimeout,
      headersTimeout: 0,
    });
  }

  /** Whether requests may go here now: healthy, weighted in, and the circuit closed (or half-open for one try). */
  available(now: number): boolean {
    return this.healthy && this.weight > 0 && now >= this.#openUntil;
  }

  recordSuccess(): void {
    this.#failures = 0;
    this.#openUntil = 0;
  }

  recordFailure(now: number): void {
    this.#failures += 1;
    if (this.#failures >= this.#failureThreshold) {
      // Open the circuit; after the cooldown one request is let through (half-open) and decides.
      this.#openUntil = now + this.#cooldown;
      this.#failures = this.#failureThreshold - 1;
    }
  }

  get circuitOpen(): boolean {
    return Date.now() < this.#openUntil;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
