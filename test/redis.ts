import { randomBytes } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';

/**
 * The Redis that Redis-backed tests run against (TEST_REDIS_URL, default redis://127.0.0.1:6379).
 * Without one its tests are skipped with a visible line; in CI (CI=true) a missing Redis fails the run instead.
 * Test files run in parallel against the same Redis, so every test works under its own key prefix and deletes
 * its keys afterwards.
 */
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisAnswers(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export const redisAvailable: boolean = await redisAnswers();
if (!redisAvailable) {
  if (process.env.CI === 'true') throw new Error(`Redis does not answer at ${REDIS_URL}, and CI=true requires the Redis tests to run`);
  console.warn(`SKIPPING Redis tests: no Redis answers at ${REDIS_URL}`);
}

export interface RedisTestKeys {
  /** A prefix no other test uses: `keygate-test:<random>:`. */
  prefix: string;
  /** A plain client for inspecting keys (PTTL, HGETALL…). */
  client: Redis;
  /** Deletes every key under the prefix and closes the client. */
  cleanup(): Promise<void>;
}

/** A private key space for one test. */
export async function redisTestKeys(): Promise<RedisTestKeys> {
  const prefix = `keygate-test:${randomBytes(6).toString('hex')}:`;
  const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  return {
    prefix,
    client,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await client.quit();
    },
  };
}

export interface FakeRedis {
  url: string;
  /** Every command received, as its arguments (`['EVALSHA', sha, '1', key, …]`). */
  commands: string[][];
  close(): Promise<void>;
}

/**
 * A loopback server that speaks just enough of RESP to pass ioredis's connection handshake (INFO, CLIENT), and
 * answers every other command with `reply` — a raw RESP reply, or undefined to never answer. For the failures a
 * real Redis will not produce on demand: a server that stops answering, or one that has lost its scripts.
 */
export async function startFakeRedis(reply: (command: string[]) => string | undefined): Promise<FakeRedis> {
  const commands: string[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    socket.setEncoding('latin1');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let parsed = parseCommand(buffer); parsed !== undefined; parsed = parseCommand(buffer)) {
        buffer = buffer.slice(parsed.length);
        const name = parsed.command[0]?.toUpperCase();
        commands.push(parsed.command);
        const answer =
          name === 'INFO' ? bulk('# Server\r\nredis_version:7.0.0\r\nloading:0\r\n') : name === 'CLIENT' ? '+OK\r\n' : reply(parsed.command);
        if (answer !== undefined) socket.write(answer, 'latin1');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the fake Redis has no TCP address');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function bulk(text: string): string {
  return `$${Buffer.byteLength(text, 'latin1')}\r\n${text}\r\n`;
}

/** One RESP array of bulk strings from the start of `buffer`, or undefined while it is incomplete. */
function parseCommand(buffer: string): { command: string[]; length: number } | undefined {
  let at = 0;
  const line = (): string | undefined => {
    const end = buffer.indexOf('\r\n', at);
    if (end === -1) return undefined;
    const text = buffer.slice(at, end);
    at = end + 2;
    return text;
  };
  const header = line();
  if (header === undefined || !header.startsWith('*')) return undefined;
  const command: string[] = [];
  for (let count = Number(header.slice(1)); count > 0; count--) {
    const size = line();
    if (size === undefined) return undefined;
    const length = Number(size.slice(1));
    if (buffer.length < at + length + 2) return undefined;
    command.push(buffer.slice(at, at + length));
    at += length + 2;
  }
  return { command, length: at };
}
