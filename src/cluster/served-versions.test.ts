import { describe, expect, it, vi } from 'vitest';
import { ServedVersions } from './served-versions.js';

/** Whether the promise has settled, after the microtasks queued now. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('the versions the workers of a node serve', () => {
  it('holds a change until every worker serves it, or a later version', async () => {
    const served = new ServedVersions<string>(() => true, 60_000, () => undefined);
    served.served('a', 4);
    served.served('b', 4);
    const change = served.everywhere(5);
    expect(await settled(change)).toBe(false);
    served.served('a', 5);
    expect(await settled(change)).toBe(false);
    served.served('b', 6);
    expect(await settled(change)).toBe(true);
  });

  it('answers at once a change every worker already serves, and keeps the highest version a worker told', async () => {
    const served = new ServedVersions<string>(() => true, 60_000, () => undefined);
    served.served('a', 7);
    served.served('a', 3);
    expect(await settled(served.everywhere(7))).toBe(true);
  });

  it('holds no change for a worker that is gone or no longer connected', async () => {
    const connected = new Set(['a', 'b', 'c']);
    const served = new ServedVersions<string>((worker) => connected.has(worker), 60_000, () => undefined);
    for (const worker of connected) served.served(worker, 1);
    const change = served.everywhere(2);
    served.served('a', 2);
    served.gone('b');
    expect(await settled(change)).toBe(false);
    connected.delete('c');
    served.gone('nobody');
    expect(await settled(change)).toBe(true);
  });

  it('holds a revocation until every worker holds it as a delta, whatever snapshot it serves', async () => {
    const served = new ServedVersions<string>(() => true, 60_000, () => undefined);
    served.served('a', 4);
    served.served('b', 4);
    const revocation = served.heldEverywhere(5);
    served.holds('a', 5);
    served.holds('b', 6);
    expect(await settled(revocation)).toBe(false);
    served.holds('b', 5);
    expect(await settled(revocation)).toBe(true);
  });

  it('counts a revocation held by a worker serving its version or a later one, which compiled it from the store', async () => {
    const served = new ServedVersions<string>(() => true, 60_000, () => undefined);
    served.served('a', 4);
    // Starting: its delta may have come before it listened for messages, but its first snapshot is read after.
    served.served('starting', 0);
    const revocation = served.heldEverywhere(5);
    served.holds('a', 5);
    expect(await settled(revocation)).toBe(false);
    served.served('starting', 7);
    expect(await settled(revocation)).toBe(true);
  });

  it('does not take a revocation held as a delta for its whole version served', async () => {
    const served = new ServedVersions<string>(() => true, 60_000, () => undefined);
    served.served('a', 4);
    served.holds('a', 5);
    expect(await settled(served.everywhere(5))).toBe(false);
  });

  it('answers a change after its patience all the same, naming the workers behind', async () => {
    vi.useFakeTimers();
    try {
      const late = vi.fn();
      const served = new ServedVersions<string>(() => true, 5_000, late);
      served.served('a', 1);
      served.served('b', 2);
      const change = served.everywhere(2);
      await vi.advanceTimersByTimeAsync(4_999);
      expect(late).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      await change;
      expect(late).toHaveBeenCalledWith(2, ['a'], false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says a revocation is what a wait that ran out waited for, naming the workers that do not hold it', async () => {
    vi.useFakeTimers();
    try {
      const late = vi.fn();
      const served = new ServedVersions<string>(() => true, 5_000, late);
      served.served('a', 1);
      served.served('b', 1);
      served.holds('b', 2);
      const revocation = served.heldEverywhere(2);
      await vi.advanceTimersByTimeAsync(5_000);
      await revocation;
      expect(late).toHaveBeenCalledWith(2, ['a'], true);
    } finally {
      vi.useRealTimers();
    }
  });
});
