import { Agent } from 'undici';

/**
 * The connection pools AI calls go through, one per `ai.timeout` in use: the time to open a connection is the
 * pool's setting (undici's default 10 s), not a request's, and the head timeout only starts once the request is
 * written. A provider that drops the connection attempt (a firewall, a full accept queue) would otherwise cost every
 * call 10 s before its fallback whatever `ai.timeout` says, and `0s` (no limit) would still give up after 10 s.
 */
export class ProviderAgents {
  readonly #agents = new Map<number, Agent>();

  /** The pool whose connection attempts give up after `timeoutMs` (0: when the system gives up). */
  for(timeoutMs: number): Agent {
    let agent = this.#agents.get(timeoutMs);
    if (!agent) {
      agent = new Agent({ keepAliveTimeout: 30_000, connections: 256, connect: { timeout: timeoutMs } });
      this.#agents.set(timeoutMs, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((agent) => agent.close()));
    this.#agents.clear();
  }
}
