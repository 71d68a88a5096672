import { Agent } from 'undici';

/** The longest wait for a connection to a provider: undici's default. */
const MAX_CONNECT_MS = 10_000;

/** How long a call of `timeoutMs` (0: no limit on the answer) waits for its connection: as long, and 10 s at most. */
export const connectTimeoutFor = (timeoutMs: number): number => (timeoutMs === 0 ? MAX_CONNECT_MS : Math.min(timeoutMs, MAX_CONNECT_MS));

/**
 * The connection pools AI calls go through, one per `ai.timeout` in use: the time to open a connection is the
 * pool's setting, not a request's, and the head timeout only starts once the request is written. With undici's
 * default of 10 s, a provider that drops connection attempts (a firewall, a full accept queue) cost every call 10 s
 * before its fallback whatever `ai.timeout` said. A pool per distinct timeout ever applied stays until the node
 * stops (a few at most; idle connections close after 30 s).
 */
export class ProviderAgents {
  readonly #agents = new Map<number, Agent>();

  /**
   * The pool for calls of `timeoutMs`: its connection attempts give up after connectTimeoutFor's time (a connection
   * opens in a round trip or two: the default 60 s for a head would hold a dead host's calls six times as long).
   */
  for(timeoutMs: number): Agent {
    let agent = this.#agents.get(timeoutMs);
    if (!agent) {
      agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, connect: { timeout: connectTimeoutFor(timeoutMs) } });
      this.#agents.set(timeoutMs, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((agent) => agent.close()));
    this.#agents.clear();
  }
}
