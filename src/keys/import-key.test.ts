import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../../test/databases.js';
import { expectKeygateError, openKeyHarness, rfc7638Thumbprint, type KeyHarness } from '../../test/key-harness.js';
import type { ErrorCode } from '../errors.js';

const jwkOf = (key: KeyObject): Record<string, string> => key.export({ format: 'jwk' }) as Record<string, string>;
const pemOf = (key: KeyObject, type: 'pkcs8' | 'spki' | 'pkcs1' | 'sec1'): string => key.export({ format: 'pem', type }) as string;

// Keys made once for the whole file: RSA generation is slow, and none of these tests needs a fresh one.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaOther = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaWeak = generateKeyPairSync('rsa', { modulusLength: 1024 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecOther = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe.each(STORE_KINDS)('importing and creating keys (%s)', (kind) => {
  let h: KeyHarness;

  beforeAll(async () => {
    h = await openKeyHarness(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Runs a refused call and checks it left no key row and no audit row behind. */
  async function expectRefused(work: () => Promise<unknown>, code: ErrorCode): Promise<string> {
    const before = await h.counts();
    const error = await expectKeygateError(work(), code, 400);
    expect(await h.counts()).toEqual(before);
    return error.message;
  }

  describe('refusals', () => {
    it.each([
      ['a string', 'not a key'],
      ['an array', [{ kty: 'EC' }]],
      ['null', null],
    ])('refuses a JWK that is %s with invalid_jwk', async (_label, jwk) => {
      await expectRefused(() => h.service.import({ jwk, alg: 'ES256' }, 'test'), 'invalid_jwk');
    });

    it('takes Ed25519 as the request\'s name for the EdDSA a JWK says it is for', async () => {
      const ed = generateKeyPairSync('ed25519');
      const imported = await h.service.import({ jwk: { ...jwkOf(ed.publicKey), alg: 'EdDSA' }, alg: 'Ed25519' }, 'test');
      expect(imported).toMatchObject({ alg: 'EdDSA' });
    });

    it('refuses a JWK without "kty" with invalid_jwk', async () => {
      const { kty: _kty, ...rest } = jwkOf(ec.publicKey);
      await expectRefused(() => h.service.import({ jwk: rest, alg: 'ES256' }, 'test'), 'invalid_jwk');
    });

    it.each([
      ['an RSA "n" in standard base64', () => ({ jwk: { ...jwkOf(rsa.publicKey), n: `${jwkOf(rsa.publicKey).n}+/` }, alg: 'RS256' })],
      ['an oct "k" with padding', () => ({ jwk: { kty: 'oct', k: `${randomBytes(32).toString('base64url')}=` }, alg: 'HS256' })],
      ['an EC "x" with characters outside base64url', () => ({ jwk: { ...jwkOf(ec.publicKey), x: `*${String(jwkOf(ec.publicKey).x).slice(1)}` }, alg: 'ES256' })],
      ['an EC "x" with padding', () => ({ jwk: { ...jwkOf(ec.publicKey), x: `${jwkOf(ec.publicKey).x}=` }, alg: 'ES256' })],
      ['an RSA "e" with padding', () => ({ jwk: { ...jwkOf(rsa.publicKey), e: 'AQAB==' }, alg: 'RS256' })],
      ['an EC "d" with padding', () => ({ jwk: { ...jwkOf(ec.privateKey), d: `${jwkOf(ec.privateKey).d}=` }, alg: 'ES256' })],
    ])('refuses %s with invalid_jwk', async (_label, input) => {
      await expectRefused(() => h.service.import(input(), 'test'), 'invalid_jwk');
    });

    it('refuses a 1024-bit RSA public key with weak_key', async () => {
      await expectRefused(() => h.service.import({ jwk: jwkOf(rsaWeak.publicKey), alg: 'RS256' }, 'test'), 'weak_key');
    });

    it('refuses a 1024-bit RSA private key with weak_key', async () => {
      await expectRefused(() => h.service.import({ jwk: jwkOf(rsaWeak.privateKey), alg: 'RS256' }, 'test'), 'weak_key');
    });

    it('refuses to generate a 1024-bit RSA key with weak_key', async () => {
      await expectRefused(() => h.service.create({ alg: 'RS256', modulusLength: 1024 }, 'test'), 'weak_key');
    });

    it.each([
      ['HS256', 16],
      ['HS512', 32],
      ['A256KW', 16],
      ['dir', 16],
    ])('refuses a %s key of %i bytes, shorter than the algorithm needs, with weak_key', async (alg, bytes) => {
      await expectRefused(() => h.service.import({ jwk: { kty: 'oct', k: randomBytes(bytes).toString('base64url') }, alg }, 'test'), 'weak_key');
    });

    it('refuses an unknown "kty" with unsupported_key_type', async () => {
      await expectRefused(() => h.service.import({ jwk: { kty: 'DSA', y: 'AQAB' }, alg: 'ES256' }, 'test'), 'unsupported_key_type');
    });

    it('refuses an unknown "alg" on import with unsupported_algorithm', async () => {
      await expectRefused(() => h.service.import({ jwk: jwkOf(ec.privateKey), alg: 'ES256K' }, 'test'), 'unsupported_algorithm');
    });

    it('refuses an unknown "alg" carried inside the JWK with unsupported_algorithm', async () => {
      await expectRefused(() => h.service.import({ jwk: { ...jwkOf(ec.privateKey), alg: 'none' } }, 'test'), 'unsupported_algorithm');
    });

    it('refuses to generate a key for an unknown "alg" with unsupported_algorithm', async () => {
      await expectRefused(() => h.service.create({ alg: 'HS1024' }, 'test'), 'unsupported_algorithm');
    });

    it('refuses to import the same key twice with duplicate_kid', async () => {
      const jwk = jwkOf(ecOther.privateKey);
      await h.service.import({ jwk, alg: 'ES256' }, 'test');
      await expectRefused(() => h.service.import({ jwk, alg: 'ES256' }, 'test'), 'duplicate_kid');
    });

    it('refuses a private JWK with publicOnly: true with private_key_not_allowed', async () => {
      await expectRefused(() => h.service.import({ jwk: jwkOf(ec.privateKey), alg: 'ES256', publicOnly: true }, 'test'), 'private_key_not_allowed');
    });

    it('refuses an oct key with publicOnly: true with private_key_not_allowed', async () => {
      await expectRefused(() => h.service.import({ jwk: { kty: 'oct', k: randomBytes(32).toString('base64url') }, alg: 'HS256', publicOnly: true }, 'test'), 'private_key_not_allowed');
    });

    it('refuses an RSA key whose private members belong to another key with invalid_jwk', async () => {
      const jwk = { ...jwkOf(rsaOther.privateKey), n: jwkOf(rsa.publicKey).n };
      await expectRefused(() => h.service.import({ jwk, alg: 'RS256' }, 'test'), 'invalid_jwk');
    });

    it('refuses an EC key whose "d" belongs to another key with invalid_jwk', async () => {
      const jwk = { ...jwkOf(ec.privateKey), d: jwkOf(ecOther.privateKey).d };
      await expectRefused(() => h.service.import({ jwk, alg: 'ES256' }, 'test'), 'invalid_jwk');
    });

    it('refuses a key whose type does not fit the algorithm with invalid_jwk', async () => {
      await expectRefused(() => h.service.import({ jwk: jwkOf(ec.publicKey), alg: 'RS256' }, 'test'), 'invalid_jwk');
    });

    it('names no key material in the message of a refused import', async () => {
      const jwk: Record<string, string | undefined> = { ...jwkOf(rsaOther.privateKey), n: jwkOf(rsa.publicKey).n };
      const message = await expectRefused(() => h.service.import({ jwk, alg: 'RS256' }, 'test'), 'invalid_jwk');
      for (const member of ['n', 'd', 'p', 'q']) expect(message).not.toContain(String(jwk[member]).slice(0, 16));
    });
  });

  describe('PEM', () => {
    it('imports a PKCS#8 private key as a next key whose kid is its RFC 7638 thumbprint', async () => {
      const info = await h.service.import({ pem: pemOf(rsa.privateKey, 'pkcs8'), alg: 'RS256' }, 'test');
      expect(info).toMatchObject({ kid: rfc7638Thumbprint(jwkOf(rsa.publicKey)), state: 'next', alg: 'RS256', use: 'sig', hasPrivateKey: true });
    });

    it('imports an SPKI public key as a trusted key whose kid is its RFC 7638 thumbprint', async () => {
      const info = await h.service.import({ pem: pemOf(ec.publicKey, 'spki'), alg: 'ES256' }, 'test');
      expect(info).toMatchObject({ kid: rfc7638Thumbprint(jwkOf(ec.publicKey)), state: 'trusted', hasPrivateKey: false });
    });

    it('refuses a PKCS#1 RSA private key PEM with a message telling how to convert it to PKCS#8', async () => {
      const message = await expectRefused(() => h.service.import({ pem: pemOf(rsaOther.privateKey, 'pkcs1'), alg: 'RS256' }, 'test'), 'invalid_jwk');
      expect(message).toContain('openssl pkcs8 -topk8 -nocrypt');
    });

    it('refuses a SEC1 EC private key PEM with a message telling how to convert it to PKCS#8', async () => {
      const message = await expectRefused(() => h.service.import({ pem: pemOf(ecOther.privateKey, 'sec1'), alg: 'ES256' }, 'test'), 'invalid_jwk');
      expect(message).toContain('openssl pkcs8 -topk8 -nocrypt');
    });

    it('refuses a PKCS#1 RSA public key PEM with a message telling how to convert it to SPKI', async () => {
      const message = await expectRefused(() => h.service.import({ pem: pemOf(rsaOther.publicKey, 'pkcs1'), alg: 'RS256' }, 'test'), 'invalid_jwk');
      expect(message).toContain('openssl rsa -RSAPublicKey_in');
    });
  });

  describe('JWK', () => {
    it('imports a public JWK as a trusted key that is not published', async () => {
      const info = await h.service.import({ jwk: jwkOf(rsaOther.publicKey) as JWK, alg: 'RS256' }, 'test');
      expect(info).toMatchObject({ kid: rfc7638Thumbprint(jwkOf(rsaOther.publicKey)), state: 'trusted', published: false, hasPrivateKey: false });
    });

    it('imports an oct JWK with a kid that is the RFC 7638 thumbprint of its secret', async () => {
      const k = randomBytes(32).toString('base64url');
      const info = await h.service.import({ jwk: { kty: 'oct', k }, alg: 'HS256' }, 'test');
      expect(info).toMatchObject({ kid: rfc7638Thumbprint({ kty: 'oct', k }), state: 'next', publicJwk: null, published: false });
    });
  });
});
