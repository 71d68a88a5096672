import { randomBytes } from 'node:crypto';
import { RedisScripts, redisScript } from '../cluster/redis-scripts.js';

/** One budget in money a call is checked against, with the spend its process knows of the budget's period. */
export interface SharedCheck {
  scope: 'app' | 'team';
  /** The budget's period, by its start: every process's spend of it is counted under this key. */
  spendKey: string;
  limit: number;
  /** The period's spend as this process knows it (SpendTracker.spentKnown). */
  recorded: number;
  /** The most and the least the call's prompt can cost. */
  most: number;
  least: number;
}

/**
 * Why the shared check refused: the check that refused (its index among those given), how (`spent`: the budget is
 * spent, `prompt`: the prompt alone would pass it, `held`: calls under way hold the room, `heldPrompt`: they leave
 * too little for the prompt), the spend every process has counted, and what the calls under way of every process hold.
 */
export interface SharedRefusal {
  check: number;
  reason: 'spent' | 'prompt' | 'held' | 'heldPrompt';
  recorded: number;
  held: number;
}

/** A hold taken in Redis: what `release`, `settle` and the lease renewals need. */
export interface SharedHold {
  id: string;
  app: string | undefined;
  team: string | undefined;
}

/** A call's cost added to one budget period's spend: `seed` is its process's figure, should no process have counted the period yet. */
export interface SpendAddition {
  spendKey: string;
  seed: number;
  usd: number;
  /** When the period's count may go: a day after the period's end. */
  expiresAt: number;
}

/** A dollar amount as the scripts count it: whole nanodollars, as budgets are compared (ai-handler's `reaches`). */
const nano = (usd: number): number => Math.round(usd * 1e9);

const REASONS: readonly SharedRefusal['reason'][] = ['spent', 'prompt', 'held', 'heldPrompt'];

/**
 * The check and the hold in one step, across every process. Each app's and team's holds are a hash (hold id →
 * nanodollars) beside a sorted set of their leases (hold id → when it lapses, on the Redis server's clock, which
 * every node shares); lapsed holds, of a process that ended with calls under way, are dropped first. Each budget
 * period's spend is a counter every process adds its calls to as it records them (`SETTLE`): the spend a
 * check goes by is the larger of that and the figure its process knows. Each check is then decided as
 * checkWithPrompt decides it. Passed, the hold is added to the scopes named.
 * KEYS = app hash, app leases, team hash, team leases, then each check's spend counter. ARGV = hold id,
 * nanodollars, lease ms, hold the app's (1/0), hold the team's (1/0), then per check: scope (1 app, 2 team), limit,
 * recorded, most, least, in nanodollars. Returns {0} once held, else {reason (1 spent, 2 prompt, 3 held, 4 held
 * prompt), 1 + the index of the check, spend, held}.
 */
const HOLD = redisScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = {}
for s = 1, 2 do
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2 * s], '-inf', now)
  -- In slices: unpack takes some 8,000 values at most, and a node that died may have left more.
  for i = 1, #lapsed, 1000 do redis.call('HDEL', KEYS[2 * s - 1], unpack(lapsed, i, math.min(i + 999, #lapsed))) end
  if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2 * s], '-inf', now) end
  local sum = 0
  for _, v in ipairs(redis.call('HVALS', KEYS[2 * s - 1])) do sum = sum + tonumber(v) end
  held[s] = sum
end
local check = 0
for i = 6, #ARGV, 5 do
  local h = held[tonumber(ARGV[i])]
  local limit, recorded, most, least = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  recorded = math.max(recorded, tonumber(redis.call('GET', KEYS[5 + check]) or '0'))
  if recorded >= limit then return { 1, check + 1, recorded, h } end
  if recorded + most > limit and recorded + least > limit then return { 2, check + 1, recorded, h } end
  if h > 0 then
    local spent = recorded + h
    if spent >= limit then return { 3, check + 1, recorded, h } end
    if spent + most > limit and spent + least > limit then return { 4, check + 1, recorded, h } end
  end
  check = check + 1
end
local lease = tonumber(ARGV[3])
for s = 1, 2 do
  if ARGV[3 + s] == '1' then
    redis.call('HSET', KEYS[2 * s - 1], ARGV[1], ARGV[2])
    redis.call('ZADD', KEYS[2 * s], now + lease, ARGV[1])
    redis.call('PEXPIRE', KEYS[2 * s - 1], 2 * lease)
    redis.call('PEXPIRE', KEYS[2 * s], 2 * lease)
  end
end
return { 0 }
`);

/**
 * A call's record, in one step: its hold (if any) released and its cost added to each budget period's spend, so
 * that no check of another process sees neither. A period no process has counted yet starts from the seed (its
 * process's figure before this call), after which every process's calls are added as they are recorded.
 * KEYS = app hash, app leases, team hash, team leases, then the spend counters. ARGV = hold id ('' for none), then
 * per counter: seed, nanodollars, expiry (ms since the epoch).
 */
const SETTLE = redisScript(`
if ARGV[1] ~= '' then
  for s = 1, 2 do
    redis.call('HDEL', KEYS[2 * s - 1], ARGV[1])
    redis.call('ZREM', KEYS[2 * s], ARGV[1])
  end
end
for k = 5, #KEYS do
  local i = 2 + (k - 5) * 3
  if redis.call('EXISTS', KEYS[k]) == 0 then redis.call('SET', KEYS[k], ARGV[i]) end
  redis.call('INCRBY', KEYS[k], ARGV[i + 1])
  redis.call('PEXPIREAT', KEYS[k], ARGV[i + 2])
end
return 1
`);

/**
 * Extends the leases of holds still under way. KEYS = lease sets (each with its hash), ARGV = lease ms, then per
 * key pair the number of ids and the ids. A hold whose lease lapsed meanwhile is not brought back: `ZADD XX`.
 */
const RENEW = redisScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local i = 2
for k = 1, #KEYS, 2 do
  local n = tonumber(ARGV[i])
  for j = i + 1, i + n do redis.call('ZADD', KEYS[k + 1], 'XX', now + lease, ARGV[j]) end
  redis.call('PEXPIRE', KEYS[k], 2 * lease)
  redis.call('PEXPIRE', KEYS[k + 1], 2 * lease)
  i = i + n + 1
end
return 1
`);

export interface SharedBudgetsOptions {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** Told when Redis fails after having worked (and on the first failure): once per outage, not per call. */
  onError: (error: Error) => void;
  /** How long a hold outlives its process's last renewal. Default 60 s; renewed every third of it. */
  leaseMs?: number;
  /** The longest a call waits for Redis before it goes on with its process's figures alone. Default 100 ms. */
  commandTimeoutMs?: number;
  /** Prefix of every key. Default 'keygate:ai-budgets:'. */
  keyPrefix?: string;
}

/**
 * Budgets in money checked by every process and node as one, in Redis: what the calls under way hold (ai-handler's
 * holdSpend), so that calls made at once on several workers or nodes cannot each pass the check and together spend
 * past a budget by as many answers as there are processes; and each budget period's spend, counted as calls are
 * recorded, so that a process need not wait for another's records to reach the store and its next read of it. A
 * hold has a lease its process renews while the call runs: one whose process died lapses. Redis away, a call goes
 * on with its own process's figures and holds, as without Redis.
 */
export class SharedBudgets {
  readonly #scripts: RedisScripts;
  readonly #leaseMs: number;
  readonly #prefix: string;
  /** This process's holds in Redis, by id: their leases are renewed until they are released. */
  readonly #live = new Map<string, SharedHold>();
  readonly #idPrefix = `${randomBytes(9).toString('base64url')}:`;
  #ids = 0;
  readonly #renewal: NodeJS.Timeout;

  constructor(options: SharedBudgetsOptions) {
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#prefix = options.keyPrefix ?? 'keygate:ai-budgets:';
    this.#scripts = new RedisScripts({ url: options.url, onError: options.onError, commandTimeoutMs: options.commandTimeoutMs });
    this.#renewal = setInterval(() => void this.#renew(), Math.max(10, Math.floor(this.#leaseMs / 3)));
    this.#renewal.unref();
  }

  /** Resolves once the connection is ready; checks before then go on with their process's figures alone. */
  ready(): Promise<void> {
    return this.#scripts.ready();
  }

  /** The key of a budget period's spend: one per scope, name, period and start. */
  spendKey(scope: 'app' | 'team', name: string, period: 'day' | 'month', start: number): string {
    return `${this.#prefix}spend:${scope}:${encodeURIComponent(name)}:${period}:${start}`;
  }

  /**
   * Checks `checks` against every process's spend and holds and, if none refuses, holds `usd` against the app's
   * and the team's: resolves to the hold, or to the refusal. Undefined when Redis did not answer: the call's own
   * process's check and hold stand alone.
   */
  async hold(app: string | undefined, team: string | undefined, usd: number, checks: readonly SharedCheck[]): Promise<SharedHold | SharedRefusal | undefined> {
    const hold: SharedHold = { id: `${this.#idPrefix}${(this.#ids += 1)}`, app, team };
    const args: Array<string | number> = [hold.id, nano(usd), this.#leaseMs, app === undefined ? 0 : 1, team === undefined ? 0 : 1];
    for (const c of checks) args.push(c.scope === 'app' ? 1 : 2, nano(c.limit), nano(c.recorded), nano(c.most), nano(c.least));
    // Registered before the reply: a renewal meanwhile must not miss it (ZADD XX adds no hold the script refused).
    this.#live.set(hold.id, hold);
    let reply: number[];
    try {
      reply = (await this.#scripts.run(HOLD, [...this.#keysOf(app, team), ...checks.map((c) => c.spendKey)], args)) as number[];
    } catch {
      // The script may yet run, the reply lost (a timeout): a release sent now on the same connection runs after it,
      // rather than a hold nobody releases refusing every process's calls until its lease lapses.
      this.settle(hold, []);
      return undefined;
    }
    if (reply[0] === 0) return hold;
    this.#live.delete(hold.id);
    return { reason: REASONS[reply[0]! - 1]!, check: reply[1]! - 1, recorded: reply[2]! / 1e9, held: reply[3]! / 1e9 };
  }

  /** Ends a hold whose call made no record; a failure to reach Redis leaves it to lapse with its lease. */
  release(hold: SharedHold): void {
    this.settle(hold, []);
  }

  /**
   * A call's record: its hold released (if it has one here) and its cost added to the spend of its budgets'
   * periods, in one step. A failure to reach Redis leaves the hold to lapse and the spend to the store.
   */
  settle(hold: SharedHold | undefined, additions: readonly SpendAddition[]): void {
    const releasing = hold !== undefined && this.#live.delete(hold.id);
    if (!releasing && additions.length === 0) return;
    const keys = [...this.#keysOf(releasing ? hold.app : undefined, releasing ? hold.team : undefined), ...additions.map((a) => a.spendKey)];
    const args: Array<string | number> = [releasing ? hold.id : ''];
    for (const a of additions) args.push(nano(a.seed), nano(a.usd), a.expiresAt);
    // A failure was told by the runner.
    this.#scripts.run(SETTLE, keys, args).catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.#renewal);
    await this.#scripts.close();
  }

  /** The keys of an app's and a team's holds; a scope left out has keys no hold is written to. */
  #keysOf(app: string | undefined, team: string | undefined): [string, string, string, string] {
    // Names are percent-encoded: an app named `x:leases` must not meet another app's keys.
    const app_ = app === undefined ? '-' : `app:${encodeURIComponent(app)}`;
    const team_ = team === undefined ? '-' : `team:${encodeURIComponent(team)}`;
    return [`${this.#prefix}holds:${app_}`, `${this.#prefix}holds:${app_}:leases`, `${this.#prefix}holds:${team_}`, `${this.#prefix}holds:${team_}:leases`];
  }

  async #renew(): Promise<void> {
    if (this.#live.size === 0 || !this.#scripts.isReady) return;
    const byKey = new Map<string, { hash: string; ids: string[] }>();
    for (const hold of this.#live.values()) {
      const [appHash, appLeases, teamHash, teamLeases] = this.#keysOf(hold.app, hold.team);
      if (hold.app !== undefined) (byKey.get(appLeases) ?? byKey.set(appLeases, { hash: appHash, ids: [] }).get(appLeases)!).ids.push(hold.id);
      if (hold.team !== undefined) (byKey.get(teamLeases) ?? byKey.set(teamLeases, { hash: teamHash, ids: [] }).get(teamLeases)!).ids.push(hold.id);
    }
    const keys: string[] = [];
    const args: Array<string | number> = [this.#leaseMs];
    for (const [leases, { hash, ids }] of byKey) {
      keys.push(hash, leases);
      args.push(ids.length, ...ids);
    }
    // A failure was told by the runner; the next renewal tries again, within the lease.
    await this.#scripts.run(RENEW, keys, args).catch(() => undefined);
  }
}
