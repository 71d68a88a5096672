import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../../test/databases.js';
import { openKeyHarness, type KeyHarness } from '../../test/key-harness.js';
import { openStore, type Store } from '../store/index.js';
import { decryptJwe } from './decrypt-jwe.js';
import { encryptJwe } from './encrypt-jwe.js';
import { KeyService } from './key-service.js';
import { compileKeySnapshot, type KeySnapshot } from './key-snapshot.js';
import { MasterKeyError, loadMasterKey, newMasterKeyText } from './master-key.js';
import { signJwt } from './sign-jwt.js';
import { verifyJwt } from './verify-jwt.js';

const TABLES = ['jwk_keys', 'meta', 'audit_log', 'store_version', 'leases'] as const;

/** Every row of every table, in a stable order: what "nothing was changed" is checked against. */
async function dumpTables(store: Store): Promise<Record<string, unknown[]>> {
  const dump: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    const rows = await store.db.selectFrom(table).selectAll().execute();
    dump[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return dump;
}

/** Ways a 32-byte key could leak into a message. */
function keyForms(text: string): string[] {
  const bytes = Buffer.from(text, 'base64url');
  return [text, bytes.toString('base64'), bytes.toString('hex'), text.slice(0, 12)];
}

describe.each(STORE_KINDS)('restarting the key service (%s)', (kind) => {
  let h: KeyHarness;
  let store: Store;
  let service: KeyService;
  let before: { keys: Array<[string, string]>; jwks: string; snapshot: KeySnapshot };
  let after: KeySnapshot;
  const tokens: Record<string, string> = {};
  let jwe: string;
  const jweAllow = { algorithms: ['ECDH-ES'], encryptionAlgorithms: ['A256GCM'] };

  beforeAll(async () => {
    h = await openKeyHarness(kind);
    await h.service.runSchedule();
    await h.service.create({ alg: 'ES256' }, 'test');
    await h.service.create({ alg: 'HS256', state: 'active' }, 'test');
    const snapshot = await h.snapshot();
    for (const alg of ['ES256', 'RS256', 'HS256']) {
      tokens[alg] = await signJwt(snapshot, { sub: 'app-1' }, { alg, algorithms: [alg], ttlSeconds: 3600, maxTtlSeconds: 3600, now: h.clock.now() });
    }
    jwe = await encryptJwe(snapshot, new TextEncoder().encode('kept across restarts'), jweAllow);
    before = { keys: (await h.service.list()).map((k) => [k.kid, k.state]), jwks: snapshot.jwks.body.toString('utf8'), snapshot };

    // The restart: the store closed and opened again, the same master key, a new service and a new snapshot.
    await h.store.close();
    store = await openStore(h.db.url);
    const master = await loadMasterKey(store, h.dataDir, h.masterKeyText);
    service = new KeyService({ store, masterKey: master.key, clock: h.clock, policy: h.service.policy, onChange: async () => undefined });
    after = await compileKeySnapshot(await service.rows(), { masterKey: master.key, defaultSigningAlg: 'ES256', cache: new Map() });
  });
  afterAll(async () => {
    await store?.close();
    await h?.db.drop();
    if (h) rmSync(h.dataDir, { recursive: true, force: true });
  });

  it('keeps every key, with the same kid and state', async () => {
    expect((await service.list()).map((k) => [k.kid, k.state])).toEqual(before.keys);
  });

  it('publishes the same JWKS document', () => {
    expect(after.jwks.body.toString('utf8')).toBe(before.jwks);
  });

  it('signs with the same active keys', () => {
    for (const alg of ['ES256', 'RS256', 'HS256']) expect(after.signingKeys.get(alg)?.kid).toBe(before.snapshot.signingKeys.get(alg)?.kid);
  });

  it.each(['ES256', 'RS256', 'HS256'])('still verifies a %s token signed before the restart', async (alg) => {
    const verified = await verifyJwt(after, tokens[alg]!, { algorithms: [alg], now: h.clock.now() });
    expect(verified.payload.sub).toBe('app-1');
  });

  it('still decrypts a JWE encrypted before the restart', async () => {
    expect(new TextDecoder().decode((await decryptJwe(after, jwe, jweAllow)).plaintext)).toBe('kept across restarts');
  });

  it('creates no key when the scheduler runs again after the restart', async () => {
    expect(await service.runSchedule()).toEqual([]);
    expect((await service.list()).map((k) => [k.kid, k.state])).toEqual(before.keys);
  });

  describe('with the wrong master key', () => {
    it('refuses a different master key with MasterKeyError', async () => {
      await expect(loadMasterKey(store, h.dataDir, newMasterKeyText())).rejects.toBeInstanceOf(MasterKeyError);
    });

    it('changes no row of any table when refusing a different master key', async () => {
      const dump = await dumpTables(store);
      await loadMasterKey(store, h.dataDir, newMasterKeyText()).catch(() => undefined);
      expect(await dumpTables(store)).toEqual(dump);
    });

    it('names no key material in the refusal', async () => {
      const wrong = newMasterKeyText();
      const error = (await loadMasterKey(store, h.dataDir, wrong).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(MasterKeyError);
      for (const form of [...keyForms(wrong), ...keyForms(h.masterKeyText)]) expect(error.message).not.toContain(form);
    });

    it('refuses to start without a master key on a store that already holds keys, changing nothing', async () => {
      const dump = await dumpTables(store);
      await expect(loadMasterKey(store, h.dataDir, undefined)).rejects.toBeInstanceOf(MasterKeyError);
      expect(await dumpTables(store)).toEqual(dump);
    });
  });
});
