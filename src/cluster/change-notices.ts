import type { Store } from '../store/index.js';

export type ChangeListener = (version: number) => Promise<void>;

/**
 * Change notices: how a node learns that the store moved on. A change made on this node is announced directly;
 * a change made by another node sharing the store is found by polling the store version, a single-row read on
 * the control plane, never on the request path.
 */
export class ChangeNotices {
  readonly #store: Store;
  readonly #interval: number;
  readonly #listener: ChangeListener;
  readonly #onError: (error: unknown) => void;
  #seen = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { store: Store; interval: number; listener: ChangeListener; onError: (error: unknown) => void }) {
    this.#store = options.store;
    this.#interval = options.interval;
    this.#listener = options.listener;
    this.#onError = options.onError;
  }

  /**
   * Announces a version committed on this node; resolves when the listener has applied it. A version counts as
   * seen only once applied: if applying fails (the store dropped the connection mid-compile), the next poll
   * tries again instead of leaving this node on its old snapshot until some later change.
   */
  async announce(version: number): Promise<void> {
    await this.#listener(version);
    if (version > this.#seen) this.#seen = version;
  }

  start(initialVersion: number): void {
    this.#seen = Math.max(this.#seen, initialVersion);
    this.#timer = setInterval(() => void this.poll(), this.#interval);
    this.#timer.unref();
  }

  /** Reads the store version once and hands a newer one to the listener. */
  async poll(): Promise<void> {
    try {
      const version = await this.#store.version();
      if (version > this.#seen) {
        await this.#listener(version);
        if (version > this.#seen) this.#seen = version;
      }
    } catch (error) {
      // The store may be gone for a while; the data plane keeps serving its last good snapshot meanwhile.
      this.#onError(error);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
