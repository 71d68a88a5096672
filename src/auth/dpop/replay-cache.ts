/**
 * Where DPoP proof `jti`s are remembered for as long as their proof would be accepted (RFC 9449 §11.1), so a
 * captured proof cannot be played again.
 *
 * The gateway uses `StoreReplayGuard` (src/auth/replay-guard.ts), shared by every worker and node through the
 * store; `InMemoryDpopReplayCache` below serves one process alone (a proof accepted there could be replayed to
 * another process within its window).
 */
export interface DpopReplayCache {
  /**
   * Records `key` as used until `expiresAt` (ms since the epoch) and answers true, or answers false when the
   * key is already recorded and has not expired at `now`. Must be atomic across concurrent callers.
   */
  markUsed(key: string, expiresAt: number, now: number): boolean | Promise<boolean>;
}

export interface InMemoryDpopReplayCacheOptions {
  /** The most entries kept; past it the oldest is evicted. 100 000 by default. */
  capacity?: number;
}

const DEFAULT_CAPACITY = 100_000;

/**
 * A bounded in-memory `DpopReplayCache`, O(1) per check: a ring of entries in arrival order beside a Map from
 * key to its latest ring slot. Expired entries leave from the oldest end as new keys arrive, and when the ring
 * is full the oldest entry makes room. Evicting an entry that has not expired reopens its proof to replay, so
 * size the capacity above the proofs one node accepts within one window.
 *
 * @example const replay = new InMemoryDpopReplayCache({ capacity: 50_000 });
 */
export class InMemoryDpopReplayCache implements DpopReplayCache {
  readonly capacity: number;
  /** Key → the ring slot of its latest use. */
  readonly #slots = new Map<string, number>();
  readonly #keys: string[] = [];
  readonly #expiries: number[] = [];
  #head = 0;
  #count = 0;

  constructor(options: InMemoryDpopReplayCacheOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('"capacity" must be a positive integer');
    this.capacity = capacity;
  }

  /** How many keys are held now. */
  get size(): number {
    return this.#slots.size;
  }

  markUsed(key: string, expiresAt: number, now: number): boolean {
    while (this.#count > 0 && this.#expiries[this.#head]! <= now) this.#dropOldest();
    const slot = this.#slots.get(key);
    if (slot !== undefined && this.#expiries[slot]! > now) return false;
    if (this.#count === this.capacity) this.#dropOldest();
    const tail = (this.#head + this.#count) % this.capacity;
    this.#keys[tail] = key;
    this.#expiries[tail] = expiresAt;
    this.#count += 1;
    this.#slots.set(key, tail);
    return true;
  }

  #dropOldest(): void {
    const key = this.#keys[this.#head]!;
    // A key used again after it expired has a newer slot; only its latest slot speaks for it.
    if (this.#slots.get(key) === this.#head) this.#slots.delete(key);
    this.#head = (this.#head + 1) % this.capacity;
    this.#count -= 1;
  }
}
