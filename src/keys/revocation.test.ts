import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../../test/databases.js';
import { expectKeygateError, jwksKids, openKeyHarness, type KeyHarness } from '../../test/key-harness.js';
import { decryptJwe } from './decrypt-jwe.js';
import { encryptJwe } from './encrypt-jwe.js';
import type { KeySnapshot } from './key-snapshot.js';
import { signJwt } from './sign-jwt.js';
import { verifyJwt } from './verify-jwt.js';

describe.each(STORE_KINDS)('key revocation (%s)', (kind) => {
  let h: KeyHarness;

  beforeAll(async () => {
    h = await openKeyHarness(kind);
    await h.service.runSchedule();
  });
  afterAll(async () => {
    await h?.close();
  });

  const sign = (snapshot: KeySnapshot, alg: string): Promise<string> =>
    signJwt(snapshot, { sub: 'app-1' }, { alg, algorithms: [alg], ttlSeconds: 300, maxTtlSeconds: 300, now: h.clock.now() });
  const verify = (snapshot: KeySnapshot, token: string, alg: string) => verifyJwt(snapshot, token, { algorithms: [alg], now: h.clock.now() });
  const activeKid = async (alg: string): Promise<string | undefined> => (await h.service.list({ alg, state: 'active' }))[0]?.kid;

  it('stops verifying tokens signed by a key as soon as it is revoked', async () => {
    const { kid } = await h.service.create({ alg: 'ES384', state: 'active' }, 'test');
    const token = await sign(await h.snapshot(), 'ES384');
    expect((await verify(await h.snapshot(), token, 'ES384')).kid).toBe(kid);

    await h.service.revoke(kid, 'compromised', 'test');
    await expectKeygateError(verify(await h.snapshot(), token, 'ES384'), 'token_invalid');
  });

  it('takes a revoked key out of the JWKS at once', async () => {
    const { kid } = await h.service.create({ alg: 'ES512', state: 'active' }, 'test');
    expect(jwksKids(await h.snapshot())).toContain(kid);

    await h.service.revoke(kid, 'compromised', 'test');
    expect(jwksKids(await h.snapshot())).not.toContain(kid);
  });

  it('stops decrypting with an encryption key as soon as it is revoked', async () => {
    const allow = { algorithms: ['ECDH-ES'], encryptionAlgorithms: ['A256GCM'] };
    const jwe = await encryptJwe(await h.snapshot(), new TextEncoder().encode('secret'), allow);
    expect(new TextDecoder().decode((await decryptJwe(await h.snapshot(), jwe, allow)).plaintext)).toBe('secret');

    await h.service.revoke((await activeKid('ECDH-ES'))!, 'compromised', 'test');
    await expectKeygateError(decryptJwe(await h.snapshot(), jwe, allow), 'decryption_failed');
  });

  it('replaces a revoked active key that has no next key with a new key that signs at once', async () => {
    expect(await h.service.list({ alg: 'ES256', state: 'next' })).toEqual([]);
    const revoked = (await activeKid('ES256'))!;

    await h.service.revoke(revoked, 'compromised', 'test');
    const snapshot = await h.snapshot();
    const replacement = await activeKid('ES256');
    expect(replacement).toBeDefined();
    expect(replacement).not.toBe(revoked);
    expect(snapshot.signingKeys.get('ES256')?.kid).toBe(replacement);
    expect((await verify(snapshot, await sign(snapshot, 'ES256'), 'ES256')).kid).toBe(replacement);
  });

  it('promotes the next key when the active key is revoked', async () => {
    const next = (await h.service.create({ alg: 'ES256' }, 'test')).kid;
    const revoked = (await activeKid('ES256'))!;

    await h.service.revoke(revoked, 'compromised', 'test');
    const snapshot = await h.snapshot();
    expect(await activeKid('ES256')).toBe(next);
    expect(snapshot.signingKeys.get('ES256')?.kid).toBe(next);
    expect((await verify(snapshot, await sign(snapshot, 'ES256'), 'ES256')).kid).toBe(next);
  });

  it('leaves the active key signing when a next key is revoked', async () => {
    const active = (await activeKid('ES256'))!;
    const next = (await h.service.create({ alg: 'ES256' }, 'test')).kid;

    await h.service.revoke(next, 'not needed', 'test');
    const snapshot = await h.snapshot();
    expect(jwksKids(snapshot)).not.toContain(next);
    expect(snapshot.signingKeys.get('ES256')?.kid).toBe(active);
  });

  it('records who revoked a key, when and why', async () => {
    const { kid } = await h.service.create({ alg: 'EdDSA' }, 'test');
    const info = await h.service.revoke(kid, 'leaked in a log', 'alice');
    expect(info).toMatchObject({ state: 'revoked', revokeReason: 'leaked in a log', revokedAt: new Date(h.clock.now()).toISOString(), published: false });
    const audit = await h.store.db.selectFrom('audit_log').selectAll().where('action', '=', 'key.revoke').where('target', '=', kid).execute();
    expect(audit).toMatchObject([{ actor: 'alice' }]);
  });

  it('refuses to revoke a key twice with key_state_conflict', async () => {
    const { kid } = await h.service.create({ alg: 'EdDSA' }, 'test');
    await h.service.revoke(kid, undefined, 'test');
    await expectKeygateError(h.service.revoke(kid, undefined, 'test'), 'key_state_conflict', 409);
  });
});
