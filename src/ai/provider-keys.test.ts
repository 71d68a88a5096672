import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { sealSecret } from '../keys/index.js';
import { openStore, type Store } from '../store/index.js';
import { ProviderKeyService } from './provider-keys.js';

describe('provider key pools as the snapshot opens them', () => {
  const masterKey = new Uint8Array(randomBytes(32));
  let store: Store;
  let keys: ProviderKeyService;

  beforeAll(async () => {
    store = await openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'keygate-provider-keys-')), 'store.db')}`);
    keys = new ProviderKeyService(store, masterKey, new ManualClock(), async () => undefined);
  });
  afterAll(async () => {
    await store?.close();
  });

  /** A key stored as an earlier release stored it: sealed as given, unchecked. */
  async function storeUnchecked(provider: string, secret: string, priority: number): Promise<string> {
    const { id } = await keys.add(provider, 'sk-placeholder-0000', { priority }, 'test');
    const sealed = await sealSecret(masterKey, secret, `provider_keys:${provider}:${id}`);
    await store.db.updateTable('provider_keys').set({ sealed }).where('id', '=', id).execute();
    return id;
  }

  it('trims an old key pasted with a line break, and leaves out one no header can carry, naming it', async () => {
    const broken = await storeUnchecked('legacy', 'sk-line\nbreak-inside', 0);
    const padded = await storeUnchecked('legacy', ' sk-padded-1234\n', 1);
    const good = (await keys.add('legacy', 'sk-good-5678', { priority: 2 }, 'test')).id;
    const unusable: Array<[string, string]> = [];
    const pools = await keys.openPools((provider, id) => unusable.push([provider, id]));
    expect(pools.get('legacy')).toEqual([
      { id: padded, priority: 1, secret: 'sk-padded-1234' },
      { id: good, priority: 2, secret: 'sk-good-5678' },
    ]);
    expect(unusable).toEqual([['legacy', broken]]);
  });

  it('opens keys of one priority added in the same millisecond in the order of their ids', async () => {
    for (let i = 0; i < 8; i++) await keys.add('tied', `sk-tied-key-${i}-0123456789`, { priority: 0 }, 'test');
    const ids = (await keys.openPools()).get('tied')!.map((k) => k.id);
    expect(ids).toEqual([...ids].sort());
  });
});
