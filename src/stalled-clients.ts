import type { ServerResponse } from 'node:http';

/**
 * Resumes an upstream paused because `res`'s client has not taken what it was sent, once it has ('drain'); a
 * client that takes nothing for `limitMs` (0: no limit) has its connection closed, which ends the exchange as a
 * client that left does.
 *
 * Without the limit, a client that keeps its connection open and reads nothing holds the upstream's connection
 * (an AI provider's stream, still generating) for as long as it likes: the upstream is paused for it, and
 * undici's body timeout does not run while paused. The limit is the upstream's idle one, as nginx's `send_timeout`
 * bounds the time between two successful writes to a client.
 */
export function resumeWhenDrained(res: ServerResponse, limitMs: number, resume: () => void): void {
  if (limitMs <= 0) {
    res.once('drain', resume);
    return;
  }
  const timer = setTimeout(() => res.destroy(), limitMs);
  const clear = () => clearTimeout(timer);
  res.once('close', clear);
  res.once('drain', () => {
    clear();
    res.off('close', clear);
    resume();
  });
}
