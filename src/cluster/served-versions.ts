/**
 * Which snapshot version each worker of a node serves, the revocations it holds beyond it, and the changes waiting
 * until all of them serve theirs: an admin change answers only once every worker would answer by it.
 */
export class ServedVersions<W> {
  readonly #serving = new Map<W, number>();
  /** The versions of the revocations each worker holds as deltas, above the version it serves. */
  readonly #holding = new Map<W, Set<number>>();
  readonly #waiting = new Set<{ version: number; delta: boolean; served: () => void }>();

  constructor(
    /** Whether a worker can still tell: one that is gone holds no change up. */
    private readonly connected: (worker: W) => boolean,
    /** How long a change waits before it answers all the same (a worker that cannot read the store meanwhile). */
    private readonly patienceMs: number,
    /** Told of a change answered before every worker served it, with the workers behind. */
    /** Told of a wait that ran out: the version, the workers behind, and whether it waited for a revocation (a delta). */
    private readonly onLate: (version: number, behind: W[], revocation: boolean) => void,
  ) {}

  /** A worker serves `version` (or a later one it already told): a snapshot of it holds every revocation up to it. */
  served(worker: W, version: number): void {
    const serving = Math.max(this.#serving.get(worker) ?? 0, version);
    this.#serving.set(worker, serving);
    const holding = this.#holding.get(worker);
    if (holding) for (const held of holding) if (held <= serving) holding.delete(held);
    this.#settle();
  }

  /** A worker refuses the token revoked at `version`, told as a delta, whatever snapshot it serves. */
  holds(worker: W, version: number): void {
    const serving = this.#serving.get(worker);
    if (serving === undefined || serving >= version) return;
    let holding = this.#holding.get(worker);
    if (!holding) this.#holding.set(worker, (holding = new Set()));
    holding.add(version);
    this.#settle();
  }

  /** A worker is gone: no change waits for it. */
  gone(worker: W): void {
    this.#serving.delete(worker);
    this.#holding.delete(worker);
    this.#settle();
  }

  /** Resolves once every worker that serves serves `version`, or after the patience. */
  everywhere(version: number): Promise<void> {
    return this.#wait(version, false);
  }

  /**
   * Resolves once every worker that serves holds the revocation committed at `version`: as a delta, or in a snapshot
   * of that version or later (one that started since compiled it from the store); or after the patience.
   */
  heldEverywhere(version: number): Promise<void> {
    return this.#wait(version, true);
  }

  #wait(version: number, delta: boolean): Promise<void> {
    return new Promise((resolve) => {
      const wait = { version, delta, served: resolve };
      this.#waiting.add(wait);
      this.#settle();
      setTimeout(() => {
        if (!this.#waiting.delete(wait)) return;
        this.onLate(version, [...this.#serving.keys()].filter((worker) => !this.#has(worker, wait)), delta);
        resolve();
      }, this.patienceMs).unref();
    });
  }

  #has(worker: W, wait: { version: number; delta: boolean }): boolean {
    return (this.#serving.get(worker) ?? 0) >= wait.version || (wait.delta && this.#holding.get(worker)?.has(wait.version) === true);
  }

  #settle(): void {
    for (const wait of this.#waiting) {
      if ([...this.#serving.keys()].every((worker) => this.#has(worker, wait) || !this.connected(worker))) {
        this.#waiting.delete(wait);
        wait.served();
      }
    }
  }
}
