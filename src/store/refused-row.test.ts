import { describe, expect, it } from 'vitest';
import { isRefusedRow, UNBINDABLE_VALUE } from './refused-row.js';

const failure = (code: unknown) => Object.assign(new Error('write failed'), { code });

describe('isRefusedRow', () => {
  it.each(['SQLITE_CONSTRAINT', 'SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_CONSTRAINT_CHECK', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG', 'SQLITE_RANGE', UNBINDABLE_VALUE])(
    'says a SQLite write refused with %s was refused for what a row holds',
    (code) => expect(isRefusedRow(failure(code))).toBe(true),
  );

  it.each(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_READONLY', 'SQLITE_ERROR', 'SQLITE_CONSTRAINTS'])(
    'says a SQLite write that failed with %s failed for the store',
    (code) => expect(isRefusedRow(failure(code))).toBe(false),
  );

  it.each(['22021', '22P02', '22003', '22001', '23502', '23505', '23514', '54000'])(
    'says a PostgreSQL write refused with SQLSTATE %s was refused for what a row holds',
    (code) => expect(isRefusedRow(failure(code))).toBe(true),
  );

  it.each(['08006', '40001', '40P01', '42P01', '53100', '57P01', '25P02', '54001', '2200'])(
    'says a PostgreSQL write that failed with SQLSTATE %s failed for the store',
    (code) => expect(isRefusedRow(failure(code))).toBe(false),
  );

  it('says an error without a code, or with one that is not text, failed for the store', () => {
    expect(isRefusedRow(new Error('connection reset'))).toBe(false);
    expect(isRefusedRow(failure(23502))).toBe(false);
    expect(isRefusedRow(undefined)).toBe(false);
    expect(isRefusedRow(null)).toBe(false);
  });
});
