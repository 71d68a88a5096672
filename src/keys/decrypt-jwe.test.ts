import { CompactEncrypt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../../test/databases.js';
import { expectKeygateError, openKeyHarness, type KeyHarness } from '../../test/key-harness.js';
import { decryptJwe, type DecryptJweOptions } from './decrypt-jwe.js';
import { encryptJwe } from './encrypt-jwe.js';
import type { KeySnapshot } from './key-snapshot.js';

const ALLOW: DecryptJweOptions = { algorithms: ['ECDH-ES', 'RSA-OAEP-256'], encryptionAlgorithms: ['A256GCM'] };
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe.each(STORE_KINDS)('decryptJwe refusals (%s)', (kind) => {
  let h: KeyHarness;
  let snapshot: KeySnapshot;
  let jwe: string;
  let ecdhKid: string;

  beforeAll(async () => {
    h = await openKeyHarness(kind);
    await h.service.runSchedule();
    snapshot = await h.snapshot();
    ecdhKid = snapshot.encryptionKeys.get('ECDH-ES')!.kid;
    jwe = await encryptJwe(snapshot, new TextEncoder().encode('for the gateway only'), { algorithms: ['ECDH-ES'], encryptionAlgorithms: ['A256GCM'] });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('decrypts a JWE addressed to its active encryption key', async () => {
    const { plaintext, header } = await decryptJwe(snapshot, jwe, ALLOW);
    expect(text(plaintext)).toBe('for the gateway only');
    expect(header).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: ecdhKid });
  });

  it('refuses a key management algorithm outside the allowlist', async () => {
    await expectKeygateError(decryptJwe(snapshot, jwe, { ...ALLOW, algorithms: ['RSA-OAEP-256'] }), 'algorithm_not_allowed', 400);
  });

  it('refuses a content encryption algorithm outside the allowlist', async () => {
    await expectKeygateError(decryptJwe(snapshot, jwe, { ...ALLOW, encryptionAlgorithms: ['A128GCM'] }), 'decryption_failed', 400);
  });

  describe('PBES2 (password-based) JWEs', () => {
    let pbes2: string;

    beforeAll(async () => {
      pbes2 = await new CompactEncrypt(new TextEncoder().encode('guessable'))
        .setProtectedHeader({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM', kid: ecdhKid })
        .encrypt(new TextEncoder().encode('password'));
    });

    it('refuses one when the allowlist leaves PBES2 out', async () => {
      await expectKeygateError(decryptJwe(snapshot, pbes2, ALLOW), 'algorithm_not_allowed', 400);
    });

    it('refuses one even when the allowlist names PBES2, since no key is made for it', async () => {
      await expectKeygateError(decryptJwe(snapshot, pbes2, { ...ALLOW, algorithms: [...ALLOW.algorithms, 'PBES2-HS256+A128KW'] }), 'decryption_failed', 400);
    });
  });

  it('refuses a JWE with a "zip" header', async () => {
    const [header, ...rest] = jwe.split('.');
    const zipped = { ...(JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')) as object), zip: 'DEF' };
    const error = await expectKeygateError(decryptJwe(snapshot, [Buffer.from(JSON.stringify(zipped)).toString('base64url'), ...rest].join('.'), ALLOW), 'decryption_failed', 400);
    expect(error.message).toContain('"zip"');
  });

  it('refuses a JWE longer than maxLength before any work', async () => {
    await expectKeygateError(decryptJwe(snapshot, jwe, { ...ALLOW, maxLength: jwe.length - 1 }), 'payload_too_large', 413);
    await expect(decryptJwe(snapshot, jwe, { ...ALLOW, maxLength: jwe.length })).resolves.toBeDefined();
  });

  it('refuses a JWE over 1 MiB by default', async () => {
    await expectKeygateError(decryptJwe(snapshot, `${jwe}${'A'.repeat(1024 * 1024)}`, ALLOW), 'payload_too_large', 413);
  });

  it('refuses a JWE addressed to a key it does not hold', async () => {
    const [header, ...rest] = jwe.split('.');
    const other = { ...(JSON.parse(Buffer.from(header!, 'base64url').toString('utf8')) as object), kid: 'not-a-key-of-this-gateway' };
    await expectKeygateError(decryptJwe(snapshot, [Buffer.from(JSON.stringify(other)).toString('base64url'), ...rest].join('.'), ALLOW), 'decryption_failed', 400);
  });
});
