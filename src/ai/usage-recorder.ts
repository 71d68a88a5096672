import type { Insertable } from 'kysely';
import type { AiUsageTable, Store } from '../store/index.js';

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
 * A failed write is retried with the next batch; beyond a bound the oldest records are dropped and counted.
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

  record(record: UsageRecord): void {
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
      let written = 0;
      try {
        // Bounded statements, yielding between them: a backlog (after a store outage, say) goes in several.
        while (written < batch.length) {
          if (written > 0) await new Promise((resolve) => setImmediate(resolve));
          const rows = batch.slice(written, written + USAGE_STATEMENT_ROWS[this.store.dialect]);
          const lastId = await this.store.appendUsage(rows);
          written += rows.length;
          for (const listener of this.#flushListeners) listener(rows, lastId);
        }
        this.#failing = false;
      } catch (error) {
        this.#failing = true;
        // Records of the statements before the failing one are in the store: keeping them would count them twice.
        const waiting = batch.slice(written).concat(this.#take());
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
