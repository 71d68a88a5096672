import { startSqliteThread, type SqliteThread } from './sqlite-thread.js';

/**
 * Pages in the write-ahead log past which the store's own connection checkpoints after all: only if the
 * checkpointer thread has stopped working (some 40 MiB of log at SQLite's 4 KiB pages).
 */
export const BACKSTOP_PAGES = 10_000;

/** How often the checkpointer thread copies the log into the database file. */
const INTERVAL_MS = 1_000;

// The thread's code (see startSqliteThread). A passive checkpoint never waits for the store's connection and never makes it
// wait: it copies what no reader still needs, and the connection goes on appending meanwhile.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file, { fileMustExist: true });
let failing = false;
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failing = false;
  } catch (error) {
    // Another process's checkpointer at work (worker processes share the file): its checkpoint serves for both.
    if (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED') return;
    // Told once per run of failures, not every second.
    if (!failing) parentPort.postMessage({ error: error.message });
    failing = true;
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * SQLite's checkpoints for a store file, on a thread of their own. A checkpoint copies the write-ahead log into
 * the database file and syncs it: milliseconds of disk work that SQLite otherwise does inside whichever commit
 * fills the log, on the event loop (5–15 ms stalls every few seconds under AI usage writes). The store's own
 * connection checkpoints only past BACKSTOP_PAGES, should this thread fail.
 */
export class WalCheckpointer {
  readonly #thread: SqliteThread;

  private constructor(file: string, intervalMs: number, onError: (message: string) => void) {
    // A passive checkpoint takes no lock a writer waits for: it can wait behind the event loop (startSqliteThread).
    this.#thread = startSqliteThread(THREAD, { file, intervalMs }, { background: true });
    this.#thread.worker.on('message', (message: unknown) => {
      if (message && typeof message === 'object' && 'error' in message) onError(String(message.error));
    });
    this.#thread.worker.once('error', (error) => onError(error.message));
  }

  /** Starts checkpointing `file`, a SQLite database in WAL mode that the caller has open. */
  static start(file: string, options: { intervalMs?: number; onError?: (message: string) => void } = {}): WalCheckpointer {
    return new WalCheckpointer(file, options.intervalMs ?? INTERVAL_MS, options.onError ?? (() => undefined));
  }

  /** Stops the thread and closes its connection; the store's own close then checkpoints what is left. */
  stop(): Promise<void> {
    return this.#thread.stop();
  }
}
