import { readFileSync } from 'node:fs';
import os from 'node:os';
import process from 'node:process';
import { describe, expect, it } from 'vitest';
import { startSqliteThread } from './sqlite-thread.js';

// The thread tells which thread it is, then waits for 'stop' as the store's threads do.
const TELLS_ITS_ID = `
const { parentPort } = require('node:worker_threads');
parentPort.postMessage(Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()));
parentPort.on('message', (message) => { if (message === 'stop') parentPort.close(); });
`;

/** A thread's nice value: the 19th field of /proc/PID/task/TID/stat, counted after the command's closing parenthesis. */
function niceOf(thread: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${thread}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('a SQLite thread', () => {
  it.skipIf(process.platform !== 'linux')('runs a background thread at the lowest priority, and leaves the event loop at its own', async () => {
    const before = os.getPriority();
    const thread = startSqliteThread(TELLS_ITS_ID, {}, { background: true });
    try {
      const id = await new Promise<number>((resolve) => thread.worker.once('message', resolve));
      expect(id).not.toBe(process.pid);
      expect(niceOf(id)).toBe(19);
      expect(os.getPriority()).toBe(before);
      expect(niceOf(process.pid)).toBe(before);
    } finally {
      await thread.stop();
    }
  });

  it.skipIf(process.platform !== 'linux')("runs any other thread (one that holds write locks) at the process's priority", async () => {
    const thread = startSqliteThread(TELLS_ITS_ID, {});
    try {
      const id = await new Promise<number>((resolve) => thread.worker.once('message', resolve));
      expect(niceOf(id)).toBe(os.getPriority());
    } finally {
      await thread.stop();
    }
  });
});
