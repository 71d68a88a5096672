import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openStore, type Store } from '../src/store/index.js';

/**
 * The stores every store-backed test runs against: a real SQLite file, and a real PostgreSQL when one answers
 * (TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test). Without PostgreSQL its tests are
 * skipped with a visible line; in CI (CI=true) a missing PostgreSQL fails the run instead.
 */
export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgresAvailable: boolean = await postgresAnswers();
if (!postgresAvailable) {
  if (process.env.CI === 'true') throw new Error(`PostgreSQL does not answer at ${POSTGRES_ADMIN_URL}, and CI=true requires the PostgreSQL tests to run`);
  console.warn(`SKIPPING PostgreSQL store tests: no PostgreSQL answers at ${POSTGRES_ADMIN_URL}`);
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A new, empty database: a SQLite file in a temporary folder, or a fresh PostgreSQL database, by default with the
 * server's collation; `language` gives it ICU's collation of that language (`en-US`, a common default on managed
 * servers), which orders text otherwise than code units do.
 */
export async function createTestDatabase(kind: 'sqlite' | 'postgres', { language }: { language?: 'en-US' } = {}): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'keygate-db-'));
    return { url: `sqlite:${join(dir, 'keygate.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `keygate_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(language ? `create database ${name} template template0 encoding 'UTF8' locale_provider icu icu_locale '${language}' locale 'C.UTF-8'` : `create database ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** The store kinds to run a suite against: `describe.each(STORE_KINDS)`. */
export const STORE_KINDS: Array<'sqlite' | 'postgres'> = postgresAvailable ? ['sqlite', 'postgres'] : ['sqlite'];

/**
 * Two handles on one new test database of `kind`, as two workers or two nodes hold them: opened before the suite's
 * tests (handed to `use`), closed and the database dropped after them. Call it inside a `describe`.
 */
export function onTwoStoreHandles(kind: 'sqlite' | 'postgres', use: (first: Store, second: Store) => void): void {
  let database: TestDatabase | undefined;
  let handles: Store[] = [];
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    handles = [await openStore(database.url), await openStore(database.url)];
    use(handles[0]!, handles[1]!);
  });
  afterAll(async () => {
    for (const handle of handles) await handle.close();
    await database?.drop();
  });
}
