import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startKeygate, type RunningKeygate } from './keygate-process.js';

/** A self-signed certificate for `names`, written as <file>.crt and <file>.key. */
function certificate(dir: string, file: string, names: string[]): void {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    '-keyout', join(dir, `${file}.key`), '-out', join(dir, `${file}.crt`),
  ], { stdio: 'ignore' });
}

/** The subject CN of the certificate the server presents for `servername`. */
function presentedName(url: string, servername: string): Promise<{ cn: string; status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: hostname, port, path: '/hello', servername, rejectUnauthorized: false, agent: false }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN);
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ cn, status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let upstream: Server;
let upstreamUrl: string;
beforeAll(async () => {
  upstream = createServer((req, res) => res.end(JSON.stringify({ path: req.url, proto: req.headers['x-forwarded-proto'] })));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

function configFile(dir: string): string {
  const file = join(dir, 'keygate.yaml');
  writeFileSync(file, `version: 1\nservices:\n  - name: up\n    targets:\n      - url: ${upstreamUrl}\nroutes:\n  - name: all\n    service: up\n    paths: ["/*"]\n`);
  return file;
}

describe('TLS on the proxy port', () => {
  let node: RunningKeygate;
  let certs: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-tls-'));
    certs = join(dir, 'certs');
    execFileSync('mkdir', ['-p', certs]);
    certificate(dir, 'default', ['default.test']);
    certificate(certs, 'a', ['a.test']);
    certificate(certs, 'wild', ['*.b.test']);
    node = await startKeygate(
      { KEYGATE_TLS_CERT: join(dir, 'default.crt'), KEYGATE_TLS_KEY: join(dir, 'default.key'), KEYGATE_TLS_CERTS_DIR: certs, KEYGATE_TLS_RELOAD_INTERVAL: '200ms' },
      ['--config', configFile(dir)],
    );
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('serves HTTPS and proxies with X-Forwarded-Proto https', async () => {
    expect(node.proxyUrl).toMatch(/^https:/);
    const result = await presentedName(node.proxyUrl, 'default.test');
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ path: '/hello', proto: 'https' });
  });

  it('picks the certificate by SNI: exact name, wildcard, and the default for unknown names', async () => {
    expect((await presentedName(node.proxyUrl, 'a.test')).cn).toBe('a.test');
    expect((await presentedName(node.proxyUrl, 'x.b.test')).cn).toBe('*.b.test');
    expect((await presentedName(node.proxyUrl, 'other.test')).cn).toBe('default.test');
  });

  it('picks up a replaced certificate without a restart', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'keygate-tls-new-'));
    certificate(fresh, 'a', ['a.test', 'renewed.a.test']);
    // Replace key and certificate as a deploy would: each file swapped atomically.
    renameSync(join(fresh, 'a.key'), join(certs, 'a.key'));
    renameSync(join(fresh, 'a.crt'), join(certs, 'a.crt'));
    await eventually(async () => (await presentedName(node.proxyUrl, 'renewed.a.test')).cn === 'a.test', 'the renewed certificate to be served');
    expect(node.output()).toContain('TLS certificates reloaded');
  });

  it('keeps the current certificates when a changed file does not load', async () => {
    writeFileSync(join(certs, 'wild.crt'), 'not a certificate');
    await eventually(async () => node.output().includes('do not load; keeping the current ones'), 'the reload to be refused');
    expect((await presentedName(node.proxyUrl, 'x.b.test')).cn).toBe('*.b.test');
  });
});

describe('TLS on the admin port', () => {
  it('serves the admin API over HTTPS with its own certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-admin-tls-'));
    certificate(dir, 'admin', ['admin.test']);
    const node = await startKeygate({ KEYGATE_ADMIN_TLS_CERT: join(dir, 'admin.crt'), KEYGATE_ADMIN_TLS_KEY: join(dir, 'admin.key') });
    try {
      expect(node.adminUrl).toMatch(/^https:/);
      const { hostname, port } = new URL(node.adminUrl);
      const result = await new Promise<{ cn: string; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: hostname, port, path: '/status', servername: 'admin.test', rejectUnauthorized: false, agent: false }, (res) => {
          const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN);
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ cn, body }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(result.cn).toBe('admin.test');
      expect(JSON.parse(result.body)).toMatchObject({ status: 'ok' });
      expect(node.proxyUrl).toMatch(/^http:/);
    } finally {
      await node.stop();
    }
  });
});

describe('several worker processes on one port', () => {
  let node: RunningKeygate;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keygate-workers-'));
    node = await startKeygate({ KEYGATE_WORKERS: '2', KEYGATE_ADMIN_TOKEN: 'w' }, ['--config', configFile(dir)]);
  });
  afterAll(async () => {
    await node?.stop();
  });

  const statuses = async () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 40; i++) {
      const s = (await (await fetch(`${node.proxyUrl}/status`, { headers: { connection: 'close' } })).json()) as { pid: number; snapshotVersion: number };
      seen.set(s.pid, s.snapshotVersion);
    }
    return seen;
  };

  it('shares the proxy port among the workers, which all serve the same snapshot', async () => {
    const seen = await statuses();
    expect(seen.size).toBe(2);
    expect(new Set(seen.values()).size).toBe(1);
    expect((await fetch(`${node.proxyUrl}/anything`)).status).toBe(200);
  });

  it('answers an admin change only once every worker serves it: the next requests, on any worker, see it', async () => {
    for (let round = 0; round < 6; round++) {
      const created = await fetch(`${node.adminUrl}/routes/fresh-${round}`, {
        method: 'PUT',
        headers: { authorization: 'Bearer w', 'content-type': 'application/json' },
        body: JSON.stringify({ name: `fresh-${round}`, service: 'up', paths: [`/fresh-${round}/*`], stripPrefix: true }),
      });
      expect(created.status).toBe(200);
      // New connections, which the kernel spreads over both workers: none may still serve the snapshot before.
      const seen = await Promise.all(Array.from({ length: 12 }, () => fetch(`${node.proxyUrl}/fresh-${round}/x`, { headers: { connection: 'close' } }).then(async (r) => `${r.status} ${await r.text()}`)));
      expect(seen.every((answer) => answer.startsWith('200') && answer.includes('"path":"/x"')), seen.join('\n')).toBe(true);
    }
  });

  it('brings every worker to a config change made through the admin API', async () => {
    const response = await fetch(`${node.adminUrl}/routes/all`, { method: 'DELETE', headers: { authorization: 'Bearer w' } });
    expect(response.status).toBe(204);
    const target = Math.max(...(await statuses()).values());
    await eventually(async () => [...(await statuses()).values()].every((v) => v >= target) && (await statuses()).size === 2, 'both workers to serve the new snapshot');
    for (let i = 0; i < 10; i++) expect((await fetch(`${node.proxyUrl}/anything`, { headers: { connection: 'close' } })).status).toBe(404);
  });

  it('replaces a worker that dies', async () => {
    const [victim] = [...(await statuses()).keys()];
    process.kill(victim!, 'SIGKILL');
    // A connection the primary handed to the worker as it died is lost with it: each probe gives up after 2 s.
    const pids = async () => {
      const seen = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const answer = await fetch(`${node.proxyUrl}/status`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
        if (answer) seen.add(((await answer.json()) as { pid: number }).pid);
      }
      return seen;
    };
    await eventually(async () => {
      const now = await pids();
      return now.size === 2 && !now.has(victim!);
    }, 'a replacement worker serving beside the other', 20);
    expect(node.output()).toContain('proxy worker died; starting another');
  });

  it('answers a change made while a replacement worker starts only once that worker serves it too', async () => {
    const [victim] = [...(await statuses()).keys()];
    process.kill(victim!, 'SIGKILL');
    // The replacement is forked at once and compiles while the change commits.
    await eventually(async () => node.output().split('proxy worker died').length > 2, 'the primary to see the worker die');
    const created = await fetch(`${node.adminUrl}/routes/during-start`, {
      method: 'PUT',
      headers: { authorization: 'Bearer w', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'during-start', service: 'up', paths: ['/during-start/*'], stripPrefix: true }),
    });
    expect(created.status).toBe(200);
    // Every answer from now on, on either worker once both listen, knows the route.
    const answers: number[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await fetch(`${node.proxyUrl}/during-start/x`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      if (answer) answers.push(answer.status);
    }
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((status) => status === 200), answers.join(' ')).toBe(true);
  });

  it('stops every worker on SIGTERM and exits 0', async () => {
    expect(await node.stop()).toBe(0);
    expect(node.output()).toContain('keygate stopped');
  });
});


describe('replacement workers', () => {
  /** The pause before each replacement, in order, as the primary logs each death. */
  const pauses = (node: RunningKeygate) =>
    node
      .output()
      .split('\n')
      .filter((line) => line.includes('"proxy worker died; starting another"'))
      .map((line) => (JSON.parse(line) as { restartInMs: number }).restartInMs);

  /** The pid of the worker that answers a fresh connection; a connection handed to a dying worker gives up after 2 s. */
  const workerPid = (node: RunningKeygate) =>
    new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(node.proxyUrl);
      const req = httpsRequest({ host: hostname, port, path: '/status', rejectUnauthorized: false, agent: false, timeout: 2_000 }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve((JSON.parse(text) as { pid: number }).pid));
      });
      req.on('timeout', () => req.destroy(new Error('no answer')));
      req.on('error', reject);
      req.end();
    });

  it('that cannot start are started again after growing pauses, which reset once one serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-respawn-'));
    certificate(dir, 'proxy', ['proxy.test']);
    const key = join(dir, 'proxy.key');
    const node = await startKeygate({ KEYGATE_WORKERS: '2', KEYGATE_TLS_CERT: join(dir, 'proxy.crt'), KEYGATE_TLS_KEY: key }, ['--config', configFile(dir)]);
    try {
      // Every replacement reads the key file, which is gone: each dies before it listens.
      renameSync(key, `${key}.away`);
      process.kill(await workerPid(node), 'SIGKILL');
      await eventually(async () => pauses(node).length >= 3, 'two replacements to fail', 300);
      // The killed worker had served: its replacement starts at once; then 0.25 s, doubling, for each that failed.
      expect(pauses(node).slice(0, 3)).toEqual([0, 250, 500]);
      expect(node.output()).toContain('replacement worker failed to start');
      // With the key back a replacement serves, and the next death is replaced at once again.
      renameSync(`${key}.away`, key);
      await eventually(async () => new Set(await Promise.all(Array.from({ length: 12 }, () => workerPid(node)))).size === 2, 'a replacement to serve', 300);
      const died = pauses(node).length;
      process.kill(await workerPid(node), 'SIGKILL');
      await eventually(async () => pauses(node).length > died, 'the next death to be logged');
      expect(pauses(node)[died]).toBe(0);
    } finally {
      await node.stop();
    }
  }, 180_000);

  it('still starting when the primary is stopped are stopped too, and the primary exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-respawn-stop-'));
    certificate(dir, 'proxy', ['proxy.test']);
    const node = await startKeygate({ KEYGATE_WORKERS: '2', KEYGATE_TLS_CERT: join(dir, 'proxy.crt'), KEYGATE_TLS_KEY: join(dir, 'proxy.key') }, ['--config', configFile(dir)]);
    process.kill(await workerPid(node), 'SIGKILL');
    // The replacement is forked at once and takes a while to load: the stop comes before it listens.
    await eventually(async () => pauses(node).length === 1, 'the death to be logged', 100, 20);
    const code = await Promise.race([node.stop(), new Promise((resolve) => setTimeout(() => resolve('still running after 60 s'), 60_000))]);
    if (code !== 0) await node.stop('SIGKILL');
    expect(code).toBe(0);
    expect(node.output()).toContain('keygate stopped');
  }, 120_000);
});
