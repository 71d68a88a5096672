import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, generateSecret, type CryptoKey, type JWK } from 'jose';
import pino from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../clock.js';
import { KeygateError } from '../../errors.js';
import { IssuerTokenError, IssuerUnavailableError, type IssuerFetchReason } from './issuer-errors.js';
import { IssuerTestServer } from '../../../test/issuer-server.js';
import { RemoteKeySet, type RemoteKeySetOptions } from './remote-key-set.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

async function publicJwk(alg: 'ES256' | 'ES384' | 'RS256' | 'EdDSA', extra: JWK = {}): Promise<JWK> {
  const { publicKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(publicKey)), ...extra };
}

/** The public JWK a resolved key exports, to tell keys apart. */
const exported = async (key: CryptoKey): Promise<JWK> => exportJWK(key);

async function refusal(work: Promise<unknown>): Promise<KeygateError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeygateError);
  return error as KeygateError;
}

describe('RemoteKeySet', () => {
  let server: IssuerTestServer;
  let clock: ManualClock;
  let keyA: JWK;
  let keyB: JWK;
  const sets: RemoteKeySet[] = [];

  beforeAll(async () => {
    keyA = await publicJwk('ES256', { kid: 'key-a', alg: 'ES256', use: 'sig' });
    keyB = await publicJwk('ES256', { kid: 'key-b', alg: 'ES256', use: 'sig' });
  });
  beforeEach(async () => {
    server = await IssuerTestServer.start();
    server.serve('/jwks', { body: { keys: [keyA] } });
    clock = new ManualClock();
  });
  afterEach(async () => {
    await server.close();
    sets.length = 0;
  });

  const open = (options: RemoteKeySetOptions = {}, path = '/jwks'): RemoteKeySet => {
    const set = new RemoteKeySet(`${server.url}${path}`, { clock, timeoutMs: 500, ...options });
    sets.push(set);
    return set;
  };
  const hits = () => server.hits('/jwks');
  const settled = (set: RemoteKeySet) => vi.waitFor(() => expect(set.status().refreshing).toBe(false));

  describe('caching', () => {
    it('serves the key the token names by kid', async () => {
      server.serve('/jwks', { body: { keys: [keyA, keyB] } });
      const set = open();
      expect((await exported(await set.getKey({ alg: 'ES256', kid: 'key-b' }))).x).toBe(keyB.x);
      expect((await exported(await set.getKey({ alg: 'ES256', kid: 'key-a' }))).x).toBe(keyA.x);
    });

    it('fetches the set once for many verifications while it is fresh', async () => {
      const set = open();
      await Promise.all(Array.from({ length: 20 }, () => set.getKey({ alg: 'ES256', kid: 'key-a' })));
      clock.advance(9 * MINUTE);
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      expect(hits()).toBe(1);
    });

    it('keeps the set for 10 minutes when the response has no Cache-Control', async () => {
      const set = open();
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      clock.advance(10 * MINUTE - 1);
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      expect(hits()).toBe(1);
      clock.advance(1);
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      await settled(set);
      expect(hits()).toBe(2);
    });

    it('keeps the set for its Cache-Control max-age', async () => {
      server.serve('/jwks', { body: { keys: [keyA] }, headers: { 'cache-control': 'public, max-age=120' } });
      const set = open();
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      clock.advance(119 * SECOND);
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      expect(hits()).toBe(1);
      clock.advance(SECOND);
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      await settled(set);
      expect(set.status()).toMatchObject({ fetchedAt: clock.now(), expiresAt: clock.now() + 120 * SECOND });
      expect(hits()).toBe(2);
    });

    it('raises a max-age below the minimum TTL to the minimum', async () => {
      server.serve('/jwks', { body: { keys: [keyA] }, headers: { 'cache-control': 'max-age=1' } });
      const set = open({ minTtlMs: MINUTE });
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      expect(set.status().expiresAt).toBe(clock.now() + MINUTE);
    });

    it('treats no-store as the minimum TTL rather than refetching on every token', async () => {
      server.serve('/jwks', { body: { keys: [keyA] }, headers: { 'cache-control': 'no-store' } });
      const set = open();
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      expect(set.status().expiresAt).toBe(clock.now() + MINUTE);
      expect(hits()).toBe(1);
    });

    it('lowers a max-age above the maximum TTL to the maximum', async () => {
      server.serve('/jwks', { body: { keys: [keyA] }, headers: { 'cache-control': `max-age=${30 * 86_400}` } });
      const set = open();
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      expect(set.status().expiresAt).toBe(clock.now() + 24 * 60 * MINUTE);
    });

    it('serves the cached keys while the refresh after expiry is still running', async () => {
      const set = open();
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      server.serve('/jwks', { body: { keys: [keyB] }, hold: true });
      clock.advance(11 * MINUTE);

      const key = await set.getKey({ alg: 'ES256', kid: 'key-a' });
      expect((await exported(key)).x).toBe(keyA.x);
      await vi.waitFor(() => expect(server.held).toBe(1));
      expect(set.status().refreshing).toBe(true);

      server.release();
      await settled(set);
      expect(set.status().kids).toEqual(['key-b']);
      expect(hits()).toBe(2);
    });
  });

  describe('unknown kid', () => {
    it('refetches once and finds a key the issuer rotated in', async () => {
      const set = open();
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      server.serve('/jwks', { body: { keys: [keyA, keyB] } });
      clock.advance(31 * SECOND);
      expect((await exported(await set.getKey({ alg: 'ES256', kid: 'key-b' }))).x).toBe(keyB.x);
      expect(hits()).toBe(2);
    });

    it('shares one fetch among concurrent lookups of unknown kids', async () => {
      const set = open();
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      clock.advance(31 * SECOND);
      server.serve('/jwks', { body: { keys: [keyA] }, hold: true });

      const lookups = Array.from({ length: 25 }, (_, i) => refusal(set.getKey({ alg: 'ES256', kid: `unknown-${i}` })));
      await vi.waitFor(() => expect(server.held).toBe(1));
      server.release();
      for (const error of await Promise.all(lookups)) expect(error).toMatchObject({ code: 'token_invalid', reason: 'no_matching_key' });
      expect(hits()).toBe(2);
    });

    it('refetches for unknown kids at most once per cooldown', async () => {
      const set = open({ cooldownMs: 30 * SECOND });
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      for (let i = 0; i < 10; i += 1) {
        expect(await refusal(set.getKey({ alg: 'ES256', kid: `unknown-${i}` }))).toMatchObject({ reason: 'no_matching_key' });
        clock.advance(SECOND);
      }
      // The first unknown kid refetched at once; the nine after it, within the cooldown, did not.
      expect(hits()).toBe(2);
      clock.advance(21 * SECOND);
      await refusal(set.getKey({ alg: 'ES256', kid: 'unknown-again' }));
      expect(hits()).toBe(3);
    });

    it('refetches at once for the first unknown kid after a regular fetch, so a rotation causes no failed request', async () => {
      const set = open({ cooldownMs: 30 * SECOND });
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      server.serve('/jwks', { body: { keys: [keyA, keyB] } });
      await expect(set.getKey({ alg: 'ES256', kid: 'key-b' })).resolves.toBeDefined();
      expect(hits()).toBe(2);
    });

    it('does not fetch for a token whose alg no published key can serve', async () => {
      const set = open();
      for (const alg of ['none', 'HS256', 'RSA-OAEP', undefined]) {
        expect(await refusal(set.getKey({ alg, kid: 'key-a' }))).toMatchObject({ code: 'token_invalid', reason: 'alg_not_allowed' });
      }
      expect(hits()).toBe(0);
    });
  });

  describe('failures', () => {
    const failures: Array<[string, IssuerFetchReason, (s: IssuerTestServer) => Promise<void> | void]> = [
      ['is slower than the fetch timeout', 'timeout', (s) => s.serve('/jwks', { hold: true })],
      ['is down', 'unreachable', (s) => s.stop()],
      ['answers 503', 'http_status', (s) => s.serve('/jwks', { status: 503, body: 'unavailable' })],
      ['redirects elsewhere', 'http_status', (s) => s.serve('/jwks', { status: 302, headers: { location: 'http://127.0.0.1:1/evil' } })],
      ['answers with garbage', 'not_json', (s) => s.serve('/jwks', { body: '<html>not json</html>' })],
      ['answers JSON that is not a JWK Set', 'not_jwks', (s) => s.serve('/jwks', { body: { issuer: 'x' } })],
      ['answers keys that do not import', 'no_usable_keys', (s) => s.serve('/jwks', { body: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA', kid: 'bad' }] } })],
      ['answers with only an HMAC secret', 'no_usable_keys', (s) => s.serve('/jwks', { body: { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'key-a' }] } })],
      ['answers a body larger than the limit', 'too_large', (s) => s.serve('/jwks', { body: { keys: [keyA], pad: 'x'.repeat(600 * 1024) } })],
    ];

    it.each(failures)('fails closed when the endpoint %s and no keys were ever loaded', async (_, reason, breakServer) => {
      await breakServer(server);
      const set = open({ timeoutMs: 200 });
      const error = await refusal(set.getKey({ alg: 'ES256', kid: 'key-a' }));
      expect(error).toBeInstanceOf(IssuerUnavailableError);
      expect(error).toMatchObject({ code: 'upstream_failed', status: 502, reason });
    });

    it.each(failures)('keeps the last good keys when the endpoint %s', async (_, reason, breakServer) => {
      const set = open({ timeoutMs: 200 });
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      await breakServer(server);
      clock.advance(11 * MINUTE);

      expect((await exported(await set.getKey({ alg: 'ES256', kid: 'key-a' }))).x).toBe(keyA.x);
      await settled(set);
      expect(set.status()).toMatchObject({ kids: ['key-a'], lastFailure: { reason } });
      expect((await exported(await set.getKey({ alg: 'ES256', kid: 'key-a' }))).x).toBe(keyA.x);
    });

    it('retries a failed first fetch only after the cooldown, then recovers', async () => {
      server.serve('/jwks', { status: 500 });
      const set = open();
      await refusal(set.getKey({ alg: 'ES256', kid: 'key-a' }));
      const again = await refusal(set.getKey({ alg: 'ES256', kid: 'key-a' }));
      expect(again).toMatchObject({ code: 'upstream_failed', reason: 'http_status', httpStatus: 500 });
      expect(hits()).toBe(1);

      server.serve('/jwks', { body: { keys: [keyA] } });
      clock.advance(30 * SECOND);
      expect((await exported(await set.getKey({ alg: 'ES256', kid: 'key-a' }))).x).toBe(keyA.x);
      expect(hits()).toBe(2);
    });

    it('retries a failing refresh once per cooldown while serving the last good keys', async () => {
      const set = open();
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      server.serve('/jwks', { status: 500 });
      clock.advance(11 * MINUTE);
      for (let i = 0; i < 5; i += 1) {
        await set.getKey({ alg: 'ES256', kid: 'key-a' });
        await settled(set);
      }
      expect(hits()).toBe(2);
      clock.advance(30 * SECOND);
      await set.getKey({ alg: 'ES256', kid: 'key-a' });
      await settled(set);
      expect(hits()).toBe(3);
    });

    it('logs a failed refresh with its reason, and neither the body nor the query string', async () => {
      const lines: string[] = [];
      const logger = pino(
        { level: 'warn' },
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(chunk.toString('utf8'));
            done();
          },
        }),
      );
      server.serve('/jwks', { status: 500, body: 'SECRET-BODY-CONTENT' });
      const set = open({ logger }, '/jwks?api_key=query-secret');
      await refusal(set.getKey({ alg: 'ES256', kid: 'key-a' }));

      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, reason: 'http_status', httpStatus: 500, jwksUri: `${server.url}/jwks` });
      expect(lines[0]).not.toContain('SECRET-BODY-CONTENT');
      expect(lines[0]).not.toContain('query-secret');
    });
  });

  describe('which keys are taken', () => {
    const kidsServed = async (keys: unknown[]): Promise<string[]> => {
      server.serve('/jwks', { body: { keys } });
      const set = open();
      await set.getKey({ alg: 'ES256', kid: 'key-a' }).catch(() => undefined);
      return set.status().kids;
    };

    it('never takes a symmetric (oct) key, so an HMAC secret cannot come from a JWK Set', async () => {
      const secret = await exportJWK(await generateSecret('HS256', { extractable: true }));
      server.serve('/jwks', { body: { keys: [keyA, { ...secret, kid: 'hmac', alg: 'HS256', use: 'sig' }] } });
      const set = open();
      expect(await refusal(set.getKey({ alg: 'HS256', kid: 'hmac' }))).toMatchObject({ reason: 'alg_not_allowed' });
      expect(await refusal(set.getKey({ alg: 'ES256', kid: 'hmac' }))).toMatchObject({ reason: 'no_matching_key' });
      expect(set.status().kids).toEqual(['key-a']);
    });

    it('skips keys meant for encryption', async () => {
      expect(await kidsServed([keyA, { ...keyB, use: 'enc' }])).toEqual(['key-a']);
    });

    it('skips keys whose key_ops do not include verify', async () => {
      expect(await kidsServed([keyA, { ...keyB, key_ops: ['encrypt'] }])).toEqual(['key-a']);
    });

    it('skips a key that publishes its private half', async () => {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      expect(await kidsServed([keyA, { ...(await exportJWK(privateKey)), kid: 'leaked', alg: 'ES256' }])).toEqual(['key-a']);
    });

    it('skips an RSA key shorter than 2048 bits', async () => {
      const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
      expect(await kidsServed([keyA, { ...publicKey.export({ format: 'jwk' }), kid: 'short' }])).toEqual(['key-a']);
    });

    it('skips a key whose alg does not fit its type', async () => {
      expect(await kidsServed([keyA, { ...keyB, alg: 'RS256' }, { ...keyB, kid: 'p384', alg: 'ES384' }])).toEqual(['key-a']);
    });

    it('binds a key that names its alg to that alg only', async () => {
      server.serve('/jwks', { body: { keys: [await publicJwk('RS256', { kid: 'rsa', alg: 'RS256' })] } });
      const set = open();
      await expect(set.getKey({ alg: 'RS256', kid: 'rsa' })).resolves.toBeDefined();
      expect(await refusal(set.getKey({ alg: 'PS256', kid: 'rsa' }))).toMatchObject({ reason: 'no_matching_key' });
      expect(await refusal(set.getKey({ alg: 'ES256', kid: 'rsa' }))).toMatchObject({ reason: 'no_matching_key' });
    });

    it('lets a key without alg serve only the algorithms of its type and curve', async () => {
      const rsa = await publicJwk('RS256', { kid: 'rsa' });
      const p256 = await publicJwk('ES256', { kid: 'p256' });
      const ed = await publicJwk('EdDSA', { kid: 'ed' });
      delete rsa.alg;
      delete p256.alg;
      delete ed.alg;
      server.serve('/jwks', { body: { keys: [rsa, p256, ed] } });
      const set = open();
      for (const alg of ['RS256', 'RS512', 'PS256', 'PS384']) await expect(set.getKey({ alg, kid: 'rsa' })).resolves.toBeDefined();
      await expect(set.getKey({ alg: 'ES256', kid: 'p256' })).resolves.toBeDefined();
      await expect(set.getKey({ alg: 'EdDSA', kid: 'ed' })).resolves.toBeDefined();
      for (const [alg, kid] of [['ES256', 'rsa'], ['ES384', 'p256'], ['RS256', 'p256'], ['ES256', 'ed']]) {
        expect(await refusal(set.getKey({ alg, kid }))).toBeInstanceOf(IssuerTokenError);
      }
    });

    it('chooses a key for a token without kid only when exactly one key fits', async () => {
      const rsa = await publicJwk('RS256', { kid: 'rsa', alg: 'RS256' });
      server.serve('/jwks', { body: { keys: [keyA, keyB, rsa] } });
      const set = open();
      expect((await exported(await set.getKey({ alg: 'RS256' }))).n).toBe(rsa.n);
      expect(await refusal(set.getKey({ alg: 'ES256' }))).toMatchObject({ reason: 'no_matching_key' });
    });
  });

  describe('its URL', () => {
    it('refuses plain http off loopback', () => {
      expect(() => new RemoteKeySet('http://issuer.example/jwks')).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    });

    it('accepts plain http off loopback when allowHttp is set', () => {
      expect(new RemoteKeySet('http://keycloak.internal:8080/certs', { allowHttp: true }).url.host).toBe('keycloak.internal:8080');
    });

    it('refuses a URL that carries credentials', () => {
      expect(() => new RemoteKeySet('https://user:pass@issuer.example/jwks')).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    });
  });

  it('fails closed with the HTTP status when the JWKS URL does not exist', async () => {
    const set = open({}, '/missing');
    expect(await refusal(set.getKey({ alg: 'ES256', kid: 'key-a' }))).toMatchObject({ code: 'upstream_failed', reason: 'http_status', httpStatus: 404 });
  });
});
