import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../../test/databases.js';
import { expectKeygateError, jwksKids, openKeyHarness, privateMemberPaths, rfc7638Thumbprint, type KeyHarness } from '../../test/key-harness.js';
import { buildJwks } from './jwks.js';
import { RETIRE_GRACE_MS } from './key-service.js';
import type { KeySnapshot } from './key-snapshot.js';
import { openPrivateJwk } from './seal.js';

/** The secret values of every sealed private key in the store: none of them may show up anywhere public. */
async function privateValues(h: KeyHarness): Promise<string[]> {
  const values: string[] = [];
  for (const row of await h.service.rows()) {
    if (!row.sealed_private) continue;
    const jwk = (await openPrivateJwk(h.masterKey, row.sealed_private, row)) as Record<string, unknown>;
    for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) if (typeof jwk[member] === 'string') values.push(jwk[member] as string);
  }
  return values;
}

describe('buildJwks', () => {
  const key = (kid: string, use: 'sig' | 'enc'): JWK => ({ kty: 'OKP', crv: 'Ed25519', x: kid, kid, use, alg: use === 'sig' ? 'EdDSA' : 'ECDH-ES' });
  const keys = [key('ia', 'sig'), key('aaB', 'enc'), key('Ia', 'sig'), key('abA', 'sig'), key('-x', 'enc'), key('aaB', 'sig')];

  it('serves the same bytes and ETag whatever order the keys come in', () => {
    const forward = buildJwks(keys);
    const backward = buildJwks([...keys].reverse());
    expect(backward.body.equals(forward.body)).toBe(true);
    expect(backward.etag).toBe(forward.etag);
  });

  it('orders signing keys first, then by the code points of their kid, so no node\'s locale can change the bytes', () => {
    expect(buildJwks(keys).keys.map((k) => `${k.use}:${k.kid}`)).toEqual(['sig:Ia', 'sig:aaB', 'sig:abA', 'sig:ia', 'enc:-x', 'enc:aaB']);
  });
});

describe.each(STORE_KINDS)('the JWKS and what the key service shows of keys (%s)', (kind) => {
  let h: KeyHarness;
  let snapshot: KeySnapshot;
  const kids = {} as Record<'retired' | 'retiring' | 'rotatedIn' | 'next' | 'revoked' | 'replacement' | 'trusted' | 'hmac' | 'aesKw', string>;

  // A store with a key in every state: bootstrapped active keys, a next key, a retiring one, a retired one, a
  // revoked one, a trusted public key and two oct keys.
  beforeAll(async () => {
    h = await openKeyHarness(kind);
    await h.service.runSchedule();

    kids.retired = (await h.service.create({ alg: 'EdDSA', state: 'active' }, 'test')).kid;
    await h.service.rotate('EdDSA', 'test');
    h.clock.advance(h.service.policy.tokenMaxTtl + RETIRE_GRACE_MS);
    await h.service.runSchedule();

    kids.retiring = (await h.service.create({ alg: 'ES384', state: 'active' }, 'test')).kid;
    kids.rotatedIn = (await h.service.rotate('ES384', 'test')).activated.kid;
    kids.next = (await h.service.create({ alg: 'ES256' }, 'test')).kid;
    kids.revoked = (await h.service.create({ alg: 'ES512', state: 'active' }, 'test')).kid;
    await h.service.revoke(kids.revoked, 'test', 'test');
    kids.replacement = (await h.service.list({ alg: 'ES512', state: 'active' }))[0]!.kid;
    const trusted = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }) as JWK;
    kids.trusted = (await h.service.import({ jwk: trusted, alg: 'ES384' }, 'test')).kid;
    kids.hmac = (await h.service.create({ alg: 'HS256', state: 'active' }, 'test')).kid;
    kids.aesKw = (await h.service.create({ alg: 'A256KW' }, 'test')).kid;

    snapshot = await h.snapshot();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('holds a key in every state for these tests to look at', async () => {
    const states = new Set((await h.service.list()).map((k) => k.state));
    expect([...states].sort()).toEqual(['active', 'next', 'retired', 'retiring', 'revoked', 'trusted']);
  });

  it('publishes exactly the next, active and retiring keys that have a public part', async () => {
    const published = (await h.service.list()).filter((k) => ['next', 'active', 'retiring'].includes(k.state) && k.kty !== 'oct').map((k) => k.kid);
    expect(jwksKids(snapshot).sort()).toEqual(published.sort());
  });

  it('publishes the bootstrapped active key of every managed slot', async () => {
    const active = (await h.service.list({ state: 'active' })).filter((k) => ['ES256', 'RS256', 'ECDH-ES'].includes(k.alg)).map((k) => k.kid);
    expect(active).toHaveLength(3);
    expect(jwksKids(snapshot)).toEqual(expect.arrayContaining(active));
  });

  it('publishes a next key', () => {
    expect(jwksKids(snapshot)).toContain(kids.next);
  });

  it('publishes a retiring key', () => {
    expect(jwksKids(snapshot)).toContain(kids.retiring);
  });

  it('publishes the key a rotation made active', () => {
    expect(jwksKids(snapshot)).toContain(kids.rotatedIn);
  });

  it('publishes the key that replaced a revoked active key', () => {
    expect(jwksKids(snapshot)).toContain(kids.replacement);
  });

  it('leaves a retired key out', () => {
    expect(jwksKids(snapshot)).not.toContain(kids.retired);
  });

  it('leaves a revoked key out', () => {
    expect(jwksKids(snapshot)).not.toContain(kids.revoked);
  });

  it('leaves a trusted public key out', () => {
    expect(jwksKids(snapshot)).not.toContain(kids.trusted);
  });

  it('leaves oct keys out, whatever their state', () => {
    expect(jwksKids(snapshot)).not.toContain(kids.hmac);
    expect(jwksKids(snapshot)).not.toContain(kids.aesKw);
  });

  it('gives every published key its kid, alg and use', () => {
    const body = JSON.parse(snapshot.jwks.body.toString('utf8')) as { keys: Array<Record<string, unknown>> };
    for (const key of body.keys) {
      expect(key).toMatchObject({ kid: rfc7638Thumbprint(key), alg: expect.any(String), use: expect.stringMatching(/^(sig|enc)$/) });
    }
  });

  it('puts no private member in the JWKS', () => {
    expect(privateMemberPaths(JSON.parse(snapshot.jwks.body.toString('utf8')))).toEqual([]);
  });

  it('puts no private key value in the JWKS', async () => {
    const body = snapshot.jwks.body.toString('utf8');
    for (const value of await privateValues(h)) expect(body).not.toContain(value);
  });

  it('shows no private member or value in list()', async () => {
    const listed = await h.service.list();
    expect(privateMemberPaths(listed)).toEqual([]);
    const text = JSON.stringify(listed);
    for (const value of await privateValues(h)) expect(text).not.toContain(value);
  });

  it('shows no private member or value in get() of any key', async () => {
    const values = await privateValues(h);
    for (const { kid } of await h.service.list()) {
      const info = await h.service.get(kid);
      expect(privateMemberPaths(info)).toEqual([]);
      for (const value of values) expect(JSON.stringify(info)).not.toContain(value);
    }
  });

  it('exports only the public members of every key as a JWK', async () => {
    const values = await privateValues(h);
    for (const { kid } of (await h.service.list()).filter((k) => k.kty !== 'oct')) {
      const jwk = await h.service.exportPublic(kid, 'jwk');
      expect(privateMemberPaths(jwk)).toEqual([]);
      expect(rfc7638Thumbprint(jwk as Record<string, unknown>)).toBe(kid);
      for (const value of values) expect(JSON.stringify(jwk)).not.toContain(value);
    }
  });

  it('exports every key as a PEM that holds only the public key', async () => {
    for (const { kid } of (await h.service.list()).filter((k) => k.kty !== 'oct')) {
      const pem = (await h.service.exportPublic(kid, 'pem')) as string;
      expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      expect(pem).not.toContain('PRIVATE');
      const key = createPublicKey(pem);
      expect(key.type).toBe('public');
      expect(rfc7638Thumbprint(key.export({ format: 'jwk' }) as Record<string, unknown>)).toBe(kid);
    }
  });

  it('writes no private key value to the audit log', async () => {
    const audit = JSON.stringify(await h.store.db.selectFrom('audit_log').selectAll().execute());
    for (const value of await privateValues(h)) expect(audit).not.toContain(value);
  });

  it('refuses to export an oct key, which has no public part, with invalid_request', async () => {
    await expectKeygateError(h.service.exportPublic(kids.hmac, 'jwk'), 'invalid_request', 400);
    await expectKeygateError(h.service.exportPublic(kids.aesKw, 'pem'), 'invalid_request', 400);
  });
});
