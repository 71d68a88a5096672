import type { AiSnapshot } from '../ai/ai-snapshot.js';
import type { TokenIssuer } from '../auth/route-policy.js';
import type { CatalogSnapshot } from '../catalog/index.js';
import type { KeySnapshot } from '../keys/index.js';
import type { ProxySnapshot } from './proxy-handler.js';

/**
 * Everything the data plane reads, compiled once per change and never mutated: a request reads the snapshot
 * that was current when it arrived and finishes on it, even if a newer one is swapped in meanwhile.
 */
export interface Snapshot {
  readonly version: number;
  readonly builtAt: number;
  readonly keys: KeySnapshot;
  readonly proxy: ProxySnapshot;
  readonly catalog: CatalogSnapshot;
  /** Outside issuers by name, for routes that accept `issuer:<name>`. */
  readonly issuers: ReadonlyMap<string, TokenIssuer>;
  /** Model providers (with their opened key pools) and aliases of the AI gateway. */
  readonly ai: AiSnapshot;
  /** `Cache-Control: max-age` for the JWKS, in seconds. */
  readonly jwksMaxAgeSeconds: number;
}

/** Holds the current snapshot; `swap` replaces it atomically (one reference assignment). */
export class SnapshotHolder {
  #current: Snapshot;

  constructor(initial: Snapshot) {
    this.#current = initial;
  }

  get current(): Snapshot {
    return this.#current;
  }

  swap(next: Snapshot): void {
    // Never go back: a slow compile of an older version must not replace a newer one.
    if (next.version >= this.#current.version) this.#current = next;
  }
}
