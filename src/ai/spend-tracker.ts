import { sql } from 'kysely';
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

interface Tally {
  start: number;
  /** Spend found in the store, every node's, up to `watermark`. */
  stored: number;
  /** The highest usage-record id summed so far: each re-sync reads only the rows after it. */
  watermark: number;
  syncedAt: number;
}

type Scope = 'app' | 'team';

/**
 * The spend of `name` in the usage rows with ids in (after, upTo] of the period from `start`: the rows written
 * since the last re-sync. The name is compared through `coalesce` so that no database uses the (app, at) index,
 * which would read every row of the period to find the few new ones (17 ms at 300,000 rows on SQLite, every
 * re-sync, for each budget): the id range, the primary key, reads only the new ones.
 */
export function newSpendQuery(store: Store, scope: Scope, name: string, after: number, upTo: number, start: number) {
  return store.db
    .selectFrom('ai_usage')
    .select((eb) => eb.fn.sum<number>('cost_usd').as('usd'))
    .where((eb) => eb(eb.fn.coalesce(scope, sql.lit('')), '=', name))
    .where('id', '>', after)
    .where('id', '<=', upTo)
    .where('at', '>=', start);
}
const PERIODS: readonly BudgetPeriod[] = ['day', 'month'];

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

/**
 * Spend per app and team per UTC day and month, for budgets: what the store holds (every node's calls), plus
 * this node's calls not yet read back from it. The store is summed once per period, then only its new rows
 * every `resyncMs`, so checking a budget never scans a day of records on the request path.
 */
export class SpendTracker {
  readonly #tallies = new Map<string, Tally>();
  /** This node's spend not yet written to the store. */
  readonly #unflushed = new Map<string, number>();
  /** This node's spend written since the last re-sync, which that re-sync will count. */
  readonly #flushed = new Map<string, number>();

  /** First sums in progress: concurrent first checks of one budget share one. */
  readonly #summing = new Map<string, Promise<Tally>>();

  constructor(
    private readonly store: Store,
    private readonly resyncMs = 10_000,
  ) {}

  /** The spend when it is known without reading the store (the common case), else undefined: then ask `spent`. */
  spentNow(scope: Scope, name: string, period: BudgetPeriod, now: number): number | undefined {
    const k = key(scope, name, period);
    const tally = this.#tallies.get(k);
    if (!tally || tally.start !== periodStart(period, now) || now - tally.syncedAt >= this.resyncMs) return undefined;
    return this.#total(k, tally);
  }

  /** The store's sum plus this node's calls not yet read back from it. */
  #total(k: string, tally: Tally): number {
    return tally.stored + (this.#unflushed.get(k) ?? 0) + (this.#flushed.get(k) ?? 0);
  }

  async spent(scope: Scope, name: string, period: BudgetPeriod, now: number): Promise<number> {
    const k = key(scope, name, period);
    const start = periodStart(period, now);
    let tally = this.#tallies.get(k);
    if (!tally || tally.start !== start) {
      tally = await this.#firstSum(k, scope, name, start, now);
    } else if (now - tally.syncedAt >= this.resyncMs) {
      const top = await this.#maxId();
      if (top > tally.watermark) {
        const row = await newSpendQuery(this.store, scope, name, tally.watermark, top, start).executeTakeFirst();
        tally.stored += Number(row?.usd ?? 0);
        tally.watermark = top;
      }
      tally.syncedAt = now;
      this.#flushed.delete(k);
    }
    return this.#total(k, tally);
  }

  /**
   * A period's spend read from the store for the first time (a process started mid-month, say): the daily sums
   * the appends keep (at most 31 rows, however many calls the month had) and the largest usage id, from one
   * snapshot, so that the re-syncs after it count exactly the rows written since. Days after `now` count too:
   * another node's clock may be ahead.
   */
  #firstSum(k: string, scope: Scope, name: string, start: number, now: number): Promise<Tally> {
    // By period too: a check just after midnight must not be handed the sum of the day before, still running.
    const summingKey = `${k}\n${start}`;
    const running = this.#summing.get(summingKey);
    if (running) return running;
    // SQLite: a read transaction sees one snapshot (and holds the connection, so this process appends nothing in
    // between). PostgreSQL: repeatable read, for the same.
    const snapshot = this.store.dialect === 'postgres' ? this.store.db.transaction().setIsolationLevel('repeatable read') : this.store.db.transaction();
    const summing = snapshot.execute(async (tx) => {
      const top = Number((await tx.selectFrom('ai_usage').select((eb) => eb.fn.max<number>('id').as('id')).executeTakeFirst())?.id ?? 0);
      const row = await tx.selectFrom('ai_spend_daily').select((eb) => eb.fn.sum<number>('cost_usd').as('usd')).where('scope', '=', scope).where('name', '=', name).where('day', '>=', start).executeTakeFirst();
      const tally: Tally = { start, stored: Number(row?.usd ?? 0), watermark: top, syncedAt: now };
      this.#tallies.set(k, tally);
      this.#flushed.delete(k);
      return tally;
    }).finally(() => this.#summing.delete(summingKey));
    this.#summing.set(summingKey, summing);
    return summing;
  }

  async #maxId(): Promise<number> {
    const row = await this.store.db.selectFrom('ai_usage').select((eb) => eb.fn.max<number>('id').as('id')).executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  /** A call of this node: counted at once, before it reaches the store. */
  add(app: string | null | undefined, team: string | null | undefined, usd: number, at: number): void {
    this.#each(app, team, at, (k) => this.#unflushed.set(k, (this.#unflushed.get(k) ?? 0) + usd), usd);
  }

  /** Records now in the store: their spend moves from unflushed to flushed until the next re-sync counts it. */
  flushed(records: readonly UsageRecord[]): void {
    for (const record of records) {
      const usd = Number(record.cost_usd);
      this.#each(record.app, record.team, Number(record.at), (k) => {
        this.#unflushed.set(k, Math.max(0, (this.#unflushed.get(k) ?? 0) - usd));
        this.#flushed.set(k, (this.#flushed.get(k) ?? 0) + usd);
      }, usd);
    }
  }

  #each(app: string | null | undefined, team: string | null | undefined, at: number, apply: (k: string) => void, usd: number): void {
    if (usd <= 0) return;
    if (app) this.#eachPeriod('app', app, at, apply);
    if (team) this.#eachPeriod('team', team, at, apply);
  }

  #eachPeriod(scope: Scope, name: string, at: number, apply: (k: string) => void): void {
    const keys = keysOf(scope, name);
    for (const period of PERIODS) {
      const tally = this.#tallies.get(keys[period]);
      // Spend of an earlier period, or of a budget nobody has checked yet, is the store's business alone.
      if (tally && tally.start === periodStart(period, at)) apply(keys[period]);
    }
  }
}
