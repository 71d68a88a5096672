import { describe, expect, it } from 'vitest';
import { TargetCircuits } from './target-circuits.js';

const gpt = { provider: 'openai', model: 'gpt-4o-mini' };

describe('TargetCircuits', () => {
  it('opens at the threshold, for the cooldown, and again at the next failure once it has passed', () => {
    const opened: number[] = [];
    const circuits = new TargetCircuits((_target, _failures, cooldownMs) => opened.push(cooldownMs));
    circuits.failed(gpt, 0, 2, 1_000);
    expect(circuits.openUntil(gpt, 0)).toBe(0);
    circuits.failed(gpt, 10, 2, 1_000);
    expect(circuits.openUntil(gpt, 10)).toBe(1_010);
    expect(circuits.openUntil(gpt, 1_010)).toBe(0);
    circuits.failed(gpt, 1_020, 2, 1_000);
    expect(circuits.openUntil(gpt, 1_020)).toBe(2_020);
    expect(opened).toEqual([1_000, 1_000]);
  });

  it('keeps one circuit per provider and model', () => {
    const circuits = new TargetCircuits();
    circuits.failed(gpt, 0, 1, 1_000);
    expect(circuits.openUntil({ provider: 'azure', model: 'gpt-4o-mini' }, 0)).toBe(0);
    expect(circuits.openUntil({ provider: 'openai', model: 'gpt-4o' }, 0)).toBe(0);
    circuits.succeeded(gpt);
    expect(circuits.openUntil(gpt, 0)).toBe(0);
  });

  it('watches at most 10,000 targets at once, and none with a threshold of 0', () => {
    const circuits = new TargetCircuits();
    circuits.failed(gpt, 0, 0, 1_000);
    expect(circuits.openUntil(gpt, 0)).toBe(0);
    for (let i = 0; i < 10_000; i++) circuits.failed({ provider: 'p', model: `m${i}` }, 0, 2, 1_000);
    circuits.failed(gpt, 0, 1, 1_000);
    expect(circuits.openUntil(gpt, 0)).toBe(0);
    circuits.failed({ provider: 'p', model: 'm1' }, 0, 2, 1_000);
    expect(circuits.openUntil({ provider: 'p', model: 'm1' }, 0)).toBe(1_000);
  });
});
