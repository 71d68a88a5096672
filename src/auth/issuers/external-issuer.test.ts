import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, importPKCS8, type CryptoKey, type JWK, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { KeygateError } from '../../errors.js';
import { ExternalIssuer, type ExternalIssuerConfig } from './external-issuer.js';
import { IssuerTokenError, IssuerUnavailableError } from './issuer-errors.js';
import { IssuerTestServer } from '../../../test/issuer-server.js';
import type { RemoteKeySetOptions } from './remote-key-set.js';

const AUDIENCE = 'https://orders.api.test';
const DISCOVERY = '/.well-known/openid-configuration';
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(alg: 'ES256' | 'RS256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

async function refusal(work: Promise<unknown>): Promise<KeygateError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeygateError);
  return error as KeygateError;
}

describe('ExternalIssuer', () => {
  let server: IssuerTestServer;
  let attacker: IssuerTestServer;
  let clock: ManualClock;
  let es: SigningKey;
  let rs: SigningKey;
  let evil: SigningKey;
  const issuers: ExternalIssuer[] = [];

  beforeAll(async () => {
    es = await signingKey('ES256', 'es-1');
    rs = await signingKey('RS256', 'rs-1');
    evil = await signingKey('ES256', 'es-1');
  });
  beforeEach(async () => {
    server = await IssuerTestServer.start();
    attacker = await IssuerTestServer.start();
    server.serve(DISCOVERY, { body: { issuer: server.url, jwks_uri: `${server.url}/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] } });
    server.serve('/jwks', { body: { keys: [es.jwk, rs.jwk] } });
    attacker.serve('/jwks', { body: { keys: [evil.jwk] } });
    clock = new ManualClock();
  });
  afterEach(async () => {
    issuers.length = 0;
    await server.close();
    await attacker.close();
  });

  const issuerFor = (config: Partial<ExternalIssuerConfig> = {}, options: RemoteKeySetOptions = {}): ExternalIssuer => {
    const issuer = new ExternalIssuer({ name: 'test-idp', issuer: server.url, audiences: [AUDIENCE], algorithms: ['RS256', 'ES256'], ...config }, { clock, timeoutMs: 300, ...options });
    issuers.push(issuer);
    return issuer;
  };
  const nowSeconds = () => Math.floor(clock.now() / 1000);
  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    iss: server.url,
    aud: AUDIENCE,
    sub: 'user-1',
    client_id: 'app-1',
    scope: 'orders:read orders:write',
    iat: nowSeconds(),
    exp: nowSeconds() + 300,
    ...extra,
  });
  const mint = (payload: JWTPayload = claims(), header: JWTHeaderParameters = { alg: 'ES256', kid: 'es-1' }, key: CryptoKey | Uint8Array = es.privateKey) =>
    new SignJWT(payload).setProtectedHeader(header).sign(key);
  const refused = async (work: Promise<unknown>, reason: string) => {
    const error = await refusal(work);
    expect(error).toBeInstanceOf(IssuerTokenError);
    expect(error).toMatchObject({ code: 'token_invalid', status: 400, reason });
    return error as IssuerTokenError;
  };

  describe('accepts', () => {
    it('a token signed by the issuer, found by discovery from the issuer URL alone', async () => {
      const verified = await issuerFor().verify(await mint());
      expect(verified).toEqual({ payload: expect.objectContaining({ sub: 'user-1' }), subject: 'user-1', scopes: ['orders:read', 'orders:write'], clientId: 'app-1' });
      expect(server.hits(DISCOVERY)).toBe(1);
    });

    it('an RS256 token and an ES256 token from the same issuer', async () => {
      const issuer = issuerFor();
      await expect(issuer.verify(await mint(claims(), { alg: 'RS256', kid: 'rs-1' }, rs.privateKey))).resolves.toMatchObject({ subject: 'user-1' });
      await expect(issuer.verify(await mint())).resolves.toMatchObject({ subject: 'user-1' });
      expect(server.hits('/jwks')).toBe(1);
    });

    it('a token whose aud array holds one of the configured audiences', async () => {
      await expect(issuerFor().verify(await mint(claims({ aud: ['https://other.test', AUDIENCE] })))).resolves.toMatchObject({ subject: 'user-1' });
    });

    it('a token from a configured jwksUri without asking for discovery', async () => {
      const issuer = issuerFor({ issuer: undefined, jwksUri: `${server.url}/jwks` });
      await expect(issuer.verify(await mint())).resolves.toMatchObject({ subject: 'user-1' });
      expect(server.hits(DISCOVERY)).toBe(0);
    });

    it('a token expired by less than the configured clock tolerance', async () => {
      const token = await mint(claims({ exp: nowSeconds() - 20 }));
      await expect(issuerFor({ clockToleranceSeconds: 30 }).verify(token)).resolves.toMatchObject({ subject: 'user-1' });
    });
  });

  describe('reads claims', () => {
    it('takes scopes from an scp array when there is no scope claim', async () => {
      const { scopes } = await issuerFor().verify(await mint(claims({ scope: undefined, scp: ['orders:read', 'admin'] })));
      expect(scopes).toEqual(['orders:read', 'admin']);
    });

    it('takes scopes from an scp string when there is no scope claim', async () => {
      const { scopes } = await issuerFor().verify(await mint(claims({ scope: undefined, scp: 'a b' })));
      expect(scopes).toEqual(['a', 'b']);
    });

    it('follows claim mappings into nested claims', async () => {
      const issuer = issuerFor({ claimMappings: { subject: 'preferred_username', scope: 'realm_access.roles', clientId: 'cid' } });
      const verified = await issuer.verify(await mint(claims({ preferred_username: 'alice', realm_access: { roles: ['orders-admin'] }, cid: 'okta-app' })));
      expect(verified).toMatchObject({ subject: 'alice', scopes: ['orders-admin'], clientId: 'okta-app' });
    });

    it('finds a mapped claim whose own name holds dots', async () => {
      const issuer = issuerFor({ claimMappings: { scope: 'https://example.com/roles' } });
      const { scopes } = await issuer.verify(await mint(claims({ 'https://example.com/roles': ['reader'] })));
      expect(scopes).toEqual(['reader']);
    });

    it('falls back to azp for the client id', async () => {
      const { clientId } = await issuerFor().verify(await mint(claims({ client_id: undefined, azp: 'spa-1' })));
      expect(clientId).toBe('spa-1');
    });

    it('refuses a token without a subject', async () => {
      await refused(issuerFor().verify(await mint(claims({ sub: undefined }))), 'missing_claim');
    });
  });

  describe('refuses', () => {
    it('an unsecured token (alg "none")', async () => {
      const token = `${b64({ alg: 'none', kid: 'es-1', typ: 'JWT' })}.${b64(claims())}.`;
      await refused(issuerFor().verify(token), 'alg_not_allowed');
    });

    it('an HS256 token whose secret is the issuer\'s RSA public key as PEM (RS256 to HS256 confusion)', async () => {
      const pem = await exportSPKI(rs.publicKey);
      const token = await mint(claims(), { alg: 'HS256', kid: 'rs-1' }, new TextEncoder().encode(pem));
      await refused(issuerFor().verify(token), 'alg_not_allowed');
    });

    it('an HS256 token whose secret is the issuer\'s RSA modulus or its JWK', async () => {
      for (const secret of [Buffer.from(rs.jwk.n!, 'base64url'), new TextEncoder().encode(rs.jwk.n!), new TextEncoder().encode(JSON.stringify(rs.jwk))]) {
        await refused(issuerFor().verify(await mint(claims(), { alg: 'HS256', kid: 'rs-1' }, secret)), 'alg_not_allowed');
      }
    });

    it('a token signed with the key in its own "jwk" header', async () => {
      const issuer = issuerFor();
      for (const kid of ['es-1', undefined]) {
        const token = await mint(claims(), { alg: 'ES256', jwk: evil.jwk, ...(kid ? { kid } : {}) }, evil.privateKey);
        await refused(issuer.verify(token), 'signature_invalid');
      }
    });

    it('a token that points "jku" or "x5u" at an attacker\'s key set, without fetching it', async () => {
      const issuer = issuerFor();
      for (const header of [{ jku: `${attacker.url}/jwks` }, { x5u: `${attacker.url}/cert.pem` }]) {
        await refused(issuer.verify(await mint(claims(), { alg: 'ES256', kid: 'es-1', ...header }, evil.privateKey)), 'signature_invalid');
        await refused(issuer.verify(await mint(claims(), { alg: 'ES256', kid: 'evil-kid', ...header }, evil.privateKey)), 'no_matching_key');
      }
      expect(attacker.hits('/jwks') + attacker.hits('/cert.pem')).toBe(0);
    });

    it('a token signed by the key of the certificate in its own "x5c" header', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'keygate-x5c-'));
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=attacker',
          '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
        const key = await importPKCS8(readFileSync(join(dir, 'key.pem'), 'utf8'), 'ES256');
        const certificate = readFileSync(join(dir, 'cert.pem'), 'utf8').replace(/-----[A-Z ]+-----|\s/g, '');
        const issuer = issuerFor();
        for (const kid of ['es-1', undefined]) {
          const token = await mint(claims(), { alg: 'ES256', x5c: [certificate], ...(kid ? { kid } : {}) }, key);
          await refused(issuer.verify(token), 'signature_invalid');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it.each([
      ['a path', '../../etc/passwd'],
      ['SQL', "' OR 1=1 --"],
      ['a real kid with a NUL byte', 'es-1\u0000'],
      ['an encoded path', '%2e%2e%2fjwks'],
      ['2000 characters', 'x'.repeat(2000)],
    ])('a token whose kid is crafted as %s: it just matches no key', async (_, kid) => {
      const issuer = issuerFor();
      await refused(issuer.verify(await mint(claims(), { alg: 'ES256', kid }, evil.privateKey)), 'no_matching_key');
      // The first fetch, and at most one refetch for the unknown kid.
      expect(server.hits('/jwks')).toBeLessThanOrEqual(2);
    });

    it('an expired token', async () => {
      await refused(issuerFor().verify(await mint(claims({ exp: nowSeconds() - 1 }))), 'expired');
    });

    it('a token that is not yet valid (nbf)', async () => {
      await refused(issuerFor().verify(await mint(claims({ nbf: nowSeconds() + 60 }))), 'not_yet_valid');
    });

    it('a token from another issuer', async () => {
      await refused(issuerFor().verify(await mint(claims({ iss: 'https://evil.test' }))), 'wrong_issuer');
    });

    it('a token for another audience', async () => {
      await refused(issuerFor().verify(await mint(claims({ aud: 'https://billing.api.test' }))), 'wrong_audience');
    });

    it('a token without exp', async () => {
      const error = await refused(issuerFor().verify(await mint(claims({ exp: undefined }))), 'missing_claim');
      expect(error.claim).toBe('exp');
    });

    it('a token of another JOSE type when typ is configured', async () => {
      await refused(issuerFor({ typ: 'at+jwt' }).verify(await mint(claims(), { alg: 'ES256', kid: 'es-1', typ: 'JWT' })), 'wrong_type');
    });

    it('a token larger than 8 KiB, before parsing it or fetching keys', async () => {
      const issuer = issuerFor();
      await refused(issuer.verify(await mint(claims({ pad: 'x'.repeat(8192) }))), 'too_large');
      await refused(issuer.verify('!'.repeat(8193)), 'too_large');
      expect(server.hits(DISCOVERY) + server.hits('/jwks')).toBe(0);
    });

    it('a token larger than a configured maxTokenBytes', async () => {
      const token = await mint();
      await refused(issuerFor({ maxTokenBytes: token.length - 1 }).verify(token), 'too_large');
    });

    it('a token with a "crit" header extension it does not understand', async () => {
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'ES256', kid: 'es-1', crit: ['urn:example:policy'], 'urn:example:policy': 'strict' })
        .sign(es.privateKey, { crit: { 'urn:example:policy': true } });
      await refused(issuerFor().verify(token), 'crit_unsupported');
    });

    it('a token whose claims were altered after signing', async () => {
      const [header, , signature] = (await mint()).split('.');
      await refused(issuerFor().verify(`${header}.${b64(claims({ sub: 'admin' }))}.${signature}`), 'signature_invalid');
    });

    it('a malformed token', async () => {
      const issuer = issuerFor();
      for (const token of ['', 'abc', 'a.b.c', `${b64('a string')}.${b64(claims())}.sig`, `${b64({ alg: 'ES256', kid: 'es-1' })}.${b64(claims())}`]) {
        await refused(issuer.verify(token), 'malformed');
      }
    });

    it('with a message that neither echoes the token nor says which check failed', async () => {
      const token = await mint(claims({ aud: 'https://billing.api.test' }));
      const error = await refused(issuerFor().verify(token), 'wrong_audience');
      const shown = JSON.stringify(error.toJSON());
      for (const part of token.split('.')) expect(shown).not.toContain(part);
      expect(shown).not.toContain('aud');
      expect(shown).not.toContain('billing');
    });
  });

  describe('when the JWKS endpoint misbehaves', () => {
    const breakages: Array<[string, (s: IssuerTestServer) => Promise<void> | void]> = [
      ['is slower than the fetch timeout', (s) => s.serve('/jwks', { hold: true })],
      ['is down', (s) => s.stop()],
      ['returns garbage', (s) => s.serve('/jwks', { body: 'garbage{' })],
    ];

    it.each(breakages)('fails closed when it %s and no keys were loaded', async (_, breakServer) => {
      const issuer = issuerFor({ issuer: undefined, jwksUri: `${server.url}/jwks` });
      await breakServer(server);
      const error = await refusal(issuer.verify(await mint()));
      expect(error).toBeInstanceOf(IssuerUnavailableError);
      expect(error).toMatchObject({ code: 'upstream_failed', status: 502 });
    });

    it.each(breakages)('keeps verifying with the last good keys when it %s', async (_, breakServer) => {
      const issuer = issuerFor();
      await issuer.verify(await mint());
      await breakServer(server);
      clock.advance(60 * 60_000);
      await expect(issuer.verify(await mint())).resolves.toMatchObject({ subject: 'user-1' });
      await expect(issuer.verify(await mint())).resolves.toMatchObject({ subject: 'user-1' });
    });

    it('causes no request storm: concurrent tokens with unknown kids fetch at most once per cooldown', async () => {
      const issuer = issuerFor({}, { cooldownMs: 30_000 });
      await issuer.verify(await mint());
      const storm = async () => {
        const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => mint(claims(), { alg: 'ES256', kid: `storm-${i}-${clock.now()}` }, evil.privateKey)));
        const errors = await Promise.all(tokens.map((token) => refusal(issuer.verify(token))));
        for (const error of errors) expect(error).toMatchObject({ reason: 'no_matching_key' });
      };

      clock.advance(30_000);
      await storm();
      expect(server.hits('/jwks')).toBe(2);
      clock.advance(10_000);
      await storm();
      expect(server.hits('/jwks')).toBe(2);
      clock.advance(20_000);
      await storm();
      expect(server.hits('/jwks')).toBe(3);
      expect(server.hits(DISCOVERY)).toBe(1);
    });
  });

  describe('discovery', () => {
    it('fails closed when the discovery document names another issuer', async () => {
      server.serve(DISCOVERY, { body: { issuer: 'https://evil.test', jwks_uri: `${attacker.url}/jwks` } });
      const error = await refusal(issuerFor().verify(await mint()));
      expect(error).toMatchObject({ code: 'upstream_failed', reason: 'issuer_mismatch' });
      expect(attacker.hits('/jwks')).toBe(0);
    });

    it('retries a failed discovery only after the cooldown', async () => {
      server.serve(DISCOVERY, { status: 503 });
      const issuer = issuerFor();
      await refusal(issuer.verify(await mint()));
      await refusal(issuer.verify(await mint()));
      const rfc8414 = '/.well-known/oauth-authorization-server';
      expect([server.hits(DISCOVERY), server.hits(rfc8414)]).toEqual([1, 1]);

      server.serve(DISCOVERY, { body: { issuer: server.url, jwks_uri: `${server.url}/jwks` } });
      clock.advance(30_000);
      await expect(issuer.verify(await mint())).resolves.toMatchObject({ subject: 'user-1' });
      expect(server.hits(DISCOVERY)).toBe(2);
    });
  });

  describe('its configuration', () => {
    const invalid = (config: Partial<ExternalIssuerConfig>) => {
      expect(() => issuerFor(config)).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    };

    it.each(['HS256', 'HS512', 'none', 'RSA-OAEP', 'dir'])('refuses %s in the algorithm allowlist', (alg) => invalid({ algorithms: ['RS256', alg] }));
    it('refuses an empty algorithm allowlist', () => invalid({ algorithms: [] }));
    it('refuses an empty audience list', () => invalid({ audiences: [] }));
    it('refuses neither issuer nor jwksUri', () => invalid({ issuer: undefined }));
    it('refuses a plain-http issuer off loopback', () => invalid({ issuer: 'http://sso.example.com/realms/main' }));
    it('refuses a clock tolerance beyond 300 seconds', () => invalid({ clockToleranceSeconds: 3600 }));
  });
});
