import { requestIdOf } from './request-id.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import { errorBody } from '../errors.js';
import { answeredAtLastHop } from './max-forwards.js';
import { resumeWhenDrained } from '../stalled-clients.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';
import type { RouteEncryption } from '../auth/jwe/route-encryption.js';
import type { RoutePolicy } from '../auth/route-policy.js';
import type { RouteMatch, Router } from './router.js';
import type { UpstreamService } from './upstream-service.js';
import type { UpstreamTarget } from './upstream-target.js';

/** A route compiled for the data plane. */
export interface CompiledRoute {
  name: string;
  /** The upstream service of a proxied route; undefined on a route the AI gateway serves. */
  service: UpstreamService | undefined;
  /** Set on a route the AI gateway serves (its `ai` section). */
  ai: { models?: string[] } | undefined;
  /** The methods the route names, for the `Allow` the gateway sends when it answers an `OPTIONS` itself; all when absent. */
  methods?: readonly string[];
  preserveHost: boolean;
  stripPrefix: boolean;
  rewrite: string | undefined;
  maxBodySize: number;
  /** Authentication, authorization and limits; absent on an open route, which then costs nothing extra. */
  policy: RoutePolicy | undefined;
  /** JWE request decryption and response encryption, when the route asks for them. */
  encryption: RouteEncryption | undefined;
}

export interface ProxySnapshot {
  router: Router<CompiledRoute>;
  services: ReadonlyMap<string, UpstreamService>;
}

/** RFC 9110 §9.2.2: methods a client may repeat without changing the outcome. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** The data plane's one error writer: `{"error":{code,message}}`, the request id, and any extra headers. */
export function sendError(res: ServerResponse, status: number, code: string, message: string, requestId?: string, extra: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(code, message);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra };
  if (requestId) headers['x-request-id'] = requestId;
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * The path sent upstream: rewritten from the template, stripped of the matched prefix, or as received. `query` is
 * what follows the request's `?`: undefined without one, `''` for an empty one, which goes on as sent.
 */
export function upstreamPath(route: CompiledRoute, match: RouteMatch<CompiledRoute>, path: string, query: string | undefined): string {
  let out = path;
  if (route.rewrite !== undefined) {
    // One pass, with a function: the request's own text is inserted literally, never scanned for "*" or "$&". A
    // parameter is a whole segment, as in `paths`: a colon inside one (`/v1/items:search`) is text.
    out = route.rewrite.replace(/(?<=\/):([A-Za-z_][A-Za-z0-9_]*)|\*/g, (token: string, name: string | undefined) => (token === '*' ? (match.wildcard ?? '') : (match.params[name!] ?? '')));
  } else if (route.stripPrefix && match.wildcard !== undefined) {
    out = `/${match.wildcard}`;
  }
  if (query === undefined) return out;
  // A rewrite may carry its own query; the client's is appended to it.
  if (out.includes('?')) return query === '' ? out : `${out}&${query}`;
  return `${out}?${query}`;
}

class UpstreamTimeout extends Error {
  override name = 'UpstreamTimeout';
}
/** An answer given up for a retry: its status, and its Retry-After, are what the client gets if no retry answers. */
class RetryableStatus extends Error {
  override name = 'RetryableStatus';
  constructor(
    readonly status: number,
    readonly retryAfter: string | undefined,
  ) {
    super(`status ${status}`);
  }
}
class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}
class ResponseTooLarge extends Error {
  override name = 'ResponseTooLarge';
}

/**
 * A request undici refused to send (a header value that is not valid HTTP, made from a claim or a decrypted
 * body's type): the request's fault, not the target's, and the same on every target.
 */
function unsendable(error: Error): boolean {
  return (error as { code?: unknown }).code === 'UND_ERR_INVALID_ARG';
}

function isTimeout(error: Error): boolean {
  const code = (error as { code?: string }).code;
  return error instanceof UpstreamTimeout || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

/** Refuses a chunked body once it passes the route's limit (a declared Content-Length is checked up front). */
function limitBody(req: IncomingMessage, limit: number): Transform {
  let seen = 0;
  return req.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        if (seen > limit) callback(new BodyTooLarge());
        else callback(null, chunk);
      },
    }),
  );
}

/**
 * Forwards one request to the route's service: picks a target, streams the request body up and the response
 * down without buffering (pausing the upstream when the client is slow), and retries on another target when
 * the attempt failed before any response byte was sent, the method is idempotent, there is no body to replay,
 * and the service's retry budget allows it.
 */
/** What the route's policy adds to an exchange: forwarded claims, the credential withheld, rate-limit headers. */
export interface ForwardExtras {
  upstreamHeaders?: Readonly<Record<string, string>>;
  removeHeaders?: readonly string[];
  responseHeaders?: Readonly<Record<string, string>>;
  /** A request body already read and transformed (a decrypted JWE): sent instead of the client's stream. */
  body?: Buffer;
  /** Buffers the response and rewrites it before the client sees it (response encryption). */
  transformResponse?: (status: number, headers: Record<string, string | string[]>, body: Buffer) => Promise<{ headers: Record<string, string | string[]>; body: Buffer }>;
}

/** Responses rewritten whole are buffered; beyond this they are refused rather than held in memory. */
const MAX_TRANSFORMED_RESPONSE = 16 * 1024 * 1024;

/**
 * Bodies of at most this many declared bytes are read whole before the upstream is called, as nginx does with its
 * client body buffer: a Buffer costs far less to send than a stream (whose listeners and writer otherwise outlive
 * the exchange and are promoted by the garbage collector), and a buffered body can be replayed on a retry.
 */
export const BUFFERED_BODY_LIMIT = 64 * 1024;

/** Reads exactly `length` declared bytes of `req` into one Buffer; undefined if the client went away or sent fewer. */
function readDeclaredBody(req: IncomingMessage, length: number, done: (body: Buffer | undefined) => void): void {
  const body = Buffer.allocUnsafe(length);
  let filled = 0;
  let settled = false;
  const settle = (result: Buffer | undefined) => {
    if (settled) return;
    settled = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
    done(result);
  };
  const onData = (chunk: Buffer) => {
    // Node's parser never delivers more than Content-Length; the check keeps a bad count from overrunning.
    if (filled + chunk.length > length) return settle(undefined);
    chunk.copy(body, filled);
    filled += chunk.length;
  };
  const onEnd = () => settle(filled === length ? body : undefined);
  const onClose = () => settle(filled === length && req.complete ? body : undefined);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onClose);
}

export function forward(req: IncomingMessage, res: ServerResponse, route: CompiledRoute, match: RouteMatch<CompiledRoute>, path: string, query: string | undefined, secure: boolean, extras?: ForwardExtras): void {
  const requestId = requestIdOf(req);
  const service = route.service;
  if (!service) return sendError(res, 500, 'internal_error', `route "${route.name}" has no service`, requestId);
  if (answeredAtLastHop(req, res, route.methods, requestId)) return;
  const lengthHeader = req.headers['content-length'];
  const declared = lengthHeader === undefined ? -1 : Number(lengthHeader);
  if (declared > route.maxBodySize) {
    sendError(res, 413, 'payload_too_large', `the request body is larger than this route allows (${route.maxBodySize} bytes)`, requestId);
    req.resume();
    return;
  }
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (extras?.body === undefined && !chunked && declared > 0 && declared <= BUFFERED_BODY_LIMIT) {
    readDeclaredBody(req, declared, (body) => {
      // A client that stopped sending: nothing to answer, its connection is gone or going.
      // The body goes as its own argument: a merged copy of `extras` per request is garbage that V8 learned to
      // allocate straight into the old generation (it showed as most of the JWT route's promoted bytes).
      if (body) send(req, res, route, match, path, query, secure, requestId, service, declared, false, extras, body);
      else if (!res.headersSent) res.destroy();
    });
    return;
  }
  send(req, res, route, match, path, query, secure, requestId, service, declared, chunked, extras);
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  route: CompiledRoute,
  match: RouteMatch<CompiledRoute>,
  path: string,
  query: string | undefined,
  secure: boolean,
  requestId: string,
  service: UpstreamService,
  declared: number,
  chunked: boolean,
  extras: ForwardExtras | undefined,
  buffered?: Buffer,
): void {
  const given = buffered ?? extras?.body;
  const hasBody = given !== undefined ? given.length > 0 : declared > 0 || chunked;
  // A body held in memory can be sent again; a streamed one cannot.
  const replayable = (!hasBody || given !== undefined) && IDEMPOTENT.has(req.method ?? 'GET');
  const body = given ?? (!hasBody ? null : chunked ? limitBody(req, route.maxBodySize) : req);
  const transform = extras?.transformResponse;
  const method = (req.method ?? 'GET') as Dispatcher.HttpMethod;
  const upstreamUrlPath = upstreamPath(route, match, path, query);
  service.earnRetry();

  const tried = new Set<UpstreamTarget>();
  /** The last answer given up for a retry: passed on (its status) if the retries get no answer of their own. */
  let declined: RetryableStatus | undefined;
  let finished = false;
  let currentController: Dispatcher.DispatchController | undefined;
  let totalTimer: NodeJS.Timeout | undefined;
  const done = () => {
    finished = true;
    if (totalTimer) clearTimeout(totalTimer);
  };
  // An attempt has a controller once undici starts it on a connection. Before that (while it connects, or between
  // a failed attempt and the next) the exchange ends here, and the attempt is cut when it starts (`finished`).
  if (service.timeouts.total > 0) {
    totalTimer = setTimeout(() => {
      if (currentController) return currentController.abort(new UpstreamTimeout('total timeout'));
      done();
      failWith(new UpstreamTimeout('total timeout'));
    }, service.timeouts.total);
  }
  res.on('close', () => {
    // The client went away: stop reading from the upstream, or never start.
    if (finished) return;
    if (currentController) currentController.abort(new Error('client closed the connection'));
    else done();
  });

  const attempt = (lastError?: Error): void => {
    const now = Date.now();
    const target = service.pick(now, tried);
    if (!target) {
      done();
      if (lastError) return failWith(lastError);
      return sendError(res, 503, 'no_healthy_target', `service "${service.name}" has no healthy target`, requestId);
    }
    tried.add(target);
    currentController = undefined;
    target.active += 1;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        target.active -= 1;
      }
    };
    const headers = upstreamRequestHeaders(req, {
      requestId,
      host: route.preserveHost && req.headers.host ? req.headers.host : target.host,
      proto: secure ? 'https' : 'http',
      omit: extras?.removeHeaders,
    });
    if (extras) Object.assign(headers, extras.upstreamHeaders);
    if (given !== undefined) headers['content-length'] = String(given.length);
    let wroteBody = false;
    let held: { status: number; headers: Record<string, string | string[]>; chunks: Buffer[]; size: number } | undefined;

    target.pool.dispatch(
      { path: upstreamUrlPath, method, headers, body, headersTimeout: service.timeouts.idle, bodyTimeout: service.timeouts.idle, idempotent: replayable },
      {
        onRequestStart(controller) {
          currentController = controller;
          if (finished) controller.abort(new Error('request already finished'));
        },
        onResponseStart(controller, statusCode, upstreamHeaders) {
          if (statusCode >= 502 && statusCode <= 504) target.recordFailure(Date.now());
          else target.recordSuccess();
          if (replayable && service.retry.onStatus.has(statusCode) && tried.size <= service.retry.attempts && service.hasAvailable(Date.now(), tried) && service.spendRetry()) {
            const retryAfter = upstreamHeaders['retry-after'];
            controller.abort(new RetryableStatus(statusCode, typeof retryAfter === 'string' ? retryAfter : undefined));
            return;
          }
          const out = clientResponseHeaders(upstreamHeaders, requestId);
          if (extras?.responseHeaders) Object.assign(out, extras.responseHeaders);
          if (transform) {
            held = { status: statusCode, headers: out, chunks: [], size: 0 };
            return;
          }
          res.writeHead(statusCode, out);
          // Server-Sent Events: the head must not wait for an event. It goes with the first one when that came in
          // the same read (undici hands it over before this microtask runs), otherwise on its own.
          if (String(upstreamHeaders['content-type'] ?? '').startsWith('text/event-stream')) {
            // (`res.headersSent` is already true after writeHead, sent or not: whether a chunk went is what counts.)
            queueMicrotask(() => {
              if (!wroteBody && !res.destroyed) res.flushHeaders();
            });
          }
        },
        onResponseData(controller, chunk) {
          if (held) {
            held.size += chunk.length;
            if (held.size > MAX_TRANSFORMED_RESPONSE) controller.abort(new ResponseTooLarge('response too large to transform'));
            else held.chunks.push(chunk);
            return;
          }
          wroteBody = true;
          if (!res.write(chunk)) {
            controller.pause();
            resumeWhenDrained(res, service.timeouts.send, () => controller.resume());
          }
        },
        onResponseEnd() {
          release();
          done();
          if (!held || !transform) {
            res.end();
            return;
          }
          const { status, headers: heldHeaders, chunks } = held;
          transform(status, heldHeaders, Buffer.concat(chunks)).then(
            (out) => {
              delete out.headers['transfer-encoding'];
              out.headers['content-length'] = String(out.body.length);
              res.writeHead(status, out.headers);
              res.end(out.body);
            },
            () => sendError(res, 502, 'upstream_failed', `the response of service "${service.name}" could not be encrypted for the caller`, requestId),
          );
        },
        onResponseError(_controller, error) {
          release();
          if (finished) return;
          if (error instanceof RetryableStatus) {
            declined = error;
            return attempt(error);
          }
          if (error instanceof BodyTooLarge || (error as { cause?: unknown }).cause instanceof BodyTooLarge) {
            done();
            // The rest of the body is left unread: close the connection after the answer rather than leave it stuck.
            res.setHeader('connection', 'close');
            return sendError(res, 413, 'payload_too_large', `the request body is larger than this route allows (${route.maxBodySize} bytes)`, requestId);
          }
          // Failures of the gateway's own making count against no target, and are not retried elsewhere: one
          // caller's request must not open every target's circuit.
          if (error instanceof ResponseTooLarge) {
            done();
            return sendError(res, 502, 'upstream_failed', `the response of service "${service.name}" is too large to encrypt for the caller (over ${MAX_TRANSFORMED_RESPONSE} bytes)`, requestId);
          }
          if (unsendable(error)) {
            done();
            return sendError(res, 400, 'invalid_request', 'the request cannot be forwarded: a header it would carry is not valid HTTP', requestId);
          }
          // The client left: its connection closed, or its body broke off. Not `req.destroyed`, which a body read to
          // its end also sets (autoDestroy): every request with a body would look gone, never retried nor counted.
          const clientGone = res.destroyed || req.readableAborted || req.socket.destroyed;
          if (!clientGone && !(error instanceof UpstreamTimeout && error.message === 'total timeout')) target.recordFailure(Date.now());
          if (!res.headersSent && !clientGone && replayable && !(error instanceof UpstreamTimeout) && tried.size <= service.retry.attempts && service.hasAvailable(Date.now(), tried) && service.spendRetry()) {
            return attempt(error);
          }
          done();
          failWith(error);
        },
      },
    );
  };

  const failWith = (error: Error): void => {
    if (res.headersSent) {
      res.destroy(error);
      return;
    }
    // An answer was given up for a retry that got none: the client gets that answer's status, as it would have
    // without the retry (docs/proxy.md#retries), with Keygate's body, since the upstream's was not read.
    if (declined) {
      const after = error === declined ? 'no other target could take the retry' : isTimeout(error) ? 'its retry got no answer in time' : 'its retry could not reach another target';
      return sendError(res, declined.status, 'upstream_failed', `service "${service.name}" answered with ${declined.message}, and ${after}`, requestId, declined.retryAfter ? { 'retry-after': declined.retryAfter } : {});
    }
    if (isTimeout(error)) return sendError(res, 504, 'upstream_timeout', `service "${service.name}" did not answer in time`, requestId);
    sendError(res, 502, 'upstream_failed', `service "${service.name}" could not be reached`, requestId);
  };

  attempt();
}
