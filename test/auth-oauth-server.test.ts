import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { TestGateway, basicAuth, expectRefused, startEchoUpstream, type EchoedRequest, type LoopbackServer } from './auth-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

/** The gateway's own authorization server on the proxy port: token endpoint, introspection, revocation. */
describe('the gateway token endpoint (client_credentials)', () => {
  let upstream: LoopbackServer;
  let gateway: TestGateway;
  let secret: string;
  let assertionKey: CryptoKey;

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    // No poll of the store version within these tests: a revocation commits a version, and a poll that fell between
    // a revoke and the check that it compiled nothing would compile it (as it should, to read what other nodes did).
    gateway = await TestGateway.start({ KEYGATE_SYNC_INTERVAL: '1h' });
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'orders', service: 'orders', paths: ['/orders/*'], auth: { methods: ['gateway-token'] } }],
    });
    await gateway.createApp({ name: 'reporting', team: 'analytics', scopes: ['orders:read', 'orders:export'], subscribe: ['orders'] });
    secret = await gateway.createClientSecret('reporting');

    const keyPair = await generateKeyPair('ES256');
    assertionKey = keyPair.privateKey;
    const jwk = { ...(await exportJWK(keyPair.publicKey)), kid: 'batch-2026', alg: 'ES256' };
    await gateway.createApp({ name: 'batch', team: 'analytics', scopes: ['orders:read'], jwks: { keys: [jwk] }, subscribe: ['orders'] });
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  /** A private_key_jwt client assertion (RFC 7523 §3) of app "batch" for the token endpoint. */
  async function clientAssertion(jti = randomUUID()): Promise<string> {
    return new SignJWT({ jti })
      .setProtectedHeader({ alg: 'ES256', kid: 'batch-2026' })
      .setIssuer('batch')
      .setSubject('batch')
      .setAudience(`${gateway.proxyUrl}/oauth/token`)
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(assertionKey);
  }

  const tokenWithBasic = (scope = 'orders:read') => gateway.oauth<TokenResponse>('/oauth/token', { grant_type: 'client_credentials', scope }, { authorization: basicAuth('reporting', secret) });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('publishes its metadata with the proxy URL as issuer, naming the token endpoint and the JWKS', async () => {
    const metadata = await gateway.call('/.well-known/oauth-authorization-server');
    expect(metadata.status).toBe(200);
    expect(metadata.body).toMatchObject({
      issuer: gateway.proxyUrl,
      token_endpoint: `${gateway.proxyUrl}/oauth/token`,
      jwks_uri: `${gateway.proxyUrl}/.well-known/jwks.json`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    });
  });

  it('issues a bearer token to a client authenticated with client_secret_basic', async () => {
    const issued = await tokenWithBasic();
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', scope: 'orders:read', expires_in: expect.any(Number) });
    expect(issued.headers.get('cache-control')).toBe('no-store');
  });

  it('issues a token to a client authenticated with client_secret_post', async () => {
    const issued = await gateway.oauth<TokenResponse>('/oauth/token', { grant_type: 'client_credentials', client_id: 'reporting', client_secret: secret });
    expect(issued.status).toBe(200);
    expect(issued.body.scope).toBe('orders:read orders:export');
  });

  it('issues a token to a client authenticated with private_key_jwt signed by a key of its registered JWKS', async () => {
    const issued = await gateway.oauth<TokenResponse>('/oauth/token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await clientAssertion() });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body.token_type).toBe('Bearer');
  });

  it('refuses a client assertion used a second time with 401 invalid_client', async () => {
    const assertion = await clientAssertion();
    const form = { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion };
    expect((await gateway.oauth('/oauth/token', form)).status).toBe(200);
    const replayed = await gateway.oauth('/oauth/token', form);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses a wrong client secret with 401 invalid_client and a Basic challenge', async () => {
    const refused = await gateway.oauth('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basicAuth('reporting', `${secret}x`) });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="keygate"');
  });

  it('gives the Basic challenge to a client that wrote the scheme in lower case, as schemes are case-insensitive', async () => {
    const lower = basicAuth('reporting', `${secret}x`).replace(/^Basic/, 'basic');
    const refused = await gateway.oauth('/oauth/token', { grant_type: 'client_credentials' }, { authorization: lower });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="keygate"');
  });

  it('refuses a client_id in the form that names another client than the Basic credentials with 400 invalid_request', async () => {
    const refused = await gateway.oauth('/oauth/token', { grant_type: 'client_credentials', client_id: 'batch' }, { authorization: basicAuth('reporting', secret) });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_request' });
    expect((await gateway.oauth('/oauth/token', { grant_type: 'client_credentials', client_id: 'reporting' }, { authorization: basicAuth('reporting', secret) })).status).toBe(200);
    // Authentication comes first: a wrong secret is 401 invalid_client, whatever the client_id says.
    expect((await gateway.oauth('/oauth/token', { grant_type: 'client_credentials', client_id: 'batch' }, { authorization: basicAuth('reporting', `${secret}x`) })).status).toBe(401);
  });

  it('refuses a request without grant_type with 400 invalid_request, a missing parameter', async () => {
    const refused = await gateway.oauth('/oauth/token', {}, { authorization: basicAuth('reporting', secret) });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_request' });
  });

  it('grants a scope named twice once, and all of the app\'s scopes for an empty scope as for none', async () => {
    expect((await tokenWithBasic('orders:read orders:read')).body.scope).toBe('orders:read');
    expect((await tokenWithBasic('')).body.scope).toBe('orders:read orders:export');
  });

  it('refuses a scope the app may not be granted with 400 invalid_scope', async () => {
    const refused = await tokenWithBasic('orders:read orders:delete');
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ error: 'invalid_scope' });
  });

  it('issues an RFC 9068 at+jwt access token that verifies against the gateway JWKS', async () => {
    const token = (await tokenWithBasic()).body.access_token;
    const jwks = (await gateway.call<JSONWebKeySet>('/.well-known/jwks.json')).body;
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: gateway.proxyUrl, audience: 'keygate', typ: 'at+jwt' });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ iss: gateway.proxyUrl, sub: 'reporting', aud: 'keygate', client_id: 'reporting', scope: 'orders:read' });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.iat).toEqual(expect.any(Number));
    expect(payload.exp).toBeGreaterThan(payload.iat!);
  });

  it('accepts its token on a gateway-token route and forwards the call without the token', async () => {
    const token = (await tokenWithBasic()).body.access_token;
    const accepted = await gateway.call<EchoedRequest>('/orders/today', bearer(token));
    expect(accepted.status).toBe(200);
    expect(accepted.body.headers.authorization).toBeUndefined();
  });

  it('introspects its token as active for the client it was issued to', async () => {
    const token = (await tokenWithBasic()).body.access_token;
    const introspected = await gateway.oauth('/oauth/introspect', { token }, { authorization: basicAuth('reporting', secret) });
    expect(introspected.status).toBe(200);
    expect(introspected.body).toMatchObject({ active: true, client_id: 'reporting', scope: 'orders:read', token_type: 'Bearer' });
  });

  it('introspects a revoked token as inactive and refuses it on the route', async () => {
    const token = (await tokenWithBasic()).body.access_token;
    expect((await gateway.call('/orders/today', bearer(token))).status).toBe(200);
    const revoked = await gateway.oauth('/oauth/revoke', { token }, { authorization: basicAuth('reporting', secret) });
    expect(revoked.status).toBe(200);
    const introspected = await gateway.oauth('/oauth/introspect', { token }, { authorization: basicAuth('reporting', secret) });
    expect(introspected.body).toEqual({ active: false });
    expectRefused(await gateway.call('/orders/today', bearer(token)));
  });

  it('refuses a revoked token without recompiling its snapshot', async () => {
    const token = (await tokenWithBasic()).body.access_token;
    const before = gateway.gateway.snapshot();
    expect((await gateway.oauth('/oauth/revoke', { token }, { authorization: basicAuth('reporting', secret) })).status).toBe(200);
    expectRefused(await gateway.call('/orders/today', bearer(token)));
    expect(gateway.gateway.snapshot()).toBe(before);
  });

  it('reads a revoked token from the store into the next snapshot it compiles', async () => {
    const token = (await tokenWithBasic()).body.access_token;
    const { jti } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string };
    expect((await gateway.oauth('/oauth/revoke', { token }, { authorization: basicAuth('reporting', secret) })).status).toBe(200);
    await gateway.gateway.sync();
    expect(gateway.gateway.snapshot().catalog.revokedTokens.has(jti)).toBe(true);
  });
});

/** A client assertion stays refused for as long as the token endpoint would still accept it: its exp plus the clock tolerance. */
describe('client assertions replayed after their exp, or issued in the future', () => {
  const clock = new ManualClock(Date.now());
  let gateway: TestGateway;
  let assertionKey: CryptoKey;

  beforeAll(async () => {
    gateway = await TestGateway.start({}, { clock });
    const keyPair = await generateKeyPair('ES256');
    assertionKey = keyPair.privateKey;
    const jwk = { ...(await exportJWK(keyPair.publicKey)), kid: 'batch-2026', alg: 'ES256' };
    await gateway.createApp({ name: 'batch', team: 'analytics', scopes: ['orders:read'], jwks: { keys: [jwk] } });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  /** App "batch"'s client assertion, issued `seconds` from the node's now and valid for a minute from then. */
  async function assertionIssuedIn(seconds: number): Promise<string> {
    const at = Math.floor(clock.now() / 1000) + seconds;
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'batch-2026' })
      .setIssuer('batch')
      .setSubject('batch')
      .setAudience(`${gateway.proxyUrl}/oauth/token`)
      .setIssuedAt(at)
      .setExpirationTime(at + 60)
      .sign(assertionKey);
  }

  it('refuses the replay within the 30 s the endpoint tolerates past exp', async () => {
    const form = { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertionIssuedIn(0) };
    expect((await gateway.oauth('/oauth/token', form)).status).toBe(200);
    // 15 s past exp: the signature check still accepts it (30 s of tolerance), so only the replay guard stands.
    clock.advance(75_000);
    const replayed = await gateway.oauth('/oauth/token', form);
    expect(replayed.status).toBe(401);
    expect(replayed.body).toMatchObject({ error: 'invalid_client' });
  });

  it('refuses an assertion issued later than the 30 s the endpoint tolerates, and takes one within them', async () => {
    const issuedIn = async (seconds: number) => gateway.oauth('/oauth/token', { grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertionIssuedIn(seconds) });
    expect(await issuedIn(3_600)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await issuedIn(31)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect((await issuedIn(29)).status).toBe(200);
  });
});

/**
 * An app deleted, and one made again under its name: the first app's unexpired tokens speak for neither. On an AI
 * route (no subscription to lose) a deleted app's token had no app's limits at all: any model, no budget.
 */
describe('tokens of an app that was deleted, or deleted and made again', () => {
  const clock = new ManualClock(Date.now());
  let upstream: LoopbackServer;
  let provider: OpenAIEmulator;
  let gateway: TestGateway;

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    provider = await startOpenAIEmulator();
    gateway = await TestGateway.start({}, { clock });
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [
        { name: 'orders', service: 'orders', paths: ['/orders/*'], auth: { methods: ['gateway-token'], subscription: false } },
        // An outside issuer that is the gateway itself (its own keys and iss), after gateway-token: it must not take
        // one of the gateway's tokens the gateway-token method refused.
        { name: 'self', service: 'orders', paths: ['/self/*'], auth: { methods: ['gateway-token', 'issuer:self'], subscription: false } },
        { name: 'ai', paths: ['/v1/*'], ai: {}, auth: { methods: ['gateway-token'] } },
      ],
      issuers: [{ name: 'self', issuer: gateway.proxyUrl, jwksUri: `${gateway.proxyUrl}/.well-known/jwks.json`, audiences: ['keygate'], algorithms: ['ES256'] }],
      ai: { providers: [{ name: 'openai', type: 'openai', baseUrl: provider.url }] },
    });
    await gateway.adminExpect(201, 'POST', '/ai/providers/openai/keys', { secret: 'test-openai-key' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await provider?.stop();
    await upstream?.stop();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const chat = (token: string, model: string) =>
    fetch(`${gateway.proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] }),
    });
  /** App "rotating", allowed one model, with a token of its own; the clock moves on a few seconds each time. */
  const makeApp = async () => {
    clock.advance(5_000);
    await gateway.createApp({ name: 'rotating', team: 'analytics', scopes: ['orders:read'], models: ['gpt-4o-mini'] });
    const secret = await gateway.createClientSecret('rotating');
    clock.advance(5_000);
    return { secret, token: await gateway.accessToken('rotating', secret) };
  };

  it('refuses a deleted app’s token on a proxied route and on an AI route, where it had no limits left', async () => {
    const { secret, token } = await makeApp();
    expect((await gateway.call('/orders/today', bearer(token))).status).toBe(200);
    expect((await chat(token, 'gpt-4o-mini')).status).toBe(200);
    expect((await chat(token, 'gpt-4o')).status).toBe(404);

    expect((await gateway.call('/self/today', bearer(token))).status).toBe(200);

    clock.advance(5_000);
    await gateway.adminExpect(204, 'DELETE', '/apps/rotating');
    expectRefused(await gateway.call('/orders/today', bearer(token)));
    expectRefused(await gateway.call('/self/today', bearer(token)));
    const refused = await chat(token, 'gpt-4o');
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    // Nor can its client get another: its credentials went with it.
    expect((await gateway.oauth('/oauth/token', { grant_type: 'client_credentials' }, { authorization: basicAuth('rotating', secret) })).status).toBe(401);
  });

  it('refuses the first app’s token once an app of its name is made again, which its own tokens reach', async () => {
    const first = await makeApp();
    clock.advance(5_000);
    await gateway.adminExpect(204, 'DELETE', '/apps/rotating');
    const second = await makeApp();

    expectRefused(await gateway.call('/orders/today', bearer(first.token)));
    expectRefused(await gateway.call('/self/today', bearer(first.token)));
    expect((await chat(first.token, 'gpt-4o-mini')).status).toBe(401);
    expect((await gateway.call('/orders/today', bearer(second.token))).status).toBe(200);
    expect((await chat(second.token, 'gpt-4o-mini')).status).toBe(200);

    // Introspection by the new app: the old token is not its own, and not active.
    const auth = { authorization: basicAuth('rotating', second.secret) };
    expect((await gateway.oauth('/oauth/introspect', { token: first.token }, auth)).body).toEqual({ active: false });
    expect((await gateway.oauth('/oauth/introspect', { token: second.token }, auth)).body).toMatchObject({ active: true, client_id: 'rotating' });
  });

  it('keeps a token good that a node whose clock is behind issued just after the app was made elsewhere', async () => {
    const { token } = await makeApp();
    // A token issued on a node 30 s behind the clock, which is 5 s past the app's creation: its iat is before it.
    const made = clock.now();
    clock.set(made - 30_000);
    const secret = await gateway.createClientSecret('rotating');
    const early = await gateway.accessToken('rotating', secret);
    clock.set(made + 5_000);
    expect((await gateway.call('/orders/today', bearer(early))).status).toBe(200);
    expect((await gateway.call('/orders/today', bearer(token))).status).toBe(200);
  });

  it('keeps an app’s tokens good when the app is only changed', async () => {
    const { token } = await makeApp();
    clock.advance(5_000);
    await gateway.adminExpect(200, 'PUT', '/apps/rotating', { name: 'rotating', team: 'analytics', scopes: ['orders:read'], models: ['gpt-4o-mini', 'gpt-4o'] });
    expect((await gateway.call('/orders/today', bearer(token))).status).toBe(200);
    expect((await chat(token, 'gpt-4o')).status).toBe(200);
  });
});
