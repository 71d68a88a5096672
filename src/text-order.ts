/**
 * Text in the order of its UTF-16 code units, as JavaScript compares strings: the same on every store and every
 * machine. A database's own order depends on its collation (ICU's `en-US`, on PostgreSQL, orders `a_d`, `a-c`, `a9`;
 * SQLite and the `C` collation order `a-c`, `a9`, `a_d`), so lists the admin API answers are sorted with this.
 *
 * @example
 * ['b', 'a-c', 'ab'].sort(compareText); // ['a-c', 'ab', 'b']
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
