import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '../../test/databases.js';
import { openStore, type Store } from './store.js';

describe.runIf(postgresAvailable)('a PostgreSQL store whose server ends a connection the store holds between two statements', () => {
  let database: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    store = await openStore(database.url);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  it('reports it to the next statement on that connection, and goes on serving on another, rather than crash the process', async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const next = await store.db.connection().execute(async (held) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(held);
        // The server ends the connection while no statement is under way on it (FATAL 57P01, as a dropped database does).
        await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        return sql`select 1`.execute(held).then(() => 'answered', (error: Error) => error.message);
      });
      expect(next).not.toBe('answered');
      expect(await store.version()).toBeGreaterThanOrEqual(0);
    } finally {
      await admin.end();
    }
  });
});
