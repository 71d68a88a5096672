import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/index.js';

/**
 * A named lease in the store: among all nodes sharing it, one holder at a time runs the background job it
 * guards (key rotation, roll-ups). A holder that stops renewing loses it when it expires.
 */
export class LeaderLease {
  readonly holder = `${process.pid}-${randomUUID()}`;

  constructor(
    private readonly store: Store,
    private readonly name: string,
    private readonly ttl: number,
    private readonly clock: Clock,
  ) {}

  /** Takes or renews the lease; true when this node holds it afterwards. */
  async acquire(): Promise<boolean> {
    const now = this.clock.now();
    await this.store.db
      .insertInto('leases')
      .values({ name: this.name, holder: this.holder, expires_at: now + this.ttl })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder: this.holder, expires_at: now + this.ttl })
          .where((eb) => eb.or([eb('leases.holder', '=', this.holder), eb('leases.expires_at', '<', now)])),
      )
      .execute();
    const row = await this.store.db.selectFrom('leases').select('holder').where('name', '=', this.name).executeTakeFirst();
    return row?.holder === this.holder;
  }

  async release(): Promise<void> {
    await this.store.db.deleteFrom('leases').where('name', '=', this.name).where('holder', '=', this.holder).execute();
  }
}
