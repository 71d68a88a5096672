import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Resumes an upstream paused because `res`'s client has not taken what it was sent, once it has ('drain'); a
 * client that takes nothing for `limitMs` (0: no limit) has its connection closed, which ends the exchange as a
 * client that left does.
 *
 * Without the limit, a client that keeps its connection open and reads nothing holds the upstream's connection
 * (an AI provider's stream, still generating) for as long as it likes: the upstream is paused for it, and
 * undici's body timeout does not run while paused. The limit is a send timeout (a service's `timeouts.send`,
 * `ai.sendTimeout`; 60 s by default, as nginx's `send_timeout` bounds the time between two writes to a client), not
 * the upstream's idle one: the kernel tells a writer of room only once much of its buffer was taken, so a client that
 * reads slowly but steadily can go a while between two 'drain's.
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

/**
 * Closes both sockets when `from`, piped to `to`, stays paused for `limitMs` (0: never): pipe() pauses it while `to`
 * has not taken what it was written, so that is how long the other side has taken nothing (resumeWhenDrained, for
 * a WebSocket). pipe() also pauses `from` when it lets go of `to`: once `to` was ended (`from` half-closed, done
 * sending while it still reads: that direction is over, not stalled) or either side is gone.
 */
export function closeWhenStalled(from: Duplex, to: Duplex, limitMs: number): void {
  if (limitMs <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  const clear = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  from.on('pause', () => {
    if (timer || from.destroyed || to.destroyed || to.writableEnded) return;
    timer = setTimeout(() => {
      from.destroy();
      to.destroy();
    }, limitMs);
    timer.unref();
  });
  from.on('resume', clear);
  from.once('close', clear);
  to.once('close', clear);
}
