import { KeygateError } from '../errors.js';

/**
 * A query's date-time as the first whole millisecond at or after it (records are kept to the millisecond, and Date.parse
 * drops what is finer: `from` would take in, and `to` leave out, a record before the instant asked for). The schema's
 * `date-time` format lets through forms Date.parse reads as nothing (an offset without minutes, `+05`; a leap second,
 * `23:59:60Z`): those are refused, not compared as NaN (no rows on SQLite, a 500 on PostgreSQL).
 */
function instantOf(text: string, name: string): number {
  const at = Date.parse(text);
  if (!Number.isFinite(at)) throw new KeygateError('invalid_request', `querystring/${name} "${text}" is not a date-time Keygate can read; write it as 2026-11-01T00:00:00Z or with a full offset (+05:00)`);
  const finer = /\.\d{3}(\d+)/.exec(text)?.[1];
  return finer !== undefined && /[1-9]/.test(finer) ? at + 1 : at;
}

/**
 * A query's `from` and `to` as instants (instantOf); `from` after `to` is refused, since an empty answer to a range
 * that holds nothing would read as "nothing was spent", or "no call was made".
 */
export function rangeOf(q: { from?: string; to?: string }): { from: number | undefined; to: number | undefined } {
  const from = q.from === undefined ? undefined : instantOf(q.from, 'from');
  const to = q.to === undefined ? undefined : instantOf(q.to, 'to');
  if (from !== undefined && to !== undefined && from > to) throw new KeygateError('invalid_request', `from (${q.from}) is after to (${q.to})`);
  return { from, to };
}
