import type { IncomingMessage } from 'node:http';
import { lowerCaseHeaderNames } from '../ai/provider-header-names.js';
import { hashSecret, subscriptionKey, type CatalogSnapshot } from '../catalog/index.js';
import { tokenAppIsCurrent } from './oauth/token-app.js';
import { verifyJwt, type KeySnapshot } from '../keys/index.js';
import type { RouteAuthSchema, RouteLimitSchema } from '../proxy/route-schema.js';
import { checkTokenBinding, DpopError, singleDpopHeader, verifyDpopProof, type DpopReplayCache } from './dpop/index.js';
import { ACCESS_TOKEN_ALGORITHMS, DEFAULT_AUDIENCE } from './oauth/oauth-endpoints.js';
import { AuthFailure, claimAt, type Principal } from './principal.js';
import { InProcessRateLimiter, rateLimitHeaders, type RateLimitDecision, type RateLimiter } from './rate-limit/index.js';
import type { RevokedTokens } from './revoked-tokens.js';
import { VerifiedTokenCache, type CachedToken } from './verified-token-cache.js';
import type { Static } from 'typebox';

type RouteAuth = Static<typeof RouteAuthSchema>;
type RouteLimit = Static<typeof RouteLimitSchema>;

/** An outside issuer as the pipeline uses it. */
export interface TokenIssuer {
  verify(token: string): Promise<{ payload: Record<string, unknown>; subject: string; scopes: readonly string[]; clientId?: string }>;
}

/** What a check reads: the current snapshot's parts and the per-process state that outlives snapshots. */
export interface AuthContext {
  issuer: string;
  keys: KeySnapshot;
  catalog: CatalogSnapshot;
  issuers: ReadonlyMap<string, TokenIssuer>;
  limiter: RateLimiter;
  tokenCache: VerifiedTokenCache;
  /** Revocations told since the snapshot was compiled; the snapshot's catalog holds those before. */
  revokedTokens: RevokedTokens;
  dpopReplay: DpopReplayCache;
  now: number;
  /** The request URL as the client used it, for DPoP's `htu`. */
  requestUrl: string;
}

export interface AuthResult {
  principal: Principal;
  /** Headers to add upstream (forwarded claims) and to remove (the caller's credential). */
  upstreamHeaders: Record<string, string>;
  removeHeaders: readonly string[];
  /** RateLimit-* headers for the response. */
  responseHeaders: Record<string, string>;
}

const NO_PRINCIPAL: Principal = { app: undefined, team: undefined, subject: '', scopes: new Set(), claims: {}, via: 'none' };

const WINDOW_MS = { '1s': 1_000, '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 } as const;

/** A DPoP challenge names the algorithms its proofs may be signed with (RFC 9449 §7.1), as the metadata does. */
const DPOP_ALGS = `, algs="${ACCESS_TOKEN_ALGORITHMS.join(' ')}"`;

function challenge(scheme: 'Bearer' | 'DPoP', error: string, description: string, extra = ''): Record<string, string> {
  return { 'www-authenticate': `${scheme} realm="keygate", error="${error}", error_description="${description}"${extra}${scheme === 'DPoP' ? DPOP_ALGS : ''}` };
}

const unauthenticated = (scheme: 'Bearer' | 'DPoP' = 'Bearer') =>
  new AuthFailure(401, 'unauthenticated', 'this route needs credentials: an API key, or an access token', { 'www-authenticate': `${scheme} realm="keygate"${scheme === 'DPoP' ? DPOP_ALGS : ''}` });
/** What a route without limits decides: nothing, the same empty list for every request. */
const NO_DECISIONS: RateLimitDecision[] = [];

/** A route limit as counted: quota per window, per what. */
interface CompiledLimit {
  per: RouteLimit['per'];
  limit: number;
  windowMs: number;
}

/** Printable ASCII, the only text a header value carries unchanged. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * A claim as a header value the upstream can read back: printable ASCII text as it is; objects, arrays and any
 * other text (a name in another script, a line break, surrounding spaces, a leading quote) as JSON with every
 * character outside printable ASCII escaped (`"Jos\u00e9"`). A line break would otherwise end the header (a
 * header injected into a WebSocket handshake) or make undici refuse the request; non-ASCII would reach the
 * upstream as Latin-1 bytes.
 */
export function claimHeaderValue(value: unknown): string {
  if (typeof value !== 'object') {
    const text = String(value);
    if (PRINTABLE_ASCII.test(text) && !text.startsWith('"') && text.trim() === text) return text;
  }
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const invalidToken = (scheme: 'Bearer' | 'DPoP' = 'Bearer') => new AuthFailure(401, 'invalid_token', 'the credentials were refused', challenge(scheme, 'invalid_token', 'the credentials were refused'));

/** One of our own tokens, verified, that a route does not take: it is refused, not tried as another issuer's. */
const REFUSED = Symbol('refused');

/** The credential the request carries, and how. */
function credentialOf(req: IncomingMessage): { kind: 'api-key' | 'bearer' | 'dpop'; value: string; header: string } | undefined {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return { kind: 'api-key', value: apiKey, header: 'x-api-key' };
  const authorization = req.headers.authorization;
  if (!authorization) return undefined;
  const space = authorization.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === 'bearer') return { kind: value.startsWith('kg_key_') ? 'api-key' : 'bearer', value, header: 'authorization' };
  if (scheme === 'dpop') return { kind: 'dpop', value, header: 'authorization' };
  return undefined;
}

function scopesOf(claim: unknown): Set<string> {
  if (typeof claim === 'string') return new Set(claim.split(' ').filter((s) => s !== ''));
  if (Array.isArray(claim)) return new Set(claim.map(String));
  return new Set();
}

/** The scopes of a verified token's claims, read once: a cached token brings the same claims object every time. */
const scopesByClaims = new WeakMap<Record<string, unknown>, Set<string>>();

function scopesOfClaims(claims: Record<string, unknown>): Set<string> {
  let scopes = scopesByClaims.get(claims);
  if (!scopes) scopesByClaims.set(claims, (scopes = scopesOf(claims.scope)));
  return scopes;
}

/** What every route that withholds the caller's credential removes: one shared list, never written to. */
const CREDENTIAL_HEADERS: readonly string[] = Object.freeze(['authorization', 'x-api-key', 'dpop']);
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

function ruleHolds(value: unknown, rule: NonNullable<RouteAuth['claims']>[number]): boolean {
  if (rule.equals !== undefined && value !== rule.equals) return false;
  if (rule.contains !== undefined) {
    const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(' ') : [];
    if (!list.includes(rule.contains)) return false;
  }
  if (rule.oneOf !== undefined && !rule.oneOf.includes(value as string | number)) return false;
  return true;
}

/**
 * A route's auth and limits, compiled once per snapshot into one function: authenticate with the accepted
 * methods, authorize (scopes, claim rules, subscription), then count the limits.
 */
export class RoutePolicy {
  readonly #methods: ReadonlySet<string>;
  readonly #audiences: readonly string[];
  readonly #scopes: readonly string[];
  readonly #limits: readonly CompiledLimit[];
  /**
   * The claims to forward, by header name in lower case: the caller's own header of the name is stripped from the
   * request as Node names it, in lower case, so a name configured in capitals must not let the caller's through.
   */
  readonly #forwardClaims: ReadonlyArray<readonly [string, string]> | undefined;

  constructor(
    readonly route: string,
    /** The proxied service, whose subscription the caller needs; undefined on AI routes (models are checked instead). */
    readonly service: string | undefined,
    readonly auth: RouteAuth | undefined,
    limits: readonly RouteLimit[],
  ) {
    this.#methods = new Set(auth?.methods ?? []);
    this.#audiences = auth?.audiences ?? [DEFAULT_AUDIENCE];
    this.#scopes = auth?.scopes ?? [];
    this.#limits = limits.map((l) => ({ per: l.per, limit: l.requests, windowMs: WINDOW_MS[l.window] }));
    this.#forwardClaims = auth?.forwardClaims ? Object.entries(lowerCaseHeaderNames(auth.forwardClaims)) : undefined;
  }

  /**
   * Checks one request. The common case (no auth, an API key, or a gateway token already verified, without DPoP,
   * counted by the in-process limiter) answers synchronously, without a single promise; anything that must wait
   * (a signature to verify, an outside issuer, a DPoP proof, Redis) goes the asynchronous way. A refusal is an
   * AuthFailure, thrown or rejected.
   */
  check(req: IncomingMessage, ctx: AuthContext): AuthResult | Promise<AuthResult> {
    return this.#checkNow(req, ctx) ?? this.#checkLater(req, ctx);
  }

  #checkNow(req: IncomingMessage, ctx: AuthContext): AuthResult | undefined {
    if (this.#limits.length > 0 && !(ctx.limiter instanceof InProcessRateLimiter)) return undefined;
    let principal: Principal | undefined;
    if (this.auth) {
      const credential = credentialOf(req);
      if (!credential || credential.kind === 'dpop' || this.auth.dpop === 'required') return undefined;
      if (credential.kind === 'api-key') {
        principal = this.#apiKeyPrincipal(credential.value, ctx);
      } else {
        if (!this.#methods.has('gateway-token')) return undefined;
        const cached = ctx.tokenCache.get(VerifiedTokenCache.keyOf(credential.value), ctx.now);
        if (!cached || (cached.claims.cnf as { jkt?: unknown } | undefined)?.jkt !== undefined) return undefined;
        const own = this.#acceptCached(cached, ctx);
        if (own === REFUSED) throw invalidToken('Bearer');
        if (!own) return undefined;
        principal = this.#gatewayPrincipal(own.claims, ctx);
      }
      this.#authorize(principal, ctx);
    }
    const decisions = this.#limitDecisions(principal, ctx) as RateLimitDecision[];
    return this.#result(principal, rateLimitHeaders(decisions));
  }

  async #checkLater(req: IncomingMessage, ctx: AuthContext): Promise<AuthResult> {
    const principal = this.auth ? await this.#authenticate(req, ctx) : undefined;
    if (principal) this.#authorize(principal, ctx);
    const decisions = await this.#limitDecisions(principal, ctx, true);
    return this.#result(principal, rateLimitHeaders(decisions));
  }

  #result(principal: Principal | undefined, responseHeaders: Record<string, string>): AuthResult {
    if (!principal || !this.auth) return { principal: principal ?? NO_PRINCIPAL, upstreamHeaders: NO_HEADERS, removeHeaders: [], responseHeaders };
    if (!this.#forwardClaims) {
      return { principal, upstreamHeaders: NO_HEADERS, removeHeaders: this.auth.forwardCredential ? [] : CREDENTIAL_HEADERS, responseHeaders };
    }
    const upstreamHeaders: Record<string, string> = {};
    const removeHeaders: string[] = [];
    for (const [header, path] of this.#forwardClaims) {
      // The caller's own header of that name goes, even when the claim is absent: upstreams trust these headers.
      removeHeaders.push(header);
      const value = path === 'app' ? principal.app : path === 'team' ? principal.team : claimAt(principal.claims, path);
      if (value !== undefined && value !== null) upstreamHeaders[header] = claimHeaderValue(value);
    }
    if (!this.auth.forwardCredential) removeHeaders.push(...CREDENTIAL_HEADERS);
    return { principal, upstreamHeaders, removeHeaders, responseHeaders };
  }

  #apiKeyPrincipal(key: string, ctx: AuthContext): Principal {
    const dpopScheme = this.auth?.dpop === 'required' ? 'DPoP' : 'Bearer';
    if (!this.#methods.has('api-key')) throw invalidToken(dpopScheme);
    const entry = ctx.catalog.apiKeys.get(hashSecret(key));
    if (!entry || (entry.expiresAt !== null && entry.expiresAt <= ctx.now)) throw invalidToken(dpopScheme);
    const app = ctx.catalog.apps.get(entry.app);
    return { app: entry.app, team: app?.team, subject: entry.app, scopes: new Set(app?.scopes ?? []), claims: {}, via: 'api-key', credential: entry.id };
  }

  #gatewayPrincipal(claims: Record<string, unknown>, ctx: AuthContext): Principal {
    const app = typeof claims.client_id === 'string' ? claims.client_id : undefined;
    return { app, team: app ? ctx.catalog.apps.get(app)?.team : undefined, subject: String(claims.sub ?? ''), scopes: scopesOfClaims(claims), claims, via: 'gateway-token' };
  }

  async #authenticate(req: IncomingMessage, ctx: AuthContext): Promise<Principal> {
    const credential = credentialOf(req);
    const dpopScheme = this.auth?.dpop === 'required' ? 'DPoP' : 'Bearer';
    if (!credential) throw unauthenticated(dpopScheme);
    if (credential.kind === 'api-key') return this.#apiKeyPrincipal(credential.value, ctx);
    if (this.auth?.dpop === 'required' && credential.kind !== 'dpop') throw new AuthFailure(401, 'invalid_token', 'this route accepts only DPoP-bound tokens', challenge('DPoP', 'invalid_token', 'DPoP-bound token required'));

    if (this.#methods.has('gateway-token')) {
      const own = await this.#gatewayToken(credential.value, ctx);
      // Ours, and refused by our rules (revoked, its app gone, another audience): no outside issuer may take it instead.
      if (own === REFUSED) throw invalidToken(credential.kind === 'dpop' ? 'DPoP' : dpopScheme);
      if (own) {
        await this.#checkDpop(req, credential, own.claims, ctx);
        return this.#gatewayPrincipal(own.claims, ctx);
      }
    }
    for (const method of this.#methods) {
      if (!method.startsWith('issuer:')) continue;
      const issuer = ctx.issuers.get(method.slice(7));
      if (!issuer) continue;
      try {
        const verified = await issuer.verify(credential.value);
        await this.#checkDpop(req, credential, verified.payload, ctx);
        const app = verified.clientId !== undefined && ctx.catalog.apps.has(verified.clientId) ? verified.clientId : undefined;
        return { app, team: app ? ctx.catalog.apps.get(app)?.team : undefined, subject: verified.subject, scopes: new Set(verified.scopes), claims: verified.payload, via: method };
      } catch (error) {
        if (error instanceof AuthFailure) throw error;
      }
    }
    throw invalidToken(credential.kind === 'dpop' ? 'DPoP' : dpopScheme);
  }

  /**
   * Our own RFC 9068 access tokens, verified once and then served from the cache until they expire: undefined for a
   * token that is not one (or no longer valid), REFUSED for one of ours this route does not take.
   */
  async #gatewayToken(token: string, ctx: AuthContext): Promise<{ claims: Record<string, unknown> } | typeof REFUSED | undefined> {
    const cacheKey = VerifiedTokenCache.keyOf(token);
    let cached = ctx.tokenCache.get(cacheKey, ctx.now);
    if (!cached) {
      try {
        const { payload, kid } = await verifyJwt(ctx.keys, token, { algorithms: ACCESS_TOKEN_ALGORITHMS, issuer: ctx.issuer, typ: 'at+jwt', now: ctx.now });
        cached = { claims: payload, kid, exp: Number(payload.exp) * 1000, nbf: payload.nbf === undefined ? 0 : Number(payload.nbf) * 1000 };
        ctx.tokenCache.set(cacheKey, cached);
      } catch {
        return undefined;
      }
    }
    return this.#acceptCached(cached, ctx);
  }

  /** A cached token is still only as good as its key, its jti and its app, any of which may have gone since. */
  #acceptCached(cached: CachedToken, ctx: AuthContext): { claims: Record<string, unknown> } | typeof REFUSED | undefined {
    if (!ctx.keys.verificationKeys.has(cached.kid)) return undefined;
    const jti = cached.claims.jti;
    if (typeof jti === 'string' && (ctx.catalog.revokedTokens.has(jti) || ctx.revokedTokens.has(jti))) return REFUSED;
    if (!tokenAppIsCurrent(cached.claims, ctx.catalog)) return REFUSED;
    const aud = cached.claims.aud;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.some((a) => this.#audiences.includes(String(a)))) return REFUSED;
    return { claims: cached.claims as Record<string, unknown> };
  }

  /** RFC 9449 §7: a token bound to a key (cnf.jkt) is accepted only with a fresh proof of that key. */
  async #checkDpop(req: IncomingMessage, credential: { kind: string; value: string }, claims: Record<string, unknown>, ctx: AuthContext): Promise<void> {
    const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (typeof jkt !== 'string') {
      if (this.auth?.dpop === 'required' || credential.kind === 'dpop') throw new AuthFailure(401, 'invalid_token', 'the token is not DPoP-bound', challenge('DPoP', 'invalid_token', 'DPoP-bound token required'));
      return;
    }
    if (credential.kind !== 'dpop') throw new AuthFailure(401, 'invalid_token', 'a DPoP-bound token must be sent with the DPoP scheme and a proof', challenge('DPoP', 'invalid_token', 'DPoP proof required'));
    try {
      const proof = singleDpopHeader(req.headers as Record<string, string | string[] | undefined>);
      const verified = await verifyDpopProof(proof, { method: req.method ?? 'GET', url: ctx.requestUrl, accessToken: credential.value, algorithms: ACCESS_TOKEN_ALGORITHMS, replay: ctx.dpopReplay, now: ctx.now });
      checkTokenBinding(jkt, verified.jkt);
    } catch (error) {
      if (error instanceof DpopError) throw new AuthFailure(401, 'invalid_dpop_proof', 'the DPoP proof was refused', challenge('DPoP', 'invalid_dpop_proof', 'the DPoP proof was refused'));
      throw error;
    }
  }

  #authorize(principal: Principal, ctx: AuthContext): void {
    const missing = this.#scopes.length === 0 ? this.#scopes : this.#scopes.filter((s) => !principal.scopes.has(s));
    if (missing.length > 0) {
      // RFC 6750 §3.1: insufficient_scope names the scopes needed.
      throw new AuthFailure(403, 'insufficient_scope', `this route needs the scope(s) ${missing.join(' ')}`, challenge('Bearer', 'insufficient_scope', 'more scope is needed', `, scope="${this.#scopes.join(' ')}"`));
    }
    for (const rule of this.auth?.claims ?? []) {
      if (!ruleHolds(claimAt(principal.claims, rule.claim), rule)) throw new AuthFailure(403, 'access_denied', `the caller's "${rule.claim}" claim does not allow this route`);
    }
    if (this.service !== undefined && this.auth?.subscription !== false && principal.app !== undefined && !ctx.catalog.subscriptions.has(subscriptionKey(principal.app, this.service))) {
      throw new AuthFailure(403, 'subscription_required', `app "${principal.app}" has no approved subscription to service "${this.service}"`);
    }
  }

  /** Counter keys per caller, one map per limit, made once per caller: the same app calls again and again. */
  readonly #limitKeys = new Map<object, Map<string, string>>();

  #limitKey(limit: { per: RouteLimit['per']; windowMs: number }, principal: Principal | undefined): string {
    if (limit.per === 'route') return `r\n${this.route}\n${limit.windowMs}`;
    const who = principal?.app ?? `sub:${principal?.via}:${principal?.subject}`;
    let keys = this.#limitKeys.get(limit);
    if (!keys) this.#limitKeys.set(limit, (keys = new Map()));
    let key = keys.get(who);
    if (key === undefined) {
      key = limit.per === 'app' ? `a\n${who}\n${limit.windowMs}` : `ar\n${who}\n${this.route}\n${limit.windowMs}`;
      // Callers are apps and token subjects; the bound keeps a flood of one-off subjects from growing the map for ever.
      if (keys.size >= 10_000) keys.clear();
      keys.set(who, key);
    }
    return key;
  }

  /**
   * Counts the route's limits, in order; refuses at the first one exceeded, and takes back what the others
   * counted: a refused request uses up no quota (an hourly limit is not spent by calls a per-second limit
   * refused). With `deferred`, the decisions may be promises (Redis), all sent at once and settled together.
   */
  #limitDecisions(principal: Principal | undefined, ctx: AuthContext, deferred = false): RateLimitDecision[] | Promise<RateLimitDecision[]> {
    if (this.#limits.length === 0) return NO_DECISIONS;
    // Limits per app or per caller count only a caller that is known.
    const known = Boolean(principal?.app) || Boolean(principal?.subject);
    const decisions: RateLimitDecision[] = [];
    const keys: string[] = [];
    if (!deferred) {
      // In process: one by one, and nothing after a refusal is counted at all.
      for (const limit of this.#limits) {
        if (limit.per !== 'route' && !known) continue;
        const key = this.#limitKey(limit, principal);
        const decision = ctx.limiter.hit(key, limit.limit, limit.windowMs);
        if (decision instanceof Promise) throw new Error('a shared limiter needs the asynchronous check');
        decisions.push(decision);
        keys.push(key);
        if (!decision.allowed) this.#refuse(ctx, decisions, keys, decisions.length - 1, limit);
      }
      return decisions;
    }
    // A shared limiter: every limit counted at once, settled together.
    const limits: CompiledLimit[] = [];
    const pending: Array<RateLimitDecision | Promise<RateLimitDecision>> = [];
    for (const limit of this.#limits) {
      if (limit.per !== 'route' && !known) continue;
      const key = this.#limitKey(limit, principal);
      pending.push(ctx.limiter.hit(key, limit.limit, limit.windowMs));
      keys.push(key);
      limits.push(limit);
    }
    return Promise.all(pending).then((settled) => {
      const refused = settled.findIndex((d) => !d.allowed);
      return refused === -1 ? settled : this.#refuse(ctx, settled, keys, refused, limits[refused]!);
    });
  }

  /** Gives back what the limits before the refusing one counted, and refuses the call with 429. */
  #refuse(ctx: AuthContext, decisions: readonly RateLimitDecision[], keys: readonly string[], refused: number, limit: CompiledLimit): never {
    decisions.forEach((d, i) => {
      if (d.countedIn !== undefined) void Promise.resolve(ctx.limiter.refund(keys[i]!, d.windowMs, 1, d.countedIn)).catch(() => undefined);
    });
    throw new AuthFailure(429, 'rate_limited', `too many requests: at most ${limit.limit} per ${limit.windowMs / 1000} s (${limit.per})`, rateLimitHeaders(decisions.slice(0, refused + 1)));
  }
}
