import { randomBytes } from 'node:crypto';
import type { Insertable } from 'kysely';
import { isRefusedRow, type AiUsageTable, type Store } from '../store/index.js';

export type UsageRecord = Insertable<AiUsageTable>;

/**
 * Rows per store write. Neither store's writes run on the event loop (SQLite's run on a thread of their own,
 * PostgreSQL's on the server), and the rows of a write share one commit. SQLite's hold the file's write lock
 * meanwhile, which another write of the process (a DPoP proof's replay mark, say) waits out in SQLite's busy
 * handler on the event loop: 250 rows, under a millisecond. PostgreSQL's take turns between nodes (USAGE_APPEND_LOCK).
 */
export const USAGE_STATEMENT_ROWS = { sqlite: 250, postgres: 500 } as const;

/**
 * The data plane's only write for AI calls: records are buffered and written in batches, off the request path.
 * A failed write is retried with the next batch; beyond a bound the oldest records are dropped and counted. A
 * statement the store refuses for what a row holds (isRefusedRow) is split in halves until the rows it refuses
 * stand alone: those are set aside, counted and told to `onRefused`, and the rest are written, rather than one
 * record that can never be written holding back every record after it.
 */
export class UsageRecorder {
  /** Records waiting, oldest first, from #head on: those before it were dropped and are cut off in bulk. */
  #buffer: UsageRecord[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  /** The last write failed: until one succeeds, only the timer retries, not every call that records. */
  #failing = false;
  dropped = 0;
  /** Records the store refused for what they hold, set aside (see the class). */
  refused = 0;
  readonly #refusedListeners = new Set<(record: UsageRecord, reason: Error) => void>();
  readonly #flushListeners = new Set<(records: readonly UsageRecord[], lastId: number) => void>();

  constructor(
    private readonly store: Store,
    private readonly onError: (error: Error) => void,
    private readonly maxBuffered = 100_000,
    /** Records buffered that start a write before the timer's next one. */
    private readonly flushAt = 500,
  ) {}

  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  /** Told of every statement's records once they are in the store, with the largest usage id among them. */
  onFlushed(listener: (records: readonly UsageRecord[], lastId: number) => void): void {
    this.#flushListeners.add(listener);
  }

  /** Told of each record set aside because the store refuses what it holds, with the store's reason. */
  onRefused(listener: (record: UsageRecord, reason: Error) => void): void {
    this.#refusedListeners.add(listener);
  }

  /** This process's part of each record's key: random, so that no two processes' keys meet. */
  readonly #keyPrefix = `${randomBytes(9).toString('base64url')}:`;
  #keys = 0;

  record(record: UsageRecord): void {
    record.record_key ??= `${this.#keyPrefix}${(this.#keys += 1)}`;
    this.#buffer.push(record);
    if (this.#buffer.length - this.#head > this.maxBuffered) {
      this.#head += 1;
      this.dropped += 1;
      // Cut in bulk: a store that is down keeps the buffer full, and shifting 100,000 records took 12 µs a call.
      if (this.#head >= this.#buffer.length / 2) {
        this.#buffer.splice(0, this.#head);
        this.#head = 0;
      }
    }
    if (this.#buffer.length - this.#head >= this.flushAt && !this.#failing) void this.flush();
  }

  /** The records waiting, oldest first; the buffer is left empty. */
  #take(): UsageRecord[] {
    const waiting = this.#head === 0 ? this.#buffer : this.#buffer.slice(this.#head);
    this.#buffer = [];
    this.#head = 0;
    return waiting;
  }

  /** Writes what is buffered; resolves when it is in the store (or failed and was kept for the next flush). */
  async flush(): Promise<void> {
    // Another caller may start the next batch (holding this caller's records) while this one waits: wait for it too.
    while (this.#flushing) await this.#flushing;
    if (this.#buffer.length === this.#head) return;
    const batch = this.#take();
    this.#flushing = (async () => {
      // Records from the start of the batch that are in the store or set aside.
      let settled = 0;
      // The parts a refused statement was split into, the next first (see #refused).
      const parts: number[] = [];
      try {
        // Bounded statements, yielding between them: a backlog (after a store outage, say) goes in several.
        while (settled < batch.length) {
          if (settled > 0) await new Promise((resolve) => setImmediate(resolve));
          const length = parts.shift() ?? Math.min(USAGE_STATEMENT_ROWS[this.store.dialect], batch.length - settled);
          const rows = batch.slice(settled, settled + length);
          try {
            const lastId = await this.store.appendUsage(rows);
            for (const listener of this.#flushListeners) listener(rows, lastId);
          } catch (error) {
            if (!isRefusedRow(error)) throw error;
            if (length > 1) {
              parts.unshift(Math.ceil(length / 2), length - Math.ceil(length / 2));
              continue;
            }
            this.refused += 1;
            for (const listener of this.#refusedListeners) listener(rows[0]!, error as Error);
          }
          settled += length;
        }
        this.#failing = false;
      } catch (error) {
        this.#failing = true;
        // Records of the statements before the failing one are in the store: keeping them would count them twice.
        const waiting = batch.slice(settled).concat(this.#take());
        const over = Math.max(0, waiting.length - this.maxBuffered);
        this.#buffer = over > 0 ? waiting.slice(over) : waiting;
        this.dropped += over;
        this.onError(error as Error);
      }
    })();
    await this.#flushing;
    this.#flushing = undefined;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
