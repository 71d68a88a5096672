import { describe, expect, it } from 'vitest';
import { KeyTurns } from './key-turns.js';

const key = (id: string, priority = 0) => ({ id, priority });
const NONE = new Map<string, { until: number }>();

describe('KeyTurns', () => {
  it('turns each priority on its own, in priority order', () => {
    const turns = new KeyTurns();
    const keys = [key('a'), key('b'), key('x', 1), key('y', 1), key('z', 2)];
    const ids = () => turns.order('p', 'm', keys, 0, NONE).map((k) => k.id).join('');
    expect([ids(), ids(), ids()]).toEqual(['abxyz', 'bayxz', 'abxyz']);
    // Each provider has its own turn.
    expect(turns.order('q', 'm', keys, 0, NONE).map((k) => k.id).join('')).toBe('abxyz');
  });

  it("keeps a turn per model, whose rate limits a provider counts apart: calls that alternate two models use every key for each", () => {
    const turns = new KeyTurns();
    const keys = [key('a'), key('b')];
    const first = (model: string) => turns.order('p', model, keys, 0, NONE)[0]!.id;
    expect([first('chat'), first('embed'), first('chat'), first('embed')]).toEqual(['a', 'a', 'b', 'b']);
  });

  it('shares the turns evenly between the keys not set aside', () => {
    const turns = new KeyTurns();
    const keys = [key('a'), key('b'), key('c')];
    const aside = new Map([['a', { until: 1_000 }]]);
    const firsts = Array.from({ length: 4 }, () => turns.order('p', 'm', keys, 0, aside)[0]!.id);
    expect(firsts).toEqual(['b', 'c', 'b', 'c']);
    expect(turns.order('p', 'm', keys, 1_000, aside).map((k) => k.id)).toHaveLength(3);
  });

  it('puts a rate-limited key last until its Retry-After, at most a minute, and a few seconds without one', () => {
    const turns = new KeyTurns();
    const keys = [key('a'), key('b', 1)];
    turns.limited('a', 0, 120_000);
    expect(turns.order('p', 'm', keys, 59_999, NONE).map((k) => k.id)).toEqual(['b', 'a']);
    expect(turns.order('p', 'm', keys, 60_000, NONE).map((k) => k.id)).toEqual(['a', 'b']);
    turns.limited('a', 0, undefined);
    expect(turns.isLimited('a', 4_999)).toBe(true);
    expect(turns.isLimited('a', 5_000)).toBe(false);
  });

  it('hands back a pool of one key as it is', () => {
    const keys = [key('only')];
    expect(new KeyTurns().order('p', 'm', keys, 0, NONE)).toBe(keys);
  });
});
