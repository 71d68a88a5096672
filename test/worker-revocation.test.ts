import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startEchoUpstream, type LoopbackServer } from './auth-fixtures.js';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './databases.js';
import { eventually, startKeygate, type RunningKeygate } from './keygate-process.js';

/** What one worker says it serves (`/status` on the proxy port). */
interface ServedSnapshot {
  pid: number;
  snapshotVersion: number;
  snapshotBuiltAt: string;
}

/**
 * A node of two workers on `env`'s store, with app "reports" allowed on route "orders", and the calls the tests
 * make through it. Each call is on a connection of its own, which the kernel gives to either worker.
 */
function workersNode(env: Record<string, string> = {}) {
  let upstream: LoopbackServer;
  let dir: string;
  let secret: string;
  const node = {} as { keygate: RunningKeygate };

  const admin = async (method: string, path: string, body?: unknown) => {
    const answer = await fetch(`${node.keygate.adminUrl}${path}`, { method, headers: { authorization: 'Bearer w', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await answer.text();
    expect(answer.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const oauth = (path: string, form: Record<string, string>) =>
    fetch(`${node.keygate.proxyUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth('reports', secret), connection: 'close' }, body: new URLSearchParams(form).toString() });
  const token = async () => ((await (await oauth('/oauth/token', { grant_type: 'client_credentials' })).json()) as { access_token: string }).access_token;
  /** The route's answers to `token` on twelve new connections, spread over both workers. */
  const statuses = (bearer: string) => Promise.all(Array.from({ length: 12 }, () => fetch(`${node.keygate.proxyUrl}/orders/today`, { headers: { authorization: `Bearer ${bearer}`, connection: 'close' } }).then((r) => r.status)));
  /** The snapshot each worker serves, by pid: both workers, unless only one answers 200 connections. */
  const served = async (): Promise<Map<number, ServedSnapshot>> => {
    const byPid = new Map<number, ServedSnapshot>();
    for (let i = 0; i < 200 && byPid.size < 2; i++) {
      const status = (await (await fetch(`${node.keygate.proxyUrl}/status`, { headers: { connection: 'close' } })).json()) as ServedSnapshot;
      byPid.set(status.pid, { pid: status.pid, snapshotVersion: status.snapshotVersion, snapshotBuiltAt: status.snapshotBuiltAt });
    }
    return byPid;
  };

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    dir = mkdtempSync(join(tmpdir(), 'keygate-revoke-workers-'));
    const config = join(dir, 'keygate.yaml');
    writeFileSync(config, `version: 1\nservices:\n  - name: orders\n    targets:\n      - url: ${upstream.url}\nroutes:\n  - name: orders\n    service: orders\n    paths: ["/orders/*"]\n    auth:\n      methods: [gateway-token]\n`);
    node.keygate = await startKeygate({ KEYGATE_WORKERS: '2', KEYGATE_ADMIN_TOKEN: 'w', KEYGATE_SYNC_INTERVAL: '1h', ...env }, ['--config', config]);
    await admin('PUT', '/teams/finance', { name: 'finance' });
    await admin('PUT', '/apps/reports', { name: 'reports', team: 'finance' });
    await admin('POST', '/apps/reports/subscriptions', { service: 'orders' });
    secret = String((await admin('POST', '/apps/reports/client-secrets', {})).secret);
  });
  afterAll(async () => {
    await node.keygate?.stop();
    await upstream?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Calls on one kept-alive connection, so to one worker: the one whose pid it names. */
  const oneWorker = async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = (method: string, path: string, form?: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const body = form ? new URLSearchParams(form).toString() : undefined;
        const headers = form ? { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth('reports', secret) } : {};
        const sent = request(`${node.keygate.proxyUrl}${path}`, { method, agent, headers }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        sent.on('error', reject);
        sent.end(body);
      });
    const { pid } = JSON.parse((await call('GET', '/status')).body) as ServedSnapshot;
    return { pid, call, close: () => agent.destroy() };
  };

  return { admin, oauth, token, statuses, served, oneWorker, output: () => node.keygate.output() };
}

/** Whether the promise has settled within `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true), () => (done = true));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return done;
}

/**
 * A token revoked through /oauth/revoke is a change one worker commits, not the primary: it must reach the other
 * workers as the primary's changes do. The store is polled once an hour here, so nothing else would tell them.
 */
describe('a token revoked on one of several workers', () => {
  const { oauth, token, statuses, served, oneWorker, output } = workersNode();

  it('is refused by every worker once the revocation has answered', async () => {
    // Several tokens, each revoked on a new connection: the revoking worker is now one, now the other.
    for (let round = 0; round < 4; round++) {
      const revoking = await token();
      expect(await statuses(revoking)).toEqual(Array(12).fill(200));
      expect((await oauth('/oauth/revoke', { token: revoking })).status).toBe(200);
      expect(await statuses(revoking)).toEqual(Array(12).fill(401));
    }
    // Answered because every worker refuses it, not because the wait for them ran out.
    expect(output()).not.toContain('answered all the same');
  });

  it('reaches the workers as a delta, recompiling no worker’s snapshot', async () => {
    const before = await served();
    expect(before.size).toBe(2);
    for (let round = 0; round < 4; round++) {
      const revoking = await token();
      expect((await oauth('/oauth/revoke', { token: revoking })).status).toBe(200);
      expect(await statuses(revoking)).toEqual(Array(12).fill(401));
    }
    expect(await served()).toEqual(before);
  });

  it('does not answer while another worker has yet to refuse it', async () => {
    const revoking = await token();
    const revoker = await oneWorker();
    const other = [...(await served()).keys()].find((pid) => pid !== revoker.pid);
    expect(other).toBeDefined();
    // Stopped, the other worker reads no delta until it goes on.
    process.kill(other!, 'SIGSTOP');
    let revoked: Promise<{ status: number }>;
    try {
      revoked = revoker.call('POST', '/oauth/revoke', { token: revoking });
      expect(await settledWithin(revoked, 1_000)).toBe(false);
    } finally {
      process.kill(other!, 'SIGCONT');
    }
    expect((await revoked).status).toBe(200);
    revoker.close();
    expect(await statuses(revoking)).toEqual(Array(12).fill(401));
  });

  it('is refused by a worker started after it, which reads it from the store', async () => {
    const revoking = await token();
    expect((await oauth('/oauth/revoke', { token: revoking })).status).toBe(200);
    const [gone, staying] = [...(await served()).keys()];
    expect(staying).toBeDefined();
    process.kill(gone!, 'SIGKILL');
    // A connection the primary hands to the worker before it sees it gone is lost with it: wait until it has seen it.
    await eventually(async () => output().includes('proxy worker died'), 'the primary to see the worker gone');
    await eventually(async () => {
      const pids = [...(await served()).keys()];
      return pids.length === 2 && !pids.includes(gone!) && pids.includes(staying!);
    }, 'a replacement worker serving');
    expect(await statuses(revoking)).toEqual(Array(12).fill(401));
  });
});

/**
 * A worker may be compiling a snapshot read from the store before a revocation committed when the revocation's delta
 * reaches it: that snapshot, swapped in after, must not bring the token back. PostgreSQL lets the test hold the
 * workers' compiles on a table lock at that very point.
 */
describe.skipIf(!postgresAvailable)('a revocation that crosses a recompile on the workers', () => {
  let database: TestDatabase;
  let locker: pg.Client;
  const env: Record<string, string> = {};
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    env.KEYGATE_DATABASE_URL = database.url;
    locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
  });
  // Registered before the node's: after-all hooks run last to first, so the database goes once the node has stopped.
  afterAll(async () => {
    await locker?.end();
    await database?.drop();
  });
  const { admin, oauth, token, statuses, served } = workersNode(env);

  it('stays refused once the snapshot compiled without it is served', async () => {
    const revoking = await token();
    expect(await statuses(revoking)).toEqual(Array(12).fill(200));
    // Compiles read the revoked tokens beside the teams: with teams locked, a compile stops after reading them.
    await locker.query('begin');
    await locker.query('lock table teams in access exclusive mode');
    const change = admin('PUT', '/routes/extra', { name: 'extra', service: 'orders', paths: ['/extra/*'] });
    // The primary's compile and each worker's wait on the lock.
    await eventually(async () => Number((await locker.query("select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rows[0].n) >= 3, 'three compiles waiting on the lock');
    const compiling = Number((await locker.query('select version from store_version')).rows[0].version);
    expect((await oauth('/oauth/revoke', { token: revoking })).status).toBe(200);
    expect(await statuses(revoking)).toEqual(Array(12).fill(401));
    await locker.query('rollback');
    await change;
    await eventually(async () => {
      const workers = [...(await served()).values()];
      return workers.length === 2 && workers.every((worker) => worker.snapshotVersion >= compiling);
    }, 'both workers serving the change');
    // Both serve the snapshot read before the revocation committed, and refuse the token all the same.
    expect([...(await served()).values()].map((worker) => worker.snapshotVersion)).toEqual([compiling, compiling]);
    expect(await statuses(revoking)).toEqual(Array(12).fill(401));
  });
});
