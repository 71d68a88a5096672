import { afterEach, describe, expect, it, vi } from 'vitest';
import { SharedBudgets, type SharedCheck, type SharedHold, type SharedRefusal } from './shared-budgets.js';
import { REDIS_URL, redisAvailable, redisTestKeys, startFakeRedis, type RedisTestKeys } from '../../test/redis.js';

const isHold = (outcome: SharedHold | SharedRefusal | undefined): outcome is SharedHold => outcome !== undefined && 'id' in outcome;

describe.skipIf(!redisAvailable)('budgets shared in Redis by several processes', () => {
  let keys: RedisTestKeys;
  const opened: SharedBudgets[] = [];
  const open = (leaseMs?: number) => {
    const budgets = new SharedBudgets({ url: REDIS_URL, onError: () => undefined, keyPrefix: keys.prefix, leaseMs });
    opened.push(budgets);
    return budgets.ready().then(() => budgets);
  };
  /** An app's daily budget of $0.01, of which its process knows nothing spent, for a prompt of at most $0.0001. */
  const day = (budgets: SharedBudgets, app: string, check: Partial<SharedCheck> = {}): SharedCheck => ({
    scope: 'app', spendKey: budgets.spendKey('app', app, 'day', 0), limit: 0.01, recorded: 0, most: 0.0001, least: 0.00005, ...check,
  });
  /** A call's cost of `usd` recorded against that budget, its process having known `seed` spent before it. */
  const spent = (budgets: SharedBudgets, app: string, usd: number, seed = 0) => ({ spendKey: budgets.spendKey('app', app, 'day', 0), seed, usd, expiresAt: Date.now() + 60_000 });

  afterEach(async () => {
    for (const budgets of opened.splice(0)) await budgets.close();
    await keys?.cleanup();
  });

  it("refuses a call of one process when another process's calls under way hold the budget's room", async () => {
    keys = await redisTestKeys();
    const [first, second] = await Promise.all([open(), open()]);
    expect(isHold(await first.hold('chatbot', undefined, 0.006, [day(first, 'chatbot')]))).toBe(true);
    // $0.006 of $0.01 held: a second call that may cost $0.006 still passes (its prompt fits), a third has no room.
    expect(isHold(await second.hold('chatbot', undefined, 0.006, [day(second, 'chatbot')]))).toBe(true);
    expect(await second.hold('chatbot', undefined, 0.006, [day(second, 'chatbot')])).toEqual({ reason: 'held', check: 0, recorded: 0, held: 0.012 });
  });

  it('gives the room back once the call that held it is released', async () => {
    keys = await redisTestKeys();
    const [first, second] = await Promise.all([open(), open()]);
    const hold = await first.hold('chatbot', undefined, 0.02, [day(first, 'chatbot')]);
    if (!isHold(hold)) throw new Error(`not held: ${JSON.stringify(hold)}`);
    expect(await second.hold('chatbot', undefined, 0.001, [day(second, 'chatbot')])).toMatchObject({ reason: 'held', held: 0.02 });
    first.release(hold);
    await vi.waitFor(async () => expect(isHold(await second.hold('chatbot', undefined, 0.001, [day(second, 'chatbot')]))).toBe(true));
  });

  it("refuses by another process's recorded calls before its process's store read shows them", async () => {
    keys = await redisTestKeys();
    const [first, second] = await Promise.all([open(), open()]);
    // The first process records $0.004 and then $0.006 of calls; the second knows of none of them.
    first.settle(undefined, [spent(first, 'chatbot', 0.004)]);
    first.settle(undefined, [spent(first, 'chatbot', 0.006, 0.004)]);
    await vi.waitFor(async () => expect(await second.hold('chatbot', undefined, 0.001, [day(second, 'chatbot')])).toEqual({ reason: 'spent', check: 0, recorded: 0.01, held: 0 }));
    // A process whose own figure is higher goes by its own.
    expect(await second.hold('chatbot', undefined, 0.001, [day(second, 'chatbot', { limit: 0.02, recorded: 0.01996 })])).toEqual({ reason: 'prompt', check: 0, recorded: 0.01996, held: 0 });
  });

  it("starts a period's shared spend from the first recording process's figure, and adds the others' calls to it", async () => {
    keys = await redisTestKeys();
    const [first, second] = await Promise.all([open(), open()]);
    first.settle(undefined, [spent(first, 'chatbot', 0.001, 0.005)]);
    // The period is counted now: the second process's own figure seeds nothing.
    second.settle(undefined, [spent(second, 'chatbot', 0.002, 0.1)]);
    await vi.waitFor(async () => expect(await keys.client.get(second.spendKey('app', 'chatbot', 'day', 0))).toBe(String(8_000_000)));
  });

  it("releases a call's hold and counts its cost in one step", async () => {
    keys = await redisTestKeys();
    const [first, second] = await Promise.all([open(), open()]);
    const hold = await first.hold('chatbot', undefined, 0.008, [day(first, 'chatbot')]);
    if (!isHold(hold)) throw new Error(`not held: ${JSON.stringify(hold)}`);
    first.settle(hold, [spent(first, 'chatbot', 0.0095)]);
    // Refused by the spend, $0.0095 with $0.0005 left for a prompt of at least $0.0006: never by the hold, which is gone.
    await vi.waitFor(async () => expect(await second.hold('chatbot', undefined, 0.001, [day(second, 'chatbot', { most: 0.0007, least: 0.0006 })])).toEqual({ reason: 'prompt', check: 0, recorded: 0.0095, held: 0 }));
    expect(await keys.client.hlen(`${keys.prefix}holds:app:chatbot`)).toBe(0);
  });

  it('names the check that refused, and counts only the holds of its scope', async () => {
    keys = await redisTestKeys();
    const budgets = await open();
    const team = (recorded = 0): SharedCheck => ({ scope: 'team', spendKey: budgets.spendKey('team', 'shared-team', 'day', 0), limit: 1, recorded, most: 0.0001, least: 0.00005 });
    expect(isHold(await budgets.hold('a', 'shared-team', 0.02, [day(budgets, 'a'), team()]))).toBe(true);
    // Another app of the same team: its own budget has nothing held, the team's has $0.02 of $1.
    expect(isHold(await budgets.hold('b', 'shared-team', 0.02, [day(budgets, 'b'), team()]))).toBe(true);
    // The team's budget, nearly spent by what this process knows, refuses by what both apps' calls hold.
    expect(await budgets.hold('c', 'shared-team', 0.02, [day(budgets, 'c'), team(0.97)])).toEqual({ reason: 'held', check: 1, recorded: 0.97, held: 0.04 });
  });

  it('refuses a call whose prompt does not fit beside what is held, and passes one whose least cost does', async () => {
    keys = await redisTestKeys();
    const budgets = await open();
    expect(isHold(await budgets.hold('chatbot', undefined, 0.0098, [day(budgets, 'chatbot')]))).toBe(true);
    // $0.0002 left beside the hold: a prompt that may cost $0.0003 but at least $0.0001 passes; one of at least $0.00025 does not.
    expect(isHold(await budgets.hold('chatbot', undefined, 0.0001, [day(budgets, 'chatbot', { most: 0.0003, least: 0.0001 })]))).toBe(true);
    expect(await budgets.hold('chatbot', undefined, 0.0001, [day(budgets, 'chatbot', { most: 0.0003, least: 0.00025 })])).toEqual({ reason: 'heldPrompt', check: 0, recorded: 0, held: 0.0099 });
  });

  it("drops the holds of a process that stopped renewing them once their lease lapses, and renews a live process's", async () => {
    keys = await redisTestKeys();
    const [gone, live, other] = await Promise.all([open(1_500), open(1_500), open()]);
    expect(isHold(await gone.hold('gone-app', undefined, 0.02, [day(gone, 'gone-app')]))).toBe(true);
    const kept = await live.hold('live-app', undefined, 0.02, [day(live, 'live-app')]);
    if (!isHold(kept)) throw new Error(`not held: ${JSON.stringify(kept)}`);
    const leases = `${keys.prefix}holds:app:live-app:leases`;
    const firstLease = Number(await keys.client.zscore(leases, kept.id));
    await gone.close();
    // The live process's renewal (every 500 ms) moves its lease on; the gone one's lapses, and its room comes back.
    await vi.waitFor(async () => expect(Number(await keys.client.zscore(leases, kept.id))).toBeGreaterThan(firstLease), { timeout: 5_000 });
    await vi.waitFor(async () => expect(isHold(await other.hold('gone-app', undefined, 0.001, [day(other, 'gone-app')]))).toBe(true), { timeout: 5_000 });
  });

  it('releases a hold whose reply was lost, so that it holds no room nobody will give back', async () => {
    keys = await redisTestKeys();
    // A hold whose script ran in Redis but whose reply came too late for the call.
    const other = await open();
    // Replies that take more than a millisecond come too late: some of twenty do, on loopback.
    const paused = new SharedBudgets({ url: REDIS_URL, onError: () => undefined, keyPrefix: keys.prefix, commandTimeoutMs: 1 });
    opened.push(paused);
    await paused.ready();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => paused.hold('lost-app', undefined, 0.02, [day(paused, 'lost-app')])));
    // Whatever came back in time, every hold whose reply was lost is released after it ran.
    const held = outcomes.filter(isHold);
    for (const hold of held) paused.release(hold);
    await vi.waitFor(async () => expect(await keys.client.hlen(`${keys.prefix}holds:app:lost-app`)).toBe(0));
    expect(isHold(await other.hold('lost-app', undefined, 0.001, [day(other, 'lost-app')]))).toBe(true);
  });

  it('keeps apps whose names differ only by a separator apart', async () => {
    keys = await redisTestKeys();
    const budgets = await open();
    expect(isHold(await budgets.hold('x:leases', undefined, 0.02, [day(budgets, 'x:leases')]))).toBe(true);
    expect(isHold(await budgets.hold('x', undefined, 0.001, [day(budgets, 'x')]))).toBe(true);
  });
});

describe('shared budgets while Redis does not answer', () => {
  it('go on without a shared hold, and tell the outage once', async () => {
    const silent = await startFakeRedis(() => undefined);
    const onError = vi.fn();
    const budgets = new SharedBudgets({ url: silent.url, onError, commandTimeoutMs: 50 });
    const check: SharedCheck = { scope: 'app', spendKey: budgets.spendKey('app', 'chatbot', 'day', 0), limit: 0.01, recorded: 0, most: 0.0001, least: 0.00005 };
    try {
      await budgets.ready();
      expect(await budgets.hold('chatbot', undefined, 0.001, [check])).toBeUndefined();
      expect(await budgets.hold('chatbot', undefined, 0.001, [check])).toBeUndefined();
      expect(onError).toHaveBeenCalledTimes(1);
      expect(silent.commands.some((command) => command[0]?.toUpperCase() === 'EVALSHA')).toBe(true);
    } finally {
      await budgets.close();
      await silent.close();
    }
  });
});
