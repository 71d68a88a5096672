import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from './admin/admin-server.js';
import { loadAdminToken } from './admin/admin-token.js';
import { systemClock, type Clock } from './clock.js';
import { ChangeNotices, LeaderLease } from './cluster/index.js';
import { ensureDataDir, type Settings } from './config/settings.js';
import { KeyService, compileKeySnapshot, loadMasterKey, type KeySlot, type LoadedKey } from './keys/index.js';
import type { Logger } from './observe/logger.js';
import { compileProxySnapshot } from './proxy/compile-proxy.js';
import { createDataPlane } from './proxy/data-plane.js';
import { ProxyConfigService } from './proxy/proxy-config-service.js';
import { ServiceRegistry } from './proxy/service-registry.js';
import { closeGracefully, listen } from './proxy/http-server.js';
import { SnapshotHolder, type Snapshot } from './proxy/snapshot.js';
import { openStore, redactDatabaseUrl, type Store } from './store/index.js';

export const KEYGATE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Gateway {
  readonly proxyUrl: string;
  readonly adminUrl: string;
  readonly keys: KeyService;
  readonly config: ProxyConfigService;
  readonly store: Store;
  /** The snapshot this node serves right now. */
  snapshot(): Snapshot;
  /** One pass of the background jobs (rotation), as the timer would run it. */
  runSchedule(): Promise<void>;
  /** Reads the store version and recompiles if another node changed it. */
  sync(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish, closes the store. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: Logger;
  clock?: Clock;
  /** Timers for rotation, sync and health checks; tests that drive the clock by hand turn them off. */
  timers?: boolean;
  /** A config file (already validated) applied before the ports open: `keygate start --config`. */
  configFile?: unknown;
}

/**
 * Starts one Keygate node: opens and migrates the store, proves the master key, creates first keys, compiles the
 * first snapshot, then opens the admin and proxy ports.
 */
export async function startGateway(settings: Settings, options: StartOptions): Promise<Gateway> {
  const { logger } = options;
  const clock = options.clock ?? systemClock;
  ensureDataDir(settings.dataDir);
  const store = await openStore(settings.databaseUrl);
  try {
    return await startOnStore(settings, options, store, clock, logger);
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function startOnStore(settings: Settings, options: StartOptions, store: Store, clock: Clock, logger: Logger): Promise<Gateway> {
  const master = await loadMasterKey(store, settings.dataDir, settings.masterKey);
  if (master.source === 'generated') logger.warn({ file: master.file }, 'generated a new master key; back it up, without it no private key in this store can be opened');
  const adminToken = loadAdminToken(settings.dataDir, settings.adminToken);

  const managedSlots: KeySlot[] = [{ use: 'sig', alg: settings.signingAlg }];
  if (settings.signingAlg !== 'RS256') managedSlots.push({ use: 'sig', alg: 'RS256' });
  managedSlots.push({ use: 'enc', alg: 'ECDH-ES', crv: 'P-256' });

  const cache = new Map<string, LoadedKey>();
  // Set once the first snapshot is compiled; changes announced before that (first-start keys) need no swap.
  let holder: SnapshotHolder | undefined = undefined;
  let compiling: Promise<void> | undefined;
  let wanted = 0;

  const registry = new ServiceRegistry({ healthChecks: options.timers !== false, closeAfter: settings.shutdownGrace });
  const compile = async (): Promise<Snapshot> => {
    const version = await store.version();
    const keys = await compileKeySnapshot(await keyService.rows(), { masterKey: master.key, defaultSigningAlg: settings.signingAlg, cache });
    const proxy = compileProxySnapshot(await proxyConfig.read(), registry);
    return { version, builtAt: clock.now(), keys, proxy, jwksMaxAgeSeconds: Math.floor(settings.jwksMaxAge / 1000) };
  };

  /** Recompiles until this node serves at least `version`; concurrent requests share one compile at a time. */
  const serve = async (version: number): Promise<void> => {
    wanted = Math.max(wanted, version);
    while (holder && holder.current.version < wanted) {
      if (!compiling) {
        compiling = compile()
          .then((snapshot) => {
            holder!.swap(snapshot);
            logger.info({ version: snapshot.version, jwksKeys: snapshot.keys.jwks.keys.length }, 'snapshot swapped');
          })
          .finally(() => {
            compiling = undefined;
          });
      }
      await compiling;
    }
  };

  const notices = new ChangeNotices({
    store,
    interval: settings.syncInterval,
    listener: serve,
    onError: (error) => logger.warn({ err: { message: (error as Error).message } }, 'store unreachable; serving the last good snapshot'),
  });

  const keyService = new KeyService({
    store,
    masterKey: master.key,
    clock,
    policy: {
      defaultSigningAlg: settings.signingAlg,
      managedSlots,
      rotationInterval: settings.keyRotationInterval,
      publishLead: settings.keyPublishLead,
      tokenMaxTtl: settings.tokenMaxTtl,
    },
    onChange: (version) => notices.announce(version),
  });

  const proxyConfig = new ProxyConfigService(store, clock, (version) => notices.announce(version));
  if (options.configFile !== undefined) {
    const applied = await proxyConfig.apply(options.configFile, 'config-file');
    logger.info(applied, 'config file applied');
  }

  const scheduleEvery = Math.min(60_000, Math.floor(settings.keyPublishLead / 4));
  const lease = new LeaderLease(store, 'keys.rotation', scheduleEvery * 3, clock);
  const runSchedule = async (): Promise<void> => {
    if (!(await lease.acquire())) return;
    const events = await keyService.runSchedule();
    for (const event of events) logger.info(event, `key ${event.action}`);
  };

  // First start: every managed slot gets its key before anything is served, so the JWKS is never empty.
  await runSchedule();
  holder = new SnapshotHolder(await compile());
  notices.start(holder.current.version);

  const timers: NodeJS.Timeout[] = [];
  if (options.timers !== false) {
    const timer = setInterval(() => {
      runSchedule().catch((error: Error) => logger.error({ err: { message: error.message } }, 'key rotation failed; will retry'));
    }, scheduleEvery);
    timer.unref();
    timers.push(timer);
  }

  const snapshotHolder = holder;
  const dataPlane: Server = createDataPlane(snapshotHolder);
  const startedAt = clock.now();
  let stopping: Promise<void> | undefined;
  let admin: FastifyInstance | undefined;
  try {
    admin = await createAdminServer({
      logger,
      token: adminToken,
      version: KEYGATE_VERSION,
      keys: keyService,
      proxyConfig,
      keySnapshot: () => snapshotHolder.current.keys,
      clock,
      tokenMaxTtlSeconds: Math.floor(settings.tokenMaxTtl / 1000),
      closing: () => stopping !== undefined,
      status: () => ({
        status: 'ok',
        version: KEYGATE_VERSION,
        snapshotVersion: snapshotHolder.current.version,
        store: store.dialect,
        uptimeSeconds: Math.floor((clock.now() - startedAt) / 1000),
      }),
    });
    await admin.listen({ port: settings.adminPort, host: settings.adminHost });
  } catch (error) {
    await admin?.close();
    throw portError(error, 'KEYGATE_ADMIN_PORT', settings.adminHost, settings.adminPort);
  }
  let proxyPort: number;
  try {
    proxyPort = await listen(dataPlane, settings.proxyPort, settings.proxyHost);
  } catch (error) {
    await admin.close();
    throw portError(error, 'KEYGATE_PROXY_PORT', settings.proxyHost, settings.proxyPort);
  }
  const adminAddress = admin.server.address();
  const adminPort = typeof adminAddress === 'object' && adminAddress ? adminAddress.port : settings.adminPort;
  const proxyUrl = `http://${hostForUrl(settings.proxyHost)}:${proxyPort}`;
  const adminUrl = `http://${hostForUrl(settings.adminHost)}:${adminPort}`;

  logger.info(
    {
      proxy: proxyUrl,
      admin: adminUrl,
      store: redactDatabaseUrl(settings.databaseUrl),
      snapshotVersion: snapshotHolder.current.version,
      masterKey: master.source === 'environment' ? 'KEYGATE_MASTER_KEY' : master.file,
    },
    'keygate started',
  );
  if (adminToken.file) {
    logger.info({ file: adminToken.file }, `admin API token ${adminToken.generated ? 'written to' : 'read from'} ${adminToken.file} (owner-only); send it as "Authorization: Bearer <token>"`);
  }

  return {
    proxyUrl,
    adminUrl,
    keys: keyService,
    config: proxyConfig,
    store,
    snapshot: () => snapshotHolder.current,
    runSchedule,
    sync: () => notices.poll(),
    stop() {
      stopping ??= (async () => {
        for (const timer of timers) clearInterval(timer);
        notices.stop();
        await Promise.all([closeGracefully(dataPlane, settings.shutdownGrace), admin!.close()]);
        await compiling?.catch(() => undefined);
        await registry.closeAll();
        await lease.release().catch(() => undefined);
        await store.close();
        logger.info('keygate stopped');
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
