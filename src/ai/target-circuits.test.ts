import { describe, expect, it } from 'vitest';
import { HALF_OPEN_TRY, TargetCircuits } from './target-circuits.js';

const gpt = { provider: 'openai', model: 'gpt-4o-mini' };
const PROBE = 500;

describe('TargetCircuits', () => {
  it('opens at the threshold for the cooldown, then lets one call try while the others skip, and opens again when it fails', () => {
    const opened: number[] = [];
    const circuits = new TargetCircuits((_target, _failures, cooldownMs) => opened.push(cooldownMs));
    circuits.failed(gpt, 0, 2, 1_000);
    expect(circuits.openUntil(gpt, 0, PROBE)).toBe(0);
    circuits.failed(gpt, 10, 2, 1_000);
    expect(circuits.openUntil(gpt, 10, PROBE)).toBe(1_010);
    // Half-open: the first call to ask tries it; the next ones skip it while that try is under way.
    expect(circuits.openUntil(gpt, 1_010, PROBE)).toBe(HALF_OPEN_TRY);
    expect(circuits.openUntil(gpt, 1_020, PROBE)).toBe(1_510);
    circuits.failed(gpt, 1_030, 2, 1_000);
    expect(circuits.openUntil(gpt, 1_030, PROBE)).toBe(2_030);
    expect(opened).toEqual([1_000, 1_000]);
  });

  it('closes for every call once the try succeeds', () => {
    const circuits = new TargetCircuits();
    circuits.failed(gpt, 0, 1, 1_000);
    expect(circuits.openUntil(gpt, 1_000, PROBE)).toBe(HALF_OPEN_TRY);
    circuits.succeeded(gpt);
    expect(circuits.openUntil(gpt, 1_001, PROBE)).toBe(0);
    expect(circuits.openUntil(gpt, 1_002, PROBE)).toBe(0);
  });

  it('lets another call try once a try that never told has had its time', () => {
    const circuits = new TargetCircuits();
    circuits.failed(gpt, 0, 1, 1_000);
    expect(circuits.openUntil(gpt, 1_000, PROBE)).toBe(HALF_OPEN_TRY);
    expect(circuits.openUntil(gpt, 1_499, PROBE)).toBe(1_500);
    expect(circuits.openUntil(gpt, 1_500, PROBE)).toBe(HALF_OPEN_TRY);
    expect(circuits.openUntil(gpt, 1_501, PROBE)).toBe(2_000);
  });

  it('tells the calls that skip a target while its try is under way to ask again a second later, and lets the next try once it is given back', () => {
    const circuits = new TargetCircuits();
    circuits.failed(gpt, 0, 1, 1_000);
    expect(circuits.openUntil(gpt, 1_000, 60_000)).toBe(HALF_OPEN_TRY);
    expect(circuits.openUntil(gpt, 1_100, 60_000)).toBe(2_100);
    circuits.release(gpt);
    expect(circuits.openUntil(gpt, 1_200, 60_000)).toBe(HALF_OPEN_TRY);
  });

  it('keeps one circuit per provider and model', () => {
    const circuits = new TargetCircuits();
    circuits.failed(gpt, 0, 1, 1_000);
    expect(circuits.openUntil({ provider: 'azure', model: 'gpt-4o-mini' }, 0, PROBE)).toBe(0);
    expect(circuits.openUntil({ provider: 'openai', model: 'gpt-4o' }, 0, PROBE)).toBe(0);
    expect(circuits.openUntil(gpt, 0, PROBE)).toBe(1_000);
    circuits.succeeded(gpt);
    expect(circuits.openUntil(gpt, 0, PROBE)).toBe(0);
  });

  it('watches at most 10,000 targets at once, and none with a threshold of 0', () => {
    const circuits = new TargetCircuits();
    circuits.failed(gpt, 0, 0, 1_000);
    expect(circuits.openUntil(gpt, 0, PROBE)).toBe(0);
    for (let i = 0; i < 10_000; i++) circuits.failed({ provider: 'p', model: `m${i}` }, 0, 2, 1_000);
    circuits.failed(gpt, 0, 1, 1_000);
    expect(circuits.openUntil(gpt, 0, PROBE)).toBe(0);
    circuits.failed({ provider: 'p', model: 'm1' }, 0, 2, 1_000);
    expect(circuits.openUntil({ provider: 'p', model: 'm1' }, 0, PROBE)).toBe(1_000);
    // Ten minutes on, those that have not failed since are forgotten to make room; the open one stays.
    circuits.failed({ provider: 'p', model: 'm1' }, 600_000, 2, 1_000_000);
    circuits.failed(gpt, 600_001, 1, 1_000);
    expect(circuits.openUntil(gpt, 600_001, PROBE)).toBe(601_001);
    expect(circuits.openUntil({ provider: 'p', model: 'm1' }, 600_001, PROBE)).toBe(1_600_000);
  });
});
