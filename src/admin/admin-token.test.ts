import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAdminToken } from './admin-token.js';

const dataDir = () => mkdtempSync(join(tmpdir(), 'keygate-admin-token-'));

describe('the admin token', () => {
  it('replaces an empty token file with a fresh token, so that no blank token lets anyone in', () => {
    const dir = dataDir();
    // Emptied by hand to rotate the token, and readable by others: the new token must not be.
    writeFileSync(join(dir, 'admin-token'), ' \n', { mode: 0o644 });
    const token = loadAdminToken(dir, undefined);
    expect(token.generated).toBe(true);
    const written = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    expect(written).toMatch(/^kg_admin_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, 'admin-token')).mode & 0o777).toBe(0o600);
    for (const presented of ['', ' ', '\u00a0', '\n']) expect(token.matches(presented)).toBe(false);
    expect(token.matches(written)).toBe(true);
  });

  it('keeps a token file that holds a token', () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'admin-token'), 'kg_admin_kept\n', { mode: 0o600 });
    const token = loadAdminToken(dir, undefined);
    expect(token.generated).toBe(false);
    expect(token.matches('kg_admin_kept')).toBe(true);
  });

  it('trims KEYGATE_ADMIN_TOKEN as it trims the presented token, and refuses one that is blank', () => {
    const token = loadAdminToken(dataDir(), 'kg_admin_from_env\n');
    expect(token.matches('kg_admin_from_env')).toBe(true);
    expect(token.matches('kg_admin_from_env ')).toBe(true);
    expect(token.matches('kg_admin_other')).toBe(false);
    expect(() => loadAdminToken(dataDir(), ' \n')).toThrow('KEYGATE_ADMIN_TOKEN must not be empty');
  });
});
