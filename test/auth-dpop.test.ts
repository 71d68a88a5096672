import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash, createDpopProof } from '../src/auth/dpop/index.js';
import { TestGateway, basicAuth, startEchoUpstream, type LoopbackServer } from './auth-fixtures.js';

type KeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };
const now = () => Math.floor(Date.now() / 1000);

/** RFC 9449 sender-constrained tokens, from the token endpoint to the route. */
describe('DPoP-bound access tokens', () => {
  let upstream: LoopbackServer;
  let gateway: TestGateway;
  let secret: string;
  let clientKey: KeyPair;
  let issued: { access_token: string; token_type: string };

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    gateway = await TestGateway.start();
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [
        { name: 'orders', service: 'orders', paths: ['/orders/*'], auth: { methods: ['gateway-token'] } },
        { name: 'payments', service: 'orders', paths: ['/payments/*'], auth: { methods: ['gateway-token'], dpop: 'required' } },
      ],
    });
    await gateway.createApp({ name: 'checkout', team: 'shop', scopes: ['orders:read'], subscribe: ['orders'] });
    secret = await gateway.createClientSecret('checkout');
    clientKey = await generateKeyPair('ES256');
    const proof = await createDpopProof({ keyPair: clientKey, method: 'POST', url: `${gateway.proxyUrl}/oauth/token`, iat: now() });
    const answer = await gateway.oauth<typeof issued>('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basicAuth('checkout', secret), dpop: proof });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    issued = answer.body;
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  /** A fresh proof for GET `path` on the proxy, bound to the issued token by `ath`. */
  const proofFor = (path: string, keyPair: KeyPair = clientKey) =>
    createDpopProof({ keyPair, method: 'GET', url: `${gateway.proxyUrl}${path}`, iat: now(), ath: accessTokenHash(issued.access_token) });
  const dpopScheme = () => ({ authorization: `DPoP ${issued.access_token}` });

  it('binds a token issued with a DPoP proof to the proof key: cnf.jkt and token_type DPoP', async () => {
    expect(issued.token_type).toBe('DPoP');
    const thumbprint = await calculateJwkThumbprint(await exportJWK(clientKey.publicKey), 'sha256');
    expect(decodeJwt(issued.access_token).cnf).toEqual({ jkt: thumbprint });
  });

  it('accepts the token with the DPoP scheme and a fresh proof for the request', async () => {
    const accepted = await gateway.call('/orders/today', { ...dpopScheme(), dpop: await proofFor('/orders/today') });
    expect(accepted.status).toBe(200);
    expect(accepted.body.headers.dpop).toBeUndefined();
  });

  it('refuses the token without a proof', async () => {
    const refused = await gateway.call('/orders/today', dpopScheme());
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'invalid_dpop_proof' } });
    expect(refused.headers.get('www-authenticate')).toMatch(/^DPoP /);
  });

  it('refuses the token with a proof signed by another key', async () => {
    const refused = await gateway.call('/orders/today', { ...dpopScheme(), dpop: await proofFor('/orders/today', await generateKeyPair('ES256')) });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'invalid_dpop_proof' } });
  });

  it('refuses a proof presented a second time', async () => {
    const proof = await proofFor('/orders/today');
    expect((await gateway.call('/orders/today', { ...dpopScheme(), dpop: proof })).status).toBe(200);
    const replayed = await gateway.call('/orders/today', { ...dpopScheme(), dpop: proof });
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatchObject({ error: { code: 'invalid_dpop_proof' } });
  });

  it('refuses a proof made for another URL', async () => {
    const refused = await gateway.call('/orders/today', { ...dpopScheme(), dpop: await proofFor('/orders/yesterday') });
    expect(refused.status).toBe(401);
  });

  it('refuses the DPoP-bound token sent as a Bearer token, even with a proof', async () => {
    const refused = await gateway.call('/orders/today', { authorization: `Bearer ${issued.access_token}`, dpop: await proofFor('/orders/today') });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'invalid_token' } });
  });

  it('refuses plain bearer tokens on a route that requires DPoP, with a DPoP challenge', async () => {
    const plain = await gateway.accessToken('checkout', secret);
    const refused = await gateway.call('/payments/charge', { authorization: `Bearer ${plain}` });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: { code: 'invalid_token' } });
    expect(refused.headers.get('www-authenticate')).toMatch(/^DPoP realm="keygate"/);
  });

  it('names in a DPoP challenge the algorithms a proof may be signed with, as the metadata does (RFC 9449 §7.1)', async () => {
    const { dpop_signing_alg_values_supported: algs } = (await gateway.call<{ dpop_signing_alg_values_supported: string[] }>('/.well-known/oauth-authorization-server')).body;
    expect(algs).toContain('ES256');
    const withoutCredentials = await gateway.call('/payments/charge');
    expect(withoutCredentials.headers.get('www-authenticate')).toBe(`DPoP realm="keygate", algs="${algs.join(' ')}"`);
    const plain = await gateway.call('/payments/charge', { authorization: `Bearer ${await gateway.accessToken('checkout', secret)}` });
    expect(plain.headers.get('www-authenticate')).toMatch(new RegExp(`, algs="${algs.join(' ')}"$`));
  });

  it('accepts the DPoP-bound token with its proof on a route that requires DPoP', async () => {
    expect((await gateway.call('/payments/charge', { ...dpopScheme(), dpop: await proofFor('/payments/charge') })).status).toBe(200);
  });

  it("checks a proof's htu against the path as the client sent it, which routing merges", async () => {
    // Routing takes /payments//charge for /payments/charge; the client signed the path with both slashes.
    expect((await gateway.call('/payments//charge', { ...dpopScheme(), dpop: await proofFor('/payments//charge') })).status).toBe(200);
  });
});
