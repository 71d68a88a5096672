import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CompiledQuery, Kysely, PostgresDialect, sql, type Insertable, type Transaction } from 'kysely';
import { KeygateSqliteDialect } from './sqlite-dialect.js';
import { Migrator } from 'kysely/migration';
import { KeygateError } from '../errors.js';
import { DAY_MS, migrationProvider } from './migrations.js';
import type { AiUsageTable, Database } from './tables.js';
import { UsageWriterThread, type DailySum, type UsageWriterSql } from './usage-writer.js';
import { BACKSTOP_PAGES, WalCheckpointer } from './wal-checkpointer.js';

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
   * Runs `work` in one transaction that also writes an audit row (one per record, in order, for a change of several
   * things at once) and bumps the store version; the new version is returned with the result. Callers then announce
   * the change (see src/cluster).
   */
  change<T>(record: ChangeRecord | readonly ChangeRecord[], at: number, work: (tx: StoreTx) => Promise<T>): Promise<{ result: T; version: number }>;
  version(): Promise<number>;
  /**
   * Appends AI usage rows, all in one transaction, with constant SQL text (no query building, no re-preparing):
   * the data plane records one row per call. Resolves to the largest id given to them; their costs are added to
   * ai_spend_daily in the same transaction.
   */
  appendUsage(rows: readonly Insertable<AiUsageTable>[]): Promise<number>;
  close(): Promise<void>;
}

type UsageRow = Insertable<AiUsageTable>;
/** Appends the rows, all or none, and resolves to the largest id given to them (0 for no rows). */
type AppendUsage = (rows: readonly UsageRow[]) => Promise<number>;

/** Every ai_usage column but the generated id, in statement order, with its PostgreSQL type (see migrations.ts). */
const USAGE_COLUMN_TYPES = {
  at: 'bigint',
  request_id: 'varchar',
  app: 'varchar',
  team: 'varchar',
  route: 'varchar',
  provider: 'varchar',
  model: 'varchar',
  input_tokens: 'integer',
  output_tokens: 'integer',
  cached_tokens: 'integer',
  estimated: 'integer',
  cost_usd: 'double precision',
  latency_ms: 'integer',
  ttft_ms: 'integer',
  status: 'integer',
  cache_hit: 'integer',
  record_key: 'varchar',
  credential: 'varchar',
} as const satisfies Record<Exclude<keyof AiUsageTable, 'id'>, string>;
const USAGE_COLUMNS = Object.keys(USAGE_COLUMN_TYPES) as Array<keyof typeof USAGE_COLUMN_TYPES>;
const USAGE_COLUMN_LIST = USAGE_COLUMNS.join(', ');


/** Query parameters of a PostgreSQL URL that carry secrets (libpq's `password`, `sslpassword`). */
/**
 * A URL safe to print: a password in the authority (`user:pw@`, `:pw@`) or in a query parameter (`?password=`,
 * `?sslpassword=`) replaced by `***`, and any fragment left out. Read from the raw text, not through a URL parser: a
 * password holding `/`, `?` or `#` unescaped makes a parser read the host's end early (`postgres://u:1/pw@host`
 * parses as host `u`, port 1 and a path), and the password would pass as a path.
 */
export function redactDatabaseUrl(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  const start = url.indexOf('//');
  if (start < 0) return '***';
  const head = url.slice(0, start + 2);
  let rest = url.slice(start + 2);
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    rest = `${colon >= 0 ? `${userinfo.slice(0, colon)}:***` : userinfo}@${rest.slice(at + 1)}`;
  }
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  return head + rest.replace(/([?&][^=&]*password[^=&]*=)[^&]*/gi, '$1***');
}

export interface StoreOptions {
  /**
   * Whether this process runs the SQLite file's checkpoint thread (default yes). Worker processes sharing the
   * file leave it to the primary's: one thread checkpoints for every connection.
   */
  checkpoints?: boolean;
  /** Told when a SQLite file's checkpoint thread fails; the store's own connection then checkpoints instead. */
  onCheckpointError?: (message: string) => void;
}

/**
 * Opens the store named by `url` (`sqlite:<file>` or `postgres://…`) and runs every pending migration.
 * Fails with `store_unavailable` naming the store (never its password) when it cannot be reached.
 */
export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const dialect: Dialect = url.startsWith('sqlite:') ? 'sqlite' : 'postgres';
  let db: Kysely<Database>;
  let appendUsage: AppendUsage;
  let file: string | undefined;
  let usageWriter: UsageWriterThread | undefined;
  try {
    if (dialect === 'sqlite') {
      file = url.slice('sqlite:'.length);
      // Usage rows are written by a thread with a connection of its own, which a database in memory cannot share.
      if (file === ':memory:' || file === '' || file.startsWith('file:')) throw new Error('the SQLite store must be a file path (usage records are written by a second connection)');
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      // Each driver is loaded only for the store it serves, to keep the other out of memory.
      const { default: SQLite } = await import('better-sqlite3');
      const database = new SQLite(file);
      database.pragma('journal_mode = WAL');
      // In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash cannot corrupt the store, though a
      // power loss may forget the last commits. Usage records and config changes are written that often.
      database.pragma('synchronous = NORMAL');
      database.pragma('busy_timeout = 5000');
      database.pragma('foreign_keys = ON');
      // Checkpoints run on a thread of their own (WalCheckpointer); this connection only if that thread stops.
      database.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      db = new Kysely<Database>({ dialect: new KeygateSqliteDialect({ database }) });
      usageWriter = new UsageWriterThread(file, sqliteUsageSql());
      appendUsage = sqliteAppendUsage(usageWriter);
    } else {
      const { default: pg } = await import('pg');
      // bigint columns hold millisecond times and counters, all well inside Number's safe range.
      pg.types.setTypeParser(20, (value: string) => Number(value));
      const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 });
      // A client that loses its server must not crash the process, idle in the pool or checked out between two
      // statements (the pool listens only to idle ones): the query under way, or the next, reports it.
      pool.on('error', () => undefined);
      pool.on('connect', (client) => client.on('error', () => undefined));
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
      appendUsage = postgresAppendUsage(db);
      await sql`select 1`.execute(db);
    }
  } catch (error) {
    throw new KeygateError('store_unavailable', `cannot open the store at ${redactDatabaseUrl(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  await migrate(db, dialect, url);
  const checkpointer = file === undefined || options.checkpoints === false ? undefined : WalCheckpointer.start(file, { onError: options.onCheckpointError });
  return createStore(db, dialect, appendUsage, [usageWriter, checkpointer]);
}

/** A batch's spend per app and per team per UTC day (AiSpendDailyTable), each key once; calls that cost nothing are left out. */
function dailySpend(rows: readonly UsageRow[]): DailySum[] {
  const sums = new Map<string, DailySum>();
  const add = (scope: 'app' | 'team', name: string | null | undefined, day: number, usd: number) => {
    if (!name) return;
    const key = `${scope}\n${name}\n${day}`;
    const sum = sums.get(key);
    if (sum) sum.usd += usd;
    else sums.set(key, { scope, name, day, usd });
  };
  for (const row of rows) {
    const usd = Number(row.cost_usd);
    if (!(usd > 0)) continue;
    const at = Number(row.at);
    const day = at - (at % DAY_MS);
    add('app', row.app, day, usd);
    add('team', row.team, day, usd);
  }
  return [...sums.values()];
}

/** Adds to a day's spend, or starts it (migration 0007's trigger says the same on PostgreSQL). */
const ADD_DAILY_SPEND = 'ON CONFLICT (scope, name, day) DO UPDATE SET cost_usd = ai_spend_daily.cost_usd + excluded.cost_usd';

/** Rows per multi-row INSERT: a fifth cheaper per row than one statement per row; more rows add little. */
const SQLITE_ROWS_PER_INSERT = 10;

/**
 * Appends on the usage writer's thread (see UsageWriterThread): the same SQL as ever, the rows and their daily
 * sums in one transaction. Each value by name, in USAGE_COLUMNS order: a quarter cheaper per row than mapping the
 * column list.
 */
function sqliteAppendUsage(writer: UsageWriterThread): AppendUsage {
  return async (rows) => {
    if (rows.length === 0) return 0;
    // Grown by push, not made with `new Array(n)`: an array made with holes stays "holey" when filled, and the
    // structured clone that hands it to the thread copies a holey array key by key (2.3 times the time, measured).
    const values: unknown[] = [];
    for (const r of rows) {
      values.push(
        r.at, r.request_id, r.app ?? null, r.team ?? null, r.route, r.provider ?? null, r.model, r.input_tokens, r.output_tokens,
        r.cached_tokens, r.estimated, r.cost_usd, r.latency_ms, r.ttft_ms ?? null, r.status, r.cache_hit, r.record_key ?? null,
        r.credential ?? null,
      );
    }
    return writer.append(values, dailySpend(rows));
  };
}

/** The SQL of SQLite's usage appends, from the column list. */
function sqliteUsageSql(): UsageWriterSql {
  const tuple = `(${USAGE_COLUMNS.map(() => '?').join(', ')})`;
  return {
    width: USAGE_COLUMNS.length,
    rowsPerInsert: SQLITE_ROWS_PER_INSERT,
    insertOne: `INSERT INTO ai_usage (${USAGE_COLUMN_LIST}) VALUES ${tuple}`,
    insertMany: `INSERT INTO ai_usage (${USAGE_COLUMN_LIST}) VALUES ${Array(SQLITE_ROWS_PER_INSERT).fill(tuple).join(', ')}`,
    addDaily: `INSERT INTO ai_spend_daily (scope, name, day, cost_usd) VALUES (?, ?, ?, ?) ${ADD_DAILY_SPEND}`,
  };
}

/**
 * The PostgreSQL advisory lock every node's usage append holds while it inserts (`pg_advisory_xact_lock`). Usage
 * ids then become visible in the order they were given out: a budget read takes the largest id it sees, with the
 * daily sums, as the line between this node's writes it has counted and those it has not, and without the lock a
 * node's rows could commit below an id already seen (not counted until the next read). SQLite's single writer
 * gives that order anyway.
 */
export const USAGE_APPEND_LOCK = 0x6b67_7573;

/**
 * One statement whose text never changes with the batch size: one array per column, zipped back into rows by
 * unnest; in a transaction holding USAGE_APPEND_LOCK. The daily spend is the table trigger's (migration 0007),
 * which also counts rows written by any other writer, a node of an older release among them.
 */
function postgresAppendUsage(db: Kysely<Database>): AppendUsage {
  // A row whose record key is stored already (its batch written again after the commit's answer was lost) is not
  // added twice, nor its spend (the trigger sees the rows added only); the id answered is the largest of the batch's
  // rows, stored now or before (the statement's snapshot sees those committed before it, not its own).
  const keys = `$${USAGE_COLUMNS.indexOf('record_key') + 1}::varchar[]`;
  const text = `WITH appended AS (INSERT INTO ai_usage (${USAGE_COLUMN_LIST}) SELECT * FROM unnest(${USAGE_COLUMNS.map((column, i) => `$${i + 1}::${USAGE_COLUMN_TYPES[column]}[]`).join(', ')}) ON CONFLICT (record_key) DO NOTHING RETURNING id) SELECT GREATEST((SELECT max(id) FROM appended), (SELECT max(id) FROM ai_usage WHERE record_key = ANY(${keys}))) AS id`;
  return async (rows) => {
    if (rows.length === 0) return 0;
    const columns = USAGE_COLUMNS.map((column) => rows.map((row) => row[column] ?? null));
    return db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${USAGE_APPEND_LOCK})`.execute(tx);
      const result = await tx.executeQuery<{ id: number }>(CompiledQuery.raw(text, columns));
      return Number(result.rows[0]!.id);
    });
  };
}

/** Where the store records which migrations ran. */
export const MIGRATION_TABLES = { migrationTableName: 'keygate_migrations', migrationLockTableName: 'keygate_migrations_lock' } as const;

async function migrate(db: Kysely<Database>, dialect: Dialect, url: string): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect), ...MIGRATION_TABLES });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    await db.destroy();
    throw new KeygateError('store_unavailable', `migration ${failed} failed on ${redactDatabaseUrl(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Threads with connections of their own to a SQLite file, closed before the store's: the usage writer, the checkpointer. */
type StoreThread = { stop(): Promise<void> } | undefined;

function createStore(db: Kysely<Database>, dialect: Dialect, appendUsage: AppendUsage, threads: readonly StoreThread[]): Store {
  return {
    db,
    dialect,
    appendUsage,
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
        for (const one of 'action' in record ? [record] : record) {
          await tx
            .insertInto('audit_log')
            .values({
              at,
              actor: one.actor,
              action: one.action,
              target: one.target,
              detail: one.detail ? JSON.stringify(one.detail) : null,
            })
            .execute();
        }
        return { result, version: Number(row.version) };
      });
    },
    async version() {
      const row = await db.selectFrom('store_version').select('version').where('id', '=', 1).executeTakeFirstOrThrow();
      return Number(row.version);
    },
    async close() {
      // The threads' connections first (the usage writer's once its batches are in): the last one to close
      // checkpoints the rest and removes the log.
      for (const thread of threads) await thread?.stop();
      await db.destroy();
    },
  };
}
