import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { FastifyInstance } from 'fastify';
import { CallsUnderWay } from './ai/calls-under-way.js';
import { ProviderAgents } from './ai/provider-agents.js';
import type { AiRuntime } from './ai/ai-handler.js';
import { compileAiSnapshot } from './ai/ai-snapshot.js';
import { ProviderKeyService } from './ai/provider-keys.js';
import { ResponseCache } from './ai/response-cache.js';
import { SpendTracker } from './ai/spend-tracker.js';
import { SharedBudgets } from './ai/shared-budgets.js';
import { KeyTurns } from './ai/key-turns.js';
import { TargetCircuits } from './ai/target-circuits.js';
import { forgetChangedProviders } from './ai/changed-providers.js';
import { EMPTY_AI } from './ai/ai-snapshot.js';
import { MAX_CHAIN_RESPONSES, StoredResponses } from './ai/stored-responses.js';
import { ENCRYPTED_REASONING_PURPOSE, encryptedReasoning } from './ai/responses-ingress/index.js';
import { UsageRecorder } from './ai/usage-recorder.js';
import { ExternalIssuer } from './auth/issuers/index.js';
import type { IssuerSpec } from './auth/issuer-schema.js';
import { OAuthState } from './auth/oauth/oauth-endpoints.js';
import { StoreReplayGuard } from './auth/replay-guard.js';
import { createRateLimiter, type RateLimiter } from './auth/rate-limit/index.js';
import { RevokedTokens, type TokenRevocation } from './auth/revoked-tokens.js';
import type { TokenIssuer } from './auth/route-policy.js';
import { VerifiedTokenCache } from './auth/verified-token-cache.js';
import { CatalogService, compileCatalogSnapshot } from './catalog/index.js';
import { loadAdminToken } from './admin/admin-token.js';
import { systemClock, type Clock } from './clock.js';
import { ChangeNotices, LeaderLease } from './cluster/index.js';
import { ensureDataDir, type Settings } from './config/settings.js';
import { KeyService, compileKeySnapshot, loadMasterKey, sealerFor, type KeySlot, type LoadedKey, type MasterKey } from './keys/index.js';
import type { Logger } from './observe/logger.js';
import { compileProxySnapshot } from './proxy/compile-proxy.js';
import { createDataPlane, DATA_PLANE_DEFAULTS, type DataPlaneState } from './proxy/data-plane.js';
import { closeGracefully, listen } from './proxy/http-server.js';
import { ProxyConfigService } from './proxy/proxy-config-service.js';
import { ServiceRegistry } from './proxy/service-registry.js';
import { SnapshotHolder, type Snapshot } from './proxy/snapshot.js';
import { TlsCertificates } from './proxy/tls-certificates.js';
import { openStore, redactDatabaseUrl, type Store } from './store/index.js';

export const KEYGATE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Gateway {
  /** Undefined on a cluster primary, whose workers serve the proxy port. */
  readonly proxyUrl: string | undefined;
  readonly adminUrl: string;
  readonly keys: KeyService;
  readonly config: ProxyConfigService;
  readonly catalog: CatalogService;
  readonly providerKeys: ProviderKeyService;
  /** Writes buffered AI usage records now (the timer does it every second). */
  flushUsage(): Promise<void>;
  readonly store: Store;
  /** The snapshot this node serves right now. */
  snapshot(): Snapshot;
  /** One pass of the background jobs (rotation), as the timer would run it. */
  runSchedule(): Promise<void>;
  /** One pass of the expiry sweep (one-time values, stored Responses past their retention), as the timer runs it every minute. */
  purgeExpired(): Promise<void>;
  /** Reads the store version and recompiles if another node changed it. */
  sync(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish, closes the store. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  clock?: Clock;
  /** Timers for rotation, sync, health checks and certificate reloads; tests that drive the clock turn them off. */
  timers?: boolean;
  /** A config file (already validated) applied before the ports open: `keygate start --config`. */
  configFile?: unknown;
  /** False on a cluster primary: workers serve the proxy port. */
  serveProxy?: boolean;
  /** Told about every version this node commits (a cluster primary forwards it to its workers, and resolves once they serve it). */
  onCommit?: (version: number) => Promise<void>;
  /** Told of every snapshot version this process serves from then on, however it learnt of it (a worker tells its primary). */
  onServed?: (version: number) => void;
  /**
   * Told of every token this process revokes, once it refuses it itself; resolves once the revocation may answer (a
   * worker's primary has every other worker refuse it).
   */
  onRevoked?: (revocation: TokenRevocation) => Promise<void>;
  /** The revocations this process refuses beside its snapshot's; a worker makes it before it compiles, to be told of them meanwhile. */
  revokedTokens?: RevokedTokens;
}

function managedSlots(settings: Settings): KeySlot[] {
  const slots: KeySlot[] = [{ use: 'sig', alg: settings.signingAlg }];
  if (settings.signingAlg !== 'RS256') slots.push({ use: 'sig', alg: 'RS256' });
  slots.push({ use: 'enc', alg: 'ECDH-ES', crv: 'P-256' });
  return slots;
}

/**
 * What every node has: the key and proxy services over the store, and the snapshot they compile into, kept
 * current by change notices (direct for this node's commits, by polling the store version for others').
 */
class NodeCore {
  readonly keys: KeyService;
  readonly proxyConfig: ProxyConfigService;
  readonly catalog: CatalogService;
  readonly providerKeys: ProviderKeyService;
  readonly aiRuntime: AiRuntime;
  readonly notices: ChangeNotices;
  readonly registry: ServiceRegistry;
  readonly limiter: RateLimiter;
  /** DPoP proof and client assertion jtis, in the store: a value used on any worker or node is refused on all. */
  readonly replayGuard: StoreReplayGuard;
  #purgeTimer: NodeJS.Timeout | undefined;
  readonly dataPlaneState: DataPlaneState;
  /** Outside issuers live across snapshots, so their cached JWKS survive a config change. */
  readonly #issuers = new Map<string, ExternalIssuer>();
  /** The AI settings the last compile ignored and told (compile), as [provider, setting, value] JSON: not told again while they stay. */
  #ignoredSettings = new Set<string>();
  /** Set once the proxy port is known, unless KEYGATE_ISSUER names it. */
  issuerUrl: string;
  #holder: SnapshotHolder | undefined = undefined;
  #compiling: Promise<void> | undefined;
  #wanted = 0;
  readonly #cache = new Map<string, LoadedKey>();

  constructor(
    readonly settings: Settings,
    readonly store: Store,
    readonly master: MasterKey,
    readonly clock: Clock,
    readonly logger: Logger,
    private readonly options: Pick<StartOptions, 'onCommit' | 'onServed' | 'onRevoked' | 'revokedTokens'> & { timers: boolean },
  ) {
    // A change answers once this node serves it: this process, and its workers when it has some.
    const announce = async (version: number) => {
      await Promise.all([options.onCommit?.(version), this.notices.announce(version)]);
    };
    this.registry = new ServiceRegistry({ healthChecks: options.timers, closeAfter: settings.shutdownGrace });
    this.notices = new ChangeNotices({
      store,
      interval: settings.syncInterval,
      listener: (version) => this.serve(version),
      onError: (error) => logger.warn({ err: { message: (error as Error).message } }, 'store unreachable; serving the last good snapshot'),
    });
    this.keys = new KeyService({
      store,
      masterKey: master.key,
      clock,
      policy: {
        defaultSigningAlg: settings.signingAlg,
        managedSlots: managedSlots(settings),
        rotationInterval: settings.keyRotationInterval,
        publishLead: settings.keyPublishLead,
        tokenMaxTtl: settings.tokenMaxTtl,
      },
      onChange: announce,
    });
    this.proxyConfig = new ProxyConfigService(store, master.key, clock, announce);
    this.catalog = new CatalogService(store, clock, announce, async (service) => {
      const spec = (await this.proxyConfig.read()).services.find((s) => s.name === service);
      return { exists: spec !== undefined, approval: spec?.subscription === 'approval', team: spec?.team };
    });
    this.limiter = createRateLimiter({
      redisUrl: settings.redisUrl,
      clock,
      onError: (error) => logger.warn({ err: { message: error.message } }, 'Redis unreachable; rate limits are not counted until it is back'),
    });
    this.issuerUrl = settings.issuer ?? `http://${hostForUrl(settings.proxyHost)}:${settings.proxyPort}`;
    this.providerKeys = new ProviderKeyService(store, master.key, clock, announce);
    const recorder = new UsageRecorder(store, (error) => logger.warn({ err: { message: error.message } }, 'AI usage records could not be written; kept for the next try'));
    // The whole record, for an operator to account for by hand: it holds no secret (ids, names, counts, cost).
    recorder.onRefused((record, reason) => logger.error({ record, err: { message: reason.message } }, 'an AI usage record the store refuses was set aside, not written'));
    if (options.timers) recorder.start(1_000);
    this.replayGuard = new StoreReplayGuard(store);
    // Told once an id per node (a client that polls a lost Response would repeat it on every read), up to 10,000 ids,
    // then afresh: after a master-key change every Response is unreadable, and each is worth saying once, not forever.
    const unopenable = new Set<string>();
    const responses = new StoredResponses(store, master.key, MAX_CHAIN_RESPONSES, (id) => {
      if (unopenable.has(id)) return;
      if (unopenable.size >= 10_000) unopenable.clear();
      unopenable.add(id);
      logger.warn({ response: id }, 'a stored Response does not open under this master key (the key changed, or the row was altered): answered as gone');
    });
    if (options.timers) {
      this.#purgeTimer = setInterval(() => void this.purgeExpired(), 60_000);
      this.#purgeTimer.unref();
    }
    const spend = new SpendTracker(store, undefined, (error) => logger.warn({ err: { message: error.message } }, 'AI budgets could not be read from the store; checked against their last figures meanwhile'));
    recorder.onFlushed((records, lastId) => spend.written(records, lastId));
    const reasoningSealer = sealerFor(master.key, ENCRYPTED_REASONING_PURPOSE);
    this.aiRuntime = {
      agents: new ProviderAgents(),
      underWay: new CallsUnderWay(),
      cache: new ResponseCache(10_000),
      responses,
      sealedReasoningFor: (owner) => encryptedReasoning(reasoningSealer, owner),
      onStoreError: (error) => logger.warn({ err: { message: error.message } }, 'a Response could not be stored; answered with store: false'),
      onStoreReadError: (error) => logger.warn({ err: { message: error.message } }, 'the store did not answer a read or delete of stored Responses; answered 503 store_unavailable'),
      recorder,
      spend,
      // With Redis, calls under way on every worker and node hold against budgets together (SharedBudgets).
      sharedBudgets:
        settings.redisUrl === undefined ? undefined : (
          new SharedBudgets({ url: settings.redisUrl, onError: (error) => logger.warn({ err: { message: error.message } }, 'Redis failed; AI budgets are checked by each process alone until it answers again') })
        ),
      limiter: this.limiter,
      setAside: new Map(),
      generations: new Map(),
      pooledKeys: new Set(),
      onKeySetAside: (provider, key, reason, until) =>
        logger.warn({ provider, key, reason, until: new Date(until).toISOString() }, reason === 'invalid' ? 'a provider key was refused: calls leave it aside until then' : 'a provider key is out of quota: calls leave it aside until then'),
      onUnexpected: (requestId, error) => logger.error({ requestId, err: error instanceof Error ? { type: error.name, message: error.message, stack: error.stack } : { message: String(error) } }, 'an AI call failed inside the gateway'),
      weights: new Map(),
      keyTurns: new KeyTurns(),
      circuits: new TargetCircuits((target, failures, cooldownMs) =>
        logger.warn({ provider: target.provider, model: target.model, failures, cooldownMs }, 'an AI target keeps failing: calls skip it for the next target of their chain until its cooldown has passed'),
      ),
      now: () => clock.now(),
    };
    const revokedTokens = options.revokedTokens ?? new RevokedTokens();
    this.dataPlaneState = {
      ai: this.aiRuntime,
      issuer: () => this.issuerUrl,
      now: () => clock.now(),
      limiter: this.limiter,
      tokenCache: new VerifiedTokenCache(),
      oauth: new OAuthState(this.replayGuard),
      accessTokenTtlSeconds: Math.floor(settings.accessTokenTtl / 1000),
      tokenMaxTtlSeconds: Math.floor(settings.tokenMaxTtl / 1000),
      // A delta, not a recompile: the next snapshot (at the next poll, or change) reads it from the store.
      revokeToken: async (jti, expiresAt) => {
        const version = await this.catalog.revokeToken(jti, expiresAt, 'oauth/revoke');
        revokedTokens.add(jti, expiresAt, clock.now());
        await options.onRevoked?.({ jti, expiresAt, version });
      },
      revokedTokens,
    };
  }

  /** The issuers of a new snapshot, reusing every one whose config did not change. */
  #resolveIssuers(specs: readonly IssuerSpec[]): Map<string, TokenIssuer> {
    const result = new Map<string, TokenIssuer>();
    const keep = new Set<string>();
    for (const spec of specs) {
      const key = JSON.stringify(spec);
      keep.add(key);
      let issuer = this.#issuers.get(key);
      if (!issuer) {
        try {
          issuer = new ExternalIssuer(spec, { clock: this.clock, logger: { warn: (details: Record<string, unknown>, message: string) => this.logger.warn({ issuer: spec.name, ...details }, message) } });
        } catch (error) {
          // Validation refuses such a config; one stored before that check must not stop the node compiling.
          this.logger.error({ issuer: spec.name, err: { message: (error as Error).message } }, 'outside issuer cannot be used; its routes refuse its tokens');
          continue;
        }
        this.#issuers.set(key, issuer);
      }
      result.set(spec.name, issuer);
    }
    for (const key of this.#issuers.keys()) if (!keep.has(key)) this.#issuers.delete(key);
    return result;
  }

  /**
   * One pass of the expiry sweep (the timer's, every minute): the one-time values whose use has expired, and the
   * stored Responses past the retention this node serves now (`ai.responses.retention`, changed or not since they
   * were saved). Before the first snapshot no retention is known, and Responses wait for the next pass. Never fails:
   * what could not be purged is told, and the next pass tries again.
   */
  async purgeExpired(): Promise<void> {
    const now = this.clock.now();
    const retention = this.#holder?.current.ai.responsesRetentionMs;
    const warn = (what: string) => (error: Error) => this.logger.warn({ err: { message: error.message } }, `${what} could not be purged; will retry`);
    await Promise.all([
      this.replayGuard.purge(now).catch(warn('expired one-time values')),
      retention === undefined ? undefined : this.aiRuntime.responses.purge(now, retention).catch(warn('expired stored responses')),
    ]);
  }

  get holder(): SnapshotHolder {
    return this.#holder!;
  }

  async compile(): Promise<Snapshot> {
    const version = await this.store.version();
    const keys = await compileKeySnapshot(await this.keys.rows(), { masterKey: this.master.key, defaultSigningAlg: this.settings.signingAlg, cache: this.#cache });
    const config = await this.proxyConfig.read((provider, header) =>
      this.logger.warn({ provider, header }, 'AI provider header left out: its sealed value does not open under this master key (the row was altered, or copied from another store); apply the config again with its value'),
    );
    const proxy = compileProxySnapshot(config, this.registry);
    const catalog = await compileCatalogSnapshot(this.store.db, this.clock.now());
    const issuers = this.#resolveIssuers(config.issuers);
    const unusable = (provider: string, id: string) => this.logger.warn({ provider, keyId: id }, 'provider key left out of its pool: it holds characters no HTTP header can carry; remove it and add the key again');
    // Applying a config refuses such a setting; one stored before that rule is left out, not a reason to stop compiling.
    // Told once while the stored config holds it (every change notice recompiles, and it is no news each time);
    // again if its value changes, or once it is gone and back.
    const stillIgnored = new Set<string>();
    const ignored = (provider: string, setting: string, value: unknown) => {
      const key = JSON.stringify([provider, setting, value]);
      stillIgnored.add(key);
      if (this.#ignoredSettings.has(key)) return;
      this.logger.warn({ provider, setting }, `AI provider setting ignored: ${setting} does nothing on this provider's type; remove it from the config (applying it again is refused)`);
    };
    const ai = compileAiSnapshot(config.ai, await this.providerKeys.openPools(unusable), ignored);
    this.#ignoredSettings = stillIgnored;
    this.aiRuntime.cache.resize(ai.cacheMaxEntries || 10_000);
    return { version, builtAt: this.clock.now(), keys, proxy, catalog, issuers, ai, jwksMaxAgeSeconds: Math.floor(this.settings.jwksMaxAge / 1000) };
  }

  async firstSnapshot(): Promise<void> {
    const snapshot = await this.compile();
    // Its providers' generations, for the runtime to know them current (changed-providers.ts).
    forgetChangedProviders(EMPTY_AI, snapshot.ai, this.aiRuntime);
    this.#holder = new SnapshotHolder(snapshot);
    this.notices.start(this.#holder.current.version);
  }

  /** Recompiles until this node serves at least `version`; concurrent callers share one compile at a time. */
  async serve(version: number): Promise<void> {
    this.#wanted = Math.max(this.#wanted, version);
    while (this.#holder && this.#holder.current.version < this.#wanted) {
      if (!this.#compiling) {
        this.#compiling = this.compile()
          .then((snapshot) => {
            const before = this.#holder!.current.ai;
            this.#holder!.swap(snapshot);
            forgetChangedProviders(before, snapshot.ai, this.aiRuntime);
            this.options.onServed?.(snapshot.version);
            this.logger.info({ version: snapshot.version, jwksKeys: snapshot.keys.jwks.keys.length, services: snapshot.proxy.services.size }, 'snapshot swapped');
          })
          .finally(() => {
            this.#compiling = undefined;
          });
      }
      await this.#compiling;
    }
  }

  async close(): Promise<void> {
    this.notices.stop();
    clearInterval(this.#purgeTimer);
    await this.#compiling?.catch(() => undefined);
    await this.registry.closeAll();
    // The calls the shutdown cut off are recorded once their provider calls have been aborted: their records go
    // in the recorder's last write (a call never recorded holds the shutdown 2 s at most).
    await this.aiRuntime.underWay.settled(2_000);
    await this.aiRuntime.recorder.stop();
    await this.aiRuntime.agents.close();
    await this.limiter.close();
    await this.aiRuntime.sharedBudgets?.close();
  }
}

async function openCore(settings: Settings, options: StartOptions, role: 'main' | 'worker'): Promise<NodeCore> {
  const clock = options.clock ?? systemClock;
  ensureDataDir(settings.dataDir);
  const store = await openStore(settings.databaseUrl, {
    checkpoints: role === 'main',
    onCheckpointError: (message) => options.logger.warn({ err: { message } }, "SQLite checkpoints failed on their thread; the store's connection checkpoints instead"),
  });
  try {
    const master = await loadMasterKey(store, settings.dataDir, settings.masterKey);
    if (master.source === 'generated' && role === 'main') {
      options.logger.warn({ file: master.file }, 'generated a new master key; back it up, without it no private key in this store can be opened');
    }
    return new NodeCore(settings, store, master, clock, options.logger, { ...options, timers: options.timers !== false });
  } catch (error) {
    await store.close();
    throw error;
  }
}

function proxyTls(settings: Settings): TlsCertificates | undefined {
  return settings.tlsCert && settings.tlsKey ? new TlsCertificates({ certFile: settings.tlsCert, keyFile: settings.tlsKey, certsDir: settings.tlsCertsDir }) : undefined;
}

function adminTls(settings: Settings): TlsCertificates | undefined {
  return settings.adminTlsCert && settings.adminTlsKey ? new TlsCertificates({ certFile: settings.adminTlsCert, keyFile: settings.adminTlsKey }) : undefined;
}

/** Checks certificate files now and then, and swaps in changed ones without a restart. */
function watchCertificates(pairs: Array<[TlsCertificates | undefined, () => Server | HttpsServer | undefined, string]>, interval: number, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    for (const [tls, server, port] of pairs) {
      if (!tls) continue;
      try {
        if (tls.reloadIfChanged()) {
          const { cert, key } = tls.serverOptions();
          (server() as HttpsServer | undefined)?.setSecureContext({ cert, key });
          logger.info({ port, names: tls.names }, 'TLS certificates reloaded');
        }
      } catch (error) {
        logger.warn({ port, err: { message: (error as Error).message } }, 'TLS certificates changed but do not load; keeping the current ones');
      }
    }
  }, interval);
  timer.unref();
  return timer;
}

/** Opens the proxy port on `core`'s snapshot. */
async function openDataPlane(core: NodeCore, tls: TlsCertificates | undefined): Promise<{ server: Server; url: string }> {
  const { settings } = core;
  const server = createDataPlane(core.holder, core.dataPlaneState, { ...DATA_PLANE_DEFAULTS, headersTimeout: settings.clientHeaderTimeout, requestTimeout: settings.clientRequestTimeout }, tls);
  let port: number;
  try {
    port = await listen(server, settings.proxyPort, settings.proxyHost);
  } catch (error) {
    throw portError(error, 'KEYGATE_PROXY_PORT', settings.proxyHost, settings.proxyPort);
  }
  const url = `${tls ? 'https' : 'http'}://${hostForUrl(settings.proxyHost)}:${port}`;
  if (!settings.issuer) core.issuerUrl = url;
  return { server, url };
}

/**
 * Starts one Keygate node: opens and migrates the store, proves the master key, creates first keys, applies the
 * config file, compiles the first snapshot, then opens the admin and (unless workers serve it) proxy ports.
 */
export async function startGateway(settings: Settings, options: StartOptions): Promise<Gateway> {
  const core = await openCore(settings, options, 'main');
  try {
    return await startMain(core, options);
  } catch (error) {
    await core.close();
    await core.store.close();
    throw error;
  }
}

async function startMain(core: NodeCore, options: StartOptions): Promise<Gateway> {
  const { settings, store, clock, logger } = core;
  const adminToken = loadAdminToken(settings.dataDir, settings.adminToken);
  const proxyCerts = options.serveProxy === false ? undefined : proxyTls(settings);
  const adminCerts = adminTls(settings);

  // A store an earlier release wrote holds them in clear. Sealed here, by the node that writes (workers only read).
  if (await core.proxyConfig.sealCredentialsInClear('keygate-start')) logger.info('AI provider credential headers stored in clear by an earlier release are now sealed under the master key');

  if (options.configFile !== undefined) {
    const applied = await core.proxyConfig.apply(options.configFile, 'config-file');
    logger.info(applied, 'config file applied');
  }

  const scheduleEvery = Math.min(60_000, Math.floor(settings.keyPublishLead / 4));
  const lease = new LeaderLease(store, 'keys.rotation', scheduleEvery * 3, clock);
  const runSchedule = async (): Promise<void> => {
    if (!(await lease.acquire())) return;
    const events = await core.keys.runSchedule();
    for (const event of events) logger.info(event, `key ${event.action}`);
  };

  // First start: every managed slot gets its key before anything is served, so the JWKS is never empty.
  await runSchedule();
  await core.firstSnapshot();
  const holder = core.holder;

  const startedAt = clock.now();
  let stopping: Promise<void> | undefined;
  let admin: FastifyInstance | undefined;
  try {
    // Loaded here, not at the top: proxy workers never run the admin API, and need not hold Fastify in memory.
    const { createAdminServer } = await import('./admin/admin-server.js');
    admin = await createAdminServer({
      logger,
      token: adminToken,
      version: KEYGATE_VERSION,
      keys: core.keys,
      proxyConfig: core.proxyConfig,
      catalog: core.catalog,
      providerKeys: core.providerKeys,
      store,
      modelCatalog: () => holder.current.ai.catalog,
      keySnapshot: () => holder.current.keys,
      clock,
      tokenMaxTtlSeconds: Math.floor(settings.tokenMaxTtl / 1000),
      closing: () => stopping !== undefined,
      https: adminCerts?.serverOptions(),
      status: () => ({
        status: 'ok',
        version: KEYGATE_VERSION,
        snapshotVersion: holder.current.version,
        store: store.dialect,
        uptimeSeconds: Math.floor((clock.now() - startedAt) / 1000),
      }),
    });
    await admin.listen({ port: settings.adminPort, host: settings.adminHost });
  } catch (error) {
    await admin?.close();
    throw portError(error, 'KEYGATE_ADMIN_PORT', settings.adminHost, settings.adminPort);
  }

  let dataPlane: { server: Server; url: string } | undefined;
  try {
    if (options.serveProxy !== false) dataPlane = await openDataPlane(core, proxyCerts);
  } catch (error) {
    await admin.close();
    throw error;
  }

  const timers: NodeJS.Timeout[] = [];
  if (options.timers !== false) {
    const timer = setInterval(() => {
      runSchedule().catch((error: Error) => logger.error({ err: { message: error.message } }, 'key rotation failed; will retry'));
    }, scheduleEvery);
    timer.unref();
    timers.push(timer);
    timers.push(watchCertificates([[proxyCerts, () => dataPlane?.server, 'proxy'], [adminCerts, () => admin?.server, 'admin']], settings.tlsReloadInterval, logger));
  }

  const adminAddress = admin.server.address();
  const adminPort = typeof adminAddress === 'object' && adminAddress ? adminAddress.port : settings.adminPort;
  const adminUrl = `${adminCerts ? 'https' : 'http'}://${hostForUrl(settings.adminHost)}:${adminPort}`;
  if (options.serveProxy !== false) {
    logger.info(
      {
        proxy: dataPlane?.url,
        admin: adminUrl,
        store: redactDatabaseUrl(settings.databaseUrl),
        snapshotVersion: holder.current.version,
        masterKey: core.master.source === 'environment' ? 'KEYGATE_MASTER_KEY' : core.master.file,
      },
      'keygate started',
    );
  }
  if (adminToken.file) {
    logger.info({ file: adminToken.file }, `admin API token ${adminToken.generated ? 'written to' : 'read from'} ${adminToken.file} (owner-only); send it as "Authorization: Bearer <token>"`);
  }

  return {
    proxyUrl: dataPlane?.url,
    adminUrl,
    keys: core.keys,
    config: core.proxyConfig,
    catalog: core.catalog,
    providerKeys: core.providerKeys,
    flushUsage: () => core.aiRuntime.recorder.flush(),
    store,
    snapshot: () => holder.current,
    runSchedule,
    purgeExpired: () => core.purgeExpired(),
    sync: () => core.notices.poll(),
    stop() {
      stopping ??= (async () => {
        for (const timer of timers) clearInterval(timer);
        await Promise.all([dataPlane ? closeGracefully(dataPlane.server, settings.shutdownGrace) : undefined, admin!.close()]);
        await core.close();
        await lease.release().catch(() => undefined);
        await store.close();
        logger.info('keygate stopped');
      })();
      return stopping;
    },
  };
}

export interface ProxyWorker {
  readonly proxyUrl: string;
  /** Recompile now: the primary committed `version`. */
  notice(version: number): Promise<void>;
  /** The snapshot version it serves. */
  version(): number;
  stop(): Promise<void>;
}

/**
 * A proxy worker of a cluster: the same snapshot as its primary, compiled from the same store, serving the
 * shared proxy port. It changes no config (it writes the usage records of its AI calls, and token revocations); the
 * primary runs the admin API and the background jobs.
 */
export async function startProxyWorker(settings: Settings, options: StartOptions): Promise<ProxyWorker> {
  const core = await openCore(settings, options, 'worker');
  const tls = proxyTls(settings);
  let dataPlane: { server: Server; url: string };
  try {
    await core.firstSnapshot();
    dataPlane = await openDataPlane(core, tls);
  } catch (error) {
    await core.close();
    await core.store.close();
    throw error;
  }
  const timers = options.timers === false ? [] : [watchCertificates([[tls, () => dataPlane.server, 'proxy']], settings.tlsReloadInterval, core.logger)];
  let stopping: Promise<void> | undefined;
  return {
    proxyUrl: dataPlane.url,
    notice: (version) => core.serve(version),
    version: () => core.holder.current.version,
    stop() {
      stopping ??= (async () => {
        for (const timer of timers) clearInterval(timer);
        await closeGracefully(dataPlane.server, settings.shutdownGrace);
        await core.close();
        await core.store.close();
      })();
      return stopping;
    },
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export class PortError extends Error {
  override name = 'PortError';
}

function portError(error: unknown, setting: string, host: string, port: number): Error {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') return new PortError(`${setting}: ${host}:${port} is already in use; choose another port`);
  if (code === 'EACCES') return new PortError(`${setting}: not allowed to listen on ${host}:${port}; choose a port above 1023`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new PortError(`${setting}: ${host} is not an address of this machine`);
  return error as Error;
}
