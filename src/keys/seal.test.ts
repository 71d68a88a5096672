import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../../test/databases.js';
import { expectKeygateError, openKeyHarness, type KeyHarness } from '../../test/key-harness.js';
import type { JwkKeysTable } from '../store/index.js';
import { compileKeySnapshot } from './key-snapshot.js';
import { openPrivateJwk } from './seal.js';

describe.each(STORE_KINDS)('private keys sealed to their row (%s)', (kind) => {
  let h: KeyHarness;
  let active: string;
  let next: string;

  beforeAll(async () => {
    h = await openKeyHarness(kind);
    await h.service.runSchedule();
    active = (await h.service.list({ alg: 'ES256', state: 'active' }))[0]!.kid;
    next = (await h.service.create({ alg: 'ES256' }, 'test')).kid;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Compiles as a node that has just started would: every key opened afresh, nothing taken from a cache. */
  const compileFresh = async () => compileKeySnapshot(await h.service.rows(), { masterKey: h.masterKey, defaultSigningAlg: 'ES256', cache: new Map() });
  const row = (kid: string) => h.store.db.selectFrom('jwk_keys').selectAll().where('kid', '=', kid).executeTakeFirstOrThrow();

  /** Edits one row as someone with write access to the database would, runs `check`, then puts the row back. */
  async function withRowEdited(kid: string, edit: Partial<JwkKeysTable>, check: () => Promise<void>): Promise<void> {
    const original = await row(kid);
    await h.store.db.updateTable('jwk_keys').set(edit).where('kid', '=', kid).execute();
    try {
      await check();
    } finally {
      await h.store.db.updateTable('jwk_keys').set(original).where('kid', '=', kid).execute();
    }
  }

  it('opens every sealed key when the rows are as the key service wrote them', async () => {
    const snapshot = await compileFresh();
    expect(snapshot.signingKeys.get('ES256')?.kid).toBe(active);
    expect(snapshot.verificationKeys.has(next)).toBe(true);
  });

  it('keeps no private member in clear in any column of the row', async () => {
    const stored = await row(active);
    const d = (await openPrivateJwk(h.masterKey, stored.sealed_private!, stored)).d!;
    expect(JSON.stringify(stored)).not.toContain(d);
  });

  it('refuses to compile a row whose sealed private key was copied from another row', async () => {
    const { sealed_private } = await row(active);
    await withRowEdited(next, { sealed_private }, async () => {
      const error = await expectKeygateError(compileFresh(), 'internal_error');
      expect(error.message).toContain(next);
    });
  });

  it('refuses to compile a row whose "alg" was edited', async () => {
    const ecdh = (await h.service.list({ alg: 'ECDH-ES', state: 'active' }))[0]!.kid;
    await withRowEdited(ecdh, { alg: 'ECDH-ES+A256KW' }, async () => {
      await expectKeygateError(compileFresh(), 'internal_error');
    });
  });

  it('refuses to compile a row whose "use" was edited', async () => {
    await withRowEdited(next, { use: 'enc' }, async () => {
      await expectKeygateError(compileFresh(), 'internal_error');
    });
  });

  it('names no key material when a sealed key does not open', async () => {
    const source = await row(active);
    const secret = (await openPrivateJwk(h.masterKey, source.sealed_private!, source)).d!;
    await withRowEdited(next, { sealed_private: source.sealed_private }, async () => {
      const error = await expectKeygateError(compileFresh(), 'internal_error');
      expect(error.message).not.toContain(secret);
      expect(error.message).not.toContain(source.sealed_private!.slice(0, 40));
    });
  });
});
