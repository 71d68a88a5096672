import type { Store } from '../store/index.js';
import type { UsageRecord } from './usage-recorder.js';

export type BudgetPeriod = 'day' | 'month';

/** The last period computed for each kind: every call of a day asks for the same one. */
const lastPeriod: Record<BudgetPeriod, { start: number; end: number }> = { day: { start: 0, end: 0 }, month: { start: 0, end: 0 } };

/** The start of the UTC day or month holding `at`. */
export function periodStart(period: BudgetPeriod, at: number): number {
  const last = lastPeriod[period];
  if (at >= last.start && at < last.end) return last.start;
  const d = new Date(at);
  const [y, m] = [d.getUTCFullYear(), d.getUTCMonth()];
  const start = period === 'day' ? Date.UTC(y, m, d.getUTCDate()) : Date.UTC(y, m, 1);
  const end = period === 'day' ? Date.UTC(y, m, d.getUTCDate() + 1) : Date.UTC(y, m + 1, 1);
  lastPeriod[period] = { start, end };
  return start;
}

/** The end of the UTC day or month holding `at` (the start of the next), from the period periodStart keeps for it. */
export function periodEnd(period: BudgetPeriod, at: number): number {
  periodStart(period, at);
  return lastPeriod[period].end;
}

interface Tally {
  start: number;
  /** Spend found in the store, every node's, up to `watermark`. */
  stored: number;
  /** The largest usage-record id when `stored` was read: this node's writes above it are not in it yet. */
  watermark: number;
  syncedAt: number;
  /** A re-sync failed (the store did not answer): the next is tried from then on, meanwhile `stored` serves. */
  retryAt: number;
}

type Scope = 'app' | 'team';

const PERIODS: readonly BudgetPeriod[] = ['day', 'month'];

/** How long a budget whose re-sync failed serves its last figure before the store is asked again. */
const RETRY_MS = 1_000;

/** Writes a budget's tally keeps apart until a check reads the store (every 10 s while it is checked). */
const MAX_UNREAD_BATCHES = 10_000;

/** Tally keys per scope and name, made once: every call would otherwise build four strings to find its tallies. */
const keyCache: Record<Scope, Map<string, Record<BudgetPeriod, string>>> = { app: new Map(), team: new Map() };

function keysOf(scope: Scope, name: string): Record<BudgetPeriod, string> {
  let keys = keyCache[scope].get(name);
  if (!keys) {
    keys = { day: `${scope}\n${name}\nday`, month: `${scope}\n${name}\nmonth` };
    // Names are apps and teams: few. The bound only keeps a flood of deleted ones from growing the map for ever.
    if (keyCache[scope].size >= 100_000) keyCache[scope].clear();
    keyCache[scope].set(name, keys);
  }
  return keys;
}

const key = (scope: Scope, name: string, period: BudgetPeriod) => keysOf(scope, name)[period];

/** This node's spend of one period not yet written to the store. */
interface Unwritten {
  start: number;
  usd: number;
}

/** This node's spend of the period from `start` written to the store, up to usage id `id`, not yet read back. */
interface Written {
  start: number;
  id: number;
  usd: number;
}

/**
 * Spend per app and team per UTC day and month, for budgets: what the store holds (every node's calls), plus
 * this node's calls not yet read back from it. The store's daily sums are read once per period and then every
 * `resyncMs` while the budget is checked: at most 31 rows a read, however many calls the period had (reading the
 * usage rows written since the last read took 7 ms of the event loop at 60,000 of them).
 *
 * Each of this node's calls is counted once: from `add` until its record is written (`unwritten`), then, if the
 * tally has not read it yet (its id is above the tally's watermark), until a re-sync reads it (`written`).
 */
export class SpendTracker {
  readonly #tallies = new Map<string, Tally>();
  /** What calls under way on this node may still spend, per app and per team: see `hold`. */
  readonly #held: Record<Scope, Map<string, number>> = { app: new Map(), team: new Map() };
  readonly #unwritten = new Map<string, Unwritten>();
  /** `mixed`: batches of more than one period, which only a check around midnight meets (see #writtenOf). */
  readonly #written = new Map<string, { usd: number; batches: Written[]; mixed: boolean }>();

  /** A re-sync failed and none has succeeded since: the failure was told, and is not told again meanwhile. */
  #stale = false;

  /** First sums in progress: concurrent first checks of one budget share one. */
  readonly #summing = new Map<string, Promise<Tally>>();
  /** Re-syncs in progress, one per tally (a new period's tally never waits on the last one's). */
  readonly #resyncing = new WeakMap<Tally, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly resyncMs = 10_000,
    /**
     * Told of a re-sync that failed, once until one succeeds again (every budget checked retries each second
     * while the store is away); budgets are then checked against their last figures (see `spent`).
     */
    private readonly onStale: (error: Error) => void = () => undefined,
  ) {}

  /** The spend when it is known without reading the store (the common case), else undefined: then ask `spent`. */
  spentNow(scope: Scope, name: string, period: BudgetPeriod, now: number): number | undefined {
    const k = key(scope, name, period);
    const tally = this.#tallies.get(k);
    if (!tally || tally.start !== periodStart(period, now) || this.#due(tally, now)) return undefined;
    return this.#total(k, tally);
  }

  /**
   * The spend as last read, plus this node's calls since, due for a re-read or not: for the check a call makes just
   * before it reaches a provider, from the figure its admission made sure of. It must not wait for the store: calls
   * that waited together would all pass it, and a read slower than `resyncMs` would make it wait for ever.
   */
  spentKnown(scope: Scope, name: string, period: BudgetPeriod, now: number): number {
    const k = key(scope, name, period);
    const start = periodStart(period, now);
    const tally = this.#tallies.get(k);
    if (tally && tally.start === start) return this.#total(k, tally);
    // The period turned since its last read: no figure of the new one yet, but this node's own calls of it.
    const unwritten = this.#unwritten.get(k);
    return unwritten?.start === start ? unwritten.usd : 0;
  }

  /** Whether the tally is to be read afresh: it is older than `resyncMs`, and not waiting out a failed read. */
  #due(tally: Tally, now: number): boolean {
    return now - tally.syncedAt >= this.resyncMs && now >= tally.retryAt;
  }

  /** The store's sum plus this node's calls of the tally's period not yet read back from it. */
  #total(k: string, tally: Tally): number {
    const unwritten = this.#unwritten.get(k);
    return tally.stored + (unwritten?.start === tally.start ? unwritten.usd : 0) + this.#writtenOf(k, tally.start);
  }

  /**
   * The written spend of the period starting at `start` that its tally has not read. All of it, as a rule: kept
   * batches are the current tally's period's. Only around midnight may a check of the day before, still finishing,
   * meet the new day's.
   */
  #writtenOf(k: string, start: number): number {
    const written = this.#written.get(k);
    if (!written) return 0;
    if (!written.mixed && written.batches[0]?.start === start) return written.usd;
    return written.batches.reduce((sum, b) => (b.start === start ? sum + b.usd : sum), 0);
  }

  /**
   * Keeps the written batches no read has taken in: the tally's period's above its watermark, and those of a later
   * period, whose first read may be under way and sorts them when it ends (only around midnight).
   */
  #keepUnread(k: string, tally: Tally): void {
    const written = this.#written.get(k);
    if (!written) return;
    const unread = written.batches.filter((b) => (b.start === tally.start ? b.id > tally.watermark : b.start > tally.start));
    if (unread.length === 0) this.#written.delete(k);
    else this.#written.set(k, { usd: unread.reduce((sum, b) => sum + b.usd, 0), batches: unread, mixed: unread.some((b) => b.start !== unread[0]!.start) });
  }

  /**
   * The spend, read from the store first if need be. A period's first read that fails rejects: nothing is known
   * to check against. A re-sync that fails does not: the store's last figure and this node's calls since serve
   * (calls of other nodes meanwhile are missed), and the store is asked again after RETRY_MS, as the data plane
   * goes on serving its last snapshot when the store goes away.
   */
  async spent(scope: Scope, name: string, period: BudgetPeriod, now: number): Promise<number> {
    const k = key(scope, name, period);
    const start = periodStart(period, now);
    let tally = this.#tallies.get(k);
    if (!tally || tally.start !== start) {
      tally = await this.#firstSum(k, scope, name, start, now);
    } else if (this.#due(tally, now)) {
      const current = tally;
      let resync = this.#resyncing.get(current);
      if (!resync) {
        resync = this.#resync(k, current, scope, name, now)
          .catch((error: unknown) => {
            current.retryAt = now + RETRY_MS;
            if (!this.#stale) this.onStale(error as Error);
            this.#stale = true;
          })
          .finally(() => this.#resyncing.delete(current));
        this.#resyncing.set(current, resync);
      }
      await resync;
    }
    return this.#total(k, tally);
  }

  /** Reads the tally's period afresh; checks that ask meanwhile share it. */
  async #resync(k: string, tally: Tally, scope: Scope, name: string, now: number): Promise<void> {
    await this.#read(scope, name, tally.start, (stored, watermark) => {
      tally.stored = stored;
      tally.watermark = watermark;
      tally.syncedAt = now;
      this.#stale = false;
      // Also when a first read of a new period replaced the tally meanwhile: the checks waiting on this one get its
      // period's total, and the new period's writes are kept, whichever read ends first (see #keepUnread).
      this.#keepUnread(k, tally);
    });
  }

  /**
   * A period's spend read from the store for the first time (a process started mid-month, say), as `#read` reads
   * it. Concurrent first checks of one budget share it.
   */
  #firstSum(k: string, scope: Scope, name: string, start: number, now: number): Promise<Tally> {
    // By period too: a check just after midnight must not be handed the sum of the day before, still running.
    const summingKey = `${k}\n${start}`;
    const running = this.#summing.get(summingKey);
    if (running) return running;
    const summing = this.#read(scope, name, start, (stored, watermark) => {
      const tally: Tally = { start, stored, watermark, syncedAt: now, retryAt: 0 };
      this.#tallies.set(k, tally);
      // Batches written while this read was under way were kept for it (see `written`): those it did not see count.
      this.#keepUnread(k, tally);
      return tally;
    }).finally(() => this.#summing.delete(summingKey));
    this.#summing.set(summingKey, summing);
    return summing;
  }

  /**
   * The spend of a period in the store, every node's: the daily sums kept with the usage rows (a row a day, however
   * many calls the period had), with the largest usage id, from one snapshot, handed to `take`. This node's writes
   * then count as read up to that id, and as written but unread above it (a write reported between the read and
   * `take` has ids above it, and was kept). Days after the period's start count whatever `now` is: another node's
   * clock may be ahead.
   */
  async #read<T>(scope: Scope, name: string, start: number, take: (stored: number, watermark: number) => T): Promise<T> {
    // One statement sees one snapshot, on SQLite and PostgreSQL alike (one round trip, where a transaction took
    // four). On PostgreSQL appends take turns (USAGE_APPEND_LOCK), so ids become visible in order.
    const row = await this.store.db
      .selectNoFrom((eb) => [
        eb.selectFrom('ai_usage').select((u) => u.fn.max<number>('id').as('id')).as('watermark'),
        eb.selectFrom('ai_spend_daily').select((d) => d.fn.sum<number>('cost_usd').as('usd')).where('scope', '=', scope).where('name', '=', name).where('day', '>=', start).as('stored'),
      ])
      .executeTakeFirst();
    return take(Number(row?.stored ?? 0), Number(row?.watermark ?? 0));
  }


  /**
   * Holds `usd` against the budgets of `app` and `team` (either may be left out) while a call of this node runs:
   * the most it may cost, which concurrent calls' checks count as spent (`heldBy`) until `release`. Without it,
   * calls made at once each pass the check and together spend past the limit by as many answers as there are
   * calls. Held in this node's memory: calls under way on other nodes are not seen.
   */
  hold(app: string | undefined, team: string | undefined, usd: number): void {
    if (app) this.#held.app.set(app, (this.#held.app.get(app) ?? 0) + usd);
    if (team) this.#held.team.set(team, (this.#held.team.get(team) ?? 0) + usd);
  }

  /** Ends a `hold` of the same arguments. */
  release(app: string | undefined, team: string | undefined, usd: number): void {
    if (app) this.#unhold(this.#held.app, app, usd);
    if (team) this.#unhold(this.#held.team, team, usd);
  }

  #unhold(held: Map<string, number>, name: string, usd: number): void {
    const left = (held.get(name) ?? 0) - usd;
    // Sums of floating-point amounts: what is left of a balance once every hold is released is rounding.
    if (left > 1e-9) held.set(name, left);
    else held.delete(name);
  }

  /** What calls under way on this node hold against the budgets of `name` (see `hold`). */
  heldBy(scope: Scope, name: string): number {
    const held = this.#held[scope];
    return held.size === 0 ? 0 : (held.get(name) ?? 0);
  }

  /** A call of this node: counted at once, before it reaches the store. */
  add(app: string | null | undefined, team: string | null | undefined, usd: number, at: number): void {
    if (usd <= 0) return;
    if (app) this.#addUnwritten(keysOf('app', app), at, usd);
    if (team) this.#addUnwritten(keysOf('team', team), at, usd);
  }

  /** Counts a call of `at` in the unwritten spend of its day and month; a newer period's call starts them afresh. */
  #addUnwritten(keys: Record<BudgetPeriod, string>, at: number, usd: number): void {
    for (const period of PERIODS) {
      const start = periodStart(period, at);
      const unwritten = this.#unwritten.get(keys[period]);
      if (!unwritten || unwritten.start < start) this.#unwritten.set(keys[period], { start, usd });
      else if (unwritten.start === start) unwritten.usd += usd;
      // else: a call of a period already over, which no budget checks any more.
    }
  }

  /**
   * Records now in the store, the largest id among them `lastId`: their spend is no longer unwritten, and counts
   * as written until a re-sync reads it, unless the tally has already read it (its watermark is at or past them).
   * Kept also while the period's first read is under way, which may or may not see them.
   */
  written(records: readonly UsageRecord[], lastId: number): void {
    // Summed per app, team and day first, then counted once per sum: a batch holds hundreds of calls of a few apps.
    let app: string | null | undefined;
    let team: string | null | undefined;
    let at = 0;
    let day = -1;
    let usd = 0;
    for (const record of records) {
      const cost = Number(record.cost_usd);
      if (!(cost > 0)) continue;
      const when = Number(record.at);
      const start = periodStart('day', when);
      if (usd > 0 && record.app === app && record.team === team && start === day) {
        usd += cost;
        continue;
      }
      if (usd > 0) this.#writtenSum(app, team, at, usd, lastId);
      app = record.app;
      team = record.team;
      at = when;
      day = start;
      usd = cost;
    }
    if (usd > 0) this.#writtenSum(app, team, at, usd, lastId);
  }

  /** Spend of `app` and `team` on the day of `at`, now in the store with ids up to `lastId` (see `written`). */
  #writtenSum(app: string | null | undefined, team: string | null | undefined, at: number, usd: number, lastId: number): void {
    this.#each(app, team, at, usd, (k, start) => {
      const unwritten = this.#unwritten.get(k);
      if (unwritten?.start === start) unwritten.usd = Math.max(0, unwritten.usd - usd);
      const tally = this.#tallies.get(k);
      const unread = tally?.start === start ? lastId > tally.watermark : this.#summing.size > 0 && this.#summing.has(`${k}\n${start}`);
      if (!unread) return;
      let written = this.#written.get(k);
      if (!written) this.#written.set(k, (written = { usd: 0, batches: [], mixed: false }));
      written.usd += usd;
      const last = written.batches.at(-1);
      if (last?.id === lastId && last.start === start) last.usd += usd;
      else if (written.batches.length < MAX_UNREAD_BATCHES) {
        written.mixed ||= written.batches.length > 0 && written.batches[0]!.start !== start;
        written.batches.push({ start, id: lastId, usd });
      } else {
        // A budget nobody checks any more (its limit was removed): forget it, and a later check reads it afresh.
        this.#tallies.delete(k);
        this.#written.delete(k);
      }
    });
  }

  #each(app: string | null | undefined, team: string | null | undefined, at: number, usd: number, apply: (k: string, start: number) => void): void {
    if (usd <= 0) return;
    if (app) this.#eachPeriod('app', app, at, apply);
    if (team) this.#eachPeriod('team', team, at, apply);
  }

  #eachPeriod(scope: Scope, name: string, at: number, apply: (k: string, start: number) => void): void {
    const keys = keysOf(scope, name);
    for (const period of PERIODS) apply(keys[period], periodStart(period, at));
  }
}
