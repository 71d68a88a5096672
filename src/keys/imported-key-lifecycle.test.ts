import { generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../../test/databases.js';
import { openKeyHarness, TEST_POLICY, type KeyHarness } from '../../test/key-harness.js';
import type { KeyInfo } from './key-record.js';
import { signJwt } from './sign-jwt.js';
import { verifyJwt } from './verify-jwt.js';

// RSA keys of a size generateKey does not make (it makes 2048, 3072 and 4096 bits) but import accepts.
const odd = () => generateKeyPairSync('rsa', { modulusLength: 2560 }).privateKey.export({ format: 'jwk' }) as JWK;
const forRevocation = odd();
const forRotation = odd();

const modulusBits = (info: KeyInfo): number => Buffer.from(String(info.publicJwk?.n), 'base64url').length * 8;

describe.each(STORE_KINDS)('an imported RSA key of a size generateKey does not make (%s)', (kind) => {
  let h: KeyHarness;

  beforeAll(async () => {
    // No managed slots: the only RSA keys generated here are the two replacements under test.
    h = await openKeyHarness(kind, { policy: { ...TEST_POLICY, defaultSigningAlg: 'PS256', managedSlots: [] } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('gets a next key, at least as strong, when its rotation is due', async () => {
    const { kid } = await h.service.import({ jwk: forRotation, alg: 'PS256', state: 'active' }, 'test');
    h.clock.advance(h.service.policy.rotationInterval - h.service.policy.publishLead);
    await h.service.runSchedule();
    const [next] = await h.service.list({ alg: 'PS256', state: 'next' });
    expect(next).toBeDefined();
    expect(modulusBits(next!)).toBeGreaterThanOrEqual(2560);
    expect((await h.service.get(kid)).state).toBe('active');
  });

  it('can be revoked while active, and its replacement is at least as strong and signs at once', async () => {
    const { kid } = await h.service.import({ jwk: forRevocation, alg: 'PS384', state: 'active' }, 'test');
    await h.service.revoke(kid, 'compromised', 'test');
    const [replacement] = await h.service.list({ alg: 'PS384', state: 'active' });
    expect(modulusBits(replacement!)).toBeGreaterThanOrEqual(2560);
    const snapshot = await h.snapshot();
    const token = await signJwt(snapshot, { sub: 'app-1' }, { alg: 'PS384', algorithms: ['PS384'], ttlSeconds: 60, maxTtlSeconds: 60, now: h.clock.now() });
    expect((await verifyJwt(snapshot, token, { algorithms: ['PS384'], now: h.clock.now() })).kid).toBe(replacement!.kid);
  });
});
