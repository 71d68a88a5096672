import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import { Migrator } from 'kysely/migration';
import { KeygateError } from '../errors.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';
export type StoreTx = Transaction<Database>;

/** What a change records in the audit log. */
export interface ChangeRecord {
  actor: string;
  action: string;
  target: string;
  detail?: Record<string, unknown>;
}

/** The store: one Kysely handle over SQLite or PostgreSQL, migrated, plus the change/audit discipline. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /**
   * Runs `work` in one transaction that also writes an audit row and bumps the store version; the new version
   * is returned with the result. Callers then announce the change (see src/cluster).
   */
  change<T>(record: ChangeRecord, at: number, work: (tx: StoreTx) => Promise<T>): Promise<{ result: T; version: number }>;
  version(): Promise<number>;
  close(): Promise<void>;
}


/** A URL safe to print: the password, if any, replaced. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Opens the store named by `url` (`sqlite:<file>` or `postgres://…`) and runs every pending migration.
 * Fails with `store_unavailable` naming the store (never its password) when it cannot be reached.
 */
export async function openStore(url: string): Promise<Store> {
  const dialect: Dialect = url.startsWith('sqlite:') ? 'sqlite' : 'postgres';
  let db: Kysely<Database>;
  try {
    if (dialect === 'sqlite') {
      const file = url.slice('sqlite:'.length);
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      // Each driver is loaded only for the store it serves, to keep the other out of memory.
      const { default: SQLite } = await import('better-sqlite3');
      const database = new SQLite(file);
      database.pragma('journal_mode = WAL');
      // In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash cannot corrupt the store, though a
      // power loss may forget the last commits. Usage records and config changes are written that often.
      database.pragma('synchronous = NORMAL');
      database.pragma('busy_timeout = 5000');
      database.pragma('foreign_keys = ON');
      db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
    } else {
      const { default: pg } = await import('pg');
      // bigint columns hold millisecond times and counters, all well inside Number's safe range.
      pg.types.setTypeParser(20, (value: string) => Number(value));
      const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 });
      // An idle client that loses its server must not crash the process; the next query reports it.
      pool.on('error', () => undefined);
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      await sql`select 1`.execute(db);
    }
  } catch (error) {
    throw new KeygateError('store_unavailable', `cannot open the store at ${redactDatabaseUrl(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  await migrate(db, dialect, url);
  return createStore(db, dialect);
}

async function migrate(db: Kysely<Database>, dialect: Dialect, url: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableName: 'keygate_migrations', migrationLockTableName: 'keygate_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    await db.destroy();
    throw new KeygateError('store_unavailable', `migration ${failed} failed on ${redactDatabaseUrl(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function createStore(db: Kysely<Database>, dialect: Dialect): Store {
  return {
    db,
    dialect,
    async change(record, at, work) {
      return db.transaction().execute(async (tx) => {
        // Write first: the version row is the store's change lock. Every change serializes on it, and on SQLite a
        // transaction that begins with a write never works from a snapshot another process has since replaced.
        const row = await tx
          .updateTable('store_version')
          .set((eb) => ({ version: eb('version', '+', 1) }))
          .where('id', '=', 1)
          .returning('version')
          .executeTakeFirstOrThrow();
        const result = await work(tx);
        await tx
          .insertInto('audit_log')
          .values({
            at,
            actor: record.actor,
            action: record.action,
            target: record.target,
            detail: record.detail ? JSON.stringify(record.detail) : null,
          })
          .execute();
        return { result, version: Number(row.version) };
      });
    },
    async version() {
      const row = await db.selectFrom('store_version').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
      return Number(row.version);
    },
    async close() {
      await db.destroy();
    },
  };
}
