import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorBody } from '../errors.js';
import { ifNoneMatchHits } from '../keys/index.js';
import type { SnapshotHolder } from './snapshot.js';

export const JWKS_PATH = '/.well-known/jwks.json';

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = errorBody(code, message);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/**
 * The JWK Set (RFC 7517 §5) as `application/jwk-set+json`, cacheable for less than the publication lead so a
 * verifier sees the next key before it signs, with a strong ETag honoured by `If-None-Match` (RFC 9110 §13.1.2).
 */
function serveJwks(req: IncomingMessage, res: ServerResponse, holder: SnapshotHolder): void {
  const snapshot = holder.current;
  const { body, etag } = snapshot.keys.jwks;
  const headers = {
    'cache-control': `public, max-age=${snapshot.jwksMaxAgeSeconds}, must-revalidate`,
    etag,
    'access-control-allow-origin': '*',
  };
  if (ifNoneMatchHits(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': 'application/jwk-set+json', 'content-length': body.length });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The proxy port. Every answer is read from the current snapshot; nothing here touches the store. */
export function createDataPlane(holder: SnapshotHolder): Server {
  return createServer({ keepAliveTimeout: 5_000, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === JWKS_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', `${JWKS_PATH} answers GET and HEAD only`, { allow: 'GET, HEAD' });
      return serveJwks(req, res, holder);
    }
    if (path === '/status') {
      const snapshot = holder.current;
      const body = JSON.stringify({ status: 'ok', snapshotVersion: snapshot.version, snapshotBuiltAt: new Date(snapshot.builtAt).toISOString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      return res.end(body);
    }
    sendError(res, 404, 'route_not_found', `no route matches ${req.method} ${path}`);
  });
}
