import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SettingsError } from '../config/settings.js';

export interface AdminToken {
  /** Constant-time check of a presented token. */
  matches(presented: string): boolean;
  /** Where a generated token was written, for the start log; undefined when it came from KEYGATE_ADMIN_TOKEN. */
  file?: string;
  generated: boolean;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The admin API's bearer token: KEYGATE_ADMIN_TOKEN, else `<dataDir>/admin-token`, else a new random token
 * written there once with owner-only permissions. Only its digest is kept in memory.
 */
export function loadAdminToken(dataDir: string, fromEnv: string | undefined): AdminToken {
  // Trimmed like the presented token is: a trailing newline from `$(cat file)` must not lock the admin out.
  let token = fromEnv?.trim();
  let file: string | undefined;
  let generated = false;
  if (fromEnv !== undefined && token === '') throw new SettingsError('KEYGATE_ADMIN_TOKEN must not be empty');
  if (token === undefined) {
    file = join(dataDir, 'admin-token');
    token = isFile(file) ? readFileSync(file, 'utf8').trim() : '';
    // An empty file (a start that died between creating and writing it, or one emptied to rotate the token) is
    // no token: a fresh one replaces it. Kept, it would let in anyone whose token trims to nothing. It is removed
    // and created anew, owner-only, exclusively: of two processes starting at once, one writes and both read it.
    if (token === '') {
      if (isFile(file)) rmSync(file, { force: true });
      const fresh = `kg_admin_${randomBytes(32).toString('base64url')}`;
      try {
        writeFileSync(file, `${fresh}\n`, { mode: 0o600, flag: 'wx' });
        token = fresh;
        generated = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        token = readFileSync(file, 'utf8').trim();
        if (token === '') throw new SettingsError(`${file} is being written by another process; start again`);
      }
    }
  }
  const expected = digest(token);
  return { matches: (presented) => presented.trim() !== '' && timingSafeEqual(digest(presented.trim()), expected), file, generated };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
