import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { forwardedMaxForwards } from './max-forwards.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Headers the gateway sets itself on the way upstream, and `Expect`, which it meets itself: the client has had its
 * 100 Continue from the gateway (RFC 9110 §10.1.1) before the body is read, and undici refuses to send the header.
 */
const REPLACED = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-request-id', 'expect', 'via']);

function connectionTokens(headers: IncomingHttpHeaders): Set<string> | undefined {
  const value = headers.connection;
  if (!value) return undefined;
  return new Set(value.toLowerCase().split(',').map((t) => t.trim()));
}

/** An RFC 7239 node: IPv6 addresses are quoted and bracketed. */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

export interface UpstreamHeaderOptions {
  requestId: string;
  /** The Host header to send: the target's, or the client's when the route preserves it. */
  host: string;
  proto: 'http' | 'https';
  /** Keep `upgrade` and `connection` (WebSocket handshakes). */
  upgrade?: boolean;
  /** Headers to leave out (the caller's credential, forwarded-claim names): skipped, not deleted afterwards. */
  omit?: readonly string[];
}

/**
 * The request headers as the upstream sees them: hop-by-hop headers (and any the client named in `Connection`)
 * removed; `X-Forwarded-For/-Proto/-Host` and `Forwarded` (RFC 7239) describing the client; `X-Request-Id`;
 * `Max-Forwards` one lower on `OPTIONS` and `TRACE`, the methods it counts (RFC 9110 §7.6.2).
 */
export function upstreamRequestHeaders(req: IncomingMessage, options: UpstreamHeaderOptions): Record<string, string | string[]> {
  const incoming = req.headers;
  const named = connectionTokens(incoming);
  const out: Record<string, string | string[]> = {};
  const omit = options.omit;
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || REPLACED.has(name) || named?.has(name) || omit?.includes(name)) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  const client = req.socket.remoteAddress ?? 'unknown';
  const prior = incoming['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${prior}, ${client}` : client;
  out['x-forwarded-proto'] = options.proto;
  const originalHost = incoming.host;
  if (originalHost) out['x-forwarded-host'] = originalHost;
  // A quoted-string (RFC 9110 §5.6.4): a `"` in the Host header would otherwise close it and let the caller add
  // a `for=` element of its own choosing, the one an upstream trusts.
  const forwarded = `for=${forwardedNode(client)};proto=${options.proto}${originalHost ? `;host="${originalHost.replace(/["\\]/g, '\\$&')}"` : ''}`;
  out.forwarded = incoming.forwarded ? `${incoming.forwarded}, ${forwarded}` : forwarded;
  out['x-request-id'] = options.requestId;
  // A gateway MUST add itself to Via on the requests it forwards (RFC 9110 §7.6.3), after what came before it.
  const hop = req.httpVersion === '1.0' ? '1.0 keygate' : '1.1 keygate';
  out.via = incoming.via ? `${incoming.via}, ${hop}` : hop;
  out.host = options.host;
  const hops = forwardedMaxForwards(req);
  if (hops !== undefined) out['max-forwards'] = hops;
  if (options.upgrade) {
    out.connection = 'upgrade';
    if (incoming.upgrade) out.upgrade = incoming.upgrade;
  }
  return out;
}

/** The upstream's response headers as the client sees them: hop-by-hop removed, the request id added. */
export function clientResponseHeaders(headers: IncomingHttpHeaders, requestId: string): Record<string, string | string[]> {
  const named = connectionTokens(headers);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  out['x-request-id'] = requestId;
  return out;
}
