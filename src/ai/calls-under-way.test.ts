import { describe, expect, it } from 'vitest';
import { CallsUnderWay } from './calls-under-way.js';

describe('CallsUnderWay', () => {
  it('settles at once with no call under way', async () => {
    await expect(new CallsUnderWay().settled(60_000)).resolves.toBeUndefined();
  });

  it('settles once the last call under way has ended, not before', async () => {
    const calls = new CallsUnderWay();
    calls.started();
    calls.started();
    let settled = false;
    const waiting = calls.settled(60_000).then(() => (settled = true));
    calls.ended();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    calls.ended();
    await waiting;
    expect(calls.count).toBe(0);
  });

  it('settles after its timeout when a call never ends', async () => {
    const calls = new CallsUnderWay();
    calls.started();
    await expect(calls.settled(10)).resolves.toBeUndefined();
    expect(calls.count).toBe(1);
  });
});
