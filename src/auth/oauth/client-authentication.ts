import type { IncomingHttpHeaders } from 'node:http';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { hashSecret, type CatalogSnapshot } from '../../catalog/index.js';
import { ASYMMETRIC_ALGORITHMS } from './metadata.js';
import type { DpopReplayCache } from '../dpop/replay-cache.js';
import { OAuthError } from './oauth-error.js';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface ClientAuthenticationContext {
  catalog: CatalogSnapshot;
  issuer: string;
  tokenEndpoint: string;
  now: number;
  /** Key sets of apps that registered a jwks_uri, kept across requests (jose caches and throttles refetches). */
  remoteKeySets: Map<string, JWTVerifyGetKey>;
  /** Client assertions already used (RFC 7523 §3: a JWT MAY be used only once), shared with the DPoP proofs' jtis. */
  replay: DpopReplayCache;
}

/** Seconds of clock skew allowed on a client assertion's exp, nbf and iat. */
const ASSERTION_CLOCK_TOLERANCE_S = 30;

const invalidClient = () => new OAuthError('invalid_client', 'client authentication failed');

/** RFC 6749 §2.3.1: client_id and client_secret are form-urlencoded inside the Basic credentials. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient();
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    throw invalidClient();
  }
}

function secretMatches(ctx: ClientAuthenticationContext, app: string, secret: string): boolean {
  const entry = ctx.catalog.clientSecrets.get(app)?.get(hashSecret(secret));
  return entry !== undefined && (entry.expiresAt === null || entry.expiresAt > ctx.now);
}

/**
 * Authenticates the client of a token, introspection or revocation request: `client_secret_basic`,
 * `client_secret_post` (RFC 6749 §2.3.1) or `private_key_jwt` (RFC 7523 §2.2, OpenID Connect Core §9), and
 * exactly one of them. Returns the app the client is.
 */
export async function authenticateClient(headers: IncomingHttpHeaders, form: URLSearchParams, ctx: ClientAuthenticationContext): Promise<string> {
  const basic = basicCredentials(headers.authorization);
  const postSecret = form.get('client_secret');
  const assertion = form.get('client_assertion');
  const methods = [basic, postSecret, assertion].filter((m) => m !== undefined && m !== null).length;
  if (methods !== 1) throw new OAuthError('invalid_request', methods === 0 ? 'client authentication is required' : 'use exactly one client authentication method');

  if (basic) {
    if (!ctx.catalog.apps.has(basic.id) || !secretMatches(ctx, basic.id, basic.secret)) throw invalidClient();
    // A client_id in the form names the client too (RFC 6749 §2.3.1, §3.2.1): one that is not the Basic one contradicts it.
    const named = form.get('client_id');
    if (named !== null && named !== basic.id) throw new OAuthError('invalid_request', 'client_id does not name the client the Basic credentials authenticate');
    return basic.id;
  }
  if (postSecret !== null) {
    const id = form.get('client_id') ?? '';
    if (!ctx.catalog.apps.has(id) || !secretMatches(ctx, id, postSecret)) throw invalidClient();
    return id;
  }
  if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION) throw new OAuthError('invalid_request', `client_assertion_type must be ${JWT_BEARER_ASSERTION}`);
  return verifyClientAssertion(assertion!, form.get('client_id'), ctx);
}

async function verifyClientAssertion(assertion: string, clientId: string | null, ctx: ClientAuthenticationContext): Promise<string> {
  if (assertion.length > 8192) throw invalidClient();
  let claimed: string;
  try {
    claimed = String(decodeJwt(assertion).sub ?? '');
  } catch {
    throw invalidClient();
  }
  if (clientId !== null && clientId !== claimed) throw invalidClient();
  const app = ctx.catalog.apps.get(claimed);
  if (!app || (!app.jwks && !app.jwksUri)) throw invalidClient();
  let keys: JWTVerifyGetKey;
  if (app.jwks) {
    keys = createLocalJWKSet(app.jwks as JSONWebKeySet);
  } else {
    keys = ctx.remoteKeySets.get(app.jwksUri!) ?? createRemoteJWKSet(new URL(app.jwksUri!), { timeoutDuration: 3_000, cooldownDuration: 30_000 });
    ctx.remoteKeySets.set(app.jwksUri!, keys);
  }
  try {
    const { payload } = await jwtVerify(assertion, keys, {
      algorithms: ASYMMETRIC_ALGORITHMS as string[],
      issuer: claimed,
      subject: claimed,
      audience: [ctx.tokenEndpoint, ctx.issuer],
      currentDate: new Date(ctx.now),
      requiredClaims: ['exp', 'jti'],
      clockTolerance: ASSERTION_CLOCK_TOLERANCE_S,
    });
    // jose checks iat only against a maximum age, which assertions are not given: one issued in the future is refused here.
    if (typeof payload.iat === 'number' && payload.iat > ctx.now / 1000 + ASSERTION_CLOCK_TOLERANCE_S) throw new Error('issued in the future');
    const jti = String(payload.jti);
    // Remembered for as long as the check above would accept the assertion: its exp plus the tolerance (RFC 7523 §3).
    const acceptedUntil = (Number(payload.exp) + ASSERTION_CLOCK_TOLERANCE_S) * 1000;
    if (!(await ctx.replay.markUsed(`assertion\n${claimed}\n${jti}`, acceptedUntil, ctx.now))) throw new Error('replayed');
  } catch {
    throw invalidClient();
  }
  return claimed;
}
