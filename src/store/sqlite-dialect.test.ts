import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { KeygateSqliteDialect } from './sqlite-dialect.js';

describe('migrations on SQLite', () => {
  it('leave nothing behind when one fails midway: the whole upgrade is one transaction', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keygate-sqlite-ddl-')), 'store.db');
    const db = new Kysely<unknown>({ dialect: new KeygateSqliteDialect({ database: new Database(file) }) });
    const migrations: Record<string, Migration> = {
      '0001_first': { up: async (tx) => void (await tx.schema.createTable('first').addColumn('id', 'integer').execute()) },
      '0002_half_done': {
        async up(tx) {
          await tx.schema.createTable('rebuilt').addColumn('id', 'integer').execute();
          await tx.schema.dropTable('first').execute();
          throw new Error('the process died here');
        },
      },
    };
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const { error } = await migrator.migrateToLatest();
    expect((error as Error).message).toBe('the process died here');
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name in ('first', 'rebuilt')`.execute(db);
    expect(tables.rows).toEqual([]);
    const ran = await sql<{ n: number }>`select count(*) as n from kysely_migration`.execute(db);
    expect(ran.rows[0]!.n).toBe(0);
    // Once the cause is gone, the same upgrade runs from the start.
    delete migrations['0002_half_done'];
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    await db.destroy();
  });
});
