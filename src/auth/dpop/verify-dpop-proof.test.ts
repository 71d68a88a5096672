import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { KeygateError } from '../../errors.js';
import { accessTokenHash } from './access-token-hash.js';
import { createDpopProof, type DpopProofInput } from './dpop-client.js';
import { DpopError, type DpopErrorCode } from './dpop-error.js';
import { InMemoryDpopReplayCache } from './replay-cache.js';
import { verifyDpopProof, type VerifyDpopProofOptions } from './verify-dpop-proof.js';

const URL_ = 'https://api.example.com/orders';
const ALGORITHMS = ['ES256', 'PS256', 'EdDSA'];
const TOKEN = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

async function expectDpopError(work: Promise<unknown>, code: DpopErrorCode, reason?: string): Promise<DpopError> {
  const error: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DpopError);
  const dpopError = error as DpopError;
  expect(dpopError.code).toBe(code);
  if (reason !== undefined) expect(dpopError.reason).toContain(reason);
  return dpopError;
}

describe('verifyDpopProof follows RFC 9449 §4.3', () => {
  let keyPair: { privateKey: CryptoKey; publicKey: CryptoKey };
  let publicJwk: JWK;
  let clock: ManualClock;
  let replay: InMemoryDpopReplayCache;

  beforeAll(async () => {
    keyPair = await generateKeyPair('ES256', { extractable: true });
    publicJwk = await exportJWK(keyPair.publicKey);
  });

  const fresh = (): void => {
    clock = new ManualClock();
    replay = new InMemoryDpopReplayCache();
  };
  const iatNow = (): number => Math.floor(clock.now() / 1000);
  const proofFor = (input: Partial<DpopProofInput> = {}): Promise<string> =>
    createDpopProof({ keyPair, method: 'GET', url: URL_, iat: iatNow(), ...input });
  const verify = (proof: string, options: Partial<VerifyDpopProofOptions> = {}) =>
    verifyDpopProof(proof, { method: 'GET', url: URL_, algorithms: ALGORITHMS, replay, now: clock.now(), ...options });

  describe('accepting', () => {
    beforeAll(fresh);

    it('accepts a valid proof and returns the RFC 7638 thumbprint of its key', async () => {
      const verified = await verify(await proofFor({ jti: 'first' }));
      expect(verified).toEqual({ jkt: await calculateJwkThumbprint(publicJwk, 'sha256'), jwk: publicJwk, jti: 'first', iat: iatNow() });
    });

    it.each([
      ['PS256', 'PS256'],
      ['EdDSA', 'Ed25519'],
    ] as const)('accepts a valid %s proof', async (alg, keyAlg) => {
      const pair = await generateKeyPair(keyAlg);
      const verified = await verify(await createDpopProof({ keyPair: pair, alg, method: 'GET', url: URL_, iat: iatNow() }));
      expect(verified.jkt).toBe(await calculateJwkThumbprint(await exportJWK(pair.publicKey), 'sha256'));
    });

    it('accepts "typ" written as the full media type "application/dpop+jwt"', async () => {
      await expect(verify(await proofFor({ header: { typ: 'application/dpop+jwt' } }))).resolves.toMatchObject({ iat: iatNow() });
    });

    it('ignores the query and fragment of the request URL and of "htu"', async () => {
      const proof = await proofFor({ claims: { htu: `${URL_}?page=1#top` } });
      await expect(verify(proof, { url: `${URL_}?page=2&sort=asc` })).resolves.toMatchObject({ iat: iatNow() });
    });

    it('matches "htu" after syntax-based normalization of case, default port and percent-encoding', async () => {
      const proof = await proofFor({ claims: { htu: 'HTTPS://API.Example.COM:443/%6Frders' } });
      await expect(verify(proof)).resolves.toMatchObject({ iat: iatNow() });
    });

    it('accepts a proof at the edge of the 60 second window', async () => {
      const proof = await proofFor();
      await expect(verify(proof, { now: clock.now() + 60_000 })).resolves.toMatchObject({ iat: iatNow() });
    });

    it('accepts a proof whose "iat" is a few seconds ahead of the server clock', async () => {
      await expect(verify(await proofFor({ iat: iatNow() + 5 }))).resolves.toMatchObject({ iat: iatNow() + 5 });
    });

    it('accepts a proof whose "ath" is the hash of the presented access token', async () => {
      const proof = await proofFor({ ath: accessTokenHash(TOKEN) });
      await expect(verify(proof, { accessToken: TOKEN })).resolves.toMatchObject({ iat: iatNow() });
    });

    it('accepts a proof carrying one of the expected nonces', async () => {
      const proof = await proofFor({ nonce: 'n-2' });
      await expect(verify(proof, { nonce: { expected: ['n-1', 'n-2'] } })).resolves.toMatchObject({ iat: iatNow() });
    });

    it('computes "ath" as in the RFC 9449 §7.1 example', () => {
      expect(accessTokenHash(TOKEN)).toBe('fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
    });
  });

  describe('refusing', () => {
    beforeAll(fresh);

    it('refuses a value that is not a JWT', async () => {
      await expectDpopError(verify('not-a-jwt'), 'invalid_dpop_proof', 'well-formed');
    });

    it('refuses a proof longer than 8 KiB before parsing it', async () => {
      await expectDpopError(verify(await proofFor({ claims: { pad: 'x'.repeat(8192) } })), 'invalid_dpop_proof', 'larger');
    });

    it('refuses a proof whose "typ" is not "dpop+jwt"', async () => {
      await expectDpopError(verify(await proofFor({ header: { typ: 'JWT' } })), 'invalid_dpop_proof', '"typ"');
    });

    it('refuses a proof without "typ"', async () => {
      await expectDpopError(verify(await proofFor({ header: { typ: undefined } })), 'invalid_dpop_proof', '"typ"');
    });

    it('refuses an unsecured proof (alg "none")', async () => {
      const proof = `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: publicJwk })}.${b64({ jti: 'x', htm: 'GET', htu: URL_, iat: iatNow() })}.`;
      await expectDpopError(verify(proof), 'invalid_dpop_proof', '"alg"');
    });

    it('refuses an HS256 proof, whose key would be a shared secret', async () => {
      const secret = new Uint8Array(32).fill(7);
      const proof = await new SignJWT({ jti: 'x', htm: 'GET', htu: URL_, iat: iatNow() })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: publicJwk })
        .sign(secret);
      await expectDpopError(verify(proof), 'invalid_dpop_proof', '"alg"');
    });

    it('refuses a proof whose asymmetric "alg" is not on the allowlist', async () => {
      await expectDpopError(verify(await proofFor(), { algorithms: ['EdDSA'] }), 'invalid_dpop_proof', '"alg"');
    });

    it.each(['none', 'HS256'])('refuses to be configured with "%s" on the allowlist', async (alg) => {
      const error: unknown = await verify(await proofFor(), { algorithms: ['ES256', alg] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeygateError);
      expect((error as KeygateError).code).toBe('invalid_config');
    });

    it('refuses a proof without a "jwk" header', async () => {
      await expectDpopError(verify(await proofFor({ header: { jwk: undefined } })), 'invalid_dpop_proof', '"jwk"');
    });

    it('refuses a proof whose "jwk" header carries the private key', async () => {
      const privateJwk = await exportJWK(keyPair.privateKey);
      await expectDpopError(verify(await proofFor({ header: { jwk: privateJwk } })), 'invalid_dpop_proof', 'public key');
    });

    it('refuses a proof whose "jwk" header does not suit its "alg"', async () => {
      const rsa = await generateKeyPair('PS256');
      await expectDpopError(verify(await proofFor({ header: { jwk: await exportJWK(rsa.publicKey) } })), 'invalid_dpop_proof', 'usable');
    });

    it('refuses a proof signed by another key than the one in its "jwk" header', async () => {
      const other = await generateKeyPair('ES256');
      await expectDpopError(verify(await proofFor({ header: { jwk: await exportJWK(other.publicKey) } })), 'invalid_dpop_proof', 'signature');
    });

    it('refuses a proof made for another method', async () => {
      await expectDpopError(verify(await proofFor({ method: 'POST' })), 'invalid_dpop_proof', '"htm"');
    });

    it('refuses a proof whose method differs only in case', async () => {
      await expectDpopError(verify(await proofFor({ method: 'get' })), 'invalid_dpop_proof', '"htm"');
    });

    it('refuses a proof made for another path', async () => {
      await expectDpopError(verify(await proofFor({ url: 'https://api.example.com/orders/7' })), 'invalid_dpop_proof', '"htu"');
    });

    it('refuses a proof made for another host', async () => {
      await expectDpopError(verify(await proofFor({ url: 'https://evil.example.com/orders' })), 'invalid_dpop_proof', '"htu"');
    });

    it('refuses a proof made for another scheme', async () => {
      await expectDpopError(verify(await proofFor({ url: 'http://api.example.com/orders' })), 'invalid_dpop_proof', '"htu"');
    });

    it('refuses a proof older than the window', async () => {
      const proof = await proofFor();
      await expectDpopError(verify(proof, { now: clock.now() + 61_000 }), 'invalid_dpop_proof', 'too old');
    });

    it('refuses a proof older than a shorter configured window', async () => {
      const proof = await proofFor();
      await expectDpopError(verify(proof, { now: clock.now() + 11_000, maxAgeSeconds: 10 }), 'invalid_dpop_proof', 'too old');
    });

    it('refuses a proof whose "iat" is further in the future than the clock skew allowance', async () => {
      await expectDpopError(verify(await proofFor({ iat: iatNow() + 6 })), 'invalid_dpop_proof', 'future');
    });

    it('refuses a proof without "jti"', async () => {
      await expectDpopError(verify(await proofFor({ claims: { jti: undefined } })), 'invalid_dpop_proof', '"jti"');
    });

    it.each(['htm', 'htu', 'iat'])('refuses a proof without "%s"', async (claim) => {
      await expectDpopError(verify(await proofFor({ claims: { [claim]: undefined } })), 'invalid_dpop_proof', `"${claim}"`);
    });

    it('refuses a proof without "ath" when an access token is presented', async () => {
      await expectDpopError(verify(await proofFor(), { accessToken: TOKEN }), 'invalid_dpop_proof', '"ath" claim is missing');
    });

    it('refuses a proof whose "ath" is the hash of another access token', async () => {
      const proof = await proofFor({ ath: accessTokenHash('another-token') });
      await expectDpopError(verify(proof, { accessToken: TOKEN }), 'invalid_dpop_proof', '"ath" claim does not match');
    });

    it('asks for a nonce with use_dpop_nonce when the proof has none', async () => {
      await expectDpopError(verify(await proofFor(), { nonce: { expected: ['n-1'] } }), 'use_dpop_nonce', '"nonce"');
    });

    it('asks for a nonce with use_dpop_nonce when the proof carries a stale one', async () => {
      await expectDpopError(verify(await proofFor({ nonce: 'n-0' }), { nonce: { expected: ['n-1'] } }), 'use_dpop_nonce', '"nonce"');
    });

    it('does not echo the proof in the refusal', async () => {
      const proof = await proofFor({ method: 'POST' });
      const error = await expectDpopError(verify(proof), 'invalid_dpop_proof');
      for (const part of proof.split('.')) expect(error.message).not.toContain(part);
      expect(JSON.stringify(error)).not.toContain(proof.split('.')[1]);
      expect(error.cause).toBeUndefined();
    });
  });

  describe('replay', () => {
    beforeAll(fresh);

    it('refuses a proof whose "jti" was already used', async () => {
      const proof = await proofFor({ jti: 'once' });
      await verify(proof);
      await expectDpopError(verify(proof, { now: clock.now() + 1_000 }), 'invalid_dpop_proof', '"jti"');
    });

    it('refuses a new proof that reuses a spent "jti" within the window', async () => {
      await verify(await proofFor({ jti: 'reused' }));
      clock.advance(1_000);
      await expectDpopError(verify(await proofFor({ jti: 'reused' })), 'invalid_dpop_proof', '"jti"');
    });

    it('does not spend the "jti" of a refused proof', async () => {
      await expectDpopError(verify(await proofFor({ jti: 'retry' }), { nonce: { expected: ['n-1'] } }), 'use_dpop_nonce');
      await expect(verify(await proofFor({ jti: 'retry', nonce: 'n-1' }), { nonce: { expected: ['n-1'] } })).resolves.toMatchObject({ jti: 'retry' });
    });

    it('keeps the "jti"s of different keys apart', async () => {
      const other = await generateKeyPair('ES256');
      await verify(await proofFor({ jti: 'shared' }));
      await expect(verify(await createDpopProof({ keyPair: other, method: 'GET', url: URL_, iat: iatNow(), jti: 'shared' }))).resolves.toMatchObject({ jti: 'shared' });
    });

    it('asks a pluggable replay cache, awaiting its answer', async () => {
      const calls: Array<{ key: string; expiresAt: number; now: number }> = [];
      const shared = {
        markUsed: async (key: string, expiresAt: number, now: number) => {
          calls.push({ key, expiresAt, now });
          return calls.length === 1;
        },
      };
      const proof = await proofFor();
      await verify(proof, { replay: shared });
      await expectDpopError(verify(proof, { replay: shared }), 'invalid_dpop_proof', '"jti"');
      expect(calls[0]).toMatchObject({ expiresAt: (iatNow() + 60) * 1000, now: clock.now() });
      expect(calls[0]!.key).toBe(calls[1]!.key);
    });
  });
});
