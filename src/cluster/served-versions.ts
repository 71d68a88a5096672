/**
 * Which snapshot version each worker of a node serves, and the changes waiting until all of them serve theirs: an
 * admin change answers only once every worker would answer by it.
 */
export class ServedVersions<W> {
  readonly #serving = new Map<W, number>();
  readonly #waiting = new Set<{ version: number; served: () => void }>();

  constructor(
    /** Whether a worker can still tell: one that is gone holds no change up. */
    private readonly connected: (worker: W) => boolean,
    /** How long a change waits before it answers all the same (a worker that cannot read the store meanwhile). */
    private readonly patienceMs: number,
    /** Told of a change answered before every worker served it, with the workers behind. */
    private readonly onLate: (version: number, behind: W[]) => void,
  ) {}

  /** A worker serves `version` (or a later one it already told). */
  served(worker: W, version: number): void {
    this.#serving.set(worker, Math.max(this.#serving.get(worker) ?? 0, version));
    this.#settle();
  }

  /** A worker is gone: no change waits for it. */
  gone(worker: W): void {
    this.#serving.delete(worker);
    this.#settle();
  }

  /** Resolves once every worker that serves serves `version`, or after the patience. */
  everywhere(version: number): Promise<void> {
    return new Promise((resolve) => {
      const wait = { version, served: resolve };
      this.#waiting.add(wait);
      this.#settle();
      setTimeout(() => {
        if (!this.#waiting.delete(wait)) return;
        this.onLate(version, [...this.#serving].filter(([, served]) => served < version).map(([worker]) => worker));
        resolve();
      }, this.patienceMs).unref();
    });
  }

  #settle(): void {
    for (const wait of this.#waiting) {
      if ([...this.#serving].every(([worker, version]) => version >= wait.version || !this.connected(worker))) {
        this.#waiting.delete(wait);
        wait.served();
      }
    }
  }
}
