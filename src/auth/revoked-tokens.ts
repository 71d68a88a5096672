/** A token of ours revoked (RFC 7009), told as a delta: its `jti`, its expiry (ms), and the store version that committed it. */
export interface TokenRevocation {
  jti: string;
  expiresAt: number;
  version: number;
}

/** Below this many entries no sweep is worth its scan. */
const MIN_SWEEP_SIZE = 64;

/**
 * The tokens this process was told were revoked since it started, beside those its snapshot compiled from the
 * store: the data plane refuses a jti found in either. It outlives snapshots, so a snapshot compiled from the store
 * before a revocation committed, and swapped in after, does not bring the token back. An entry is kept until its
 * token would have expired anyway; expired entries are swept once the set has doubled since the last sweep, so it
 * holds at most twice the live ones and each add costs O(1) amortized.
 *
 * @example
 * const revoked = new RevokedTokens();
 * revoked.add('2c5f…', Date.now() + 300_000, Date.now());
 * revoked.has('2c5f…'); // true, until the token's own expiry
 */
export class RevokedTokens {
  readonly #expiries = new Map<string, number>();
  #sweepAt = MIN_SWEEP_SIZE;

  add(jti: string, expiresAt: number, now: number): void {
    this.#expiries.set(jti, expiresAt);
    if (this.#expiries.size < this.#sweepAt) return;
    // A token is expired at its exp (RFC 7519 §4.1.4; our tokens get no clock tolerance): refused for that alone.
    for (const [entry, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(entry);
    this.#sweepAt = Math.max(MIN_SWEEP_SIZE, this.#expiries.size * 2);
  }

  has(jti: string): boolean {
    return this.#expiries.has(jti);
  }

  get size(): number {
    return this.#expiries.size;
  }
}
