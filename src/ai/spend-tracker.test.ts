import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from '../../test/databases.js';
import { openStore, type Store } from '../store/index.js';
import { SpendTracker, periodStart } from './spend-tracker.js';
import { USAGE_STATEMENT_ROWS, UsageRecorder, type UsageRecord } from './usage-recorder.js';

const DAY = Date.UTC(2026, 10, 29, 12);
const record = (app: string, cost: number, at = DAY): UsageRecord => ({
  at, request_id: 'r', app, team: 'shop', route: 'ai', provider: 'p', model: 'm', input_tokens: 1, output_tokens: 1, cached_tokens: 0, estimated: 0, cost_usd: cost, latency_ms: 1, ttft_ms: null, status: 200, cache_hit: 0,
});

describe.each(STORE_KINDS)('spend tracking for budgets on the %s store', (kind) => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    store = await openStore(db.url);
  });
  afterAll(async () => {
    await store?.close();
    await db?.drop();
  });

  /** One node: a recorder whose flushes its tracker hears of, as the gateway wires them. */
  function node(resyncMs: number, onStale?: (error: Error) => void) {
    const spend = new SpendTracker(store, resyncMs, onStale);
    // Written only when a test flushes.
    const recorder = new UsageRecorder(store, () => undefined, 100_000, Infinity);
    recorder.onFlushed((records, lastId) => spend.written(records, lastId));
    const call = (app: string, cost: number, at = DAY) => {
      recorder.record(record(app, cost, at));
      spend.add(app, 'shop', cost, at);
    };
    return { spend, recorder, call };
  }

  /** The daily sums' table away and back: the store's reads of them fail meanwhile, as when it is unreachable. */
  const spendTable = (away: boolean) =>
    sql.raw(away ? 'ALTER TABLE ai_spend_daily RENAME TO ai_spend_daily_away' : 'ALTER TABLE ai_spend_daily_away RENAME TO ai_spend_daily').execute(store.db);

  it('checks against the last figure and its own calls while a re-sync fails, and reads afresh once the store answers', async () => {
    const stale: Error[] = [];
    const a = node(1_000, (error) => stale.push(error));
    const b = node(1_000);
    a.call('stale-1', 0.25);
    await a.recorder.flush();
    expect(await a.spend.spent('app', 'stale-1', 'day', DAY)).toBeCloseTo(0.25, 9);
    b.call('stale-1', 0.5);
    await b.recorder.flush();
    await spendTable(true);
    try {
      a.call('stale-1', 0.125);
      // Due for a re-sync, which fails: the last figure and this node's call since, without the other node's.
      expect(await a.spend.spent('app', 'stale-1', 'day', DAY + 2_000)).toBeCloseTo(0.375, 9);
      expect(stale).toHaveLength(1);
      // Within the pause before the next try, known at once, without asking the store.
      expect(a.spend.spentNow('app', 'stale-1', 'day', DAY + 2_500)).toBeCloseTo(0.375, 9);
      // The next try, a second later, fails too: served the same way, and not told again.
      expect(await a.spend.spent('app', 'stale-1', 'day', DAY + 3_100)).toBeCloseTo(0.375, 9);
      expect(stale).toHaveLength(1);
    } finally {
      await spendTable(false);
    }
    expect(a.spend.spentNow('app', 'stale-1', 'day', DAY + 4_200)).toBeUndefined();
    expect(await a.spend.spent('app', 'stale-1', 'day', DAY + 4_200)).toBeCloseTo(0.875, 9);
  });

  it("rejects a period's first read that fails: there is no figure to check against", async () => {
    const a = node(1_000);
    await spendTable(true);
    try {
      await expect(a.spend.spent('app', 'stale-2', 'day', DAY)).rejects.toThrow();
    } finally {
      await spendTable(false);
    }
    expect(await a.spend.spent('app', 'stale-2', 'day', DAY)).toBe(0);
  });

  it("counts a node's own calls at once, and exactly once after they are written and re-read", async () => {
    const a = node(1_000);
    expect(await a.spend.spent('app', 'a1', 'day', DAY)).toBe(0);
    a.call('a1', 0.25);
    a.call('a1', 0.5);
    expect(await a.spend.spent('app', 'a1', 'day', DAY)).toBeCloseTo(0.75, 9);
    await a.recorder.flush();
    expect(await a.spend.spent('app', 'a1', 'day', DAY)).toBeCloseTo(0.75, 9);
    expect(await a.spend.spent('app', 'a1', 'day', DAY + 2_000)).toBeCloseTo(0.75, 9);
    expect(await a.spend.spent('team', 'shop', 'day', DAY + 2_000)).toBeGreaterThanOrEqual(0.75);
  });

  it('counts a batch of interleaved apps, a free call and two days once per app and day', async () => {
    const spend = new SpendTracker(store, 60_000);
    const recorder = new UsageRecorder(store, () => undefined, 100_000, Infinity);
    recorder.onFlushed((records, lastId) => spend.written(records, lastId));
    const midnight = periodStart('day', DAY) + 86_400_000;
    const [before, after] = [midnight - 1_000, midnight + 1_000];
    for (const app of ['mix-a', 'mix-b']) expect(await spend.spent('app', app, 'day', after)).toBe(0);
    expect(await spend.spent('team', 'interleaved', 'day', after)).toBe(0);
    // One batch: the two apps alternating, and one app's calls running on across midnight past a free call.
    const calls: Array<[string, number, number]> = [
      ['mix-a', 0.5, before], ['mix-b', 1, before], ['mix-b', 2, before], ['mix-a', 0.25, before], ['mix-a', 0, before],
      ['mix-a', 4, after], ['mix-a', 8, after], ['mix-b', 16, after], ['mix-a', 32, after],
    ];
    for (const [app, cost, at] of calls) {
      recorder.record({ ...record(app, cost, at), team: 'interleaved' });
      spend.add(app, 'interleaved', cost, at);
    }
    const counted = () => [spend.spentNow('app', 'mix-a', 'day', after), spend.spentNow('app', 'mix-b', 'day', after), spend.spentNow('team', 'interleaved', 'day', after)];
    expect(counted()).toEqual([44, 16, 60]);
    await recorder.flush();
    // Written: counted once, no longer as unwritten; and the same once read back from the store.
    expect(counted()).toEqual([44, 16, 60]);
    // This node's next read of the store: what it wrote counts once, not also as still unwritten.
    expect(await spend.spent('app', 'mix-a', 'day', after + 60_000)).toBeCloseTo(44, 9);
    expect(await spend.spent('team', 'interleaved', 'day', after + 60_000)).toBeCloseTo(60, 9);
    const fresh = new SpendTracker(store, 60_000);
    expect(await fresh.spent('app', 'mix-a', 'day', after)).toBeCloseTo(44, 9);
    expect(await fresh.spent('team', 'interleaved', 'day', after)).toBeCloseTo(60, 9);
    // A read of a day counts the days after it too (another node's clock may be ahead): the day before sees both.
    expect(await fresh.spent('app', 'mix-b', 'day', before)).toBeCloseTo(3 + 16, 9);
    expect(await fresh.spent('app', 'mix-a', 'day', before)).toBeCloseTo(0.75 + 44, 9);
  });

  it("sees another node's calls once it re-reads the store", async () => {
    const a = node(1_000);
    const b = node(1_000);
    expect(await b.spend.spent('app', 'a2', 'day', DAY)).toBe(0);
    expect(await a.spend.spent('app', 'a2', 'day', DAY)).toBe(0);
    a.call('a2', 2);
    await a.recorder.flush();
    expect(await b.spend.spent('app', 'a2', 'day', DAY + 500)).toBe(0);
    expect(await b.spend.spent('app', 'a2', 'day', DAY + 1_500)).toBeCloseTo(2, 9);
  });

  it('re-reads the store once however many checks find the tally stale at the same time, and all get its total', async () => {
    const spend = new SpendTracker(store, 1_000);
    expect(await spend.spent('app', 'm1', 'day', DAY)).toBe(0);
    // Another node's calls.
    await store.appendUsage(Array.from({ length: 4 }, () => record('m1', 0.5)));
    const reads = vi.spyOn(store.db, 'selectNoFrom');
    const totals = await Promise.all(Array.from({ length: 5 }, () => spend.spent('app', 'm1', 'day', DAY + 1_000)));
    expect(reads).toHaveBeenCalledTimes(1);
    reads.mockRestore();
    expect(totals.map((usd) => Math.round(usd * 1e9) / 1e9)).toEqual([2, 2, 2, 2, 2]);
    expect(await spend.spent('app', 'm1', 'day', DAY + 2_500)).toBeCloseTo(2, 9);
  });

  // Such writes are kept apart until a check reads the store; a budget whose limit was removed is never checked again.
  it('forgets a budget nobody checks any more instead of keeping its writes apart for ever, and reads it afresh', async () => {
    const spend = new SpendTracker(store, 1_000);
    expect(await spend.spent('app', 'n1', 'day', DAY)).toBe(0);
    for (let i = 1; i <= 10_001; i++) {
      const call = record('n1', 0.001);
      spend.add('n1', 'shop', 0.001, DAY);
      spend.written([call], Number.MAX_SAFE_INTEGER - 20_000 + i);
    }
    expect(spend.spentNow('app', 'n1', 'day', DAY)).toBeUndefined();
    await store.appendUsage([record('n1', 0.25)]);
    expect(await spend.spent('app', 'n1', 'day', DAY)).toBeCloseTo(0.25, 9);
  });

  it('counts a call made before its budget was first checked', async () => {
    const a = node(1_000);
    a.call('i1', 1);
    expect(await a.spend.spent('app', 'i1', 'day', DAY)).toBeCloseTo(1, 9);
    a.call('i1', 2);
    await a.recorder.flush();
    expect(await a.spend.spent('app', 'i1', 'day', DAY)).toBeCloseTo(3, 9);
    expect(await a.spend.spent('app', 'i1', 'day', DAY + 1_000)).toBeCloseTo(3, 9);
  });

  it('counts each call once when a first read falls between the statements of one write', async () => {
    const a = node(1_000);
    const calls = USAGE_STATEMENT_ROWS[kind] * 2 + 10;
    for (let i = 0; i < calls; i++) a.call('h1', 0.5);
    // The budget's first check comes after the first statement of the write, before the second.
    const append = store.appendUsage.bind(store);
    let statements = 0;
    let firstRead: number | undefined;
    const spy = vi.spyOn(store, 'appendUsage').mockImplementation(async (rows) => {
      if (statements++ === 1) firstRead = await a.spend.spent('app', 'h1', 'day', DAY);
      return append(rows);
    });
    await a.recorder.flush();
    spy.mockRestore();
    expect(statements).toBe(3);
    expect(firstRead).toBeCloseTo(calls * 0.5, 9);
    expect(a.spend.spentNow('app', 'h1', 'day', DAY)).toBeCloseTo(calls * 0.5, 9);
    expect(await a.spend.spent('app', 'h1', 'day', DAY + 1_000)).toBeCloseTo(calls * 0.5, 9);
  });

  it('does not count twice a write that a read of the store took in before this node heard of it', async () => {
    const spend = new SpendTracker(store, 1_000);
    const write = async (count: number) => {
      const records = Array.from({ length: count }, () => record('j1', 0.25));
      for (const r of records) spend.add(r.app, r.team, Number(r.cost_usd), Number(r.at));
      return { records, lastId: await store.appendUsage(records) };
    };
    // Written, then the first read, then the node hears of the write.
    const first = await write(4);
    await spend.spent('app', 'j1', 'day', DAY);
    spend.written(first.records, first.lastId);
    expect(spend.spentNow('app', 'j1', 'day', DAY)).toBeCloseTo(1, 9);
    // The same with a re-sync.
    const second = await write(2);
    await spend.spent('app', 'j1', 'day', DAY + 1_000);
    spend.written(second.records, second.lastId);
    expect(spend.spentNow('app', 'j1', 'day', DAY + 1_000)).toBeCloseTo(1.5, 9);
  });

  // On PostgreSQL another connection writes while the first read's snapshot is open: a write it did not see may be
  // reported before the read ends. Its id, above anything the snapshot holds, stands for that.
  it('counts a write reported while the first read is under way, that the read did not see', async () => {
    const spend = new SpendTracker(store, 1_000);
    const records = [record('k1', 0.5), record('k1', 0.25)];
    const reading = spend.spent('app', 'k1', 'day', DAY);
    spend.written(records, Number.MAX_SAFE_INTEGER);
    expect(await reading).toBeCloseTo(0.75, 9);
  });

  it('leaves the calls of a day that is over out of the next, even those still to be written at midnight', async () => {
    const a = node(1_000);
    const lastMoment = periodStart('day', DAY) + 86_400_000 - 1;
    expect(await a.spend.spent('app', 'g1', 'day', lastMoment)).toBe(0);
    a.call('g1', 2, lastMoment);
    expect(await a.spend.spent('app', 'g1', 'day', lastMoment)).toBeCloseTo(2, 9);
    expect(await a.spend.spent('app', 'g1', 'day', lastMoment + 1)).toBe(0);
    await a.recorder.flush();
    expect(await a.spend.spent('app', 'g1', 'day', lastMoment + 2)).toBe(0);
    expect(await a.spend.spent('app', 'g1', 'day', lastMoment + 2_000)).toBe(0);
    expect(await a.spend.spent('app', 'g1', 'month', lastMoment + 2_000)).toBeCloseTo(2, 9);
  });

  it('starts each day from zero', async () => {
    const a = node(1_000);
    a.call('a3', 1);
    await a.recorder.flush();
    expect(await a.spend.spent('app', 'a3', 'day', DAY + 86_400_000)).toBe(0);
    expect(await a.spend.spent('app', 'a3', 'month', DAY + 86_400_000)).toBeCloseTo(1, 9);
  });

  it("reads a period's spend for the first time from the daily sums, without reading the period's usage rows", async () => {
    // 300 calls of app f1 today, 10 cents each, and 40 of yesterday at a dollar, which count for the month only.
    const ofTeam = (r: UsageRecord): UsageRecord => ({ ...r, team: 'f1-team' });
    await store.appendUsage([...Array.from({ length: 40 }, () => ofTeam(record('f1', 1, DAY - 86_400_000))), ...Array.from({ length: 300 }, (_, i) => ofTeam(record('f1', 0.1, DAY + i)))]);
    const tracker = new SpendTracker(store);
    expect(await tracker.spent('app', 'f1', 'day', DAY + 1_000)).toBeCloseTo(30, 9);
    expect(await tracker.spent('app', 'f1', 'month', DAY + 1_000)).toBeCloseTo(70, 9);
    expect(await tracker.spent('team', 'f1-team', 'day', DAY + 1_000)).toBeCloseTo(30, 9);
    expect(await tracker.spent('team', 'f1-team', 'month', DAY + 1_000)).toBeCloseTo(70, 9);
    // What the usage rows no longer tell: the first read takes the daily sums as they are.
    await store.db.updateTable('ai_spend_daily').set({ cost_usd: 123 }).where('scope', '=', 'app').where('name', '=', 'f1').where('day', '=', periodStart('day', DAY)).execute();
    expect(await new SpendTracker(store).spent('app', 'f1', 'day', DAY + 1_000)).toBe(123);
  });

  it('then counts only the rows written after the snapshot it read, once', async () => {
    await store.appendUsage(Array.from({ length: 10 }, () => record('f5', 1)));
    const tracker = new SpendTracker(store, 1_000);
    expect(await tracker.spent('app', 'f5', 'day', DAY)).toBeCloseTo(10, 9);
    await store.appendUsage(Array.from({ length: 5 }, () => record('f5', 1)));
    expect(await tracker.spent('app', 'f5', 'day', DAY + 1_000)).toBeCloseTo(15, 9);
    expect(await tracker.spent('app', 'f5', 'day', DAY + 2_000)).toBeCloseTo(15, 9);
  });

  it('shares one first read among budget checks that ask at the same time', async () => {
    await store.appendUsage(Array.from({ length: 100 }, () => record('f2', 0.5)));
    // Each first read is one statement: one snapshot of the store.
    const queries = vi.spyOn(store.db, 'selectNoFrom');
    expect(await new SpendTracker(store).spent('app', 'f2', 'day', DAY)).toBeCloseTo(50, 9);
    const alone = queries.mock.calls.length;
    queries.mockClear();
    const tracker = new SpendTracker(store);
    const both = await Promise.all([tracker.spent('app', 'f2', 'day', DAY), tracker.spent('app', 'f2', 'day', DAY)]);
    expect(both.map((usd) => Math.round(usd * 1e6) / 1e6)).toEqual([50, 50]);
    expect(alone).toBe(1);
    expect(queries.mock.calls.length).toBe(alone);
    queries.mockRestore();
  });

  it("does not hand a check of a new day the first read of the day before, still under way", async () => {
    await store.appendUsage(Array.from({ length: 50 }, () => record('f4', 0.2)));
    const tracker = new SpendTracker(store);
    const [today, tomorrow] = await Promise.all([tracker.spent('app', 'f4', 'day', DAY), tracker.spent('app', 'f4', 'day', DAY + 86_400_000)]);
    expect(today).toBeCloseTo(10, 9);
    expect(tomorrow).toBe(0);
  });

  /** Holds SQLite's one connection until `release` is called: the store's users then take it in the order they asked. */
  async function holdConnection(): Promise<{ release: () => Promise<void> }> {
    let free = () => {};
    let holding = () => {};
    const isHeld = new Promise<void>((resolve) => (holding = resolve));
    const held = store.db.connection().execute(() => new Promise<void>((resolve) => {
      free = resolve;
      holding();
    }));
    await isHeld;
    return { release: () => (free(), held) };
  }

  /**
   * A re-sync of the day before and the new day's first read under way at once (on PostgreSQL in either order),
   * with another node's call of the day before for the re-sync to read, and this node's call of the new day
   * written meanwhile (its id beyond what either read sees).
   */
  async function resyncAcrossMidnight(app: string) {
    const midnight = periodStart('day', DAY) + 86_400_000;
    const tracker = new SpendTracker(store, 1_000);
    expect(await tracker.spent('app', app, 'day', midnight - 5_000)).toBe(0);
    const top = await store.appendUsage([record(app, 1, midnight - 4_000)]);
    const resync = tracker.spent('app', app, 'day', midnight - 2_000);
    const firstRead = tracker.spent('app', app, 'day', midnight + 1_000);
    tracker.add(app, 'shop', 2, midnight + 500);
    tracker.written([record(app, 2, midnight + 500)], top + 1_000);
    return { tracker, midnight, resync: await resync, firstRead: await firstRead };
  }

  it("counts in a re-sync of the day before, while the new day's first read is under way, the rows of its own day", async () => {
    const { resync } = await resyncAcrossMidnight('r1');
    expect(resync).toBeCloseTo(1, 9);
  });

  it("keeps the new day's writes for its first read through a re-sync of the day before", async () => {
    const { tracker, midnight, firstRead } = await resyncAcrossMidnight('r2');
    expect(firstRead).toBeCloseTo(2, 9);
    expect(tracker.spentNow('app', 'r2', 'day', midnight + 1_500)).toBeCloseTo(2, 9);
  });

  if (kind === 'sqlite') it("keeps a check of the day before to that day's writes while the new day's first read is under way", async () => {
    const midnight = periodStart('day', DAY) + 86_400_000;
    const tracker = new SpendTracker(store, 60_000);
    expect(await tracker.spent('app', 'r3', 'day', midnight - 5_000)).toBe(0);
    const top = await store.appendUsage([record('other-app', 0.1, midnight - 5_000)]);
    // Written, not yet read: a call of the day before, then one of the new day while its first read waits.
    tracker.add('r3', 'shop', 1, midnight - 3_000);
    tracker.written([record('r3', 1, midnight - 3_000)], top + 1_000);
    const connection = await holdConnection();
    const firstRead = tracker.spent('app', 'r3', 'day', midnight + 1_000);
    tracker.add('r3', 'shop', 2, midnight + 500);
    tracker.written([record('r3', 2, midnight + 500)], top + 1_001);
    const dayBefore = tracker.spentNow('app', 'r3', 'day', midnight - 1_000);
    await connection.release();
    expect(dayBefore).toBeCloseTo(1, 9);
    expect(await firstRead).toBeCloseTo(2, 9);
  });

  it("re-syncs from the daily sums too, without reading the usage rows written since", async () => {
    await store.appendUsage(Array.from({ length: 20 }, () => record('s1', 0.5)));
    const tracker = new SpendTracker(store, 1_000);
    expect(await tracker.spent('app', 's1', 'day', DAY)).toBeCloseTo(10, 9);
    await store.appendUsage(Array.from({ length: 4 }, () => record('s1', 0.5)));
    // What the usage rows no longer tell: a re-sync takes the daily sum as it is.
    await store.db.updateTable('ai_spend_daily').set({ cost_usd: 42 }).where('scope', '=', 'app').where('name', '=', 's1').where('day', '=', periodStart('day', DAY)).execute();
    expect(await tracker.spent('app', 's1', 'day', DAY + 1_000)).toBe(42);
  });
});

describe('budget periods', () => {
  it('starts days and months at UTC midnight, across month and year ends, whatever order times are asked in', () => {
    const cases: Array<[number, number, number]> = [
      [Date.UTC(2026, 10, 29, 12), Date.UTC(2026, 10, 29), Date.UTC(2026, 10, 1)],
      [Date.UTC(2026, 10, 29, 23, 59, 59, 999), Date.UTC(2026, 10, 29), Date.UTC(2026, 10, 1)],
      [Date.UTC(2026, 10, 30), Date.UTC(2026, 10, 30), Date.UTC(2026, 10, 1)],
      [Date.UTC(2026, 11, 1), Date.UTC(2026, 11, 1), Date.UTC(2026, 11, 1)],
      [Date.UTC(2026, 11, 31, 18), Date.UTC(2026, 11, 31), Date.UTC(2026, 11, 1)],
      [Date.UTC(2027, 0, 1, 0, 0, 0, 1), Date.UTC(2027, 0, 1), Date.UTC(2027, 0, 1)],
      [Date.UTC(2024, 1, 29, 7), Date.UTC(2024, 1, 29), Date.UTC(2024, 1, 1)],
      [Date.UTC(2026, 10, 29, 1), Date.UTC(2026, 10, 29), Date.UTC(2026, 10, 1)],
    ];
    // Twice, forwards then backwards: an answer remembered from the previous call must never leak into the next.
    for (const [at, day, month] of [...cases, ...cases.reverse()]) {
      expect([periodStart('day', at), periodStart('month', at)]).toEqual([day, month]);
    }
  });
});

describe('what calls under way hold against budgets', () => {
  // Holds never reach the store: a tracker without one is enough.
  const tracker = () => new SpendTracker(undefined as unknown as Store);

  it('sums the holds of an app and of its team apart, and leaves nothing once each is released', () => {
    const spend = tracker();
    spend.hold('shop-app', 'shop', 0.1);
    spend.hold('shop-app', undefined, 0.2);
    spend.hold('other-app', 'shop', 0.3);
    expect(spend.heldBy('app', 'shop-app')).toBeCloseTo(0.3, 12);
    expect(spend.heldBy('team', 'shop')).toBeCloseTo(0.4, 12);
    expect(spend.heldBy('app', 'shop')).toBe(0);
    spend.release('shop-app', 'shop', 0.1);
    spend.release('shop-app', undefined, 0.2);
    spend.release('other-app', 'shop', 0.3);
    // 0.1 + 0.2 − 0.1 − 0.2 is not 0 in floating point: what is left of a released balance is no hold.
    for (const [scope, name] of [['app', 'shop-app'], ['team', 'shop'], ['app', 'other-app']] as const) expect(spend.heldBy(scope, name)).toBe(0);
  });
});
