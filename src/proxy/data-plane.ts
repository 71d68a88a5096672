import { requestIdOf } from './request-id.js';
import { normalizePath, targetPath } from './request-path.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { ifNoneMatchHits } from '../keys/index.js';
import { handleOAuth, isOAuthPath, type OAuthState } from '../auth/oauth/oauth-endpoints.js';
import { AuthFailure } from '../auth/principal.js';
import type { RateLimiter } from '../auth/rate-limit/rate-limiter.js';
import type { RevokedTokens } from '../auth/revoked-tokens.js';
import type { VerifiedTokenCache } from '../auth/verified-token-cache.js';
import type { JWK } from 'jose';
import { handleAi, sendAnthropicError, type AiRuntime } from '../ai/ai-handler.js';
import { AiError, sendAiError } from '../ai/openai-error.js';
import type { Principal } from '../auth/principal.js';
import type { AuthContext, AuthResult } from '../auth/route-policy.js';
import { forward, sendError as sendProxyError, type CompiledRoute, type ForwardExtras } from './proxy-handler.js';
import type { Snapshot } from './snapshot.js';
import type { SnapshotHolder } from './snapshot.js';
import type { TlsCertificates } from './tls-certificates.js';
import { proxyUpgrade } from './websocket.js';
import { trackUpgrades } from './http-server.js';
import { hasSeveralHosts } from './host-header.js';

export const JWKS_PATH = '/.well-known/jwks.json';
export const STATUS_PATH = '/status';

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

export interface DataPlaneOptions {
  /** Largest request head accepted (431 beyond it). */
  maxHeaderSize: number;
  /** A client must send its whole request head within this time (408 otherwise), and its whole request within requestTimeout. */
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
}

/** What outlives snapshots on one node: caches, counters, and the issuer URL once the port is known. */
export interface DataPlaneState {
  ai: AiRuntime;
  issuer: () => string;
  now: () => number;
  limiter: RateLimiter;
  tokenCache: VerifiedTokenCache;
  oauth: OAuthState;
  accessTokenTtlSeconds: number;
  tokenMaxTtlSeconds: number;
  /** Records a revoked access token (a store change) and resolves once this node refuses it. */
  revokeToken: (jti: string, expiresAt: number) => Promise<void>;
  /** Tokens revoked since the snapshot was compiled, told without a recompile (a delta). */
  revokedTokens: RevokedTokens;
}

// Idle client connections stay open 75 s, as with nginx: with Node's 5 s, a client reconnects after every lull and
// those requests pay a handshake and an accept (visible in the p99 at a steady 1,000 req/s, docs/benchmarks.md).
export const DATA_PLANE_DEFAULTS: DataPlaneOptions = { maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 300_000, keepAliveTimeout: 75_000 };

/** The proxy port. Every answer is read from the current snapshot; nothing here touches the store. */
/**
 * What a route's policy reads for one request: the snapshot's parts and the node's long-lived state. The request
 * URL (a DPoP proof's `htu` is checked against it) has the path as the client sent it: the client signed that one,
 * and the check normalizes both sides itself (RFC 9449 §4.3), merging no slashes.
 */
function authContext(req: IncomingMessage, snapshot: Snapshot, state: DataPlaneState, secure: boolean, sent: string): AuthContext {
  return {
    issuer: state.issuer(),
    keys: snapshot.keys,
    catalog: snapshot.catalog,
    issuers: snapshot.issuers,
    limiter: state.limiter,
    tokenCache: state.tokenCache,
    revokedTokens: state.revokedTokens,
    dpopReplay: state.oauth.dpopReplay,
    now: state.now(),
    requestUrl: `${secure ? 'https' : 'http'}://${req.headers.host ?? ''}${sent}`,
  };
}

const AI_ERROR_TYPES: Record<number, string> = { 401: 'authentication_error', 403: 'permission_error', 429: 'rate_limit_error' };

/**
 * A route failure's code as OpenAI's clients know it: a refused key is `invalid_api_key`, a spent rate limit
 * `rate_limit_exceeded` (https://platform.openai.com/docs/guides/error-codes); the others keep the gateway's code.
 * Anthropic's shape has no code: its type comes from the status (429: `rate_limit_error`).
 */
const AI_ERROR_CODES: Record<string, string> = { invalid_token: 'invalid_api_key', unauthenticated: 'invalid_api_key', rate_limited: 'rate_limit_exceeded' };

/** A route the AI gateway serves: the route's auth and limits, then the unified API (errors in OpenAI's shape). */
function serveAi(req: IncomingMessage, res: ServerResponse, route: CompiledRoute, path: string, sent: string, snapshot: Snapshot, state: DataPlaneState, secure: boolean): void {
  const v1 = path.indexOf('/v1/');
  const operation = v1 === -1 ? path.slice(path.lastIndexOf('/') + 1) : path.slice(v1 + 4);
  // One id for the answer, the usage record and the errors: the handler gets it with the call.
  const requestId = requestIdOf(req);
  const policy = route.policy;
  const serve = (result: AuthResult | undefined) =>
    handleAi(req, res, operation, {
      requestId,
      route: route.name,
      routeModels: route.ai?.models,
      principal: result?.principal.via === 'none' ? undefined : result?.principal,
      snapshot: snapshot.ai,
      catalog: snapshot.catalog,
      runtime: state.ai,
      maxBodySize: route.maxBodySize,
      responseHeaders: result?.responseHeaders ?? {},
    });
  const refuse = (error: unknown) => {
    req.resume();
    const send = operation.startsWith('messages') ? sendAnthropicError : sendAiError;
    if (error instanceof AuthFailure) {
      return send(res, new AiError(error.status, AI_ERROR_TYPES[error.status] ?? 'invalid_request_error', AI_ERROR_CODES[error.code] ?? error.code, error.message, null, error.headers), requestId);
    }
    send(res, new AiError(500, 'api_error', 'internal_error', 'the request could not be checked'), requestId);
  };
  if (!policy) return void serve(undefined);
  let checked: AuthResult | Promise<AuthResult>;
  try {
    checked = policy.check(req, authContext(req, snapshot, state, secure, sent));
  } catch (error) {
    return refuse(error);
  }
  // A key or token seen before answers at once; only a first sight (a store or JWKS look-up) waits.
  if (checked instanceof Promise) checked.then(serve, refuse);
  else void serve(checked);
}

function sendAuthFailure(res: ServerResponse, failure: AuthFailure): void {
  sendProxyError(res, failure.status, failure.code, failure.message, undefined, failure.headers);
}

export function createDataPlane(holder: SnapshotHolder, state: DataPlaneState, options: DataPlaneOptions = DATA_PLANE_DEFAULTS, tls?: TlsCertificates): Server {
  const secure = tls !== undefined;
  const serverOptions = {
    keepAliveTimeout: options.keepAliveTimeout,
    requestTimeout: options.requestTimeout,
    headersTimeout: options.headersTimeout,
    maxHeaderSize: options.maxHeaderSize,
    // Node checks the two timeouts above only this often (30 s by default): check often enough to honour them.
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, Math.floor(options.headersTimeout / 2))),
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let raw = q === -1 ? url : url.slice(0, q);
    if (raw.charCodeAt(0) !== 0x2f) {
      // Absolute-form (`GET http://host/path`): its authority is the host, whatever the Host header says (RFC 9112 §3.2.2).
      const target = targetPath(url);
      raw = target.path;
      if (target.host !== undefined) req.headers.host = target.host;
    }
    const path = normalizePath(raw);
    if (path === undefined) return sendProxyError(res, 400, 'invalid_path', 'the request path is malformed or hides a dot segment (RFC 3986 §5.2.4)');
    if (hasSeveralHosts(req)) return sendProxyError(res, 400, 'invalid_request', 'the request has more than one Host header (RFC 9112 §3.2)');
    // The gateway's own two paths come first: no route can shadow the JWKS or the status.
    if (path !== JWKS_PATH && path !== STATUS_PATH) {
      const snapshot = holder.current;
      // The authorization server's paths, like the JWKS, are the gateway's own: no route shadows them.
      if (isOAuthPath(path)) {
        const oauth = { issuer: state.issuer(), keys: snapshot.keys, catalog: snapshot.catalog, now: state.now(), accessTokenTtlSeconds: state.accessTokenTtlSeconds, tokenMaxTtlSeconds: state.tokenMaxTtlSeconds, state: state.oauth, revokedTokens: state.revokedTokens, revoke: state.revokeToken };
        handleOAuth(req, res, path, oauth).catch(() => sendProxyError(res, 500, 'internal_error', 'the request could not be handled'));
        return;
      }
      const match = snapshot.proxy.router.match(req.method ?? 'GET', req.headers.host, path, req.headers);
      if (match) {
        const query = q === -1 ? undefined : url.slice(q + 1);
        const { policy, encryption } = match.route;
        if (match.route.ai) {
          serveAi(req, res, match.route, path, raw, snapshot, state, secure);
          return;
        }
        if (!policy && !encryption) return forward(req, res, match.route, match, path, query, secure);
        if (Number(req.headers['content-length'] ?? 0) > match.route.maxBodySize) {
          // Refuse an oversize body before spending anything on it (forward() would too, but only after auth).
          res.setHeader('connection', 'close');
          return sendProxyError(res, 413, 'payload_too_large', `the request body is larger than this route allows (${match.route.maxBodySize} bytes)`);
        }
        const refuse = (error: unknown) => {
          if (!(error instanceof AuthFailure && error.status === 413)) req.resume();
          if (error instanceof AuthFailure) return sendAuthFailure(res, error);
          sendProxyError(res, 500, 'internal_error', 'the request could not be checked');
        };
        if (policy && !encryption) {
          // The common case answers without a promise: a cached token or an API key, counted in process.
          let checked: AuthResult | Promise<AuthResult>;
          try {
            checked = policy.check(req, authContext(req, snapshot, state, secure, raw));
          } catch (error) {
            return refuse(error);
          }
          if (checked instanceof Promise) checked.then((result) => forward(req, res, match.route, match, path, query, secure, result), refuse);
          else forward(req, res, match.route, match, path, query, secure, checked);
          return;
        }
        const prepare = async (): Promise<ForwardExtras> => {
          const result: ForwardExtras & { principal?: Principal } = policy ? await policy.check(req, authContext(req, snapshot, state, secure, raw)) : {};
          if (!encryption) return result;
          const app = result.principal?.app;
          const transformResponse = encryption.responseEncryptor(snapshot.keys, app ? (snapshot.catalog.apps.get(app)?.encryptionKey as JWK | undefined) : undefined);
          // A response to encrypt is asked for uncompressed: the client gets a JWE (or JSON with JWE fields), not gzip.
          if (transformResponse) result.upstreamHeaders = { ...result.upstreamHeaders, 'accept-encoding': 'identity' };
          const decrypted = await encryption.decryptRequest(req, snapshot.keys, match.route.maxBodySize);
          if (!decrypted) return { ...result, transformResponse };
          return { ...result, transformResponse, body: decrypted.body, upstreamHeaders: { ...result.upstreamHeaders, 'content-type': decrypted.contentType } };
        };
        prepare().then((extras) => forward(req, res, match.route, match, path, query, secure, extras), refuse);
        return;
      }
      return sendProxyError(res, 404, 'route_not_found', `no route matches ${req.method} ${path}`);
    }
    if (path === JWKS_PATH) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendProxyError(res, 405, 'method_not_allowed', `${JWKS_PATH} answers GET and HEAD only`, undefined, { allow: 'GET, HEAD' });
      return serveJwks(req, res, holder);
    }
    const snapshot = holder.current;
    const body = JSON.stringify({ status: 'ok', snapshotVersion: snapshot.version, snapshotBuiltAt: new Date(snapshot.builtAt).toISOString(), pid: process.pid });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  };
  const server: Server = tls ? createHttpsServer({ ...serverOptions, ...tls.serverOptions() }, handle) : createServer(serverOptions, handle);
  trackUpgrades(server);
  server.on('upgrade', (req, socket, head) => {
    const snapshot = holder.current;
    proxyUpgrade(req, socket, head, snapshot, secure, async (upgradeReq, route) => {
      try {
        return await route.policy!.check(upgradeReq, {
          issuer: state.issuer(),
          keys: snapshot.keys,
          catalog: snapshot.catalog,
          issuers: snapshot.issuers,
          limiter: state.limiter,
          tokenCache: state.tokenCache,
          revokedTokens: state.revokedTokens,
          dpopReplay: state.oauth.dpopReplay,
          now: state.now(),
          requestUrl: `${secure ? 'https' : 'http'}://${upgradeReq.headers.host ?? ''}${(upgradeReq.url ?? '/').split('?', 1)[0]}`,
        });
      } catch (error) {
        if (error instanceof AuthFailure) return { status: error.status, code: error.code, message: error.message, headers: error.headers };
        throw error;
      }
    });
  });
  return server;
}
