import { startSqliteThread, type SqliteThread } from './sqlite-thread.js';
import { BACKSTOP_PAGES } from './wal-checkpointer.js';
import { UNBINDABLE_VALUE } from './refused-row.js';

/** The SQL a usage writer runs, made by the store from its column list: one definition for every writer. */
export interface UsageWriterSql {
  /** Values per row: the ai_usage columns the statements name. */
  width: number;
  /** Rows per multi-row INSERT (`insertMany`); the rest of a batch goes one row per `insertOne`. */
  rowsPerInsert: number;
  insertOne: string;
  insertMany: string;
  /** Adds `(scope, name, day, usd)` to a day's spend. */
  addDaily: string;
}

/** A day's spend of one app or team in a batch, added to ai_spend_daily in the batch's transaction. */
export interface DailySum {
  scope: 'app' | 'team';
  name: string;
  day: number;
  usd: number;
}

// The thread's code (see startSqliteThread).
// One transaction per batch: the rows and their daily sums, all or none; the reply carries the largest new id.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const { file, sql } = workerData;
const db = new SQLite(file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
// Checkpoints are the checkpointer thread's (or the primary's): this connection only past the same backstop.
db.pragma('wal_autocheckpoint = ' + workerData.backstopPages);
const one = db.prepare(sql.insertOne);
const many = db.prepare(sql.insertMany);
const daily = db.prepare(sql.addDaily);
const width = sql.width;
const chunk = sql.rowsPerInsert * width;
const append = db.transaction((values, sums) => {
  const rows = values.length / width;
  let lastId = 0;
  let i = 0;
  for (; i + sql.rowsPerInsert <= rows; i += sql.rowsPerInsert) lastId = Number(many.run(values.slice(i * width, i * width + chunk)).lastInsertRowid);
  for (; i < rows; i++) lastId = Number(one.run(values.slice(i * width, (i + 1) * width)).lastInsertRowid);
  for (const sum of sums) daily.run(sum.scope, sum.name, sum.day, sum.usd);
  return lastId;
});
parentPort.on('message', (message) => {
  if (message === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ id: message.id, lastId: append(message.values, message.sums) });
  } catch (error) {
    // better-sqlite3 refuses a value it cannot bind (a boolean, an object) with a TypeError or RangeError and no code.
    const code = error && (error.code ?? (error instanceof TypeError || error instanceof RangeError ? '${UNBINDABLE_VALUE}' : undefined));
    parentPort.postMessage({ id: message.id, error: String(error && error.message), code });
  }
});
`;

interface Reply {
  id: number;
  lastId?: number;
  error?: string;
  code?: string;
}

type Waiting = { resolve: (lastId: number) => void; reject: (error: Error) => void };

/** One run of the thread: the batches it was sent and has not answered, and its end. */
interface Run {
  thread: SqliteThread;
  pending: Map<number, Waiting>;
}

/**
 * AI usage rows appended to a SQLite file by a thread of its own, with its own connection. On the event loop,
 * each batch had to stay small (a 50-row transaction every few milliseconds, so that no request waited long
 * behind one), and the commits, the write-ahead log's page writes and the cold caches each of them met cost the
 * AI route 7–25 µs a call in A/B runs; here a batch of hundreds goes in one transaction, off the event loop,
 * which only hands the rows over (under 1 µs a row). A batch the thread answers with an error, or that it held
 * when it ended, fails (the recorder keeps it for its next write); the next batch starts a new thread. Once
 * stopped, the writer takes no more batches.
 */
export class UsageWriterThread {
  #run: Run | undefined;
  #stopped = false;
  #nextId = 1;

  constructor(
    private readonly file: string,
    private readonly sql: UsageWriterSql,
  ) {}

  /**
   * Appends rows, given as their values one row after another in the statements' column order (a flat array
   * crosses to the thread for less than objects, whose every property name is copied), and adds the sums to the
   * daily spend, in one transaction; resolves to the largest new id.
   */
  append(values: readonly unknown[], sums: readonly DailySum[]): Promise<number> {
    if (this.#stopped) return Promise.reject(new Error('usage rows not written: the store is closed'));
    const run = (this.#run ??= this.#start());
    const id = this.#nextId++;
    // Referenced while a batch is in flight: a shutdown waits for it; idle, the thread keeps no process alive.
    if (run.pending.size === 0) run.thread.worker.ref();
    return new Promise((resolve, reject) => {
      run.pending.set(id, { resolve, reject });
      run.thread.worker.postMessage({ id, values, sums });
    });
  }

  #start(): Run {
    const thread = startSqliteThread(THREAD, { file: this.file, sql: this.sql, backstopPages: BACKSTOP_PAGES });
    const { worker } = thread;
    const pending = new Map<number, Waiting>();
    const settle = (id: number): Waiting | undefined => {
      const waiting = pending.get(id);
      pending.delete(id);
      if (pending.size === 0) worker.unref();
      return waiting;
    };
    worker.on('message', (reply: Reply) => {
      const waiting = settle(reply.id);
      if (reply.error === undefined) waiting?.resolve(reply.lastId ?? 0);
      else waiting?.reject(Object.assign(new Error(`usage rows not written: ${reply.error}`), { code: reply.code }));
    });
    let failure: Error | undefined;
    // An uncaught error ends the thread; its 'exit' follows, once the replies it sent before have been delivered.
    worker.on('error', (error) => (failure = error));
    // Within the same 'exit' as the thread's `exited`: whoever waits on that sees the batches already failed.
    worker.once('exit', (code) => {
      if (this.#run?.thread === thread) this.#run = undefined;
      const reason = new Error(failure ? `usage writer thread failed: ${failure.message}` : `usage writer thread exited (code ${code})`);
      // Only what this run still held: batches it committed were answered before its exit.
      for (const id of [...pending.keys()]) settle(id)?.reject(reason);
    });
    return { thread, pending };
  }

  /** Ends the thread once the batches sent before are written, and closes its connection; later appends fail. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const run = this.#run;
    if (!run) return;
    await run.thread.stop();
  }
}
