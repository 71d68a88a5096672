import { hash } from 'node:crypto';

export interface CachedToken {
  claims: Readonly<Record<string, unknown>>;
  kid: string;
  /** Milliseconds since the epoch. */
  exp: number;
  nbf: number;
}

/**
 * Verified tokens by the SHA-256 of their text, so a token presented again costs a hash and a Map look-up
 * instead of a signature check. Bounded (oldest entries go first), and an entry is never used past its `exp` or
 * before its `nbf`; the caller still checks that its key is live and its jti not revoked.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, CachedToken>();
  constructor(private readonly capacity = 10_000) {}

  static keyOf(token: string): string {
    // One-shot hashing: no Hash object per call, which the profile showed costing more than the digest itself.
    return hash('sha256', token, 'base64url');
  }

  get(key: string, now: number): CachedToken | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now >= entry.exp) {
      this.#entries.delete(key);
      return undefined;
    }
    return now >= entry.nbf ? entry : undefined;
  }

  set(key: string, entry: CachedToken): void {
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, entry);
  }

  get size(): number {
    return this.#entries.size;
  }
}
