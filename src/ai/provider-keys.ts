import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { KeygateError } from '../errors.js';
import { openSecret, sealSecret } from '../keys/index.js';
import type { Store } from '../store/index.js';

export interface ProviderKeyInfo {
  id: string;
  provider: string;
  label: string | null;
  priority: number;
  /** The secret's last four characters, or "" for a key under 12 characters: enough to tell keys apart, too little to use one. */
  last4: string;
  createdAt: string;
}

export interface PooledKey {
  id: string;
  priority: number;
  secret: string;
}

const binding = (provider: string, id: string) => `provider_keys:${provider}:${id}`;

/** Keys shorter than this show none of their characters: four of a 7-character vLLM key are most of it. */
const SHOWN_FROM = 12;

/** What the admin API shows of a key: its last four characters, or nothing for a short key. */
const last4Of = (secret: string) => (secret.length >= SHOWN_FROM ? secret.slice(-4) : '');

/** What an HTTP header can carry as a key: visible ASCII only (no space, line break or control character). */
const SENDABLE_KEY = /^[\x21-\x7e]+$/;

/**
 * The key pools of model providers. Keys are sealed under the master key bound to their row, never returned by
 * the admin API, and opened only into the data plane's in-memory snapshot.
 */
export class ProviderKeyService {
  constructor(
    private readonly store: Store,
    private readonly masterKey: Uint8Array,
    private readonly clock: Clock,
    private readonly onChange: (version: number) => Promise<void>,
  ) {}

  async add(provider: string, given: string, options: { label?: string; priority?: number }, actor: string): Promise<ProviderKeyInfo> {
    // Pasted keys often bring a line break or spaces around them, never inside.
    const secret = given.trim();
    if (secret === '' || secret.length > 4096) throw new KeygateError('invalid_request', '"secret" must be a non-empty API key');
    // Keys travel in HTTP headers, which take neither control characters nor any outside Latin-1: such a key
    // (a newline pasted with it, say) could never be sent, and no provider would refuse it to set it aside.
    if (!SENDABLE_KEY.test(secret)) throw new KeygateError('invalid_request', '"secret" may hold only visible ASCII characters: no spaces, line breaks or control characters');
    const id = randomUUID();
    const priority = options.priority ?? 0;
    const last4 = last4Of(secret);
    const sealed = await sealSecret(this.masterKey, secret, binding(provider, id));
    const now = this.clock.now();
    const { version } = await this.store.change({ actor, action: 'provider_key.add', target: `${provider}/${id}` }, now, async (tx) => {
      await tx.insertInto('provider_keys').values({ id, provider, label: options.label ?? null, priority, last4, sealed, created_at: now }).execute();
    });
    await this.onChange(version);
    return { id, provider, label: options.label ?? null, priority, last4, createdAt: new Date(now).toISOString() };
  }

  async list(provider?: string): Promise<ProviderKeyInfo[]> {
    let query = this.store.db.selectFrom('provider_keys').select(['id', 'provider', 'label', 'priority', 'last4', 'sealed', 'created_at']);
    if (provider) query = query.where('provider', '=', provider);
    // The id breaks ties, as in openPools, so the list is the order keys are tried in.
    const rows = await query.orderBy('provider').orderBy('priority').orderBy('created_at').orderBy('id').execute();
    return Promise.all(rows.map(async (r) => ({ id: r.id, provider: r.provider, label: r.label, priority: r.priority, last4: await this.#shownOf(r), createdAt: new Date(Number(r.created_at)).toISOString() })));
  }

  /**
   * A row's `last4` as the admin API shows it. Earlier releases stored the last four characters of any key, all of
   * a key of four or fewer: the rule is applied again from the key itself (nothing, should it not open).
   */
  async #shownOf(row: { provider: string; id: string; last4: string; sealed: string }): Promise<string> {
    if (row.last4 === '') return '';
    try {
      return last4Of((await openSecret(this.masterKey, row.sealed, binding(row.provider, row.id))).trim());
    } catch {
      return '';
    }
  }

  async remove(provider: string, id: string, actor: string): Promise<void> {
    const { version } = await this.store.change({ actor, action: 'provider_key.remove', target: `${provider}/${id}` }, this.clock.now(), async (tx) => {
      const result = await tx.deleteFrom('provider_keys').where('provider', '=', provider).where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw new KeygateError('not_found', `provider "${provider}" has no key ${id}`);
    });
    await this.onChange(version);
  }

  /**
   * Every pool, opened, in priority order: for compiling the snapshot. A key stored before keys were checked
   * (a line break pasted inside it) is trimmed, or left out and named to `onUnusable` when no header can carry
   * it: sent, undici would refuse it, the failure would count as the provider's, and the pool's next key would
   * never be tried.
   */
  async openPools(onUnusable: (provider: string, id: string) => void = () => undefined): Promise<Map<string, PooledKey[]>> {
    // The id breaks ties: keys of one priority added in one millisecond would be tried in any order on PostgreSQL.
    const rows = await this.store.db.selectFrom('provider_keys').selectAll().orderBy('priority').orderBy('created_at').orderBy('id').execute();
    const pools = new Map<string, PooledKey[]>();
    for (const row of rows) {
      const secret = (await openSecret(this.masterKey, row.sealed, binding(row.provider, row.id))).trim();
      if (!SENDABLE_KEY.test(secret)) {
        onUnusable(row.provider, row.id);
        continue;
      }
      let pool = pools.get(row.provider);
      if (!pool) pools.set(row.provider, (pool = []));
      pool.push({ id: row.id, priority: row.priority, secret });
    }
    return pools;
  }
}
