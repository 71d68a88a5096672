import { describe, expect, it } from 'vitest';
import { KeyTurns } from './key-turns.js';

const key = (id: string, priority = 0) => ({ id, priority });

describe('KeyTurns', () => {
  it('turns each priority on its own, in priority order', () => {
    const turns = new KeyTurns();
    const keys = [key('a'), key('b'), key('x', 1), key('y', 1), key('z', 2)];
    const ids = () => turns.order('p', keys, 0).map((k) => k.id).join('');
    expect([ids(), ids(), ids()]).toEqual(['abxyz', 'bayxz', 'abxyz']);
    // Each provider has its own turn.
    expect(turns.order('q', keys, 0).map((k) => k.id).join('')).toBe('abxyz');
  });

  it('puts a rate-limited key last until its Retry-After, at most a minute, and a few seconds without one', () => {
    const turns = new KeyTurns();
    const keys = [key('a'), key('b', 1)];
    turns.limited('a', 0, 120_000);
    expect(turns.order('p', keys, 59_999).map((k) => k.id)).toEqual(['b', 'a']);
    expect(turns.order('p', keys, 60_000).map((k) => k.id)).toEqual(['a', 'b']);
    turns.limited('a', 0, undefined);
    expect(turns.isLimited('a', 4_999)).toBe(true);
    expect(turns.isLimited('a', 5_000)).toBe(false);
  });

  it('hands back a pool of one key as it is', () => {
    const keys = [key('only')];
    expect(new KeyTurns().order('p', keys, 0)).toBe(keys);
  });
});
