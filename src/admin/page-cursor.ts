import { KeygateError } from '../errors.js';

/**
 * Pages of a log read newest first: a page's cursor is its last row's id, which only grows, so that rows written
 * meanwhile neither shift a page nor repeat one. Written so that no one mistakes it for a count or a time.
 */
export const cursorOf = (id: number): string => `c${id.toString(36)}`;

/** The id a cursor this API gave stands for; anything else is the caller's mistake (400). */
export function idOf(cursor: string): number {
  const id = /^c([0-9a-z]{1,11})$/.test(cursor) ? parseInt(cursor.slice(1), 36) : NaN;
  if (!Number.isSafeInteger(id)) throw new KeygateError('invalid_request', `querystring/before "${cursor}" is no cursor this API gave; pass the "next" of the page before`);
  return id;
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1_000;

/** A page of `limit` rows from a query that asked for one more: the rows, and the cursor of the next page if any. */
export function pageOf<R extends { id: number | string }>(rows: readonly R[], limit: number): { rows: R[]; next: string | null } {
  const page = rows.slice(0, limit);
  return { rows: page, next: rows.length > limit ? cursorOf(Number(page[page.length - 1]!.id)) : null };
}

/** A page's size from its query text (the schema checked its digits). */
export function pageSize(limit: string | undefined): number {
  const size = limit === undefined ? DEFAULT_PAGE : Number(limit);
  if (size > MAX_PAGE) throw new KeygateError('invalid_request', `querystring/limit must be at most ${MAX_PAGE}`);
  return size;
}
