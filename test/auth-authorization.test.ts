import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalIssuer, TestGateway, startEchoUpstream, type LoopbackServer } from './auth-fixtures.js';

const GOLD_ADMIN_IN_EU = { tier: 'gold', roles: ['admin', 'billing'], region: 'eu' };

/** What a route asks of an authenticated caller, and what it passes upstream. */
describe('authorization at the route: scopes, claim rules, forwarded claims and credentials', () => {
  let upstream: LoopbackServer;
  let partner: LocalIssuer;
  let gateway: TestGateway;
  let secret: string;
  let apiKey: string;

  beforeAll(async () => {
    [upstream, partner] = await Promise.all([startEchoUpstream(), LocalIssuer.start()]);
    gateway = await TestGateway.start();
    await gateway.applyConfig({
      version: 1,
      services: [{ name: 'orders', targets: [{ url: upstream.url }] }],
      routes: [
        { name: 'write-orders', service: 'orders', paths: ['/write/*'], auth: { methods: ['gateway-token'], scopes: ['orders:read', 'orders:write'] } },
        {
          name: 'partner-orders',
          service: 'orders',
          paths: ['/partner/*'],
          auth: {
            methods: ['issuer:partner'],
            claims: [
              { claim: 'org.tier', equals: 'gold' },
              { claim: 'org.roles', contains: 'admin' },
              { claim: 'org.region', oneOf: ['eu', 'uk'] },
            ],
            forwardClaims: { 'x-tier': 'org.tier', 'x-roles': 'org.roles', 'x-subject': 'sub' },
          },
        },
        {
          // Auth0 puts custom claims under namespaced names, which hold dots of their own.
          name: 'namespaced',
          service: 'orders',
          paths: ['/namespaced/*'],
          auth: {
            methods: ['issuer:partner'],
            claims: [{ claim: 'https://partner.example/roles', contains: 'admin' }],
            forwardClaims: { 'x-plan': 'https://partner.example/app_metadata.plan' },
          },
        },
        { name: 'caller-info', service: 'orders', paths: ['/caller/*'], auth: { methods: ['api-key', 'gateway-token'], forwardClaims: { 'x-app': 'app', 'x-team': 'team', 'x-scope': 'scope' } } },
        { name: 'pass-through', service: 'orders', paths: ['/pass/*'], auth: { methods: ['api-key'], forwardCredential: true } },
        // Named as an operator copies header names from an upstream's docs.
        { name: 'capitals', service: 'orders', paths: ['/capitals/*'], auth: { methods: ['api-key'], forwardClaims: { 'X-App': 'app', 'X-Scope': 'scope' } } },
      ],
      issuers: [{ name: 'partner', jwksUri: `${partner.url}/jwks`, audiences: ['orders'], algorithms: ['RS256'] }],
    });
    await gateway.createApp({ name: 'reporting', team: 'analytics', scopes: ['orders:read', 'orders:write'], subscribe: ['orders'] });
    secret = await gateway.createClientSecret('reporting');
    apiKey = (await gateway.createApiKey('reporting')).secret;
  });
  afterAll(async () => {
    await gateway?.stop();
    await partner?.close();
    await upstream?.stop();
  });

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const partnerToken = (org: Record<string, unknown>) => partner.sign({ aud: 'orders', sub: 'partner-user-7', org });

  it('refuses a token missing a required scope with 403 insufficient_scope, naming the scopes in WWW-Authenticate', async () => {
    const refused = await gateway.call('/write/orders', bearer(await gateway.accessToken('reporting', secret, { scope: 'orders:read' })));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'insufficient_scope' } });
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="keygate", error="insufficient_scope", error_description="more scope is needed", scope="orders:read orders:write"');
  });

  it('accepts a token holding every required scope', async () => {
    const token = await gateway.accessToken('reporting', secret, { scope: 'orders:read orders:write' });
    expect((await gateway.call('/write/orders', bearer(token))).status).toBe(200);
  });

  it('accepts a token whose nested claims meet the equals, contains and oneOf rules', async () => {
    expect((await gateway.call('/partner/orders', bearer(await partnerToken(GOLD_ADMIN_IN_EU)))).status).toBe(200);
  });

  it('refuses with 403 access_denied when a nested claim does not equal the required value', async () => {
    const refused = await gateway.call('/partner/orders', bearer(await partnerToken({ ...GOLD_ADMIN_IN_EU, tier: 'silver' })));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'access_denied' } });
  });

  it('refuses with 403 access_denied when a nested claim list does not contain the required value', async () => {
    const refused = await gateway.call('/partner/orders', bearer(await partnerToken({ ...GOLD_ADMIN_IN_EU, roles: ['billing'] })));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'access_denied' } });
  });

  it('refuses with 403 access_denied when a nested claim is not one of the allowed values', async () => {
    const refused = await gateway.call('/partner/orders', bearer(await partnerToken({ ...GOLD_ADMIN_IN_EU, region: 'us' })));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'access_denied' } });
  });

  it('reads namespaced claims whose names hold dots, as Auth0 issues them, in rules and forwarded headers', async () => {
    const namespaced = (roles: string[]) =>
      partner.sign({ aud: 'orders', sub: 'auth0|7', 'https://partner.example/roles': roles, 'https://partner.example/app_metadata': { plan: 'team' } });
    const accepted = await gateway.call('/namespaced/orders', bearer(await namespaced(['admin'])));
    expect(accepted.status).toBe(200);
    expect(accepted.body.headers['x-plan']).toBe('team');
    const refused = await gateway.call('/namespaced/orders', bearer(await namespaced(['viewer'])));
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'access_denied' } });
  });

  it('forwards the configured claims upstream as headers, nested values and lists included', async () => {
    const accepted = await gateway.call('/partner/orders', bearer(await partnerToken(GOLD_ADMIN_IN_EU)));
    expect(accepted.body.headers).toMatchObject({ 'x-tier': 'gold', 'x-roles': '["admin","billing"]', 'x-subject': 'partner-user-7' });
  });

  it('forwards claims that are not printable ASCII as JSON with escapes: no line break reaches the upstream request', async () => {
    const token = await partner.sign({ aud: 'orders', sub: 'José\r\nx-admin: true', org: { ...GOLD_ADMIN_IN_EU, tier: 'gold', roles: ['admin', '山'] } });
    for (let i = 0; i < 8; i++) {
      const accepted = await gateway.call('/partner/orders', bearer(token));
      expect(accepted.status).toBe(200);
      expect(accepted.body.headers['x-subject']).toBe('"Jos\\u00e9\\r\\nx-admin: true"');
      expect(JSON.parse(accepted.body.headers['x-subject'] as string)).toBe('José\r\nx-admin: true');
      expect(accepted.body.headers['x-roles']).toBe('["admin","\\u5c71"]');
      expect(accepted.body.headers['x-admin']).toBeUndefined();
    }
  });

  it("forwards the caller's app and team, replacing headers of the same name the caller sent", async () => {
    const token = await gateway.accessToken('reporting', secret, { scope: 'orders:read' });
    const accepted = await gateway.call('/caller/whoami', { ...bearer(token), 'x-app': 'someone-else', 'x-team': 'admins' });
    expect(accepted.body.headers).toMatchObject({ 'x-app': 'reporting', 'x-team': 'analytics', 'x-scope': 'orders:read' });
  });

  it('never passes on a header the caller sent under a forwarded-claim name when the credential lacks that claim', async () => {
    // An API key carries no "scope" claim: the upstream must not take the caller's own x-scope for a verified one.
    const accepted = await gateway.call('/caller/whoami', { 'x-api-key': apiKey, 'x-scope': 'orders:admin' });
    expect(accepted.status).toBe(200);
    expect(accepted.body.headers['x-app']).toBe('reporting');
    expect(accepted.body.headers['x-scope']).toBeUndefined();
  });

  it('strips the caller\'s own header of a forwarded-claim name given in capitals, and forwards the claim under it', async () => {
    const accepted = await gateway.call('/capitals/whoami', { 'x-api-key': apiKey, 'x-app': 'someone-else', 'X-Scope': 'orders:admin' });
    expect(accepted.status).toBe(200);
    expect(accepted.body.headers['x-app']).toBe('reporting');
    expect(accepted.body.headers['x-scope']).toBeUndefined();
  });

  it('refuses a route that names one forwarded header twice in two cases, or a header name no header may have', async () => {
    const route = (forwardClaims: Record<string, string>) => ({ version: 1, services: [{ name: 'orders', targets: [{ url: upstream.url }] }], routes: [{ name: 'r', service: 'orders', paths: ['/r/*'], auth: { methods: ['api-key'], forwardClaims } }] });
    const twins = await gateway.admin('PUT', '/config', route({ 'X-App': 'app', 'x-app': 'team' }));
    expect(twins.status).toBe(400);
    expect(twins.body).toMatchObject({ error: { code: 'invalid_config', message: 'routes[0].auth.forwardClaims: "X-App" and "x-app" name the same header (header names are case-insensitive); keep one' } });
    const spaced = await gateway.admin('PUT', '/config', route({ 'x app': 'app' }));
    expect(spaced.status).toBe(400);
    expect(spaced.body).toMatchObject({ error: { code: 'invalid_config', message: expect.stringContaining('routes[0].auth.forwardClaims.x app: is not a header name') } });
  });

  it("does not forward the caller's credential upstream by default", async () => {
    const byHeader = await gateway.call('/caller/whoami', { 'x-api-key': apiKey });
    const byBearer = await gateway.call('/caller/whoami', bearer(apiKey));
    expect(byHeader.status).toBe(200);
    expect(byBearer.status).toBe(200);
    expect(byHeader.body.headers['x-api-key']).toBeUndefined();
    expect(byBearer.body.headers.authorization).toBeUndefined();
  });

  it('forwards the credential upstream when the route sets forwardCredential', async () => {
    const accepted = await gateway.call('/pass/orders', { 'x-api-key': apiKey });
    expect(accepted.status).toBe(200);
    expect(accepted.body.headers['x-api-key']).toBe(apiKey);
  });
});
