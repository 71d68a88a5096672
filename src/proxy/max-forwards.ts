import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody } from '../errors.js';

/** What a route answers to when it names no methods: every method a route may name. */
const ANY_METHOD = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** The most hops the gateway passes on: a recipient may lower the count to its own maximum (RFC 9110 §7.6.2). */
const MOST_HOPS = 255;

const HOPS = /^\d+$/;

/**
 * `Max-Forwards` on `OPTIONS` and `TRACE` (RFC 9110 §7.6.2), which every intermediary MUST check: at 0 the request
 * goes no further and the gateway answers as its final recipient, an `OPTIONS` with `200` and the route's `Allow`,
 * a `TRACE` with `405` (the gateway echoes no request); above 0 it is forwarded one lower
 * (`forwardedMaxForwards`). A value that is not a number of hops is refused, as no recipient can count it down.
 * Returns whether the request was answered here.
 */
export function answeredAtLastHop(req: IncomingMessage, res: ServerResponse, methods: readonly string[] | undefined, requestId: string): boolean {
  const method = req.method;
  if (method !== 'OPTIONS' && method !== 'TRACE') return false;
  const value = maxForwardsOf(req);
  if (value === undefined || (HOPS.test(value) && Number(value) > 0)) return false;
  const headers: Record<string, string | number> = { allow: methods ? methods.join(', ') : ANY_METHOD, 'x-request-id': requestId };
  let status = 200;
  let body = '';
  if (!HOPS.test(value)) {
    status = 400;
    body = errorBody('invalid_request', 'Max-Forwards must be a number of hops (RFC 9110 §7.6.2)');
  } else if (method === 'TRACE') {
    status = 405;
    body = errorBody('method_not_allowed', 'the gateway, as the last hop of a TRACE, echoes no request');
  }
  if (body !== '') headers['content-type'] = 'application/json';
  headers['content-length'] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(body);
  req.resume();
  return true;
}

/** The `Max-Forwards` an `OPTIONS` or `TRACE` goes on with: one lower than it came (`answeredAtLastHop` took 0). */
export function forwardedMaxForwards(req: IncomingMessage): string | undefined {
  if (req.method !== 'OPTIONS' && req.method !== 'TRACE') return undefined;
  const value = maxForwardsOf(req);
  return value === undefined ? undefined : String(Math.min(Number(value) - 1, MOST_HOPS));
}

/** The request's `Max-Forwards`; two lines of it are one value with a comma, which counts no hops. */
function maxForwardsOf(req: IncomingMessage): string | undefined {
  const value = req.headers['max-forwards'] as string | string[] | undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}
