import type { Server } from 'node:http';

/**
 * Graceful close for a node:http server: stop accepting, let in-flight requests finish (up to `grace` ms),
 * close idle keep-alive connections at once, then cut whatever is left.
 */
export function closeGracefully(server: Server, grace: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), grace);
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

