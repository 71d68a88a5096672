import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startEchoUpstream, type LoopbackServer } from './auth-fixtures.js';
import { startKeygate, type RunningKeygate } from './keygate-process.js';

/**
 * A token revoked through /oauth/revoke is a change one worker commits, not the primary: it must reach the other
 * workers as the primary's changes do. The store is polled once an hour here, so nothing else would tell them.
 */
describe('a token revoked on one of several workers', () => {
  let upstream: LoopbackServer;
  let node: RunningKeygate;
  let dir: string;
  let secret: string;

  const admin = async (method: string, path: string, body?: unknown) => {
    const answer = await fetch(`${node.adminUrl}${path}`, { method, headers: { authorization: 'Bearer w', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await answer.text();
    expect(answer.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return JSON.parse(text) as Record<string, unknown>;
  };
  /** A form to an OAuth endpoint on a connection of its own, which the kernel gives to either worker. */
  const oauth = (path: string, form: Record<string, string>) =>
    fetch(`${node.proxyUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth('reports', secret), connection: 'close' }, body: new URLSearchParams(form).toString() });
  /** The route's answers to `token` on twelve new connections, spread over both workers. */
  const statuses = (token: string) => Promise.all(Array.from({ length: 12 }, () => fetch(`${node.proxyUrl}/orders/today`, { headers: { authorization: `Bearer ${token}`, connection: 'close' } }).then((r) => r.status)));

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    dir = mkdtempSync(join(tmpdir(), 'keygate-revoke-workers-'));
    const config = join(dir, 'keygate.yaml');
    writeFileSync(config, `version: 1\nservices:\n  - name: orders\n    targets:\n      - url: ${upstream.url}\nroutes:\n  - name: orders\n    service: orders\n    paths: ["/orders/*"]\n    auth:\n      methods: [gateway-token]\n`);
    node = await startKeygate({ KEYGATE_WORKERS: '2', KEYGATE_ADMIN_TOKEN: 'w', KEYGATE_SYNC_INTERVAL: '1h' }, ['--config', config]);
    await admin('PUT', '/teams/finance', { name: 'finance' });
    await admin('PUT', '/apps/reports', { name: 'reports', team: 'finance' });
    await admin('POST', '/apps/reports/subscriptions', { service: 'orders' });
    secret = String((await admin('POST', '/apps/reports/client-secrets', {})).secret);
  });
  afterAll(async () => {
    await node?.stop();
    await upstream?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is refused by every worker once the revocation has answered', async () => {
    // Several tokens, each revoked on a new connection: the revoking worker is now one, now the other.
    for (let round = 0; round < 4; round++) {
      const issued = await oauth('/oauth/token', { grant_type: 'client_credentials' });
      const token = ((await issued.json()) as { access_token: string }).access_token;
      expect(await statuses(token)).toEqual(Array(12).fill(200));
      expect((await oauth('/oauth/revoke', { token })).status).toBe(200);
      expect(await statuses(token)).toEqual(Array(12).fill(401));
    }
  });
});
