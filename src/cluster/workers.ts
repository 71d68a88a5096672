import cluster, { type Worker } from 'node:cluster';
import type { Settings } from '../config/settings.js';
import { startGateway, startProxyWorker, type ProxyWorker, type StartOptions } from '../gateway.js';
import { ServedVersions } from './served-versions.js';

/** `everywhere` answers a worker's `committed` of the same id: every worker serves that version (or the wait ended). */
type ToWorker = { type: 'version'; version: number } | { type: 'everywhere'; id: number } | { type: 'stop' };
/**
 * `listening` and `served` say which snapshot version the worker serves from then on; `committed`, that the worker
 * itself committed a version (a token it revoked), for the primary to bring every worker to it.
 */
type FromWorker = { type: 'listening'; url: string; version: number } | { type: 'served'; version: number } | { type: 'committed'; version: number; id: number } | { type: 'failed'; message: string };

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
 * serves it (a revoked key refused by all). A change a worker commits itself (a token revoked on the proxy port) goes
 * through the primary the same way before it answers. They also poll the store version like any node, which covers
 * other primaries sharing the store.
 */
export async function startPrimary(settings: Settings, options: StartOptions): Promise<RunningCluster> {
  const { logger } = options;
  const workers = new Set<Worker>();
  let stopping = false;
  const broadcast = (message: ToWorker) => {
    for (const worker of workers) if (worker.isConnected()) worker.send(message);
  };
  const served = new ServedVersions<Worker>((worker) => worker.isConnected(), SERVED_WAIT_MS, (version, behind) =>
    logger.warn({ version, behind: behind.map((worker) => worker.process.pid) }, 'a worker does not serve the change yet; answered all the same, it will catch up from the store'),
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
        // A worker's own change (an OAuth revocation) reaches the other workers as the primary's do, not at their next poll.
        if (message.type === 'committed') {
          const { id } = message;
          void servedEverywhere(message.version).then(() => {
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
  // serve the snapshot before it once listening), nor a stop.
  let wanted = 0;
  let stopWanted = false;
  let running: ProxyWorker | undefined;
  const stop = () => {
    stopWanted = true;
    if (running) void running.stop().then(() => process.exit(0), () => process.exit(1));
  };
  // The worker's own commits, waiting for the primary to say every worker serves them.
  const committing = new Map<number, () => void>();
  let nextCommit = 1;
  const committed = (version: number) =>
    new Promise<void>((resolve) => {
      if (!process.connected) return resolve();
      const id = nextCommit++;
      committing.set(id, resolve);
      send({ type: 'committed', version, id });
    });
  process.on('disconnect', () => {
    for (const resolve of committing.values()) resolve();
    committing.clear();
  });
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stop') return stop();
    if (message.type === 'everywhere') {
      committing.get(message.id)?.();
      committing.delete(message.id);
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
    running = await startProxyWorker(settings, { ...options, onCommit: committed, onRevoked: ({ version }) => committed(version), onServed: (version) => send({ type: 'served', version }) });
    if (running.version() < wanted) await running.notice(wanted);
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
    process.exit(1);
  }
  send({ type: 'listening', url: running.proxyUrl, version: running.version() });
  if (stopWanted) stop();
}
