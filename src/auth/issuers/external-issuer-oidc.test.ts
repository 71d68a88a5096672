import type { RequestListener } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
// @ts-expect-error -- oidc-provider ships no type declarations; the few members used are typed below.
import ProviderModule from 'oidc-provider';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../clock.js';
import { ExternalIssuer } from './external-issuer.js';
import { IssuerTokenError } from './issuer-errors.js';
import { IssuerTestServer } from '../../../test/issuer-server.js';

interface OidcProvider {
  callback(): RequestListener;
}
const Provider = ProviderModule as new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;

const ORDERS = 'https://orders.api.test';
const BILLING = 'https://billing.api.test';
const CLIENT_ID = 'gateway-tests';
const CLIENT_SECRET = 'a-client-secret-used-only-on-loopback';

/** A private RSA signing JWK for the provider's keystore. */
async function providerKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

/**
 * A real OpenID provider (panva's oidc-provider) that issues RFC 9068 JWT access tokens by client credentials,
 * with the audience taken from the RFC 8707 `resource` parameter. It signs with the first key of `keys`.
 */
function openIdProvider(issuer: string, keys: JWK[]): OidcProvider {
  return new Provider(issuer, {
    jwks: { keys },
    ttl: { ClientCredentials: 600 },
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => ORDERS,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => ({
          scope: 'orders:read orders:write',
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
}

describe('ExternalIssuer with a real OpenID provider', () => {
  let server: IssuerTestServer;
  let issuerUrl: string;
  let firstKey: JWK;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    server = await IssuerTestServer.start();
    issuerUrl = server.url;
    firstKey = await providerKey('first');
    server.delegate(openIdProvider(issuerUrl, [firstKey]).callback());
  });
  afterAll(async () => {
    await server?.close();
  });

  /** An access token from the provider's token endpoint, for `resource`. */
  async function accessToken(resource: string, scope = 'orders:read'): Promise<string> {
    const response = await request(`${issuerUrl}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }).toString(),
    });
    const body = (await response.body.json()) as { access_token?: string; token_type?: string };
    expect(response.statusCode, JSON.stringify(body)).toBe(200);
    return body.access_token!;
  }

  const gatewayIssuer = () =>
    new ExternalIssuer({ name: 'oidc-provider', issuer: issuerUrl, audiences: [ORDERS], algorithms: ['RS256', 'PS256', 'ES256'], typ: 'at+jwt' }, { clock });

  it('accepts its client-credentials access token, with keys found by discovery from the issuer URL alone', async () => {
    const verified = await gatewayIssuer().verify(await accessToken(ORDERS));
    expect(verified).toMatchObject({ subject: CLIENT_ID, clientId: CLIENT_ID, scopes: ['orders:read'], payload: { iss: issuerUrl, aud: ORDERS } });
  });

  it('refuses its access tokens issued for another audience', async () => {
    const error = await gatewayIssuer().verify(await accessToken(BILLING)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IssuerTokenError);
    expect(error).toMatchObject({ code: 'token_invalid', reason: 'wrong_audience' });
  });

  it('follows a signing key rotation with one refetch and no failed verification', async () => {
    const issuer = gatewayIssuer();
    const before = await accessToken(ORDERS);
    await expect(issuer.verify(before)).resolves.toMatchObject({ subject: CLIENT_ID });
    const fetchesBefore = server.hits('/jwks');

    // The provider restarts with a new signing key, still publishing the old one for tokens already out.
    server.delegate(openIdProvider(issuerUrl, [await providerKey('second'), firstKey]).callback());
    clock.advance(31_000);
    const after = await accessToken(ORDERS);

    await expect(issuer.verify(after)).resolves.toMatchObject({ subject: CLIENT_ID });
    await expect(issuer.verify(before)).resolves.toMatchObject({ subject: CLIENT_ID });
    await expect(issuer.verify(await accessToken(ORDERS, 'orders:write'))).resolves.toMatchObject({ scopes: ['orders:write'] });
    expect(server.hits('/jwks')).toBe(fetchesBefore + 1);
  });
});
