import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as IORedis from 'ioredis';
import type { Redis } from 'ioredis';

// Loaded on first use: a gateway without Redis never holds the client library in memory.
const requireModule = createRequire(import.meta.url);

/** A Lua script and its SHA-1 digest, by which Redis runs a script it has seen. */
export interface RedisScript {
  text: string;
  sha: string;
}

export const redisScript = (text: string): RedisScript => ({ text, sha: createHash('sha1').update(text).digest('hex') });

export interface RedisScriptsOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** Told when a script fails after Redis had answered (and at the first failure): once per outage, not per call. */
  onError: (error: Error) => void;
  /** The longest a script waits for Redis before it fails. Default 100 ms. */
  commandTimeoutMs?: number;
}

/**
 * Lua scripts run in Redis for counts that every node and worker shares (rate limits, AI budgets). A dead or slow
 * Redis never stalls a request: nothing is queued while disconnected, a script fails after `commandTimeoutMs`, and
 * its caller decides what that means. Each script goes by its digest (EVALSHA), and as itself once when Redis has
 * not seen it (after a restart or SCRIPT FLUSH).
 */
export class RedisScripts {
  readonly #redis: Redis;
  readonly #onError: (error: Error) => void;
  #healthy = true;

  constructor(options: RedisScriptsOptions) {
    this.#onError = options.onError;
    const { Redis: RedisClient } = requireModule('ioredis') as typeof IORedis;
    this.#redis = new RedisClient(options.url, {
      commandTimeout: options.commandTimeoutMs ?? 100,
      connectTimeout: 1_000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Keep reconnecting in the background; scripts meanwhile fail at once.
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    });
    this.#redis.on('error', (error: Error) => this.#report(error));
    this.#redis.on('ready', () => {
      this.#healthy = true;
    });
  }

  /** Resolves once the connection is ready; scripts before then fail. */
  ready(): Promise<void> {
    if (this.#redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.#redis.once('ready', () => resolve()));
  }

  get isReady(): boolean {
    return this.#redis.status === 'ready';
  }

  /** Runs `script`; a failure is told (once an outage) and rethrown for the caller to decide on. */
  async run(script: RedisScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      const reply = await this.#evaluate(script, keys, args);
      this.#healthy = true;
      return reply;
    } catch (error) {
      this.#report(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  async #evaluate(script: RedisScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await this.#redis.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await this.#redis.eval(script.text, keys.length, ...keys, ...args);
    }
  }

  // Once per outage: at thousands of calls a second, one warning per call would bury the log it warns in.
  #report(error: Error): void {
    if (!this.#healthy) return;
    this.#healthy = false;
    this.#onError(error);
  }
}
