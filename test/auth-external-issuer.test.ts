import { decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LoopbackServer, TestGateway, basicAuth, expectRefused, startEchoUpstream, type EchoedRequest } from './auth-fixtures.js';

/** The one member of oidc-provider used here (it ships no type declarations). */
interface OidcProvider {
  callback(): LoopbackServer['handler'];
}
type OidcProviderClass = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
let Provider: OidcProviderClass;

const ORDERS = 'https://orders.api.test';
const BILLING = 'https://billing.api.test';
const CLIENT_ID = 'reporting-job';
const CLIENT_SECRET = 'a-client-secret-used-only-on-loopback';

async function signingKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

/**
 * panva's oidc-provider as a real OpenID provider: client_credentials grants JWT access tokens (RFC 9068) whose
 * audience is the RFC 8707 `resource`, signed with `key`.
 */
function openIdProvider(issuer: string, key: JWK): OidcProvider {
  return new Provider(issuer, {
    jwks: { keys: [key] },
    ttl: { ClientCredentials: 600 },
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic' }],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => ORDERS,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({ scope: 'orders:read', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'RS256' } } }),
      },
    },
  });
}

describe('a real OpenID provider as an outside issuer, configured by discovery only', () => {
  let provider: LoopbackServer;
  let upstream: LoopbackServer;
  let gateway: TestGateway;

  beforeAll(async () => {
    // oidc-provider warns about its in-memory adapter (what a test wants) and about Node 20 (it runs fine).
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    // @ts-expect-error -- no type declarations; OidcProviderClass types what is used.
    Provider = ((await import('oidc-provider')) as { default: OidcProviderClass }).default;
    [provider, upstream] = await Promise.all([LoopbackServer.start(), startEchoUpstream()]);
    provider.handler = openIdProvider(provider.url, await signingKey('first')).callback();
    gateway = await TestGateway.start();
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [{ name: 'orders', service: 'orders', paths: ['/orders/*'], auth: { methods: ['issuer:sso'], forwardClaims: { 'x-caller': 'client_id' } } }],
      issuers: [{ name: 'sso', issuer: provider.url, audiences: [ORDERS], algorithms: ['RS256'] }],
    });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await gateway?.stop();
    await provider?.stop();
    await upstream?.stop();
  });

  /** An access token from the provider by client_credentials, for the RFC 8707 `resource`. */
  async function providerToken(resource: string): Promise<string> {
    const response = await fetch(`${provider.url}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(CLIENT_ID, CLIENT_SECRET), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource }).toString(),
    });
    const body = (await response.json()) as { access_token: string };
    expect(response.status, JSON.stringify(body)).toBe(200);
    return body.access_token;
  }

  it('accepts its client_credentials JWT access tokens', async () => {
    const accepted = await gateway.call<EchoedRequest>('/orders/today', { authorization: `Bearer ${await providerToken(ORDERS)}` });
    expect(accepted.status).toBe(200);
    expect(accepted.body.headers['x-caller']).toBe(CLIENT_ID);
  });

  it('accepts the first token signed with a new key after the provider rotates, by refetching its JWKS once', async () => {
    expect((await gateway.call('/orders/today', { authorization: `Bearer ${await providerToken(ORDERS)}` })).status).toBe(200);
    const fetchesBefore = provider.hits('/jwks');

    // The provider restarts on the same port signing with a new key only.
    await provider.stop();
    provider.handler = openIdProvider(provider.url, await signingKey('second')).callback();
    await provider.restart();

    const fresh = await providerToken(ORDERS);
    expect(decodeProtectedHeader(fresh).kid).toBe('second');
    expect((await gateway.call('/orders/today', { authorization: `Bearer ${fresh}` })).status).toBe(200);
    expect(provider.hits('/jwks')).toBe(fetchesBefore + 1);
  });

  it('refuses its access token issued for another audience', async () => {
    expectRefused(await gateway.call('/orders/today', { authorization: `Bearer ${await providerToken(BILLING)}` }));
  });
});
