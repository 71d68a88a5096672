import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE = /^[A-Za-z0-9._:@-]{1,100}$/;

/**
 * The request's id: the client's `X-Request-Id` when it is a sane token (at most 100 of `A-Z a-z 0-9 . _ : @ -`),
 * else a new UUID. A client cannot push an arbitrary string into logs, usage records and upstream headers.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && ACCEPTABLE.test(given) ? given : randomUUID();
}
