/**
 * The code a SQLite writer thread gives a value that better-sqlite3 cannot bind (a boolean, an object): its
 * TypeError or RangeError carries no SQLite code of its own.
 */
export const UNBINDABLE_VALUE = 'unbindable_value';

/** SQLite's result codes for a row the database will not take, whatever its state (https://sqlite.org/rescode.html). */
const SQLITE_ROW_CODES = ['SQLITE_CONSTRAINT', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG', 'SQLITE_RANGE', UNBINDABLE_VALUE];

/**
 * Whether a write failed because of what a row holds, not because of the store: retried, it would fail again,
 * and so would every row written with it. SQLite: a constraint (its extended codes too), a type mismatch, a value
 * too big, or one it cannot bind. PostgreSQL's SQLSTATE classes 22 (data exception: a NUL byte in text, a number out
 * of range) and 23 (integrity constraint), and 54000 (a value too big for an index). A lost connection, a locked or
 * missing table, a full disk or a server shutting down is the store's, and passes.
 */
export function isRefusedRow(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  if (code.startsWith('SQLITE_') || code === UNBINDABLE_VALUE) return SQLITE_ROW_CODES.some((row) => code === row || code.startsWith(`${row}_`));
  return /^2[23][0-9A-Z]{3}$/.test(code) || code === '54000';
}
