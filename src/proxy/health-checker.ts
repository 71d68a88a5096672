import type { UpstreamService } from './upstream-service.js';
import type { UpstreamTarget } from './upstream-target.js';

/**
 * Active health checks: every `interval`, an HTTP GET of the check path on each target. `unhealthyThreshold`
 * failures in a row take a target out of rotation; `healthyThreshold` successes in a row bring it back.
 */
export class HealthChecker {
  readonly #service: UpstreamService;
  readonly #timer: NodeJS.Timeout;
  readonly #streaks = new Map<UpstreamTarget, number>();
  #running = false;

  constructor(service: UpstreamService) {
    this.#service = service;
    const check = service.activeCheck!;
    this.#timer = setInterval(() => void this.probeAll(), check.interval);
    this.#timer.unref();
  }

  /** One round of probes; resolves when every target has answered or timed out. */
  async probeAll(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await Promise.all(this.#service.targets.map((t) => this.#probe(t)));
    } finally {
      this.#running = false;
    }
  }

  async #probe(target: UpstreamTarget): Promise<void> {
    const check = this.#service.activeCheck!;
    let ok: boolean;
    try {
      const response = await target.pool.request({
        path: check.path,
        method: 'GET',
        headers: { host: target.host, 'user-agent': 'keygate-health-check' },
        headersTimeout: check.timeout,
        bodyTimeout: check.timeout,
      });
      await response.body.dump();
      ok = check.expectStatus ? check.expectStatus.has(response.statusCode) : response.statusCode >= 200 && response.statusCode < 400;
    } catch {
      ok = false;
    }
    // A positive streak counts successes, a negative one failures.
    const streak = this.#streaks.get(target) ?? 0;
    const next = ok ? Math.max(streak, 0) + 1 : Math.min(streak, 0) - 1;
    this.#streaks.set(target, next);
    if (ok && !target.healthy && next >= check.healthyThreshold) {
      target.healthy = true;
      // The probe proves the target answers again: close a circuit the outage opened, rather than wait out its cooldown.
      target.recordSuccess();
    }
    if (!ok && target.healthy && -next >= check.unhealthyThreshold) target.healthy = false;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
