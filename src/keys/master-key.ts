import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/index.js';
import { masterKeyOpens, sealMasterKeyCheck } from './seal.js';

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

export interface MasterKey {
  key: Uint8Array;
  /** Where it came from, for the start log: never the key itself. */
  source: 'environment' | 'file' | 'generated';
  file?: string;
}

const CHECK_NAME = 'master_key_check';

function decode(text: string, origin: string): Uint8Array {
  const trimmed = text.trim();
  const key = /^[A-Za-z0-9_-]{43}$/.test(trimmed) ? Buffer.from(trimmed, 'base64url') : undefined;
  if (!key || key.length !== 32) {
    throw new MasterKeyError(`${origin} must be 32 random bytes in base64url (43 characters); generate one with "keygate master-key"`);
  }
  return new Uint8Array(key);
}

/** A fresh master key in the form KEYGATE_MASTER_KEY takes. */
export function newMasterKeyText(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Finds the master key (KEYGATE_MASTER_KEY, else `<dataDir>/master.key`, else a new one written there with
 * owner-only permissions) and proves it opens this store. A store that already holds keys is never given a new
 * master key: a missing or wrong one stops the start, and nothing in the store is touched.
 */
export async function loadMasterKey(store: Store, dataDir: string, fromEnv: string | undefined): Promise<MasterKey> {
  const file = join(dataDir, 'master.key');
  const check = await store.db.selectFrom('meta').select('value').where('name', '=', CHECK_NAME).executeTakeFirst();

  let master: MasterKey;
  if (fromEnv !== undefined) {
    master = { key: decode(fromEnv, 'KEYGATE_MASTER_KEY'), source: 'environment' };
  } else if (fileExists(file)) {
    master = { key: decode(readFileSync(file, 'utf8'), file), source: 'file', file };
  } else if (check) {
    throw new MasterKeyError(`the store holds keys sealed under a master key, but KEYGATE_MASTER_KEY is not set and ${file} does not exist`);
  } else {
    const text = newMasterKeyText();
    writeFileSync(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
    master = { key: decode(text, file), source: 'generated', file };
  }

  if (check) {
    if (!(await masterKeyOpens(master.key, check.value))) {
      const from = master.source === 'environment' ? 'KEYGATE_MASTER_KEY' : master.file;
      throw new MasterKeyError(`the master key from ${from} is not the one this store's keys are sealed under; nothing was changed`);
    }
  } else {
    const value = await sealMasterKeyCheck(master.key);
    // Two nodes starting on one new store race here; the loser must agree with the winner's key.
    await store.db.insertInto('meta').values({ name: CHECK_NAME, value }).onConflict((oc) => oc.column('name').doNothing()).execute();
    const stored = await store.db.selectFrom('meta').select('value').where('name', '=', CHECK_NAME).executeTakeFirstOrThrow();
    if (!(await masterKeyOpens(master.key, stored.value))) {
      throw new MasterKeyError('another node initialised this store with a different master key; use the same KEYGATE_MASTER_KEY on every node');
    }
  }
  return master;
}

function fileExists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
