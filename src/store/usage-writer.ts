import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

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

// The thread's code, given as text so that it runs the same from src/ (tests) and dist/ (see WalCheckpointer).
// One transaction per batch: the rows and their daily sums, all or none; the reply carries the largest new id.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.driver);
const { file, sql } = workerData;
const db = new SQLite(file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
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
    parentPort.postMessage({ id: message.id, error: String(error && error.message), code: error && error.code });
  }
});
`;

interface Reply {
  id: number;
  lastId?: number;
  error?: string;
  code?: string;
}

/**
 * AI usage rows appended to a SQLite file by a thread of its own, with its own connection. On the event loop,
 * each batch had to stay small (a 50-row transaction every few milliseconds, so that no request waited long
 * behind one), and the commits, the write-ahead log's page writes and the cold caches each of them met cost the
 * AI route some 14 µs a call; a batch of 500 in one transaction costs a fraction of that per row, and here it
 * stalls no request. The event loop only hands the rows over (under 1 µs a row). A thread that fails, or exits,
 * fails the batches it held, which the recorder keeps for its next write, and the next batch starts a new one.
 */
export class UsageWriterThread {
  #worker: Worker | undefined;
  #exited: Promise<void> = Promise.resolve();
  readonly #pending = new Map<number, { resolve: (lastId: number) => void; reject: (error: Error) => void }>();
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
    const worker = (this.#worker ??= this.#start());
    const id = this.#nextId++;
    // Referenced while a batch is in flight: a shutdown waits for it; idle, the thread keeps no process alive.
    if (this.#pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, values, sums });
    });
  }

  #start(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(THREAD, { eval: true, workerData: { file: this.file, driver, sql: this.sql } });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiting = this.#pending.get(reply.id);
      if (!waiting) return;
      this.#settled(reply.id);
      if (reply.error === undefined) waiting.resolve(reply.lastId ?? 0);
      else waiting.reject(Object.assign(new Error(`usage rows not written: ${reply.error}`), { code: reply.code }));
    });
    const failAll = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const [id, waiting] of this.#pending) {
        this.#settled(id);
        waiting.reject(error);
      }
    };
    worker.on('error', (error) => failAll(new Error(`usage writer thread failed: ${error.message}`)));
    this.#exited = new Promise((resolve) => {
      worker.once('exit', (code) => {
        failAll(new Error(`usage writer thread exited (code ${code})`));
        resolve();
      });
    });
    return worker;
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker?.unref();
  }

  /** Ends the thread once the batches sent before are written, and closes its connection. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    worker.ref();
    worker.postMessage('stop');
    await this.#exited;
  }
}
