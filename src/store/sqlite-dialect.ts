import { SqliteAdapter, SqliteDialect, type DialectAdapter } from 'kysely';

/** SQLite's adapter as Kysely's, except that it says what SQLite does: DDL takes part in transactions. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * Kysely's SQLite dialect with migrations run in one transaction. Kysely's own adapter says SQLite has no
 * transactional DDL, so its migrator ran each statement on its own: a start killed mid-upgrade (between 0004's
 * drop of `routes` and its rename of `routes_next`, say) left half a migration behind, and every later start
 * failed on a table that already existed. SQLite rolls back CREATE, DROP and ALTER like any other statement.
 */
export class KeygateSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
