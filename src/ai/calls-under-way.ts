/**
 * How many AI calls of this process are under way (begun and not yet recorded), for a shutdown to wait on: a call
 * cut off by the shutdown's end of grace is recorded once its provider call has been aborted, a few turns of the event
 * loop later, and the usage recorder's last write must come after that, or the call is never recorded.
 */
export class CallsUnderWay {
  #count = 0;
  #idle: Array<() => void> = [];

  get count(): number {
    return this.#count;
  }

  started(): void {
    this.#count += 1;
  }

  ended(): void {
    this.#count -= 1;
    if (this.#count === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Resolves once no call is under way, or after `timeoutMs` whatever is left (a call that is never recorded cannot hold a shutdown). */
  settled(timeoutMs: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
