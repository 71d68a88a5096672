import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeygateError } from '../../errors.js';
import { discoverIssuer } from './discovery.js';
import { IssuerUnavailableError } from './issuer-errors.js';
import { IssuerTestServer } from '../../../test/issuer-server.js';

const OPENID = '/.well-known/openid-configuration';
const OAUTH = '/.well-known/oauth-authorization-server';

async function failure(work: Promise<unknown>): Promise<KeygateError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeygateError);
  return error as KeygateError;
}

describe('discoverIssuer', () => {
  let server: IssuerTestServer;

  beforeEach(async () => {
    server = await IssuerTestServer.start();
  });
  afterEach(async () => {
    await server.close();
  });

  it('reads jwks_uri and the signing algorithms from the OpenID configuration', async () => {
    server.serve(OPENID, { body: { issuer: server.url, jwks_uri: `${server.url}/certs`, id_token_signing_alg_values_supported: ['RS256', 'ES256', 7] } });
    await expect(discoverIssuer(server.url)).resolves.toEqual({
      issuer: server.url,
      jwksUri: `${server.url}/certs`,
      signingAlgorithms: ['RS256', 'ES256'],
      metadataUrl: `${server.url}${OPENID}`,
    });
  });

  it('appends the well-known path to an issuer with a path (Keycloak realms)', async () => {
    const issuer = `${server.url}/realms/main`;
    server.serve(`/realms/main${OPENID}`, { body: { issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` } });
    await expect(discoverIssuer(issuer)).resolves.toMatchObject({ jwksUri: `${issuer}/protocol/openid-connect/certs`, signingAlgorithms: [] });
  });

  it('keeps a trailing slash in the issuer out of the well-known path (Auth0)', async () => {
    const issuer = `${server.url}/`;
    server.serve(OPENID, { body: { issuer, jwks_uri: `${server.url}/.well-known/jwks.json` } });
    await expect(discoverIssuer(issuer)).resolves.toMatchObject({ issuer, jwksUri: `${server.url}/.well-known/jwks.json` });
  });

  it('falls back to RFC 8414 metadata, inserted before the issuer path, when there is no OpenID configuration', async () => {
    const issuer = `${server.url}/tenant/a`;
    server.serve(`${OAUTH}/tenant/a`, { body: { issuer, jwks_uri: `${server.url}/tenant/a/jwks` } });
    await expect(discoverIssuer(issuer)).resolves.toMatchObject({ jwksUri: `${server.url}/tenant/a/jwks`, metadataUrl: `${server.url}${OAUTH}/tenant/a` });
    expect(server.hits(`/tenant/a${OPENID}`)).toBe(1);
  });

  it('refuses a document whose issuer differs from the configured one, even by a trailing slash', async () => {
    server.serve(OPENID, { body: { issuer: `${server.url}/`, jwks_uri: `${server.url}/certs` } });
    const error = await failure(discoverIssuer(server.url));
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect(error).toMatchObject({ code: 'upstream_failed', reason: 'issuer_mismatch' });
    expect(server.hits(OAUTH)).toBe(0);
  });

  it.each([
    ['no jwks_uri', { jwks_uri: undefined }],
    ['a jwks_uri that is not a URL', { jwks_uri: 'certs' }],
    ['a plain-http jwks_uri off loopback', { jwks_uri: 'http://sso.example.com/certs' }],
  ])('refuses a document with %s', async (_, change) => {
    server.serve(OPENID, { body: { issuer: server.url, ...change } });
    expect(await failure(discoverIssuer(server.url))).toMatchObject({ reason: 'invalid_metadata' });
  });

  it('refuses a document that is not a JSON object', async () => {
    server.serve(OPENID, { body: [server.url] });
    expect(await failure(discoverIssuer(server.url))).toMatchObject({ reason: 'invalid_metadata' });
  });

  it('fails with the HTTP status when neither document exists', async () => {
    expect(await failure(discoverIssuer(server.url))).toMatchObject({ code: 'upstream_failed', reason: 'http_status', httpStatus: 404 });
    expect([server.hits(OPENID), server.hits(OAUTH)]).toEqual([1, 1]);
  });

  it('fails with a timeout when the issuer is slower than the fetch timeout, without trying the fallback', async () => {
    server.serve(OPENID, { hold: true });
    expect(await failure(discoverIssuer(server.url, { timeoutMs: 200 }))).toMatchObject({ reason: 'timeout' });
    expect(server.hits(OAUTH)).toBe(0);
  });

  it.each([
    ['plain http off loopback', 'http://sso.example.com'],
    ['a query', 'https://sso.example.com/?tenant=a'],
    ['a fragment', 'https://sso.example.com/#a'],
    ['no scheme', 'sso.example.com'],
  ])('refuses an issuer URL with %s as invalid config', async (_, issuer) => {
    expect(await failure(discoverIssuer(issuer))).toMatchObject({ code: 'invalid_config' });
  });
});
