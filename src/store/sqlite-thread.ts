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
 * Starts `code` on a thread: CommonJS given as text, so that it runs the same from src/ (tests) and dist/, with
 * `workerData` and the driver's path, resolved here, as `workerData.driver`. The thread keeps no process alive
 * until it is stopped: a stop holds the process until the thread has closed its connection.
 */
export function startSqliteThread(code: string, workerData: Record<string, unknown>): SqliteThread {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(code, { eval: true, workerData: { ...workerData, driver } });
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
