import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
  let token = fromEnv;
  let file: string | undefined;
  let generated = false;
  if (token === undefined) {
    file = join(dataDir, 'admin-token');
    if (isFile(file)) {
      token = readFileSync(file, 'utf8').trim();
    } else {
      token = `kg_admin_${randomBytes(32).toString('base64url')}`;
      writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
      generated = true;
    }
  }
  const expected = digest(token);
  return { matches: (presented) => timingSafeEqual(digest(presented), expected), file, generated };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
