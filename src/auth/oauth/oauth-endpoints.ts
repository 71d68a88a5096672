import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWTVerifyGetKey } from 'jose';
import type { CatalogSnapshot } from '../../catalog/index.js';
import { APP_CREATED_CLAIM, tokenAppIsCurrent } from './token-app.js';
import { KeygateError } from '../../errors.js';
import { signJwt, verifyJwt, type KeySnapshot } from '../../keys/index.js';
import { DpopError, InMemoryDpopReplayCache, verifyDpopProof, type DpopReplayCache } from '../dpop/index.js';
import type { RevokedTokens } from '../revoked-tokens.js';
import { authenticateClient } from './client-authentication.js';
import { ASYMMETRIC_ALGORITHMS, INTROSPECTION_PATH, METADATA_PATHS, REVOCATION_PATH, TOKEN_PATH, authorizationServerMetadata } from './metadata.js';
import { OAuthError } from './oauth-error.js';

export const DEFAULT_AUDIENCE = 'keygate';
const MAX_FORM_BYTES = 64 * 1024;

/** What the OAuth endpoints read: the snapshot's keys and catalog, and the few things that outlive snapshots. */
export interface OAuthContext {
  issuer: string;
  keys: KeySnapshot;
  catalog: CatalogSnapshot;
  now: number;
  accessTokenTtlSeconds: number;
  tokenMaxTtlSeconds: number;
  state: OAuthState;
  /** Revocations told since the snapshot was compiled; the snapshot's catalog holds those before. */
  revokedTokens: RevokedTokens;
  /** Records a revoked token (a store change); resolves once this node no longer accepts it. */
  revoke: (jti: string, expiresAt: number) => Promise<void>;
}

/** Caches shared by every request and snapshot of one process. */
export class OAuthState {
  readonly remoteKeySets = new Map<string, JWTVerifyGetKey>();

  constructor(
    /**
     * Where one-time values are remembered: DPoP proof and client assertion jtis. The gateway passes the store's
     * guard, shared by every worker and node; the in-memory cache serves a single process (tests).
     */
    readonly dpopReplay: DpopReplayCache = new InMemoryDpopReplayCache(),
  ) {}
}

export function isOAuthPath(path: string): boolean {
  return path === TOKEN_PATH || path === INTROSPECTION_PATH || path === REVOCATION_PATH || METADATA_PATHS.includes(path);
}

/** Access tokens are signed with the gateway's asymmetric keys only, so anyone holding the JWKS can verify them. */
export const ACCESS_TOKEN_ALGORITHMS: readonly string[] = ASYMMETRIC_ALGORITHMS;

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', pragma: 'no-cache', ...extra });
  res.end(text);
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      req.resume();
      reject(new OAuthError('invalid_request', 'send the parameters as application/x-www-form-urlencoded'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new OAuthError('invalid_request', 'the request body is too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      // RFC 6749 §3.1: parameters must not be included more than once.
      for (const key of new Set(form.keys())) if (form.getAll(key).length > 1) return reject(new OAuthError('invalid_request', `parameter "${key}" is repeated`));
      resolve(form);
    });
    req.on('error', reject);
  });
}

/**
 * The authorization server on the proxy port: metadata (RFC 8414), the token endpoint for `client_credentials`
 * (RFC 6749 §4.4) issuing RFC 9068 access tokens, DPoP-bound when the client sends a proof (RFC 9449 §5),
 * introspection (RFC 7662) and revocation (RFC 7009).
 */
export async function handleOAuth(req: IncomingMessage, res: ServerResponse, path: string, ctx: OAuthContext): Promise<void> {
  try {
    if (METADATA_PATHS.includes(path)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'invalid_request', error_description: 'use GET' }, { allow: 'GET, HEAD' });
      return send(res, 200, authorizationServerMetadata(ctx.issuer, ACCESS_TOKEN_ALGORITHMS), { 'cache-control': 'public, max-age=3600' });
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'invalid_request', error_description: 'use POST' }, { allow: 'POST' });
    const form = await readForm(req);
    const clientCtx = { catalog: ctx.catalog, issuer: ctx.issuer, tokenEndpoint: `${ctx.issuer}${TOKEN_PATH}`, now: ctx.now, remoteKeySets: ctx.state.remoteKeySets, replay: ctx.state.dpopReplay };
    const app = await authenticateClient(req.headers, form, clientCtx);
    if (path === TOKEN_PATH) return await token(req, res, form, app, ctx);
    if (path === INTROSPECTION_PATH) return await introspect(res, form, app, ctx);
    return await revoke(res, form, app, ctx);
  } catch (error) {
    if (error instanceof OAuthError) {
      // The scheme is case-insensitive (RFC 9110 §11.1): `basic` gets the challenge as `Basic` does (RFC 6749 §5.2).
      const extra: Record<string, string> = error.code === 'invalid_client' && /^basic(?:\s|$)/i.test(req.headers.authorization ?? '') ? { 'www-authenticate': 'Basic realm="keygate"' } : {};
      return send(res, error.status, error.body(), extra);
    }
    if (error instanceof DpopError) return send(res, 400, { error: error.code, error_description: 'the DPoP proof was refused' });
    throw error;
  }
}

async function token(req: IncomingMessage, res: ServerResponse, form: URLSearchParams, app: string, ctx: OAuthContext): Promise<void> {
  const grant = form.get('grant_type');
  // A request without one misses a required parameter (RFC 6749 §5.2), which is not a grant type it does not support.
  if (grant === null || grant === '') throw new OAuthError('invalid_request', 'grant_type is required (client_credentials)');
  if (grant !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'only grant_type=client_credentials is supported');
  const allowed = new Set(ctx.catalog.apps.get(app)?.scopes ?? []);
  const requested = form.get('scope');
  // A set of scope tokens (RFC 6749 §3.3): each granted once. None at all (missing, or empty) asks for the app's scopes.
  const named = [...new Set((requested ?? '').split(' ').filter((s) => s !== ''))];
  const scopes = named.length === 0 ? [...allowed] : named;
  const refused = scopes.filter((s) => !allowed.has(s));
  if (refused.length > 0) throw new OAuthError('invalid_scope', `the client may not request ${refused.join(' ')}`);
  const resources = form.getAll('resource');
  const audience = resources[0] ?? form.get('audience') ?? DEFAULT_AUDIENCE;

  let cnf: { jkt: string } | undefined;
  const proof = req.headers.dpop;
  if (proof !== undefined) {
    if (typeof proof !== 'string' || proof.includes(',')) throw new OAuthError('invalid_dpop_proof', 'send exactly one DPoP proof');
    const verified = await verifyDpopProof(proof, { method: 'POST', url: `${ctx.issuer}${TOKEN_PATH}`, algorithms: ASYMMETRIC_ALGORITHMS, replay: ctx.state.dpopReplay, now: ctx.now });
    cnf = { jkt: verified.jkt };
  }

  const ttl = Math.min(ctx.accessTokenTtlSeconds, ctx.tokenMaxTtlSeconds);
  const claims: Record<string, unknown> = { iss: ctx.issuer, sub: app, aud: audience, client_id: app, scope: scopes.join(' ') };
  // Which app of that name the token is for (tokenAppIsCurrent): the one made at this time, on any node's clock.
  const created = ctx.catalog.apps.get(app)?.createdAt;
  if (created !== undefined) claims[APP_CREATED_CLAIM] = created;
  if (cnf) claims.cnf = cnf;
  let accessToken: string;
  try {
    accessToken = await signJwt(ctx.keys, claims, { algorithms: ACCESS_TOKEN_ALGORITHMS, ttlSeconds: ttl, maxTtlSeconds: ctx.tokenMaxTtlSeconds, typ: 'at+jwt', now: ctx.now });
  } catch (error) {
    if (error instanceof KeygateError) throw new OAuthError('invalid_request', 'the gateway cannot issue tokens right now');
    throw error;
  }
  send(res, 200, { access_token: accessToken, token_type: cnf ? 'DPoP' : 'Bearer', expires_in: ttl, scope: scopes.join(' ') });
}

/** Verifies one of our own access tokens; undefined when it is not one (or no longer valid). */
async function ownToken(tokenText: string, ctx: OAuthContext) {
  try {
    const { payload } = await verifyJwt(ctx.keys, tokenText, { algorithms: ACCESS_TOKEN_ALGORITHMS, issuer: ctx.issuer, typ: 'at+jwt', now: ctx.now });
    if (typeof payload.jti === 'string' && (ctx.catalog.revokedTokens.has(payload.jti) || ctx.revokedTokens.has(payload.jti))) return undefined;
    if (!tokenAppIsCurrent(payload, ctx.catalog)) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

async function introspect(res: ServerResponse, form: URLSearchParams, app: string, ctx: OAuthContext): Promise<void> {
  const tokenText = form.get('token');
  if (!tokenText) throw new OAuthError('invalid_request', 'the "token" parameter is required');
  const payload = await ownToken(tokenText, ctx);
  // RFC 7662 §2.2: a client learns only about its own tokens; anything else is simply inactive.
  if (!payload || payload.client_id !== app) return send(res, 200, { active: false });
  const cnf = payload.cnf as { jkt?: string } | undefined;
  send(res, 200, { active: true, ...payload, token_type: cnf?.jkt ? 'DPoP' : 'Bearer' });
}

async function revoke(res: ServerResponse, form: URLSearchParams, app: string, ctx: OAuthContext): Promise<void> {
  const tokenText = form.get('token');
  if (!tokenText) throw new OAuthError('invalid_request', 'the "token" parameter is required');
  const payload = await ownToken(tokenText, ctx);
  // RFC 7009 §2.2: invalid or foreign tokens get 200 as well; only the client's own tokens are revoked.
  if (payload && payload.client_id === app && typeof payload.jti === 'string' && typeof payload.exp === 'number') {
    await ctx.revoke(payload.jti, payload.exp * 1000);
  }
  send(res, 200, '');
}
