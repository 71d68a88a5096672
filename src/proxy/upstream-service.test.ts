import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from './service-schema.js';
import { UpstreamService } from './upstream-service.js';
import type { UpstreamTarget } from './upstream-target.js';

const NOW = 1_000_000;
const created: UpstreamService[] = [];
afterEach(async () => {
  await Promise.all(created.splice(0).map((s) => s.close()));
});

/** A service whose targets are named a, b, c… by their port; nothing is ever connected. */
function service(weights: number[], extra: Partial<ServiceSpec> = {}): UpstreamService {
  const s = new UpstreamService({ name: 'svc', targets: weights.map((weight, i) => ({ url: `http://127.0.0.1:${9001 + i}`, weight })), ...extra });
  created.push(s);
  return s;
}

const nameOf = (t: UpstreamTarget | undefined) => (t ? 'abcdefgh'[Number(new URL(t.origin).port) - 9001] : '-');
const picks = (s: UpstreamService, n: number, now = NOW) => Array.from({ length: n }, () => nameOf(s.pick(now))).join('');

describe('UpstreamService.pick', () => {
  it('spreads weights 3:1 smoothly: a a b a, repeated', () => {
    expect(picks(service([3, 1]), 12)).toBe('aabaaabaaaba');
  });

  it('gives weights 5:1:1 their exact shares over every cycle, never sending the heavy target more than needed in a row', () => {
    const sequence = picks(service([5, 1, 1]), 70);
    for (let i = 0; i < 70; i += 7) {
      const cycle = sequence.slice(i, i + 7);
      expect([...cycle].sort().join('')).toBe('aaaaabc');
      expect(cycle).not.toContain('aaaaa');
    }
  });

  it('never picks a target of weight 0', () => {
    expect(picks(service([0, 2, 1]), 9)).not.toContain('a');
  });

  it('picks nothing when every target is drained', () => {
    expect(service([0, 0]).pick(NOW)).toBeUndefined();
  });

  it('skips targets already tried, and picks nothing once all were', () => {
    const s = service([1, 1, 1]);
    const [a, b, c] = s.targets;
    expect(nameOf(s.pick(NOW, new Set([a!, b!])))).toBe('c');
    expect(s.pick(NOW, new Set([a!, b!, c!]))).toBeUndefined();
  });

  it('skips a target the health checker marked unhealthy', () => {
    const s = service([1, 1]);
    s.targets[0]!.healthy = false;
    expect(picks(s, 4)).toBe('bbbb');
  });

  it('skips a target whose circuit is open until the cooldown ends, then tries it again', () => {
    const s = service([1, 1], { healthCheck: { passive: { failures: 2, cooldown: '10s' } } });
    const a = s.targets[0]!;
    a.recordFailure(NOW);
    expect(a.available(NOW)).toBe(true);
    a.recordFailure(NOW);
    expect(picks(s, 4, NOW + 9_999)).toBe('bbbb');
    expect(picks(s, 4, NOW + 10_000)).toContain('a');
  });

  it('reopens the circuit on the first failure after the cooldown, and closes it on a success', () => {
    const s = service([1, 1], { healthCheck: { passive: { failures: 3, cooldown: '1s' } } });
    const a = s.targets[0]!;
    for (let i = 0; i < 3; i++) a.recordFailure(NOW);
    a.recordFailure(NOW + 1_000);
    expect(a.available(NOW + 1_999)).toBe(false);
    a.recordSuccess();
    expect(a.available(NOW + 1_999)).toBe(true);
  });

  it('with least-connections, picks the target with the fewest requests in flight', () => {
    const s = service([1, 1, 1], { balancing: 'least-connections' });
    const [a, b, c] = s.targets;
    a!.active = 2;
    b!.active = 0;
    c!.active = 1;
    expect(nameOf(s.pick(NOW))).toBe('b');
    b!.active = 3;
    expect(nameOf(s.pick(NOW))).toBe('c');
  });

  it('with least-connections, weighs the requests in flight against the target weight', () => {
    const s = service([4, 1], { balancing: 'least-connections' });
    const [a, b] = s.targets;
    a!.active = 3;
    b!.active = 1;
    expect(nameOf(s.pick(NOW))).toBe('a');
    a!.active = 5;
    expect(nameOf(s.pick(NOW))).toBe('b');
  });
});

describe('the retry budget', () => {
  it('allows a floor of 10 retries, then one more retry per 1/budget requests', () => {
    const s = service([1, 1], { retries: { budget: 0.25 } });
    for (let i = 0; i < 10; i++) expect(s.spendRetry()).toBe(true);
    expect(s.spendRetry()).toBe(false);
    for (let i = 0; i < 3; i++) s.earnRetry();
    expect(s.spendRetry()).toBe(false);
    s.earnRetry();
    expect(s.spendRetry()).toBe(true);
    expect(s.spendRetry()).toBe(false);
  });

  it('earns nothing with a budget of 0', () => {
    const s = service([1, 1], { retries: { budget: 0 } });
    for (let i = 0; i < 10; i++) s.spendRetry();
    for (let i = 0; i < 1_000; i++) s.earnRetry();
    expect(s.spendRetry()).toBe(false);
  });

  it('saves up at most 100 retries however many requests went by', () => {
    const s = service([1, 1], { retries: { budget: 1 } });
    for (let i = 0; i < 1_000; i++) s.earnRetry();
    let spent = 0;
    while (s.spendRetry()) spent += 1;
    expect(spent).toBe(100);
  });
});

describe('service defaults', () => {
  it('retries twice on 502, 503 and 504, with 2 s to connect, 60 s idle, no total limit, and 60 s for a client to take the answer', () => {
    const s = service([1]);
    expect(s.retry).toEqual({ attempts: 2, onStatus: new Set([502, 503, 504]) });
    expect(s.timeouts).toEqual({ connect: 2_000, idle: 60_000, total: 0, send: 60_000 });
    expect(s.activeCheck).toBeUndefined();
  });

  it('reads durations and health-check thresholds from the spec', () => {
    const s = service([1], {
      timeouts: { connect: '250ms', idle: '5s', total: '1m', send: '2m' },
      healthCheck: { active: { path: '/ready', interval: '200ms', unhealthyThreshold: 1 } },
    });
    expect(s.timeouts).toEqual({ connect: 250, idle: 5_000, total: 60_000, send: 120_000 });
    expect(s.activeCheck).toEqual({ path: '/ready', interval: 200, timeout: 2_000, healthyThreshold: 2, unhealthyThreshold: 1, expectStatus: undefined });
  });
});
