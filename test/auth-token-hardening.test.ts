import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, importPKCS8, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalIssuer, TestGateway, closedPort, expectRefused, startEchoUpstream, type LoopbackServer } from './auth-fixtures.js';

const AUDIENCE = 'orders';

/**
 * RFC 8725's verifier checks, proven at the route: a token from an outside issuer configured by `jwksUri` is
 * refused for each known attack with the same 401 `invalid_token` and a body that names no reason.
 */
describe('outside issuer tokens at the route: the verifier hardening list', () => {
  let upstream: LoopbackServer;
  let issuer: LocalIssuer;
  let gateway: TestGateway;

  beforeAll(async () => {
    [upstream, issuer] = await Promise.all([startEchoUpstream(), LocalIssuer.start()]);
    gateway = await TestGateway.start();
    const issuerConfig = { audiences: [AUDIENCE], algorithms: ['RS256', 'ES256'] };
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [
        { name: 'by-jwks-uri', service: 'orders', paths: ['/orders/*'], auth: { methods: ['issuer:local'] } },
        { name: 'by-discovery', service: 'orders', paths: ['/discovered/*'], auth: { methods: ['issuer:discovered'] } },
        { name: 'issuer-down', service: 'orders', paths: ['/down/*'], auth: { methods: ['issuer:down'] } },
      ],
      issuers: [
        { name: 'local', jwksUri: `${issuer.url}/jwks`, ...issuerConfig },
        { name: 'discovered', issuer: issuer.url, ...issuerConfig },
        { name: 'down', jwksUri: `http://127.0.0.1:${await closedPort()}/jwks`, ...issuerConfig },
      ],
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await issuer?.close();
    await upstream?.stop();
  });

  const callWith = (token: string, path = '/orders/list') => gateway.call(path, { authorization: `Bearer ${token}` });

  it('accepts a token signed by the issuer key for the configured audience', async () => {
    const accepted = await callWith(await issuer.sign({ aud: AUDIENCE }));
    expect(accepted.status).toBe(200);
  });

  it('refuses a token with "alg": "none"', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = new UnsecuredJWT({ iss: issuer.url, sub: 'user-1', aud: AUDIENCE, exp: now + 3600 }).encode();
    expectRefused(await callWith(unsigned));
  });

  it('refuses an HS256 token whose HMAC secret is the issuer public key (algorithm confusion)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const secret = new TextEncoder().encode(await exportSPKI(issuer.publicKey));
    const confused = await new SignJWT({ iss: issuer.url, sub: 'user-1', aud: AUDIENCE, exp: now + 3600 }).setProtectedHeader({ alg: 'HS256', kid: issuer.kid }).sign(secret);
    expectRefused(await callWith(confused));
  });

  describe('keys the token carries itself', () => {
    /** The attacker's own key, whose self-signed certificate goes in x5c. */
    let attackerKey: CryptoKey;
    let certificate: string;

    beforeAll(async () => {
      // A real self-signed certificate for the attacker's own key, for the x5c header.
      const dir = mkdtempSync(join(tmpdir(), 'keygate-x5c-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=attacker.test'], { stdio: 'ignore' });
      const pem = readFileSync(join(dir, 'key.pem'), 'utf8');
      attackerKey = await importPKCS8(pem, 'RS256');
      certificate = readFileSync(join(dir, 'cert.pem'), 'utf8').replace(/-----[A-Z ]+-----|\s/g, '');
      rmSync(dir, { recursive: true, force: true });
      issuer.serve('/attacker-jwks', { keys: [{ ...(await exportJWK(createPublicKey(pem))), kid: issuer.kid, alg: 'RS256' }] });
    });

    it('refuses a token signed by the key in its own "jwk" header', async () => {
      const own = await generateKeyPair('RS256', { extractable: true });
      const token = await issuer.sign({ aud: AUDIENCE }, { jwk: await exportJWK(own.publicKey) }, own.privateKey);
      expectRefused(await callWith(token));
    });

    it('refuses a token whose "jku" header points at another key set, and never fetches it', async () => {
      const token = await issuer.sign({ aud: AUDIENCE }, { jku: `${issuer.url}/attacker-jwks` }, attackerKey);
      expectRefused(await callWith(token));
      expect(issuer.server.hits('/attacker-jwks')).toBe(0);
    });

    it('refuses a token whose "x5u" header points at another certificate, and never fetches it', async () => {
      const token = await issuer.sign({ aud: AUDIENCE }, { x5u: `${issuer.url}/attacker.pem` }, attackerKey);
      expectRefused(await callWith(token));
      expect(issuer.server.hits('/attacker.pem')).toBe(0);
    });

    it('refuses a token signed by the key of the certificate in its own "x5c" header', async () => {
      const token = await issuer.sign({ aud: AUDIENCE }, { x5c: [certificate] }, attackerKey);
      expectRefused(await callWith(token));
    });
  });

  it('refuses a token whose "kid" is crafted as a path', async () => {
    expectRefused(await callWith(await issuer.sign({ aud: AUDIENCE }, { kid: `../../../../${issuer.kid}` })));
  });

  it('refuses a token whose "kid" is crafted as SQL', async () => {
    expectRefused(await callWith(await issuer.sign({ aud: AUDIENCE }, { kid: `${issuer.kid}' OR '1'='1` })));
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectRefused(await callWith(await issuer.sign({ aud: AUDIENCE, iat: now - 7200, exp: now - 3600 })));
  });

  it('refuses a token that is not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectRefused(await callWith(await issuer.sign({ aud: AUDIENCE, nbf: now + 3600 })));
  });

  it('refuses a token from another issuer on a route whose issuer is configured by discovery', async () => {
    expect((await callWith(await issuer.sign({ aud: AUDIENCE }), '/discovered/list')).status).toBe(200);
    expectRefused(await callWith(await issuer.sign({ aud: AUDIENCE, iss: 'https://other-issuer.test' }), '/discovered/list'));
  });

  it('refuses a token for another audience', async () => {
    expectRefused(await callWith(await issuer.sign({ aud: 'billing' })));
  });

  it('refuses a token without "exp"', async () => {
    expectRefused(await callWith(await issuer.sign({ aud: AUDIENCE, exp: undefined })));
  });

  it('refuses a well-signed token larger than the size limit before parsing it', async () => {
    const token = await issuer.sign({ aud: AUDIENCE, padding: 'x'.repeat(9000) });
    expect(token.length).toBeGreaterThan(8192);
    expectRefused(await callWith(token));
  });

  it('refuses a token with a "crit" header extension the gateway does not understand', async () => {
    expectRefused(await callWith(await issuer.sign({ aud: AUDIENCE }, { crit: ['urn:example:must-understand'], 'urn:example:must-understand': true })));
  });

  it('fails closed when the issuer key set cannot be fetched', async () => {
    expectRefused(await callWith(await issuer.sign({ aud: AUDIENCE }), '/down/list'));
  });
});
