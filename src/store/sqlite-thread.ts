import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** A thread with a SQLite connection of its own (the usage writer's, the checkpointer's). */
export interface SqliteThread {
  worker: Worker;
  /** Resolves once the thread has ended, for whatever reason. */
  exited: Promise<void>;
  /** Sends the thread 'stop' (it closes its connection and ends) and waits for its end. */
  stop(): Promise<void>;
}

/**
 * What a background thread runs first: it lowers its own scheduling priority to the lowest (nice 19), so that on a
 * busy CPU its work waits for the event loop rather than the requests for its work. Linux keeps a nice value per
 * thread, and `/proc/thread-self` names this one; elsewhere (no such file) the thread keeps the process's. Only for
 * a thread that never holds a lock the event loop may wait for: a write lock held at nice 19 on a busy machine (by
 * another worker process's thread, say) would keep the waiting event loop asleep for as long as the scheduler
 * starves the holder.
 */
const BACKGROUND_PRIORITY = `
try {
  const thread = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(thread, 19);
} catch {}
`;

/**
 * Starts `code` on a thread: CommonJS given as text, so that it runs the same from src/ (tests) and dist/, with
 * `workerData` and the driver's path, resolved here, as `workerData.driver`; `background` runs it at the lowest
 * priority (BACKGROUND_PRIORITY). The thread keeps no process alive until it is stopped: a stop holds the process
 * until the thread has closed its connection.
 */
export function startSqliteThread(code: string, workerData: Record<string, unknown>, { background = false }: { background?: boolean } = {}): SqliteThread {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(background ? BACKGROUND_PRIORITY + code : code, { eval: true, workerData: { ...workerData, driver } });
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    worker,
    exited,
    async stop() {
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
