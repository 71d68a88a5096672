import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresAvailable, type TestDatabase } from './databases.js';
import { eventually, runKeygate, startKeygate, tempDataDir, type RunningKeygate } from './keygate-process.js';

const running: RunningKeygate[] = [];
const databases: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(running.map((k) => k.stop('SIGKILL')));
  await Promise.all(databases.map((d) => d.drop()));
});

async function start(env: Record<string, string> = {}): Promise<RunningKeygate> {
  const node = await startKeygate(env);
  running.push(node);
  return node;
}

const token = (node: RunningKeygate) => readFileSync(join(node.dataDir, 'admin-token'), 'utf8').trim();
const fileMode = (path: string) => statSync(path).mode & 0o777;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('a first start on a fresh data directory', () => {
  let node: RunningKeygate;
  it('starts and publishes an ES256 and an RS256 signing key and an ECDH-ES P-256 encryption key', async () => {
    node = await start();
    const jwks = (await (await fetch(`${node.proxyUrl}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
    expect(jwks.keys.map((k) => `${k.alg}/${k.use}/${k.crv ?? k.kty}`).sort()).toEqual(['ECDH-ES/enc/P-256', 'ES256/sig/P-256', 'RS256/sig/RSA']);
  });

  it('writes the admin token and the master key with owner-only permissions, and names the token file in the log', () => {
    expect(fileMode(join(node.dataDir, 'admin-token'))).toBe(0o600);
    expect(fileMode(join(node.dataDir, 'master.key'))).toBe(0o600);
    expect(node.output()).toContain(`admin API token written to ${join(node.dataDir, 'admin-token')}`);
    expect(node.output()).not.toContain(token(node));
    expect(node.output()).not.toContain(readFileSync(join(node.dataDir, 'master.key'), 'utf8').trim());
  });

  it('refuses admin calls without the token and accepts them with it', async () => {
    const without = await fetch(`${node.adminUrl}/keys`);
    expect(without.status).toBe(401);
    expect(without.headers.get('www-authenticate')).toContain('Bearer');
    expect(((await without.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const wrong = await fetch(`${node.adminUrl}/keys`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${node.adminUrl}/keys`, { headers: { authorization: `Bearer ${token(node)}` } });
    expect(ok.status).toBe(200);
  });

  it('reports the same snapshot version on both ports', async () => {
    const proxy = (await (await fetch(`${node.proxyUrl}/status`)).json()) as { snapshotVersion: number };
    const admin = (await (await fetch(`${node.adminUrl}/status`)).json()) as { snapshotVersion: number };
    expect(proxy.snapshotVersion).toBeGreaterThan(1);
    expect(admin.snapshotVersion).toBe(proxy.snapshotVersion);
  });

  it('serves an OpenAPI 3.1 document that describes the key routes and their schemas', async () => {
    const doc = (await (await fetch(`${node.adminUrl}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/keys', '/keys/import', '/keys/rotate', '/keys/{kid}/revoke', '/keys/{kid}/public', '/jose/sign', '/jose/verify']));
    expect(doc.paths['/keys']).toHaveProperty('post');
    expect(doc.components.schemas).toHaveProperty('KeyInfo');
  });

  it('keeps every key across a restart with the same data directory', async () => {
    const before = (await (await fetch(`${node.proxyUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(await node.stop()).toBe(0);
    const again = await start({ KEYGATE_DATA_DIR: node.dataDir });
    const after = (await (await fetch(`${again.proxyUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(after.keys.map((k) => k.kid).sort()).toEqual(before.keys.map((k) => k.kid).sort());
    expect(again.output()).toContain('admin API token read from');
    await again.stop();
  });
});

describe('a start with bad settings stops with one line naming the setting', () => {
  it.each([
    [{ KEYGATE_PROXY_PORT: 'eighty' }, 'KEYGATE_PROXY_PORT must be a port number'],
    [{ KEYGATE_ADMIN_PORT: '70000' }, 'KEYGATE_ADMIN_PORT must be a port number'],
    [{ KEYGATE_PROXY_PORT: '18555', KEYGATE_ADMIN_PORT: '18555' }, 'KEYGATE_PROXY_PORT and KEYGATE_ADMIN_PORT must differ'],
    [{ KEYGATE_NO_SUCH_THING: '1' }, 'unknown setting KEYGATE_NO_SUCH_THING'],
    [{ KEYGATE_KEY_ROTATION_INTERVAL: 'monthly' }, 'KEYGATE_KEY_ROTATION_INTERVAL must be a duration'],
    [{ KEYGATE_SIGNING_ALG: 'HS256' }, 'KEYGATE_SIGNING_ALG must be one of'],
    [{ KEYGATE_JWKS_MAX_AGE: '2d' }, 'KEYGATE_JWKS_MAX_AGE must be shorter than KEYGATE_KEY_PUBLISH_LEAD'],
    [{ KEYGATE_DATABASE_URL: 'mysql://x' }, 'KEYGATE_DATABASE_URL must start with'],
  ])('%o', async (env, message) => {
    const result = await runKeygate(['start'], { KEYGATE_DATA_DIR: tempDataDir(), ...env });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(message);
  });

  it('an unknown flag', async () => {
    const result = await runKeygate(['start', '--proxy-prot', '9000'], { KEYGATE_DATA_DIR: tempDataDir() });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--proxy-prot');
  });

  it('a data directory that cannot be written', async () => {
    const file = join(tempDataDir(), '..', 'a-file');
    writeFileSync(file, 'not a directory');
    const result = await runKeygate(['start'], { KEYGATE_DATA_DIR: join(file, 'data') });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`data directory ${join(file, 'data')} is not writable`);
  });

  it('a port already taken', async () => {
    const node = await start();
    const port = new URL(node.proxyUrl).port;
    const result = await runKeygate(['start', '--proxy-port', port, '--proxy-host', '127.0.0.1', '--admin-port', '0'], { KEYGATE_DATA_DIR: tempDataDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`KEYGATE_PROXY_PORT: 127.0.0.1:${port} is already in use`);
    await node.stop();
  });
});

describe('the master key', () => {
  it('a wrong master key stops the start, and no key material is rewritten', async () => {
    const node = await start();
    await node.stop();
    const db = join(node.dataDir, 'keygate.db');
    const before = sha256(db);
    const masterBefore = sha256(join(node.dataDir, 'master.key'));
    const wrong = (await runKeygate(['master-key'])).stdout.trim();
    const result = await runKeygate(['start'], { KEYGATE_DATA_DIR: node.dataDir, KEYGATE_MASTER_KEY: wrong, KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("is not the one this store's keys are sealed under; nothing was changed");
    expect(result.stderr).not.toContain(wrong);
    expect(sha256(db)).toBe(before);
    expect(sha256(join(node.dataDir, 'master.key'))).toBe(masterBefore);
  });

  it('a store that holds keys is never given a new master key when the old one is missing', async () => {
    const node = await start();
    await node.stop();
    const masterFile = join(node.dataDir, 'master.key');
    const saved = readFileSync(masterFile);
    writeFileSync(masterFile, '');
    const { rmSync } = await import('node:fs');
    rmSync(masterFile);
    const result = await runKeygate(['start'], { KEYGATE_DATA_DIR: node.dataDir, KEYGATE_PROXY_PORT: '0', KEYGATE_ADMIN_PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('KEYGATE_MASTER_KEY is not set');
    writeFileSync(masterFile, saved, { mode: 0o600 });
    const again = await start({ KEYGATE_DATA_DIR: node.dataDir });
    expect((await fetch(`${again.proxyUrl}/.well-known/jwks.json`)).status).toBe(200);
    await again.stop();
  });

  it('a master key from KEYGATE_MASTER_KEY is used and no master.key file is written', async () => {
    const key = (await runKeygate(['master-key'])).stdout.trim();
    const node = await start({ KEYGATE_MASTER_KEY: key });
    expect(() => statSync(join(node.dataDir, 'master.key'))).toThrow();
    await node.stop();
    const again = await start({ KEYGATE_DATA_DIR: node.dataDir, KEYGATE_MASTER_KEY: key });
    expect((await fetch(`${again.proxyUrl}/.well-known/jwks.json`)).status).toBe(200);
    await again.stop();
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM finishes a request already in flight, then exits 0', async () => {
    const node = await start();
    const url = new URL(`${node.adminUrl}/keys`);
    const body = JSON.stringify({ alg: 'ES384', state: 'next' });
    let exit: Promise<number | null> | undefined;
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${token(node)}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      // Half the body now, the rest after SIGTERM: the request is in flight when the signal arrives.
      req.write(body.slice(0, 10));
      setTimeout(() => {
        exit = node.stop('SIGTERM');
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });
    const result = await response;
    expect(result.status).toBe(201);
    expect(JSON.parse(result.text)).toMatchObject({ alg: 'ES384', state: 'next' });
    expect(await exit).toBe(0);
    expect(node.output()).toContain('keygate stopped');
  });
});

describe.runIf(postgresAvailable)('on PostgreSQL (KEYGATE_DATABASE_URL)', () => {
  it('two nodes sharing one store serve the same keys and converge after a revocation on one of them', async () => {
    const db = await createTestDatabase('postgres');
    databases.push(db);
    const master = (await runKeygate(['master-key'])).stdout.trim();
    const env = { KEYGATE_DATABASE_URL: db.url, KEYGATE_MASTER_KEY: master, KEYGATE_ADMIN_TOKEN: 'test-admin-token', KEYGATE_SYNC_INTERVAL: '200ms' };
    const a = await start(env);
    const b = await start(env);
    const jwks = async (n: RunningKeygate) => (await (await fetch(`${n.proxyUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; alg: string }> };
    const kidsA = (await jwks(a)).keys.map((k) => k.kid).sort();
    expect(kidsA).toHaveLength(3);
    expect((await jwks(b)).keys.map((k) => k.kid).sort()).toEqual(kidsA);

    const es256 = (await jwks(a)).keys.find((k) => k.alg === 'ES256')!;
    const revoked = await fetch(`${a.adminUrl}/keys/${es256.kid}/revoke`, { method: 'POST', headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' }, body: '{}' });
    expect(revoked.status).toBe(200);
    expect((await jwks(a)).keys.map((k) => k.kid)).not.toContain(es256.kid);
    const version = ((await (await fetch(`${a.proxyUrl}/status`)).json()) as { snapshotVersion: number }).snapshotVersion;
    await eventually(async () => ((await (await fetch(`${b.proxyUrl}/status`)).json()) as { snapshotVersion: number }).snapshotVersion >= version, 'node B to serve the new snapshot');
    const onB = (await jwks(b)).keys;
    expect(onB.map((k) => k.kid)).not.toContain(es256.kid);
    expect(onB.filter((k) => k.alg === 'ES256')).toHaveLength(1);
    await Promise.all([a.stop(), b.stop()]);
  });
});
