import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JSONWebKeySet } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { loadSettings } from '../src/config/settings.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { SECRET_MEMBERS } from '../src/keys/index.js';
import { STORE_KINDS, createTestDatabase, type TestDatabase } from './databases.js';
import { tempDataDir } from './keygate-process.js';

const DAY = 86_400_000;
const TOKEN = 'admin-test-token';

describe.each(STORE_KINDS)('the key service through its HTTP ports (%s)', (kind) => {
  let db: TestDatabase;
  let gateway: Gateway;
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  /** Every admin response body, to prove afterwards that none carried a private member. */
  const bodies: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const settings = loadSettings({ KEYGATE_DATA_DIR: tempDataDir(), KEYGATE_DATABASE_URL: db.url, KEYGATE_ADMIN_TOKEN: TOKEN, KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0', KEYGATE_PROXY_HOST: '127.0.0.1' });
    gateway = await startGateway(settings, { logger: pino({ level: 'silent' }), clock, timers: false });
  });
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  async function admin<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${gateway.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    bodies.push(text);
    return { status: response.status, body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T };
  }

  const jwks = async (): Promise<JSONWebKeySet> => {
    const text = await (await fetch(`${gateway.proxyUrl}/.well-known/jwks.json`)).text();
    bodies.push(text);
    return JSON.parse(text) as JSONWebKeySet;
  };
  const kids = async () => (await jwks()).keys.map((k) => k.kid);
  const keyCount = async () => (await admin<{ keys: unknown[] }>('GET', '/keys')).body.keys.length;
  const sign = async (claims: Record<string, unknown> = { sub: 'app-1' }, ttlSeconds = 86_400, alg = 'ES256') =>
    (await admin<{ token: string }>('POST', '/jose/sign', { claims, ttlSeconds, alg })).body.token;

  it('serves the JWKS as application/jwk-set+json, cacheable for less than the publication lead', async () => {
    const response = await fetch(`${gateway.proxyUrl}/.well-known/jwks.json`);
    expect(response.headers.get('content-type')).toBe('application/jwk-set+json');
    const maxAge = Number(/max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge * 1000).toBeLessThan(DAY);
    expect(response.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });

  it('answers If-None-Match with 304 while the key set is unchanged, and with the new set once it changes', async () => {
    const first = await fetch(`${gateway.proxyUrl}/.well-known/jwks.json`);
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${gateway.proxyUrl}/.well-known/jwks.json`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const created = await admin<{ kid: string }>('POST', '/keys', { alg: 'ES384' });
    expect(created.status).toBe(201);
    const changed = await fetch(`${gateway.proxyUrl}/.well-known/jwks.json`, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(((await changed.json()) as JSONWebKeySet).keys.map((k) => k.kid)).toContain(created.body.kid);
  });

  it('publishes a new key as next without signing with it', async () => {
    const next = await admin<{ kid: string; state: string; published: boolean }>('POST', '/keys', { alg: 'PS256' });
    expect(next.body).toMatchObject({ state: 'next', published: true });
    expect(await kids()).toContain(next.body.kid);
    const signed = await admin('POST', '/jose/sign', { claims: {}, ttlSeconds: 60, alg: 'PS256' });
    expect(signed.status).toBe(409);
    expect(signed.body).toMatchObject({ error: { code: 'no_active_key' } });
  });

  it('keeps every token verifiable by a relying party until it expires, across a rotation driven by the clock', async () => {
    const relyingParty = async (token: string) => jwtVerify(token, createLocalJWKSet(await jwks()), { currentDate: new Date(clock.now()), algorithms: ['ES256'] });
    const beforeRotation = await sign();
    const oldKid = (await relyingParty(beforeRotation)).protectedHeader.kid;

    clock.advance(29 * DAY + 60_000);
    await gateway.runSchedule();
    const published = (await admin<{ keys: Array<{ kid: string; state: string }> }>('GET', '/keys?alg=ES256&state=next')).body.keys;
    expect(published).toHaveLength(1);
    const newKid = published[0]!.kid;
    expect(await kids()).toEqual(expect.arrayContaining([oldKid, newKid]));

    // Late in the publication lead the old key still signs.
    clock.advance(DAY - 3_600_000);
    await gateway.runSchedule();
    const duringLead = await sign();
    expect((await relyingParty(duringLead)).protectedHeader.kid).toBe(oldKid);

    clock.advance(3_600_000);
    await gateway.runSchedule();
    const afterRotation = await sign();
    expect((await relyingParty(afterRotation)).protectedHeader.kid).toBe(newKid);
    expect((await relyingParty(duringLead)).protectedHeader.kid).toBe(oldKid);

    // A minute before the old key's last token expires, the key is still published and the token verifies.
    clock.advance(DAY - 3_600_000 - 60_000);
    await gateway.runSchedule();
    expect(await kids()).toContain(oldKid);
    expect((await relyingParty(duringLead)).payload.sub).toBe('app-1');

    clock.advance(DAY);
    await gateway.runSchedule();
    expect(await kids()).not.toContain(oldKid);
    expect((await admin<{ state: string }>('GET', `/keys/${oldKid}`)).body.state).toBe('retired');
    expect((await relyingParty(await sign())).protectedHeader.kid).toBe(newKid);
  });

  it('takes a revoked key out of the JWKS and out of verification before the revoke call returns', async () => {
    const token = await sign({ sub: 'x' }, 600);
    const { kid } = (await admin<{ kid: string }>('POST', '/jose/verify', { token, algorithms: ['ES256'] })).body;
    const revoked = await admin<{ state: string }>('POST', `/keys/${kid}/revoke`, { reason: 'compromised' });
    expect(revoked.body.state).toBe('revoked');
    expect(await kids()).not.toContain(kid);
    const refused = await admin('POST', '/jose/verify', { token, algorithms: ['ES256'] });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: { code: 'token_invalid' } });
    const replacement = await sign({ sub: 'y' }, 600);
    expect((await admin<{ kid: string }>('POST', '/jose/verify', { token: replacement, algorithms: ['ES256'] })).body.kid).not.toBe(kid);
  });

  it('rotates on demand: the active key retires, a new one signs', async () => {
    const before = (await admin<{ keys: Array<{ kid: string }> }>('GET', '/keys?alg=RS256&state=active')).body.keys[0]!.kid;
    const rotated = await admin<{ activated: { kid: string; state: string }; retiring: { kid: string; state: string } }>('POST', '/keys/rotate', { alg: 'RS256' });
    expect(rotated.status).toBe(200);
    expect(rotated.body.retiring).toMatchObject({ kid: before, state: 'retiring' });
    expect(rotated.body.activated.state).toBe('active');
    expect(await kids()).toEqual(expect.arrayContaining([before, rotated.body.activated.kid]));
  });

  it('imports a PEM private key and exports its public key as JWK and PEM', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const imported = await admin<{ kid: string; alg: string; hasPrivateKey: boolean; origin: string }>('POST', '/keys/import', { pem, alg: 'ES384', state: 'active' });
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ alg: 'ES384', hasPrivateKey: true, origin: 'imported' });
    const jwk = await admin<Record<string, string>>('GET', `/keys/${imported.body.kid}/public`);
    expect(jwk.body).toMatchObject({ kid: imported.body.kid, kty: 'EC', crv: 'P-384', alg: 'ES384', use: 'sig' });
    const spki = await admin<string>('GET', `/keys/${imported.body.kid}/public?format=pem`);
    expect(spki.body).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('trusts an imported public key for verification without publishing it', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), alg: 'ES256' };
    const imported = await admin<{ kid: string; state: string; published: boolean }>('POST', '/keys/import', { jwk, publicOnly: true });
    expect(imported.body).toMatchObject({ state: 'trusted', published: false });
    expect(await kids()).not.toContain(imported.body.kid);
  });

  describe('imports a JWK Set whole, or none of it', () => {
    const publicEc = (curve = 'P-256') => ({ ...generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'jwk' }), alg: 'ECDH-ES', use: 'enc' });
    const privateEc = () => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), alg: 'ES256' });
    type Refusal = { error: { code: string; message: string } };

    it('imports every key of a set in one request, each with its own audit record', async () => {
      const response = await admin<{ keys: Array<{ kid: string; state: string; alg: string }> }>('POST', '/keys/import-set', { jwks: { keys: [publicEc(), publicEc('P-384')] }, publicOnly: true });
      expect(response.status).toBe(201);
      expect(response.body.keys.map((key) => [key.alg, key.state])).toEqual([['ECDH-ES', 'trusted'], ['ECDH-ES', 'trusted']]);
      const audit = await admin<{ entries: Array<{ action: string; target: string }> }>('GET', '/audit?action=key.import&limit=10');
      for (const key of response.body.keys) expect(audit.body.entries).toContainEqual(expect.objectContaining({ action: 'key.import', target: key.kid }));
    });

    it.each([
      ['a key that is already stored', async () => {
        const stored = publicEc();
        expect((await admin('POST', '/keys/import', { jwk: stored })).status).toBe(201);
        return [publicEc(), stored];
      }, 'duplicate_kid'],
      ['the same key twice', async () => {
        const twice = publicEc();
        return [twice, publicEc(), twice];
      }, 'duplicate_kid'],
      ['a malformed key', async () => [publicEc(), { kty: 'EC', crv: 'P-256', x: '!!!', y: 'AAAA', alg: 'ES256' }], 'invalid_jwk'],
      ['two private keys for the one next key of ES256', async () => [privateEc(), privateEc()], 'key_state_conflict'],
    ])('refuses a set holding %s, naming the key, and stores none of it', async (_name, keysOf, code) => {
      const keys = await keysOf();
      const before = await keyCount();
      const response = await admin<Refusal>('POST', '/keys/import-set', { jwks: { keys } });
      expect(response.body.error.code).toBe(code);
      expect(response.body.error.message).toContain(`key ${keys.length} of the set`);
      expect(response.body.error.message).toContain('nothing was imported');
      expect(await keyCount()).toBe(before);
    });

    it('refuses a set whose second key would be the next key of a slot that has one, and stores neither', async () => {
      const set = [publicEc(), privateEc()];
      const next = await admin<{ kid: string }>('POST', '/keys/import', { jwk: privateEc() });
      expect(next.status).toBe(201);
      const before = await keyCount();
      const response = await admin<Refusal>('POST', '/keys/import-set', { jwks: { keys: set } });
      expect(response.status).toBe(409);
      expect(response.body.error).toMatchObject({ code: 'key_state_conflict', message: expect.stringContaining('key 2 of the set') });
      expect(await keyCount()).toBe(before);
      expect((await admin('POST', `/keys/${next.body.kid}/revoke`, {})).status).toBe(200);
    });

    it('refuses an empty set with 400', async () => {
      expect((await admin<Refusal>('POST', '/keys/import-set', { jwks: { keys: [] } })).body.error.code).toBe('invalid_request');
    });
  });

  describe('refuses bad input with 400, a stable code, and nothing stored', () => {
    it.each([
      ['a JWK that is not an object', { jwk: 'nope' }, 'invalid_request'],
      ['a JWK without kty', { jwk: { alg: 'ES256', x: 'a' } }, 'invalid_jwk'],
      ['an unknown kty', { jwk: { kty: 'XYZ', alg: 'ES256' } }, 'unsupported_key_type'],
      ['an unknown alg', { jwk: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b', alg: 'ES999' } }, 'unsupported_algorithm'],
      ['an oct key shorter than HS256 needs', { jwk: { kty: 'oct', k: Buffer.alloc(16, 1).toString('base64url'), alg: 'HS256' } }, 'weak_key'],
      ['an EC key on the wrong curve for its alg', { jwk: { kty: 'EC', crv: 'P-384', x: 'AAAA', y: 'AAAA', alg: 'ES256' } }, 'invalid_jwk'],
      ['a member that is not base64url', { jwk: { kty: 'RSA', n: '!!!', e: 'AQAB', alg: 'RS256' } }, 'invalid_jwk'],
      ['both a JWK and a PEM', { jwk: { kty: 'oct' }, pem: '-----BEGIN PUBLIC KEY-----', alg: 'ES256' }, 'invalid_request'],
      ['an unknown request member', { jwk: {}, colour: 'blue' }, 'invalid_request'],
    ])('%s', async (_name, body, code) => {
      const before = await keyCount();
      const response = await admin<{ error: { code: string; message: string } }>('POST', '/keys/import', body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe(code);
      expect(response.body.error.message.length).toBeGreaterThan(10);
      expect(await keyCount()).toBe(before);
    });

    it('an RSA key under 2048 bits', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const before = await keyCount();
      const response = await admin<{ error: { code: string; message: string } }>('POST', '/keys/import', { jwk: { ...privateKey.export({ format: 'jwk' }), alg: 'RS256' } });
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'weak_key' });
      expect(response.body.error.message).toContain('1024');
      expect(await keyCount()).toBe(before);
    });

    it('a key that is already stored (duplicate kid)', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256' };
      expect((await admin('POST', '/keys/import', { jwk })).status).toBe(201);
      const before = await keyCount();
      const again = await admin<{ error: { code: string } }>('POST', '/keys/import', { jwk });
      expect(again.status).toBe(400);
      expect(again.body.error.code).toBe('duplicate_kid');
      expect(await keyCount()).toBe(before);
    });

    it('a private key offered where a public one is asked for', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const before = await keyCount();
      const response = await admin<{ error: { code: string; message: string } }>('POST', '/keys/import', { jwk: { ...privateKey.export({ format: 'jwk' }), alg: 'ES256' }, publicOnly: true });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('private_key_not_allowed');
      expect(await keyCount()).toBe(before);
    });

    it('a key size the generator does not offer', async () => {
      const response = await admin<{ error: { code: string } }>('POST', '/keys', { alg: 'RS256', modulusLength: 1024 });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('weak_key');
    });
  });

  it('encrypts to the gateway and decrypts, and refuses an algorithm outside the allowlist', async () => {
    const { jwe } = (await admin<{ jwe: string }>('POST', '/jose/encrypt', { plaintext: 'card 4111' })).body;
    expect(jwe.split('.')).toHaveLength(5);
    expect((await admin<{ plaintext: string }>('POST', '/jose/decrypt', { jwe })).body.plaintext).toBe('card 4111');
    const refused = await admin<{ error: { code: string } }>('POST', '/jose/decrypt', { jwe, algorithms: ['RSA-OAEP-256'] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('algorithm_not_allowed');
  });

  it('encrypts with its dir key only the enc of its size, and refuses another with 400 algorithm_not_allowed', async () => {
    expect((await admin('POST', '/keys', { alg: 'dir', state: 'active' })).status).toBe(201);
    const fits = await admin<{ jwe: string }>('POST', '/jose/encrypt', { plaintext: 'x', alg: 'dir', enc: 'A256GCM' });
    expect(fits.status).toBe(200);
    const refused = await admin<{ error: { code: string; message: string } }>('POST', '/jose/encrypt', { plaintext: 'x', alg: 'dir', enc: 'A128GCM' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'algorithm_not_allowed', message: expect.stringContaining('128-bit key') });
  });

  it('refuses to encrypt to an RSA recipient key under 2048 bits with 400 weak_key', async () => {
    // jose will not make such a key; Node's crypto will.
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const recipient = { ...publicKey.export({ format: 'jwk' }), alg: 'RSA-OAEP-256' };
    const refused = await admin<{ error: { code: string; message: string } }>('POST', '/jose/encrypt', { plaintext: 'x', recipient });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'weak_key', message: expect.stringContaining('1024-bit') });
    const strong = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
    const accepted = await admin<{ jwe: string }>('POST', '/jose/encrypt', { plaintext: 'x', recipient: { ...(await exportJWK(strong.publicKey)), alg: 'RSA-OAEP-256' } });
    expect(accepted.status).toBe(200);
  });

  it('answers an unknown kid with 404 key_not_found', async () => {
    const response = await admin<{ error: { code: string } }>('GET', '/keys/no-such-kid');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('key_not_found');
  });

  it('never sent a private key member in any response above', () => {
    for (const text of bodies) {
      for (const member of SECRET_MEMBERS) expect(text).not.toMatch(new RegExp(`"${member}"\\s*:`));
    }
    expect(bodies.length).toBeGreaterThan(30);
  });
});
