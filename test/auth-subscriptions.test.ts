import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestGateway, startEchoUpstream, type LoopbackServer } from './auth-fixtures.js';

interface Subscription {
  app: string;
  service: string;
  state: string;
  decidedBy: string | null;
}

/** An app calls a service only with an approved subscription: at once for an open service, by decision otherwise. */
describe('subscriptions of apps to services', () => {
  let upstream: LoopbackServer;
  let gateway: TestGateway;
  let appCount = 0;

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    gateway = await TestGateway.start();
    await gateway.applyConfig({
      version: 1,
      services: [
        { name: 'catalog', targets: [{ url: upstream.url }], subscription: 'open' },
        { name: 'payroll', targets: [{ url: upstream.url }], team: 'finance', subscription: 'approval' },
      ],
      routes: [
        { name: 'catalog', service: 'catalog', paths: ['/catalog/*'], auth: { methods: ['api-key'] } },
        { name: 'payroll', service: 'payroll', paths: ['/payroll/*'], auth: { methods: ['api-key'] } },
      ],
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  /** A new app with an API key, and a call to `path` with that key. */
  async function newApp(): Promise<{ name: string; call: (path: string) => Promise<{ status: number; code: unknown }> }> {
    appCount += 1;
    const name = `app-${appCount}`;
    await gateway.createApp({ name, team: 'shop' });
    const key = (await gateway.createApiKey(name)).secret;
    return {
      name,
      call: async (path) => {
        const answer = await gateway.call<{ error?: { code: string } }>(path, { 'x-api-key': key });
        return { status: answer.status, code: answer.body.error?.code };
      },
    };
  }
  const subscribe = (app: string, service: string) => gateway.adminExpect<Subscription>(201, 'POST', `/apps/${app}/subscriptions`, { service });
  const decide = (app: string, service: string, decision: 'approve' | 'reject' | 'revoke') => gateway.adminExpect<Subscription>(200, 'POST', `/subscriptions/${app}/${service}/${decision}`);

  it('refuses an app without a subscription with 403 subscription_required', async () => {
    const app = await newApp();
    expect(await app.call('/catalog/items')).toEqual({ status: 403, code: 'subscription_required' });
  });

  it('approves a subscription to an open service at once, and the app calls it', async () => {
    const app = await newApp();
    expect(await subscribe(app.name, 'catalog')).toMatchObject({ state: 'approved', decidedBy: 'open service' });
    expect((await app.call('/catalog/items')).status).toBe(200);
  });

  it('keeps a subscription to an approval service pending, and refuses calls meanwhile', async () => {
    const app = await newApp();
    expect(await subscribe(app.name, 'payroll')).toMatchObject({ state: 'pending', decidedBy: null });
    expect(await app.call('/payroll/runs')).toEqual({ status: 403, code: 'subscription_required' });
  });

  it('lets calls through once the pending subscription is approved', async () => {
    const app = await newApp();
    await subscribe(app.name, 'payroll');
    expect(await decide(app.name, 'payroll', 'approve')).toMatchObject({ state: 'approved' });
    expect((await app.call('/payroll/runs')).status).toBe(200);
  });

  it('refuses calls again once an approved subscription is revoked', async () => {
    const app = await newApp();
    await subscribe(app.name, 'payroll');
    await decide(app.name, 'payroll', 'approve');
    expect((await app.call('/payroll/runs')).status).toBe(200);
    expect(await decide(app.name, 'payroll', 'revoke')).toMatchObject({ state: 'revoked' });
    expect(await app.call('/payroll/runs')).toEqual({ status: 403, code: 'subscription_required' });
  });

  it('keeps refusing an app whose subscription was rejected', async () => {
    const app = await newApp();
    await subscribe(app.name, 'payroll');
    expect(await decide(app.name, 'payroll', 'reject')).toMatchObject({ state: 'rejected' });
    expect(await app.call('/payroll/runs')).toEqual({ status: 403, code: 'subscription_required' });
    expect((await gateway.admin('POST', `/subscriptions/${app.name}/payroll/revoke`)).status).toBe(409);
    expect(await app.call('/payroll/runs')).toEqual({ status: 403, code: 'subscription_required' });
  });

  it('does not let a subscription to one service open another', async () => {
    const app = await newApp();
    await subscribe(app.name, 'catalog');
    expect(await app.call('/payroll/runs')).toEqual({ status: 403, code: 'subscription_required' });
  });
});
