import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../../test/databases.js';
import { expectKeygateError, openKeyHarness, type KeyHarness } from '../../test/key-harness.js';
import type { KeySnapshot } from './key-snapshot.js';
import { signJwt } from './sign-jwt.js';
import { verifyJwt, type VerifyJwtOptions } from './verify-jwt.js';

const ALLOWED = ['ES256', 'RS256', 'HS256'];
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe.each(STORE_KINDS)('verifyJwt refuses what RFC 8725 warns about (%s)', (kind) => {
  let h: KeyHarness;
  let snapshot: KeySnapshot;
  let esKid: string;
  let rsKid: string;

  beforeAll(async () => {
    h = await openKeyHarness(kind);
    await h.service.runSchedule();
    await h.service.create({ alg: 'HS256', state: 'active' }, 'test');
    snapshot = await h.snapshot();
    esKid = snapshot.signingKeys.get('ES256')!.kid;
    rsKid = snapshot.signingKeys.get('RS256')!.kid;
  });
  afterAll(async () => {
    await h?.close();
  });

  const nowSeconds = () => Math.floor(h.clock.now() / 1000);
  const claims = () => ({ sub: 'app-1', iat: nowSeconds(), exp: nowSeconds() + 300 });
  const verify = (token: string, options: Partial<VerifyJwtOptions> = {}) => verifyJwt(snapshot, token, { algorithms: ALLOWED, now: h.clock.now(), ...options });
  const signed = (alg = 'ES256') => signJwt(snapshot, { sub: 'app-1' }, { alg, algorithms: ALLOWED, ttlSeconds: 300, maxTtlSeconds: 300, now: h.clock.now() });

  it.each(ALLOWED)('accepts a %s token signed by the active key', async (alg) => {
    const verified = await verify(await signed(alg));
    expect(verified).toMatchObject({ kid: snapshot.signingKeys.get(alg)!.kid, payload: { sub: 'app-1' } });
  });

  it('refuses an unsecured token (alg "none")', async () => {
    await expectKeygateError(verify(`${b64({ alg: 'none', kid: esKid, typ: 'JWT' })}.${b64(claims())}.`), 'token_invalid', 400);
  });

  it('refuses an unsecured token (alg "none") even when the allowlist names "none"', async () => {
    const token = `${b64({ alg: 'none', kid: esKid, typ: 'JWT' })}.${b64(claims())}.`;
    await expectKeygateError(verify(token, { algorithms: [...ALLOWED, 'none'] }), 'token_invalid', 400);
  });

  it('refuses an HS256 token whose secret is the RS256 public key as PEM', async () => {
    const pem = (await h.service.exportPublic(rsKid, 'pem')) as string;
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: rsKid }).sign(new TextEncoder().encode(pem));
    await expectKeygateError(verify(token), 'token_invalid', 400);
  });

  it('refuses an HS256 token whose secret is the RS256 public modulus', async () => {
    const { n } = (await h.service.exportPublic(rsKid, 'jwk')) as { n: string };
    for (const secret of [Buffer.from(n, 'base64url'), new TextEncoder().encode(n)]) {
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: rsKid }).sign(secret);
      await expectKeygateError(verify(token), 'token_invalid', 400);
    }
  });

  it('refuses a token that carries its own "jwk" header with an attacker key', async () => {
    const attacker = await generateKeyPair('ES256');
    const jwk = await exportJWK(attacker.publicKey);
    for (const kid of [undefined, await calculateJwkThumbprint(jwk), esKid]) {
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', jwk, ...(kid ? { kid } : {}) }).sign(attacker.privateKey);
      await expectKeygateError(verify(token), 'token_invalid', 400);
    }
  });

  it('refuses a token without "exp", even when signed by the active key', async () => {
    const key = snapshot.signingKeys.get('ES256')!.privateKey!;
    const token = await new SignJWT({ sub: 'app-1' }).setProtectedHeader({ alg: 'ES256', kid: esKid }).setIssuedAt(nowSeconds()).sign(key);
    const error = await expectKeygateError(verify(token), 'token_invalid', 400);
    expect(error.message).toContain('"exp"');
  });

  it('refuses a token whose alg is outside the allowlist', async () => {
    const token = await signed('ES256');
    await expectKeygateError(verify(token, { algorithms: ['RS256', 'HS256'] }), 'token_invalid', 400);
  });

  it('refuses a token longer than maxLength before verifying it', async () => {
    const token = await signed('ES256');
    await expectKeygateError(verify(token, { maxLength: token.length - 1 }), 'token_invalid', 400);
    await expect(verify(token, { maxLength: token.length })).resolves.toMatchObject({ kid: esKid });
  });

  it('refuses a token longer than 8 KiB by default', async () => {
    const token = await signJwt(snapshot, { pad: 'x'.repeat(8192) }, { algorithms: ALLOWED, ttlSeconds: 300, maxTtlSeconds: 300, now: h.clock.now() });
    await expectKeygateError(verify(token), 'token_invalid', 400);
  });

  it('refuses an expired token', async () => {
    const token = await signed('ES256');
    await expectKeygateError(verify(token, { now: h.clock.now() + 300_000 }), 'token_invalid', 400);
  });

  it('does not echo the token in the refusal', async () => {
    const token = await signed('ES256');
    const error = await expectKeygateError(verify(token, { algorithms: ['RS256'] }), 'token_invalid');
    for (const part of token.split('.')) expect(error.message).not.toContain(part);
  });
});
