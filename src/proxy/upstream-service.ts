import { parseDuration } from '../config/duration.js';
import type { ServiceSpec } from './service-schema.js';
import { UpstreamTarget } from './upstream-target.js';

export interface RetryPolicy {
  attempts: number;
  onStatus: ReadonlySet<number>;
}

export interface ActiveCheck {
  path: string;
  interval: number;
  timeout: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  expectStatus: ReadonlySet<number> | undefined;
}

export interface Timeouts {
  connect: number;
  idle: number;
  total: number;
  /** The longest a client may take nothing of the response while the target waits on it (resumeWhenDrained). */
  send: number;
}

const ms = (text: string | undefined, fallback: number): number => (text ? (parseDuration(text) ?? fallback) : fallback);

export const SERVICE_DEFAULTS = {
  balancing: 'round-robin',
  retries: { attempts: 2, onStatus: [502, 503, 504], budget: 0.2 },
  // No total limit by default: it would cut Server-Sent Events and other long streams; idle bounds a stall.
  // send: nginx's send_timeout.
  timeouts: { connect: 2_000, idle: 60_000, total: 0, send: 60_000 },
  passive: { failures: 5, cooldown: 10_000 },
  active: { interval: 5_000, timeout: 2_000, healthyThreshold: 2, unhealthyThreshold: 3 },
} as const;

/**
 * A service as the data plane uses it: its targets, how to choose among them, and its retry budget. Built from a
 * ServiceSpec; reused across snapshots while the spec is unchanged, so connection pools and health survive a
 * config reload.
 */
export class UpstreamService {
  readonly name: string;
  readonly targets: UpstreamTarget[];
  readonly leastConnections: boolean;
  readonly retry: RetryPolicy;
  readonly timeouts: Timeouts;
  readonly activeCheck: ActiveCheck | undefined;
  readonly specKey: string;
  readonly #budgetRatio: number;
  /** Retry tokens: each request adds `budget`, each retry spends one (Envoy/Finagle-style retry budget). */
  #retryTokens = 10;

  constructor(spec: ServiceSpec) {
    this.name = spec.name;
    this.specKey = JSON.stringify(spec);
    this.leastConnections = spec.balancing === 'least-connections';
    const retries = spec.retries ?? {};
    this.retry = { attempts: retries.attempts ?? SERVICE_DEFAULTS.retries.attempts, onStatus: new Set(retries.onStatus ?? SERVICE_DEFAULTS.retries.onStatus) };
    this.#budgetRatio = retries.budget ?? SERVICE_DEFAULTS.retries.budget;
    const t = spec.timeouts ?? {};
    this.timeouts = { connect: ms(t.connect, SERVICE_DEFAULTS.timeouts.connect), idle: ms(t.idle, SERVICE_DEFAULTS.timeouts.idle), total: ms(t.total, SERVICE_DEFAULTS.timeouts.total), send: ms(t.send, SERVICE_DEFAULTS.timeouts.send) };
    const passive = spec.healthCheck?.passive ?? {};
    const failureThreshold = passive.failures ?? SERVICE_DEFAULTS.passive.failures;
    const cooldown = ms(passive.cooldown, SERVICE_DEFAULTS.passive.cooldown);
    this.targets = spec.targets.map((t) => new UpstreamTarget({ url: t.url, weight: t.weight ?? 1, connectTimeout: this.timeouts.connect, idleTimeout: this.timeouts.idle, failureThreshold, cooldown }));
    const active = spec.healthCheck?.active;
    this.activeCheck = active
      ? {
          path: active.path,
          interval: ms(active.interval, SERVICE_DEFAULTS.active.interval),
          timeout: ms(active.timeout, SERVICE_DEFAULTS.active.timeout),
          healthyThreshold: active.healthyThreshold ?? SERVICE_DEFAULTS.active.healthyThreshold,
          unhealthyThreshold: active.unhealthyThreshold ?? SERVICE_DEFAULTS.active.unhealthyThreshold,
          expectStatus: active.expectStatus ? new Set(active.expectStatus) : undefined,
        }
      : undefined;
  }

  /**
   * Chooses a target among the available ones, skipping `tried`: smooth weighted round robin (nginx), or the
   * fewest requests in flight relative to weight.
   */
  pick(now: number, tried?: ReadonlySet<UpstreamTarget>): UpstreamTarget | undefined {
    const targets = this.targets;
    if (this.leastConnections) {
      let best: UpstreamTarget | undefined;
      for (const t of targets) {
        if (!t.available(now) || tried?.has(t)) continue;
        if (!best || t.active * best.weight < best.active * t.weight) best = t;
      }
      return best;
    }
    let best: UpstreamTarget | undefined;
    let total = 0;
    for (const t of targets) {
      if (!t.available(now) || tried?.has(t)) continue;
      t.currentWeight += t.weight;
      total += t.weight;
      if (!best || t.currentWeight > best.currentWeight) best = t;
    }
    if (best) best.currentWeight -= total;
    return best;
  }

  /** Whether some target other than those in `tried` could take a request now. */
  hasAvailable(now: number, tried: ReadonlySet<UpstreamTarget>): boolean {
    return this.targets.some((t) => t.available(now) && !tried.has(t));
  }

  /** Called once per request: earns a share of a retry token. */
  earnRetry(): void {
    this.#retryTokens = Math.min(this.#retryTokens + this.#budgetRatio, 100);
  }

  /** Spends a retry token if one is left; false means the budget is exhausted and the failure stands. */
  spendRetry(): boolean {
    if (this.#retryTokens < 1) return false;
    this.#retryTokens -= 1;
    return true;
  }

  async close(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.close()));
  }
}
