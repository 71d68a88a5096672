import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenHash, createDpopProof } from '../src/auth/dpop/index.js';
import { TestGateway, basicAuth, startEchoUpstream, type LoopbackServer } from './auth-fixtures.js';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from './databases.js';

/** Both nodes name themselves so: a proof's `htu` and an assertion's `aud` are the same whichever node gets them. */
const ISSUER = 'http://keygate.test';
const now = () => Math.floor(Date.now() / 1000);
type KeyPair = { privateKey: CryptoKey; publicKey: CryptoKey };

/**
 * Two gateway nodes (or two worker processes: the same thing to the store) behind one name, sharing one store.
 * A DPoP proof or a client assertion used at one of them must be refused at the other.
 */
describe.each(STORE_KINDS)('one-time values across two nodes sharing a %s store', (kind) => {
  let upstream: LoopbackServer;
  let database: TestDatabase | undefined;
  let a: TestGateway;
  let b: TestGateway;
  let proofKey: KeyPair;
  let assertionKey: CryptoKey;
  let token: string;

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    database = kind === 'postgres' ? await createTestDatabase('postgres') : undefined;
    const env: Record<string, string> = { KEYGATE_ISSUER: ISSUER, ...(database ? { KEYGATE_DATABASE_URL: database.url } : {}) };
    a = await TestGateway.start(env);
    await a.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'orders', service: 'orders', paths: ['/orders/*'], auth: { methods: ['gateway-token'] } }],
    });
    const signer = await generateKeyPair('ES256');
    assertionKey = signer.privateKey;
    const jwk = { ...(await exportJWK(signer.publicKey)), kid: 'batch-1', alg: 'ES256' };
    await a.createApp({ name: 'batch', team: 'ops', scopes: ['orders:read'], jwks: { keys: [jwk] }, subscribe: ['orders'] });
    const secret = await a.createClientSecret('batch');
    proofKey = await generateKeyPair('ES256');
    const issued = await a.oauth<{ access_token: string }>('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basicAuth('batch', secret), dpop: await tokenProof() });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    token = issued.body.access_token;
    // The second node starts on the same data directory (master key) and store, so it serves the same config.
    b = await TestGateway.start({ ...env, KEYGATE_DATA_DIR: a.dataDir });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await database?.drop();
    await upstream?.stop();
  });

  const tokenProof = () => createDpopProof({ keyPair: proofKey, method: 'POST', url: `${ISSUER}/oauth/token`, iat: now() });

  /** GET /orders/today on `node` with the DPoP-bound token and `proof`, under the shared name. */
  async function callOrders(node: TestGateway, proof: string): Promise<{ status: number; code: string | undefined }> {
    const { statusCode, body } = await request(`${node.proxyUrl}/orders/today`, { headers: { host: 'keygate.test', authorization: `DPoP ${token}`, dpop: proof } });
    const parsed = (await body.json()) as { error?: { code?: string } };
    return { status: statusCode, code: parsed.error?.code };
  }

  const routeProof = () => createDpopProof({ keyPair: proofKey, method: 'GET', url: `${ISSUER}/orders/today`, iat: now(), ath: accessTokenHash(token) });

  it('refuses at one node a DPoP proof the other node accepted, both ways', async () => {
    const first = await routeProof();
    expect(await callOrders(a, first)).toEqual({ status: 200, code: undefined });
    expect(await callOrders(b, first)).toEqual({ status: 401, code: 'invalid_dpop_proof' });
    const second = await routeProof();
    expect(await callOrders(b, second)).toEqual({ status: 200, code: undefined });
    expect(await callOrders(a, second)).toEqual({ status: 401, code: 'invalid_dpop_proof' });
  });

  it('refuses at one node a token-endpoint DPoP proof the other node accepted', async () => {
    const proof = await tokenProof();
    const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' };
    expect((await a.oauth('/oauth/token', { ...form, client_assertion: await assertion() }, { dpop: proof })).status).toBe(200);
    const replayed = await b.oauth('/oauth/token', { ...form, client_assertion: await assertion() }, { dpop: proof });
    expect(replayed.status).toBe(400);
    expect(replayed.body).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('refuses at one node a client assertion the other node accepted', async () => {
    const used = await assertion();
    const form = { grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: used };
    expect((await b.oauth('/oauth/token', form)).status).toBe(200);
    const replayed = await a.oauth('/oauth/token', form);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatchObject({ error: 'invalid_client' });
  });

  /** A private_key_jwt client assertion (RFC 7523 §3) of app "batch", with a fresh jti. */
  function assertion(): Promise<string> {
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'batch-1' })
      .setIssuer('batch')
      .setSubject('batch')
      .setAudience(`${ISSUER}/oauth/token`)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(assertionKey);
  }
});
