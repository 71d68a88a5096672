import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedHolds, type SharedCheck, type SharedHold, type SharedRefusal } from './shared-holds.js';
import { REDIS_URL, redisAvailable, redisTestKeys, startFakeRedis, type RedisTestKeys } from '../../test/redis.js';

/** A daily budget of $0.01 of which nothing is spent yet, checked for a prompt of at most $0.0001. */
const DAY: SharedCheck = { scope: 'app', limit: 0.01, recorded: 0, most: 0.0001, least: 0.00005 };

const isHold = (outcome: SharedHold | SharedRefusal | undefined): outcome is SharedHold => outcome !== undefined && 'id' in outcome;

describe.skipIf(!redisAvailable)('budget holds shared in Redis by several processes', () => {
  let keys: RedisTestKeys;
  const opened: SharedHolds[] = [];
  const open = (leaseMs?: number) => {
    const holds = new SharedHolds({ url: REDIS_URL, onError: () => undefined, keyPrefix: keys.prefix, leaseMs });
    opened.push(holds);
    return holds.ready().then(() => holds);
  };

  afterEach(async () => {
    for (const holds of opened.splice(0)) await holds.close();
    await keys?.cleanup();
  });

  it("refuses a call of one process when another process's calls under way hold the budget's room", async () => {
    keys = await redisTestKeys();
    const [first, second] = await Promise.all([open(), open()]);
    expect(isHold(await first.hold('chatbot', undefined, 0.006, [DAY]))).toBe(true);
    // $0.006 of $0.01 held: a second call that may cost $0.006 still passes (its prompt fits), a third has no room.
    expect(isHold(await second.hold('chatbot', undefined, 0.006, [DAY]))).toBe(true);
    expect(await second.hold('chatbot', undefined, 0.006, [DAY])).toEqual({ check: 0, held: 0.012 });
  });

  it('gives the room back once the call that held it is released', async () => {
    keys = await redisTestKeys();
    const [first, second] = await Promise.all([open(), open()]);
    const hold = await first.hold('chatbot', undefined, 0.02, [DAY]);
    if (!isHold(hold)) throw new Error(`not held: ${JSON.stringify(hold)}`);
    expect(await second.hold('chatbot', undefined, 0.001, [DAY])).toEqual({ check: 0, held: 0.02 });
    first.release(hold);
    await vi.waitFor(async () => expect(isHold(await second.hold('chatbot', undefined, 0.001, [DAY]))).toBe(true));
  });

  it('names the check that refused, and counts only the holds of its scope', async () => {
    keys = await redisTestKeys();
    const holds = await open();
    const team: SharedCheck = { ...DAY, scope: 'team', limit: 1 };
    expect(isHold(await holds.hold('a', 'shared-team', 0.02, [DAY, team]))).toBe(true);
    // Another app of the same team: its own budget has nothing held, the team's has $0.02 of $1.
    expect(isHold(await holds.hold('b', 'shared-team', 0.02, [DAY, team]))).toBe(true);
    // The team's budget, nearly spent by what this process knows, refuses by what both apps' calls hold.
    expect(await holds.hold('c', 'shared-team', 0.02, [DAY, { ...team, recorded: 0.97 }])).toEqual({ check: 1, held: 0.04 });
  });

  it('refuses a call whose prompt does not fit beside what is held, and passes one whose least cost does', async () => {
    keys = await redisTestKeys();
    const holds = await open();
    expect(isHold(await holds.hold('chatbot', undefined, 0.0098, [DAY]))).toBe(true);
    // $0.0002 left beside the hold: a prompt that may cost $0.0003 but at least $0.0001 passes; one of at least $0.00025 does not.
    expect(isHold(await holds.hold('chatbot', undefined, 0.0001, [{ ...DAY, most: 0.0003, least: 0.0001 }]))).toBe(true);
    expect(await holds.hold('chatbot', undefined, 0.0001, [{ ...DAY, most: 0.0003, least: 0.00025 }])).toEqual({ check: 0, held: 0.0099 });
  });

  it("drops the holds of a process that stopped renewing them once their lease lapses, and keeps a live process's", async () => {
    keys = await redisTestKeys();
    const [gone, live, other] = await Promise.all([open(300), open(300), open()]);
    expect(isHold(await gone.hold('gone-app', undefined, 0.02, [DAY]))).toBe(true);
    expect(isHold(await live.hold('live-app', undefined, 0.02, [DAY]))).toBe(true);
    await gone.close();
    // The live process renews every 100 ms: its hold still refuses after several leases, the gone one's no longer.
    await vi.waitFor(async () => expect(isHold(await other.hold('gone-app', undefined, 0.001, [DAY]))).toBe(true), { timeout: 5_000 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await other.hold('live-app', undefined, 0.001, [DAY])).toEqual({ check: 0, held: 0.02 });
  });

  it('keeps apps whose names differ only by a separator apart', async () => {
    keys = await redisTestKeys();
    const holds = await open();
    expect(isHold(await holds.hold('x:leases', undefined, 0.02, [DAY]))).toBe(true);
    expect(isHold(await holds.hold('x', undefined, 0.001, [DAY]))).toBe(true);
  });
});

describe('budget holds while Redis does not answer', () => {
  it('go on without a shared hold, and tell the outage once', async () => {
    const silent = await startFakeRedis(() => undefined);
    const onError = vi.fn();
    const holds = new SharedHolds({ url: silent.url, onError, commandTimeoutMs: 50 });
    try {
      await holds.ready();
      expect(await holds.hold('chatbot', undefined, 0.001, [DAY])).toBeUndefined();
      expect(await holds.hold('chatbot', undefined, 0.001, [DAY])).toBeUndefined();
      expect(onError).toHaveBeenCalledTimes(1);
      expect(silent.commands.some((command) => command[0]?.toUpperCase() === 'EVALSHA')).toBe(true);
    } finally {
      await holds.close();
      await silent.close();
    }
  });
});
