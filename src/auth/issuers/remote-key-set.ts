import type { CryptoKey } from 'jose';
import { systemClock, type Clock } from '../../clock.js';
import { fetchIssuerDocument, type IssuerFetchOptions } from './fetch-issuer-document.js';
import { IssuerTokenError, IssuerUnavailableError, type IssuerFetchReason } from './issuer-errors.js';
import { parseIssuerUrl } from './issuer-url.js';
import { isIssuerSignatureAlgorithm } from './signature-algorithms.js';
import { importVerificationKeys, type VerificationKey } from './verification-keys.js';

/** Where a refresh failure is reported: a pino logger fits. Only the URL's origin and path, a reason and a status are passed. */
export interface IssuerLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface RemoteKeySetOptions extends IssuerFetchOptions {
  /** The clock the cache lives by; injected so tests drive TTLs without sleeping. */
  clock?: Clock;
  /** Lifetime of a fetched set when the response has no `Cache-Control: max-age`; 10 minutes by default. */
  defaultTtlMs?: number;
  /** Floor for `max-age`, so an issuer cannot make every request refetch; 60 s by default. */
  minTtlMs?: number;
  /** Ceiling for `max-age`, so removed keys stop working within a day; 24 h by default. */
  maxTtlMs?: number;
  /** At most one fetch per this interval, whatever unknown `kid`s or failures come in; 30 s by default. */
  cooldownMs?: number;
  /** Accept a plain `http:` URL off loopback. */
  allowHttp?: boolean;
  logger?: IssuerLogger;
}

/** The header members a key is chosen by. */
export interface KeySelector {
  alg?: unknown;
  kid?: unknown;
}

/** What the cache holds now, for health checks and the admin API. */
export interface RemoteKeySetStatus {
  kids: string[];
  fetchedAt: number | undefined;
  expiresAt: number | undefined;
  refreshing: boolean;
  lastFailure: { at: number; reason: IssuerFetchReason } | undefined;
}

export const REMOTE_KEY_SET_DEFAULTS = {
  defaultTtlMs: 10 * 60_000,
  minTtlMs: 60_000,
  maxTtlMs: 24 * 60 * 60_000,
  cooldownMs: 30_000,
} as const;

interface LoadedSet {
  keys: VerificationKey[];
  fetchedAt: number;
  expiresAt: number;
}

/**
 * The JWK Set (RFC 7517 §5) of an outside issuer — Keycloak, Auth0, Okta, Entra ID or any OpenID provider —
 * fetched over HTTP, cached and kept fresh. A key is chosen by the token's `alg` and `kid` only (RFC 7515 §4.1.4);
 * keys the token carries itself (`jwk`, `jku`, `x5u`, `x5c`) are never looked at.
 *
 * - The set lives for its `Cache-Control: max-age` (RFC 9111 §5.2.2.1), clamped to [minTtlMs, maxTtlMs], or for
 *   defaultTtlMs. Once expired it is still served while one background refresh runs (RFC 5861 §3), so a
 *   verification never waits on a refresh when keys exist.
 * - An unknown `kid` (the issuer rotated) refetches at most once per cooldown, and concurrent misses share the
 *   one fetch in flight.
 * - A refresh that fails keeps the last good set. With no good set ever loaded, {@link getKey} throws
 *   {@link IssuerUnavailableError}: it fails closed.
 *
 * @example
 * const keys = new RemoteKeySet('https://login.example.com/realms/main/protocol/openid-connect/certs');
 * await jwtVerify(token, (header) => keys.getKey(header), { algorithms: ['RS256'] });
 */
export class RemoteKeySet {
  readonly url: URL;
  readonly #fetchOptions: IssuerFetchOptions;
  readonly #clock: Clock;
  readonly #ttl: { defaultMs: number; minMs: number; maxMs: number };
  readonly #cooldownMs: number;
  readonly #logger: IssuerLogger | undefined;
  #current: LoadedSet | undefined;
  #inFlight: Promise<void> | undefined;
  #lastAttemptAt: number | undefined;
  /** When an unknown kid last caused a refetch: such refetches are limited to one per cooldown on their own. */
  #lastMissAt: number | undefined;
  #lastFailure: { at: number; error: IssuerUnavailableError } | undefined;

  constructor(url: string | URL, options: RemoteKeySetOptions = {}) {
    this.url = parseIssuerUrl(String(url), '"jwksUri"', { allowHttp: options.allowHttp, allowQuery: true });
    this.#fetchOptions = { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes, dispatcher: options.dispatcher };
    this.#clock = options.clock ?? systemClock;
    this.#ttl = {
      defaultMs: options.defaultTtlMs ?? REMOTE_KEY_SET_DEFAULTS.defaultTtlMs,
      minMs: options.minTtlMs ?? REMOTE_KEY_SET_DEFAULTS.minTtlMs,
      maxMs: options.maxTtlMs ?? REMOTE_KEY_SET_DEFAULTS.maxTtlMs,
    };
    this.#cooldownMs = options.cooldownMs ?? REMOTE_KEY_SET_DEFAULTS.cooldownMs;
    this.#logger = options.logger;
  }

  /**
   * The public key for a token's protected header, usable directly as a `jose` key resolver. Throws
   * {@link IssuerTokenError} (`alg_not_allowed`, `no_matching_key`) when the issuer publishes no such key, and
   * {@link IssuerUnavailableError} when no key set could ever be loaded.
   */
  async getKey(header: KeySelector): Promise<CryptoKey> {
    const { alg, kid } = header;
    // No key in any JWKS can serve `none` or an HMAC algorithm, so such a token must not cause a fetch.
    if (!isIssuerSignatureAlgorithm(alg)) throw new IssuerTokenError('alg_not_allowed');
    if (kid !== undefined && typeof kid !== 'string') throw new IssuerTokenError('no_matching_key');

    if (!this.#current) {
      if (this.#inFlight || this.#mayFetch()) await this.#fetchShared();
      if (!this.#current) throw new IssuerUnavailableError(this.#lastFailure?.error.reason ?? 'unreachable', this.#lastFailure?.error.httpStatus);
    } else if (this.#clock.now() >= this.#current.expiresAt && !this.#inFlight && this.#mayFetch()) {
      void this.#fetchShared();
    }

    const found = await this.#find(alg, kid);
    if (found) return found;
    if (this.#inFlight || this.#mayRefetchForMiss()) {
      // The first unknown kid after a rotation refetches at once, however recent the last regular fetch was, so
      // an issuer that starts signing with a new key causes no failed request; a storm of made-up kids still
      // causes at most one fetch per cooldown.
      if (!this.#inFlight) this.#lastMissAt = this.#clock.now();
      await this.#fetchShared();
      const refetched = await this.#find(alg, kid);
      if (refetched) return refetched;
    }
    throw new IssuerTokenError('no_matching_key');
  }

  /** The cache's state: which kids it serves, since when, until when, and the last failure. */
  status(): RemoteKeySetStatus {
    return {
      kids: (this.#current?.keys ?? []).flatMap((key) => (key.kid === undefined ? [] : [key.kid])),
      fetchedAt: this.#current?.fetchedAt,
      expiresAt: this.#current?.expiresAt,
      refreshing: this.#inFlight !== undefined,
      lastFailure: this.#lastFailure && { at: this.#lastFailure.at, reason: this.#lastFailure.error.reason },
    };
  }

  #mayRefetchForMiss(): boolean {
    const now = this.#clock.now();
    const failedRecently = this.#lastFailure !== undefined && now - this.#lastFailure.at < this.#cooldownMs;
    return !failedRecently && (this.#lastMissAt === undefined || now - this.#lastMissAt >= this.#cooldownMs);
  }

  #mayFetch(): boolean {
    return this.#lastAttemptAt === undefined || this.#clock.now() - this.#lastAttemptAt >= this.#cooldownMs;
  }

  /** One fetch at a time: a caller arriving while one runs shares it. The promise never rejects. */
  #fetchShared(): Promise<void> {
    if (!this.#inFlight) {
      this.#lastAttemptAt = this.#clock.now();
      this.#inFlight = this.#fetch().finally(() => {
        this.#inFlight = undefined;
      });
    }
    return this.#inFlight;
  }

  async #fetch(): Promise<void> {
    try {
      const document = await fetchIssuerDocument(this.url, this.#fetchOptions);
      const keys = await importVerificationKeys(document.json);
      const fetchedAt = this.#clock.now();
      this.#current = { keys, fetchedAt, expiresAt: fetchedAt + this.#ttlFor(document.cacheControl) };
      this.#lastFailure = undefined;
    } catch (error) {
      const failure = error instanceof IssuerUnavailableError ? error : new IssuerUnavailableError('unreachable');
      this.#lastFailure = { at: this.#clock.now(), error: failure };
      this.#logger?.warn(
        { jwksUri: `${this.url.origin}${this.url.pathname}`, reason: failure.reason, httpStatus: failure.httpStatus, keptKeys: this.#current?.keys.length ?? 0 },
        this.#current ? 'issuer JWKS refresh failed; keeping the last good keys' : 'issuer JWKS fetch failed; no keys to verify with',
      );
    }
  }

  async #find(alg: string, kid: string | undefined): Promise<CryptoKey | undefined> {
    const candidates = (this.#current?.keys ?? []).filter((key) => key.algorithms.has(alg) && (kid === undefined || key.kid === kid));
    // Without a `kid`, or with a `kid` the issuer reused, a key is chosen only when exactly one fits.
    if (candidates.length !== 1) return undefined;
    return candidates[0]!.cryptoKey(alg).catch(() => undefined);
  }

  #ttlFor(cacheControl: string | undefined): number {
    const maxAge = maxAgeSeconds(cacheControl);
    if (maxAge === undefined) return this.#ttl.defaultMs;
    return Math.min(this.#ttl.maxMs, Math.max(this.#ttl.minMs, maxAge * 1000));
  }
}

/** `max-age` from Cache-Control (RFC 9111 §5.2.2.1); `no-store` and `no-cache` count as 0. */
function maxAgeSeconds(cacheControl: string | undefined): number | undefined {
  if (!cacheControl) return undefined;
  let maxAge: number | undefined;
  for (const directive of cacheControl.toLowerCase().split(',')) {
    const [name, value] = directive.trim().split('=', 2) as [string, string | undefined];
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name === 'max-age' && value !== undefined && /^"?\d+"?$/.test(value)) maxAge = Number(value.replaceAll('"', ''));
  }
  return maxAge;
}
