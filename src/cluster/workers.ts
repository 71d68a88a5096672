import cluster, { type Worker } from 'node:cluster';
import { RevokedTokens, type TokenRevocation } from '../auth/revoked-tokens.js';
import { systemClock } from '../clock.js';
import type { Settings } from '../config/settings.js';
import { startGateway, startProxyWorker, type ProxyWorker, type StartOptions } from '../gateway.js';
import { ServedVersions } from './served-versions.js';

/**
 * `revoked` is a token another worker revoked, to refuse without a recompile; `everywhere` answers a worker's
 * `revoked` of the same id: every worker refuses that token (or the wait ended).
 */
type ToWorker = { type: 'version'; version: number } | ({ type: 'revoked' } & TokenRevocation) | { type: 'everywhere'; id: number } | { type: 'stop' };
/**
 * `listening` and `served` say which snapshot version the worker serves from then on; `revoked`, that the worker
 * revoked a token, for the primary to tell every other worker; `holds`, that the worker refuses the token revoked at
 * that version.
 */
type FromWorker =
  | { type: 'listening'; url: string; version: number }
  | { type: 'served'; version: number }
  | ({ type: 'revoked'; id: number } & TokenRevocation)
  | { type: 'holds'; version: number }
  | { type: 'failed'; message: string };

/**
 * How long an admin change waits for the workers to serve it before it answers all the same (a worker that cannot
 * read the store meanwhile): a compile takes milliseconds, and the workers poll the store version anyway.
 */
const SERVED_WAIT_MS = 5_000;

/** A worker could not start (its port, its store); the message is the worker's own one-line reason. */
export class WorkerStartError extends Error {
  override name = 'WorkerStartError';
}

export interface RunningCluster {
  stop(): Promise<void>;
}

/**
 * How long to wait before replacing a dead proxy worker, after `failedStarts` replacements in a row died before
 * listening: at once the first time, then 0.25 s doubling up to 30 s. A worker that cannot start (the store
 * unreachable, the TLS key unreadable) would otherwise be forked again and again, each loading the whole
 * gateway, on the CPUs the remaining workers need during the very outage they are riding out.
 */
export function respawnDelay(failedStarts: number): number {
  return failedStarts === 0 ? 0 : Math.min(30_000, 250 * 2 ** (failedStarts - 1));
}

/**
 * `--workers N` with N > 1: the primary process runs the admin API, the store's writes and the background jobs;
 * N worker processes share the proxy port (the kernel spreads connections among them) and each serves the same
 * snapshot, compiled from the same store. The primary forwards every version it commits and waits until each
 * worker serving the proxy port serves it, so that an admin change answers only once every worker of the node
 * serves it (a revoked key refused by all). A token a worker revokes on the proxy port goes through the primary as a
 * delta: every worker adds it to its revoked set, and the revocation answers once all of them refuse it. They also poll
 * the store version like any node, which covers other primaries sharing the store (and compiles the revocations in).
 */
export async function startPrimary(settings: Settings, options: StartOptions): Promise<RunningCluster> {
  const { logger } = options;
  const workers = new Set<Worker>();
  let stopping = false;
  const broadcast = (message: ToWorker) => {
    for (const worker of workers) if (worker.isConnected()) worker.send(message);
  };
  const served = new ServedVersions<Worker>((worker) => worker.isConnected(), SERVED_WAIT_MS, (version, behind, revocation) =>
    logger.warn(
      { version, behind: behind.map((worker) => worker.process.pid) },
      revocation ? 'a worker does not refuse the revoked token yet; answered all the same, it will refuse it once it reads the store' : 'a worker does not serve the change yet; answered all the same, it will catch up from the store',
    ),
  );
  const servedEverywhere = (version: number) => {
    broadcast({ type: 'version', version });
    return served.everywhere(version);
  };
  const gateway = await startGateway(settings, { ...options, serveProxy: false, onCommit: servedEverywhere });

  // Replacements in a row that died before listening; a worker that listens resets it.
  let failedStarts = 0;
  let respawnTimer: NodeJS.Timeout | undefined;
  const fork = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      let listening = false;
      workers.add(worker);
      // Changes wait for a starting worker too (it tells the version it serves once it listens): one that compiled
      // before a change and listens after it would otherwise serve the old snapshot once the change had answered.
      served.served(worker, 0);
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'listening' || message.type === 'served') served.served(worker, message.version);
        if (message.type === 'holds') served.holds(worker, message.version);
        // A token revoked on one worker reaches the others as a delta, not at their next poll, nor as a recompile of
        // every worker's snapshot per revocation. A worker still starting gets it too, or reads it from the store.
        if (message.type === 'revoked') {
          const { id, type, ...revocation } = message;
          served.holds(worker, revocation.version);
          for (const other of workers) if (other !== worker && other.isConnected()) other.send({ type, ...revocation } satisfies ToWorker);
          void served.heldEverywhere(revocation.version).then(() => {
            if (worker.isConnected()) worker.send({ type: 'everywhere', id } satisfies ToWorker);
          });
        }
        if (message.type === 'listening') {
          listening = true;
          failedStarts = 0;
          resolve(message.url);
          // A worker still loading when the primary began to stop (just after it replaced a dead one) may have had
          // the stop message before it listened for messages: it goes again, or the primary waits for ever.
          if (stopping && worker.isConnected()) worker.send({ type: 'stop' } satisfies ToWorker);
        }
        if (message.type === 'failed') reject(new WorkerStartError(message.message));
      });
      worker.on('exit', (code, signal) => {
        workers.delete(worker);
        served.gone(worker);
        reject(new WorkerStartError(`proxy worker ${worker.process.pid} exited (${signal ?? code}) before listening`));
        if (stopping) return;
        if (!listening) failedStarts += 1;
        const delay = respawnDelay(failedStarts);
        logger.error({ pid: worker.process.pid, code, signal, restartInMs: delay }, 'proxy worker died; starting another');
        respawnTimer = setTimeout(() => {
          respawnTimer = undefined;
          if (stopping) return;
          fork().catch((error: Error) => logger.error({ err: { message: error.message } }, 'replacement worker failed to start'));
        }, delay);
      });
    });

  let urls: string[];
  try {
    urls = await Promise.all(Array.from({ length: settings.workers }, fork));
  } catch (error) {
    stopping = true;
    for (const worker of workers) worker.kill('SIGKILL');
    await gateway.stop();
    throw error;
  }
  logger.info({ proxy: urls[0], admin: gateway.adminUrl, workers: settings.workers, snapshotVersion: gateway.snapshot().version }, 'keygate started');

  return {
    async stop() {
      stopping = true;
      clearTimeout(respawnTimer);
      const exits = [...workers].map((worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve())));
      broadcast({ type: 'stop' });
      await Promise.all(exits);
      await gateway.stop();
    },
  };
}

/** The worker side: serve the proxy port, follow the primary's version notices, stop when told. */
export async function runWorker(settings: Settings, options: StartOptions): Promise<void> {
  // Nothing once the primary is gone: a send on a closed channel is an 'error' event no one handles, which would end
  // the worker in the middle of the drain its disconnect began (a snapshot swapped by the worker's own poll, say).
  const send = (message: FromWorker) => {
    if (process.connected) process.send?.(message, undefined, {}, () => undefined);
  };
  // Listened for from the start: a version the primary commits while this worker compiles is not lost (it would
  // serve the snapshot before it once listening), nor a revocation, nor a stop.
  let wanted = 0;
  const revokedTokens = new RevokedTokens();
  const clock = options.clock ?? systemClock;
  let stopWanted = false;
  let running: ProxyWorker | undefined;
  const stop = () => {
    stopWanted = true;
    if (running) void running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  // The worker's own revocations, waiting for the primary to say every worker refuses them.
  const revoking = new Map<number, () => void>();
  let nextRevocation = 1;
  const revoked = (revocation: TokenRevocation) =>
    new Promise<void>((resolve) => {
      if (!process.connected) return resolve();
      const id = nextRevocation++;
      revoking.set(id, resolve);
      send({ type: 'revoked', id, ...revocation });
    });
  process.on('disconnect', () => {
    for (const resolve of revoking.values()) resolve();
    revoking.clear();
  });
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stop') return stop();
    if (message.type === 'everywhere') {
      revoking.get(message.id)?.();
      revoking.delete(message.id);
      return;
    }
    // Refused from now on, whichever snapshot the worker serves, or compiles (its first one included).
    if (message.type === 'revoked') {
      revokedTokens.add(message.jti, message.expiresAt, clock.now());
      send({ type: 'holds', version: message.version });
      return;
    }
    wanted = Math.max(wanted, message.version);
    // Said once served (onServed says it of every swap; this, of a version already served): the primary's admin
    // change answers when every worker serves it.
    void running?.notice(message.version).then(() => send({ type: 'served', version: message.version }), () => undefined);
  });
  // Ctrl-C reaches the whole process group; the primary's stop message may follow, either way we drain.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  try {
    running = await startProxyWorker(settings, { ...options, revokedTokens, onRevoked: revoked, onServed: (version) => send({ type: 'served', version }) });
    if (running.version() < wanted) await running.notice(wanted);
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
    process.exit(1);
  }
  send({ type: 'listening', url: running.proxyUrl, version: running.version() });
  if (stopWanted) stop();
}
