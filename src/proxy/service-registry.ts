import { HealthChecker } from './health-checker.js';
import type { ServiceSpec } from './service-schema.js';
import { UpstreamService } from './upstream-service.js';

/**
 * Upstream services live longer than any one snapshot: a service whose spec did not change keeps its connection
 * pools, health and breaker state across a reload. Services dropped by a reload are closed after a grace period,
 * so requests still running on the old snapshot finish.
 */
export class ServiceRegistry {
  readonly #live = new Map<string, { service: UpstreamService; checker?: HealthChecker }>();
  readonly #healthChecks: boolean;
  readonly #closeAfter: number;
  readonly #closing = new Set<Promise<void>>();

  constructor(options: { healthChecks: boolean; closeAfter: number }) {
    this.#healthChecks = options.healthChecks;
    this.#closeAfter = options.closeAfter;
  }

  /** The services for a new snapshot, reusing every unchanged one. */
  resolve(specs: readonly ServiceSpec[]): Map<string, UpstreamService> {
    const result = new Map<string, UpstreamService>();
    const keep = new Set<string>();
    for (const spec of specs) {
      const key = JSON.stringify(spec);
      keep.add(key);
      let entry = this.#live.get(key);
      if (!entry) {
        const service = new UpstreamService(spec);
        entry = { service, checker: this.#healthChecks && service.activeCheck ? new HealthChecker(service) : undefined };
        this.#live.set(key, entry);
        if (entry.checker) void entry.checker.probeAll();
      }
      result.set(spec.name, entry.service);
    }
    for (const [key, entry] of this.#live) {
      if (keep.has(key)) continue;
      this.#live.delete(key);
      entry.checker?.stop();
      const closing = new Promise<void>((resolve) => {
        const timer = setTimeout(() => void entry.service.close().finally(resolve), this.#closeAfter);
        timer.unref();
      });
      this.#closing.add(closing);
      void closing.then(() => this.#closing.delete(closing));
    }
    return result;
  }

  async closeAll(): Promise<void> {
    for (const entry of this.#live.values()) entry.checker?.stop();
    await Promise.all([...this.#live.values()].map((e) => e.service.close()));
    this.#live.clear();
  }
}
