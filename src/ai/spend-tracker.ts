import type { Store } from '../store/index.js';

export type BudgetPeriod = 'day' | 'month';

/** The start of the UTC day or month holding `at`. */
export function periodStart(period: BudgetPeriod, at: number): number {
  const d = new Date(at);
  return period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

interface Tally {
  start: number;
  usd: number;
  /** When the store was last read for this tally; other nodes' spend arrives that way. */
  syncedAt: number;
}

/**
 * Spend per app and team per UTC day and month, for budgets. Read from the store's usage records once, then kept
 * in memory and increased by every call this node makes; re-read every `resyncMs` so the spend of other nodes
 * sharing the store is counted too (a budget can be overrun by at most what the other nodes spent meanwhile).
 */
export class SpendTracker {
  readonly #tallies = new Map<string, Tally>();

  constructor(
    private readonly store: Store,
    private readonly resyncMs = 10_000,
  ) {}

  async spent(scope: 'app' | 'team', name: string, period: BudgetPeriod, now: number): Promise<number> {
    const key = `${scope}\n${name}\n${period}`;
    const start = periodStart(period, now);
    let tally = this.#tallies.get(key);
    if (!tally || tally.start !== start || now - tally.syncedAt >= this.resyncMs) {
      const row = await this.store.db
        .selectFrom('ai_usage')
        .select((eb) => eb.fn.sum<number>('cost_usd').as('usd'))
        .where(scope, '=', name)
        .where('at', '>=', start)
        .executeTakeFirst();
      const stored = Number(row?.usd ?? 0);
      // Records of this node not yet flushed are in the tally but not in the store: keep the larger.
      tally = { start, usd: tally && tally.start === start ? Math.max(stored, tally.usd) : stored, syncedAt: now };
      this.#tallies.set(key, tally);
    }
    return tally.usd;
  }

  add(app: string | null | undefined, team: string | null | undefined, usd: number, at: number): void {
    if (usd <= 0) return;
    for (const [scope, name] of [['app', app], ['team', team]] as const) {
      if (!name) continue;
      for (const period of ['day', 'month'] as const) {
        const tally = this.#tallies.get(`${scope}\n${name}\n${period}`);
        if (tally && tally.start === periodStart(period, at)) tally.usd += usd;
      }
    }
  }
}
