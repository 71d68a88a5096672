import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Sockets handed to 'upgrade' listeners, by server: Node no longer counts them among its connections. */
const upgradedSockets = new WeakMap<Server, Set<Duplex>>();

/**
 * Keeps track of `server`'s upgraded connections (WebSockets) while they are open, so that a graceful close can
 * end them once its grace is over: `closeAllConnections` does not reach them, and `close` waits for them.
 */
export function trackUpgrades(server: Server): void {
  const open = new Set<Duplex>();
  upgradedSockets.set(server, open);
  server.on('upgrade', (_req, socket: Duplex) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
}

/**
 * Graceful close for a node:http server: stop accepting, let in-flight requests finish (up to `grace` ms),
 * close idle keep-alive connections at once, then cut whatever is left, upgraded connections (trackUpgrades)
 * included.
 */
export function closeGracefully(server: Server, grace: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.closeAllConnections();
      for (const socket of upgradedSockets.get(server) ?? []) socket.destroy();
    }, grace);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
    // A keep-alive connection that finishes its last response is closed rather than left idle.
    server.on('request', (_req, res) => res.setHeader('connection', 'close'));
  });
}

/** Listens on host:port and resolves with the bound port (useful with port 0). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

