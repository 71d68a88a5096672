import { hash } from 'node:crypto';
import type { Store } from '../store/index.js';
import type { DpopReplayCache } from './dpop/replay-cache.js';

/**
 * Remembers values that may be used once (DPoP proof `jti`s, RFC 9449 §11.1; client assertion `jti`s, RFC 7523
 * §3) in the store, so every worker process and every node sharing the store refuses a value any of them has
 * seen. A per-process cache would let a captured proof through on the next worker: the kernel hands each new
 * connection to any of them.
 *
 * One statement per use, atomic on both stores: an insert that, on a key already present, takes the row over
 * only if the earlier use has expired. Expired rows are purged by `purge`, which the gateway runs every minute.
 */
export class StoreReplayGuard implements DpopReplayCache {
  constructor(private readonly store: Store) {}

  async markUsed(key: string, expiresAt: number, now: number): Promise<boolean> {
    const id = hash('sha256', key, 'hex');
    const result = await this.store.db
      .insertInto('replay_guard')
      .values({ key: id, expires_at: expiresAt })
      .onConflict((conflict) => conflict.column('key').doUpdateSet({ expires_at: expiresAt }).where('replay_guard.expires_at', '<=', now))
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Deletes the rows whose use has expired; returns how many. */
  async purge(now: number): Promise<number> {
    const result = await this.store.db.deleteFrom('replay_guard').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
