import { spawn } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYGATE_BIN, runKeygate, startKeygate, type RunningKeygate } from './keygate-process.js';

describe('keygate keys, against a running node', () => {
  let node: RunningKeygate;
  let env: Record<string, string>;
  const keygate = (...args: string[]) => runKeygate(args, env);

  beforeAll(async () => {
    node = await startKeygate();
    env = { KEYGATE_DATA_DIR: node.dataDir, KEYGATE_ADMIN_URL: node.adminUrl };
  });
  afterAll(async () => {
    await node?.stop();
  });

  const jwksKids = async () => ((await (await fetch(`${node.proxyUrl}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);

  it('list prints a table of the keys with their state', async () => {
    const result = await keygate('keys', 'list');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^KID\s+ALG\s+USE\s+STATE\s+PUBLISHED/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(1, 4).join(' ')).sort()).toEqual(['ECDH-ES enc active', 'ES256 sig active', 'RS256 sig active']);
  });

  it('list --json prints the keys as JSON', async () => {
    const result = await keygate('keys', 'list', '--json', '--use', 'enc');
    expect(JSON.parse(result.stdout)).toEqual([expect.objectContaining({ alg: 'ECDH-ES', use: 'enc', state: 'active' })]);
  });

  it('create publishes a next key, rotate makes it active', async () => {
    const created = await keygate('keys', 'create', '--alg', 'EdDSA');
    expect(created.code).toBe(0);
    const kid = /^created (\S+)\s+EdDSA sig next$/m.exec(created.stdout)?.[1];
    expect(kid).toBeDefined();
    expect(await jwksKids()).toContain(kid);
    const rotated = await keygate('keys', 'rotate', '--alg', 'EdDSA');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain(`activated ${kid}  EdDSA sig active`);
  });

  it('revoke takes the key out of the JWKS', async () => {
    const [kid] = (JSON.parse((await keygate('keys', 'list', '--json', '--alg', 'RS256')).stdout) as Array<{ kid: string }>).map((k) => k.kid);
    const result = await keygate('keys', 'revoke', kid!, '--reason', 'test');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`revoked ${kid}`);
    expect(await jwksKids()).not.toContain(kid);
  });

  it('import reads a PEM file and a JWK Set file, and export gives the public key back', async () => {
    const dir = join(node.dataDir, '..');
    const pemFile = join(dir, 'key.pem');
    writeFileSync(pemFile, generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const fromPem = await keygate('keys', 'import', pemFile, '--alg', 'ES512');
    expect(fromPem.code).toBe(0);
    const kid = /^imported (\S+)\s+ES512 sig next$/m.exec(fromPem.stdout)?.[1];
    expect(kid).toBeDefined();

    const setFile = join(dir, 'set.json');
    const jwk = (curve: string) => ({ ...generateKeyPairSync('ec', { namedCurve: curve }).publicKey.export({ format: 'jwk' }), alg: 'ECDH-ES', use: 'enc' });
    writeFileSync(setFile, JSON.stringify({ keys: [jwk('P-256'), jwk('P-384')] }));
    const fromSet = await keygate('keys', 'import', setFile, '--public');
    expect(fromSet.code).toBe(0);
    expect(fromSet.stdout).toContain(`importing 2 keys of ${setFile}`);
    expect(fromSet.stdout.match(/ECDH-ES enc trusted/g)).toHaveLength(2);

    const exported = await keygate('keys', 'export', kid!, '--format', 'pem');
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    expect(exported.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const asJwk = JSON.parse((await keygate('keys', 'export', kid!)).stdout) as Record<string, string>;
    expect(asJwk).toMatchObject({ kid, kty: 'EC', crv: 'P-521', alg: 'ES512' });
    expect(asJwk).not.toHaveProperty('d');
  });

  it('refuses a JWK Set with --public whole when one of its keys is private: none of them is imported', async () => {
    const setFile = join(node.dataDir, '..', 'mixed-set.json');
    const publicJwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), alg: 'ES256' };
    const privateJwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), alg: 'ES256' };
    writeFileSync(setFile, JSON.stringify({ keys: [publicJwk, privateJwk] }));
    const before = (await keygate('keys', 'list', '--json')).stdout;
    const result = await keygate('keys', 'import', setFile, '--public');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('key 2 of');
    expect(result.stderr).toContain('nothing was imported');
    expect((await keygate('keys', 'list', '--json')).stdout).toBe(before);
  });

  it('imports no key of a JWK Set one of whose keys is already stored', async () => {
    const setFile = join(node.dataDir, '..', 'half-known-set.json');
    const jwk = () => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), alg: 'ES256' });
    const known = jwk();
    writeFileSync(join(node.dataDir, '..', 'known.json'), JSON.stringify(known));
    expect((await keygate('keys', 'import', join(node.dataDir, '..', 'known.json'))).code).toBe(0);
    writeFileSync(setFile, JSON.stringify({ keys: [jwk(), known] }));
    const before = (await keygate('keys', 'list', '--json')).stdout;
    const result = await keygate('keys', 'import', setFile);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('duplicate_kid');
    expect(result.stderr).toContain('key 2 of the set');
    expect((await keygate('keys', 'list', '--json')).stdout).toBe(before);
  });

  it('refuses a --modulus-length that is no number on the command line, with exit code 2', async () => {
    const result = await keygate('keys', 'create', '--alg', 'RS256', '--modulus-length', 'big');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--modulus-length must be a number of bits');
  });

  it('refuses an empty --modulus-length, --crv or --state rather than create a key of the defaults', async () => {
    const before = (await keygate('keys', 'list', '--json')).stdout;
    const empty = await keygate('keys', 'create', '--alg', 'RS256', '--modulus-length', '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--modulus-length must be a number of bits (2048, 3072 or 4096), got ""');
    for (const option of ['--crv', '--state']) {
      const result = await keygate('keys', 'create', '--alg', 'ES256', option, '');
      expect(result.code, option).toBe(1);
      expect(result.stderr, option).toMatch(/^keygate: invalid_request: /);
    }
    expect((await keygate('keys', 'list', '--json')).stdout).toBe(before);
  }, 60_000);

  it('takes a kid that begins with a dash as a kid, as one in 64 thumbprints does', async () => {
    let privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    while (!(await calculateJwkThumbprint(createPublicKey(privateKey).export({ format: 'jwk' }) as JWK)).startsWith('-')) {
      privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    }
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const pemFile = join(node.dataDir, '..', 'dash.pem');
    writeFileSync(pemFile, pem);
    const imported = await keygate('keys', 'import', pemFile, '--alg', 'ES256');
    const kid = /^imported (\S+)\s+ES256 sig next$/m.exec(imported.stdout)?.[1];
    expect(kid).toMatch(/^-/);

    const shown = await keygate('keys', 'show', kid!);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(shown.stdout)).toMatchObject({ kid, alg: 'ES256' });
    expect((await keygate('keys', 'export', kid!, '--format', 'pem')).stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const revoked = await keygate('keys', 'revoke', kid!, '--reason', '-rotated early');
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(revoked.stdout).toContain(`revoked ${kid}`);
  });

  it('refuses a mistyped option with one dash, rather than take it for an argument and go on', async () => {
    const result = await keygate('keys', 'export', 'some-kid', '-format', 'pem');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unexpected argument "-format"');
  });

  it('reports an admin API error as one line with its code, and exits 1', async () => {
    const result = await keygate('keys', 'revoke', 'no-such-kid');
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('keygate: key_not_found: no key has kid "no-such-kid"');
  });

  it('says how to give the token when there is none', async () => {
    const result = await runKeygate(['keys', 'list'], { KEYGATE_DATA_DIR: join(node.dataDir, 'nowhere'), KEYGATE_ADMIN_URL: node.adminUrl });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('set KEYGATE_ADMIN_TOKEN');
  });

  it('says when no node answers at the admin URL', async () => {
    const result = await runKeygate(['keys', 'list'], { KEYGATE_ADMIN_TOKEN: 'x', KEYGATE_ADMIN_URL: 'http://127.0.0.1:9' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach the admin API at http://127.0.0.1:9');
  });

  it('refuses an unknown subcommand with usage and exit code 2', async () => {
    const result = await keygate('keys', 'frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "keygate keys frobnicate"');
  });
});

describe('the keygate command', () => {
  // What the kernel runs for `keygate …`: its first line, `#!/usr/bin/env -S node OPTIONS`.
  const shebang = readFileSync(KEYGATE_BIN, 'utf8').split('\n', 1)[0] ?? '';
  const options = /^#!\/usr\/bin\/env -S node((?: --\S+)*)$/.exec(shebang)?.[1]?.trim() ?? '';

  it('runs Node with the V8 options that npm start gives it, and Node accepts them', async () => {
    const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(options).toContain('--liftoff-only');
    expect(options).toContain('--no-memory-reducer');
    expect(scripts.start).toBe(`node ${options} dist/cli/main.js start`);
    const result = await new Promise<{ code: number | null; stdout: string }>((done) => {
      const child = spawn('/usr/bin/env', [`-S`, `node ${options}`, KEYGATE_BIN, 'version'], {
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('close', (code) => done({ code, stdout }));
    });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('keygate <command> --help', () => {
  it.each([
    [['keys', '--help'], 'keygate keys — manage the key service'],
    [['keys', 'create', '--alg', 'ES256', '-h'], 'keygate keys — manage the key service'],
    [['ai', 'usage', '--help'], "keygate ai — the AI gateway's usage"],
    [['apply', '--help'], 'keygate apply <file.yaml>'],
    [['help', 'ai'], "keygate ai — the AI gateway's usage"],
    [['-h'], 'an AI & API gateway built around a JSON Web Key service'],
  ])("prints the command's usage for keygate %j and exits 0", async (args, usage) => {
    const result = await runKeygate(args, {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(usage);
    expect(result.stderr).toBe('');
  });

  it('prints the start flags rather than start a node', async () => {
    const result = await runKeygate(['start', '--help', '--proxy-port', '1'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Start flags: ');
  });
});
