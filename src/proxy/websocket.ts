import { requestIdOf } from './request-id.js';
import { hasSeveralHosts } from './host-header.js';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorBody } from '../errors.js';
import { closeWhenStalled } from '../stalled-clients.js';
import { clientResponseHeaders, upstreamRequestHeaders } from './forward-headers.js';
import { upstreamPath, type CompiledRoute } from './proxy-handler.js';
import { normalizePath, targetPath } from './request-path.js';
import type { RouteMatch } from './router.js';
import type { UpstreamService } from './upstream-service.js';
import type { Snapshot } from './snapshot.js';

function refuse(socket: Duplex, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = errorBody(code, message);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`);
}

/**
 * The route's checks for a handshake, as for any request (authentication, authorization, limits): resolves with
 * the headers to set and drop upstream, or undefined after refusing the handshake itself.
 */
export type UpgradeCheck = (req: IncomingMessage, route: CompiledRoute) => Promise<{ upstreamHeaders?: Readonly<Record<string, string>>; removeHeaders?: readonly string[] } | { status: number; code: string; message: string; headers?: Record<string, string> }>;

/**
 * Upgrades (WebSocket, RFC 6455 §4): the handshake is matched and checked as a request, and forwarded to a target
 * with the usual forwarding headers; once the target answers 101, bytes flow both ways untouched until either side
 * closes. Any other answer goes to the client, and the connection ends with it.
 */
export function proxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, snapshot: Snapshot, secure: boolean, check: UpgradeCheck): void {
  // Node takes its own error listener off an upgraded socket: a client that resets the connection while the
  // handshake is checked or refused would raise an 'error' no one handles, which ends the process.
  client.on('error', () => client.destroy());
  const target = targetPath(req.url ?? '/');
  const path = normalizePath(target.path);
  if (path === undefined) return refuse(client, 400, 'invalid_path', 'the request path is malformed or hides a dot segment (RFC 3986 §5.2.4)');
  if (hasSeveralHosts(req)) return refuse(client, 400, 'invalid_request', 'the request has more than one Host header (RFC 9112 §3.2)');
  // A body would go only after the 101, which a target that reads it first never sends: neither side would move.
  const declared = req.headers['content-length'];
  if ((declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined) return refuse(client, 400, 'upgrade_not_supported', 'an upgrade handshake with a body is not proxied');
  if (target.host !== undefined) req.headers.host = target.host;
  if (path === '/status' || path === '/.well-known/jwks.json') return refuse(client, 400, 'upgrade_not_supported', `${path} does not take upgrades`);
  // HTTP/2 over cleartext by Upgrade (deprecated, RFC 9113 §3.1): a tunnel of HTTP/2 streams the routes would not see.
  if (/(?:^|,)\s*h2c\s*(?:,|$)/i.test(req.headers.upgrade ?? '')) return refuse(client, 400, 'upgrade_not_supported', 'h2c upgrades are not proxied: send HTTP/1.1 without Upgrade, or HTTP/2 over TLS');
  const match = snapshot.proxy.router.match(req.method ?? 'GET', req.headers.host, path, req.headers);
  if (!match) return refuse(client, 404, 'route_not_found', `no route matches ${req.method} ${path}`);
  const route = match.route;
  const service = route.service;
  if (!service || route.encryption) return refuse(client, 400, 'upgrade_not_supported', `route "${route.name}" does not take upgrades`);
  if (!route.policy) return connect(req, client, head, path, secure, match, service, {});
  const held = holdClient(client);
  check(req, route).then(
    (result) => {
      const early = held.release();
      // A client gone while its handshake was checked gets no upstream connection opened for it.
      if (client.destroyed) return;
      if ('status' in result) return refuse(client, result.status, result.code, result.message, result.headers);
      connect(req, client, early.length > 0 ? Buffer.concat([head, ...early]) : head, path, secure, match, service, result);
    },
    () => {
      held.release();
      if (!client.destroyed) refuse(client, 500, 'internal_error', 'the handshake could not be checked');
    },
  );
}

/** The most a client may send while its handshake is checked that is kept for the upstream; past it, reading stops. */
const EARLY_BYTES = 64 * 1024;

/**
 * Reads the client while its handshake is checked, so that a client that closes the connection meanwhile is seen
 * gone. No one consumes an upgraded socket until it is piped: a reset surfaces as an error, but a close's 'end' only
 * once what came before it is read, after an upstream connection was opened for it. What the client sends is kept,
 * to go upstream after the handshake as `head` does: a WebSocket client waits for the answer first (RFC 6455 §4.1),
 * other upgrades may not.
 */
function holdClient(client: Duplex): { release: () => Buffer[] } {
  const early: Buffer[] = [];
  let size = 0;
  const keep = (chunk: Buffer) => {
    early.push(chunk);
    size += chunk.length;
    if (size >= EARLY_BYTES) client.pause();
  };
  const gone = () => client.destroy();
  client.on('data', keep);
  client.once('end', gone);
  return {
    release: () => {
      client.off('data', keep);
      client.off('end', gone);
      client.pause();
      return early;
    },
  };
}

function connect(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  path: string,
  secure: boolean,
  match: RouteMatch<CompiledRoute>,
  service: UpstreamService,
  extras: { upstreamHeaders?: Readonly<Record<string, string>>; removeHeaders?: readonly string[] },
): void {
  const route = match.route;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const target = service.pick(Date.now());
  if (!target) return refuse(client, 503, 'no_healthy_target', `service "${service.name}" has no healthy target`);

  const origin = new URL(target.origin);
  const tls = origin.protocol === 'https:';
  const requestId = requestIdOf(req);
  const headers = upstreamRequestHeaders(req, {
    requestId,
    host: route.preserveHost && req.headers.host ? req.headers.host : target.host,
    proto: secure ? 'https' : 'http',
    upgrade: true,
    omit: extras.removeHeaders,
  });
  Object.assign(headers, extras.upstreamHeaders);
  target.active += 1;
  let released = false;
  const release = () => {
    if (!released) {
      released = true;
      target.active -= 1;
    }
  };

  // The handshake goes through Node's HTTP client, which reads the upstream's answer: only a 101 opens the tunnel.
  let upstream: ClientRequest;
  try {
    upstream = (tls ? httpsRequest : httpRequest)({
      host: origin.hostname,
      port: Number(origin.port || (tls ? 443 : 80)),
      method: req.method,
      path: upstreamPath(route, match, path, q === -1 ? undefined : url.slice(q + 1)),
      headers,
      agent: false,
      setHost: false,
    });
  } catch {
    // A path or a header Node will not send (a rewrite that puts a space in the path, a claim that is not valid HTTP).
    release();
    return refuse(client, 400, 'invalid_request', 'the handshake cannot be forwarded: its path or a header it would carry is not valid HTTP');
  }
  let connected = false;
  let answered = false;
  let timedOut = false;
  upstream.once('socket', (socket: Socket) => {
    const expire = () => {
      timedOut = true;
      upstream.destroy(new Error('timeout'));
    };
    // The connect timeout until connected; then the idle timeout, until the target answers (and between the chunks
    // of an answer that declines the upgrade).
    socket.setTimeout(service.timeouts.connect, expire);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      socket.setTimeout(service.timeouts.idle, expire);
    });
    socket.once('close', release);
  });
  upstream.on('upgrade', (res: IncomingMessage, socket: Socket, upgradeHead: Buffer) => {
    answered = true;
    // An open WebSocket may stay quiet for as long as it likes (only the send timeout below applies).
    socket.setTimeout(0);
    target.recordSuccess();
    if (client.destroyed) return socket.destroy();
    client.write(`HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n${rawHeadLines(res.rawHeaders)}\r\n`);
    if (upgradeHead.length > 0) client.write(upgradeHead);
    // What the client sent after its handshake goes once the upstream took it (a WebSocket client waits for the 101).
    if (head.length > 0) socket.write(head);
    socket.pipe(client);
    client.pipe(socket);
    // A side that takes nothing of what the other sends for the send timeout holds both connections: both close.
    closeWhenStalled(socket, client, service.timeouts.send);
    closeWhenStalled(client, socket, service.timeouts.send);
    socket.on('error', () => client.destroy());
    socket.on('close', () => client.destroy());
    client.on('error', () => socket.destroy());
    client.on('close', () => socket.destroy());
  });
  // Any other answer declined the upgrade: it goes to the client as an answer, and the connection ends with it,
  // never left open as a tunnel that further requests would take past the routes (RFC 9110 §7.8).
  upstream.on('response', (res: IncomingMessage) => {
    answered = true;
    const status = res.statusCode ?? 502;
    if (status >= 502 && status <= 504) target.recordFailure(Date.now());
    else target.recordSuccess();
    const lines = rawHeadLines(headerPairs(clientResponseHeaders(res.headers, requestId)));
    client.write(`HTTP/1.1 ${status} ${res.statusMessage ?? ''}\r\n${lines}connection: close\r\n\r\n`);
    res.pipe(client);
    // Once the answer is out, the connection closes: the upgraded socket is read by no one any more.
    client.once('finish', () => client.destroy());
    res.on('error', () => client.destroy());
  });
  upstream.on('error', () => {
    // A client that left is no failure of the target's (its close destroyed this request).
    if (client.destroyed) return;
    if (answered) return void client.destroy();
    target.recordFailure(Date.now());
    if (timedOut && !connected) refuse(client, 504, 'upstream_timeout', `service "${service.name}" did not accept a connection within its connect timeout`);
    else if (timedOut) refuse(client, 504, 'upstream_timeout', `service "${service.name}" did not answer the handshake within its idle timeout`);
    else if (connected) refuse(client, 502, 'upstream_failed', `service "${service.name}" closed the connection without answering the handshake`);
    else refuse(client, 502, 'upstream_failed', `service "${service.name}" could not be reached`);
  });
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
  upstream.end();
}

/** Header lines as they are written on the wire, from [name, value, name, value…]. */
function rawHeadLines(pairs: readonly string[]): string {
  let lines = '';
  for (let i = 0; i + 1 < pairs.length; i += 2) lines += `${pairs[i]}: ${pairs[i + 1]}\r\n`;
  return lines;
}

/** Headers as [name, value…] pairs, a header of several values once per value. */
function headerPairs(headers: Record<string, string | string[]>): string[] {
  const pairs: string[] = [];
  for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) pairs.push(name, v);
  return pairs;
}
