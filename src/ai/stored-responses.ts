import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { openSecret, sealerFor, type PurposeSealer } from '../keys/index.js';
import type { Database, Store } from '../store/index.js';
import type { ResponseObject, ResponsesInputItem } from './responses-ingress/index.js';

/**
 * A stored Response: the Response object as it was answered (its reasoning items' `encrypted_content` kept even when
 * the client did not include it, so that its chain gives Claude its thinking back), and the input items of its own request (not those of
 * the Responses it continued, which their own rows keep). The Response's `previous_response_id` links it to them.
 */
/** The store did not answer a read or delete of stored Responses (PostgreSQL down, say): the store's state, not a fault. */
export class StoreReadError extends Error {
  override name = 'StoreReadError';
}

/** `query`'s answer, or its failure as a StoreReadError with the store's own words. */
const fromStore = <T>(query: Promise<T>): Promise<T> =>
  query.catch((error: unknown) => {
    throw new StoreReadError(error instanceof Error ? error.message : String(error));
  });

export interface StoredResponse {
  response: ResponseObject;
  input: ResponsesInputItem[];
  /** What the request's `include` asked to be shown that a Response keeps whatever it asked (`reasoning.encrypted_content`). */
  include?: string[];
}

/** Who stored a Response: `owner` alone may read, continue or delete it; the rest says where it came from. */
export interface ResponseOwnership {
  owner: string;
  /** Whose earlier rows the owner's are too (EarlierOwner): a Response continuing one of them keeps them as long. */
  earlier?: EarlierOwner;
  app: string | null;
  team: string | null;
  route: string;
}

/**
 * Rows stored under another owner that a read takes as its reader's too: those an app stored before its owner named
 * the app's creation (`["app", name]`, not `["app", name, createdAt]`), if saved at or after `since`, the creation
 * of the app that reads. A row an app of the same name stored before it was made (deleted with that app, or saved
 * by a call still under way at its deletion) is not its. `since` is the app's `created_at` (the clock of the node
 * that made it) and a row's `created_at` its saving node's: a row of an app's first moments dated by a node running
 * behind would read as an earlier app's. Only rows of earlier releases are read so.
 */
export interface EarlierOwner {
  owner: string;
  since: number;
}

/** Whether an `ai_responses` row is `owner`'s, or `earlier`'s from its `since` on. */
function ownedBy(owner: string, earlier: EarlierOwner | undefined): Expression<SqlBool> {
  const column = sql.ref('ai_responses.owner');
  if (earlier === undefined) return sql<SqlBool>`${column} = ${owner}`;
  return sql<SqlBool>`(${column} = ${owner} OR (${column} = ${earlier.owner} AND ${sql.ref('ai_responses.created_at')} >= ${earlier.since}))`;
}

/**
 * What the chain ending at a Response is: its Responses, the first of the chain first and the asked one last; or
 * none (no such Response for that owner, or its row does not open); or `broken` (an earlier Response of it was
 * deleted, expired, is not the owner's or does not open); or `too_long` (longer than the store's most).
 */
export type ResponseChain = { found: 'chain'; responses: StoredResponse[] } | { found: 'none' } | { found: 'broken' } | { found: 'too_long' };

/** How many Responses a chain holds at most (the 1,000th cannot be continued): it bounds the walk of every read. */
export const MAX_CHAIN_RESPONSES = 1_000;

/**
 * How much of the rows it has opened (their sealed text, in characters) a process keeps opened: a chain's earlier
 * rows are read again every turn, and opening one (its seal, then its JSON) is most of a chain read's cost. About
 * 1,600 Responses of 5 KB; their objects take some three times that in memory.
 */
export const OPENED_ROWS_CHARS = 8 * 1024 * 1024;

/**
 * How long a row kept opened stays unread before it is dropped: a conversation in use is read every turn, and one
 * deleted (on another node, or with its app) or past its retention is no longer held in the clear for long.
 */
export const OPENED_ROWS_IDLE_MS = 10 * 60_000;

/** What a row's seal is derived for: no other sealed value of Keygate's opens as a stored Response. */
const STORED_RESPONSE_PURPOSE = 'ai_responses.row';

/** What a sealed row is bound to: a sealed Response copied into another row, or given to another owner, no longer opens. */
const binding = (id: string, owner: string) => `ai_responses:${id}:${JSON.stringify(owner)}`;

/**
 * The rows of the chain ending at `id`, `owner`'s (or `earlier`'s, EarlierOwner) and not expired at `now`, walked by
 * `previous_id` (a recursive CTE, on SQLite as on PostgreSQL), `depth` 1 for `id` and at most `max`. The walk stops
 * at the first row that is missing, expired or another owner's: the oldest row found then still names a previous
 * one. It carries ids only: a reader joins the sealed content it needs.
 */
function chainOf(db: Kysely<Database>, id: string, owner: string, now: number, max: number, earlier?: EarlierOwner) {
  return db.withRecursive('chain(id, previous_id, depth)', (cte) =>
    cte
      .selectFrom('ai_responses')
      .select((eb) => ['id', 'previous_id', eb.lit(1).as('depth')])
      .where('id', '=', id)
      .where(ownedBy(owner, earlier))
      .where('expires_at', '>', now)
      .unionAll((step) =>
        step
          .selectFrom('ai_responses')
          .innerJoin('chain', 'chain.previous_id', 'ai_responses.id')
          .select((eb) => ['ai_responses.id', 'ai_responses.previous_id', eb('chain.depth', '+', 1).as('depth')])
          .where(ownedBy(owner, earlier))
          .where('ai_responses.expires_at', '>', now)
          .where('chain.depth', '<', max),
      ),
  );
}

/**
 * Deletes every stored Response of the app `app` (its own and those of callers acting as it), in `db` (the app's
 * deletion's transaction): an app's conversations go with it. (An app made again under its name is another owner
 * anyway: see the AI handler's responseOwner.) Returns how many.
 */
export async function deleteAppResponses(db: Kysely<Database>, app: string): Promise<number> {
  const result = await db.deleteFrom('ai_responses').where('app', '=', app).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * The Responses kept for OpenAI's Responses API (`store`, `previous_response_id`, `GET`/`DELETE /v1/responses/{id}`,
 * https://platform.openai.com/docs/api-reference/responses), in the store, so that every worker and node sharing it
 * finds a Response the moment it is answered. Each row holds one Response and its own request's input items, linked
 * to the Response it continued (`previous_id`): a chain of n turns keeps n rows whose sizes add up, and is read
 * whole in one query. Each row is sealed under the master key (AES-256-GCM under a key derived for stored Responses
 * alone, sealerFor), bound to its id and owner: conversations are user data. The sealer is node:crypto's, synchronous:
 * a chain read opens up to a thousand rows, and jose's JWE (WebCrypto, a key import and base64url in JavaScript per
 * row, as provider keys are sealed) took about 0.2 ms a 5-KB row on the event loop against 0.03 ms. Even so, opening
 * was most of a chain read, and every turn read its chain's earlier rows again: the rows a process opened are kept
 * opened (OPENED_ROWS_CHARS), and a chain of 100 is read in 1.1–1.6 ms of event loop, not 4.9 (bench/stored-responses.mjs).
 * A row past its expiry is never read, and `purge` (run every minute by the gateway) deletes it, under the retention
 * of the config at the time, whatever it was when the row was saved; continuing a chain keeps its earlier rows at
 * least half a retention longer (`save`).
 */
export class StoredResponses {
  readonly #sealer: PurposeSealer;
  readonly #opened: OpenedRows;

  constructor(
    private readonly store: Store,
    private readonly masterKey: Uint8Array,
    /** How many Responses a chain holds at most: MAX_CHAIN_RESPONSES but in tests. */
    readonly maxChain: number = MAX_CHAIN_RESPONSES,
    /**
     * Told the id of a row whose seal does not open (the master key changed, or the row was altered), which is read
     * as gone: once a read. Its id alone: what the row holds is no one's to see, and the error would name its owner.
     */
    private readonly onUnopenable: (id: string) => void = () => undefined,
    /** How much sealed text the rows kept opened may add up to (OPENED_ROWS_CHARS); 0 keeps none. */
    openedRowsChars: number = OPENED_ROWS_CHARS,
  ) {
    this.#sealer = sealerFor(masterKey, STORED_RESPONSE_PURPOSE);
    this.#opened = new OpenedRows(openedRowsChars);
  }

  /**
   * Keeps `kept` for `retentionMs` from `now`, linked to the Response it continued (its `previous_response_id`),
   * and in the same transaction keeps every earlier Response of its chain until at least half a retention from now:
   * one that would expire sooner is given the new one's expiry. Extending every earlier row on every turn would
   * rewrite each sealed row once a turn (a long agent loop's writes growing with the square of its length); this
   * way a row is rewritten at most once per half retention. Resolves once committed.
   */
  async save(ownership: ResponseOwnership, kept: StoredResponse, now: number, retentionMs: number): Promise<void> {
    const { id, previous_response_id: previous } = kept.response;
    const { owner, earlier } = ownership;
    const expires = now + retentionMs;
    const sealed = this.#sealer.seal(JSON.stringify(kept), binding(id, owner));
    await this.store.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('ai_responses')
        .values({ id, owner, app: ownership.app, team: ownership.team, route: ownership.route, previous_id: previous, created_at: now, expires_at: expires, retention_ms: retentionMs, sealed })
        .execute();
      if (previous === null) return;
      await chainOf(tx, previous, owner, now, this.maxChain, earlier)
        .updateTable('ai_responses')
        .set({ expires_at: expires, retention_ms: retentionMs })
        .where('id', 'in', (eb) => eb.selectFrom('chain').select('chain.id'))
        .where('expires_at', '<', now + Math.floor(retentionMs / 2))
        .execute();
    });
  }

  /**
   * The Response `id` if `owner` (or `earlier`, EarlierOwner) stored it and it has not expired (nor been deleted);
   * undefined otherwise. Its own row only.
   */
  async find(id: string, owner: string, now: number, earlier?: EarlierOwner): Promise<StoredResponse | undefined> {
    const row = await fromStore(this.store.db.selectFrom('ai_responses').select(['owner', 'sealed']).where('id', '=', id).where(ownedBy(owner, earlier)).where('expires_at', '>', now).executeTakeFirst());
    if (!row) return undefined;
    const stored = await this.#openKept(id, row.owner, row.sealed, now, true);
    if (!stored) this.onUnopenable(id);
    return stored;
  }

  /**
   * The chain ending at the Response `id`, for `owner`, at `now`: one query, however long the chain (up to maxChain).
   * The query decides which rows are the chain (owner, expiry, deletion); a row opened before is not opened again.
   * Of a chain longer than half the rows kept opened, the first rows up to that half are kept: a chain grows at its
   * end, so the same rows are reused at each turn, rather than each pushing out the one read next. The Responses
   * are frozen: they may be the ones another read got.
   */
  async chain(id: string, owner: string, now: number, earlier?: EarlierOwner): Promise<ResponseChain> {
    const rows = await fromStore(
      chainOf(this.store.db, id, owner, now, this.maxChain, earlier)
        .selectFrom('chain')
        .innerJoin('ai_responses', 'ai_responses.id', 'chain.id')
        .select(['chain.id', 'chain.previous_id', 'ai_responses.owner', 'ai_responses.sealed', 'chain.depth'])
        .orderBy('chain.depth', 'desc')
        .execute(),
    );
    const first = rows[0];
    if (first === undefined) return { found: 'none' };
    if (first.previous_id !== null) return { found: rows.length >= this.maxChain ? 'too_long' : 'broken' };
    let chars = 0;
    const opened = await Promise.all(rows.map((row) => this.#openKept(row.id, row.owner, row.sealed, now, (chars += row.sealed.length) <= this.#opened.maxChars / 2)));
    // The newest row that does not open: the asked one is then as good as missing, an earlier one breaks the chain.
    const unopenable = opened.findLastIndex((stored) => stored === undefined);
    if (unopenable >= 0) {
      this.onUnopenable(rows[unopenable]!.id);
      return unopenable === rows.length - 1 ? { found: 'none' } : { found: 'broken' };
    }
    return { found: 'chain', responses: opened as StoredResponse[] };
  }

  /**
   * Deletes the Response `id` (its row alone: a later Response of its chain can no longer be continued) if `owner` may
   * see it; whether there was one. The owner column decides, without opening the row: a row whose seal no longer opens
   * (read as gone) is still its owner's to delete, and deleting it loses nothing no one could read, before its retention.
   */
  async delete(id: string, owner: string, now: number, earlier?: EarlierOwner): Promise<boolean> {
    const result = await fromStore(this.store.db.deleteFrom('ai_responses').where('id', '=', id).where(ownedBy(owner, earlier)).where('expires_at', '>', now).executeTakeFirst());
    const deleted = Number(result.numDeletedRows) > 0;
    if (deleted) this.#opened.forget(id);
    return deleted;
  }

  /**
   * A row's Response as open: kept from an earlier opening of the same sealed text, or opened now and kept. Whether
   * the row is still the owner's, and unexpired, is the query's to say, every read; a row whose text is not what was
   * opened (altered in the store) is opened again, and fails as it should.
   */
  #openKept(id: string, owner: string, sealed: string, now: number, toKeep: boolean): StoredResponse | undefined | Promise<StoredResponse | undefined> {
    const kept = this.#opened.get(id, owner, sealed, now);
    if (kept) return kept;
    if (!toKeep) return this.open(id, owner, sealed);
    const keep = (stored: StoredResponse | undefined) => (stored ? this.#opened.keep(id, owner, sealed, deepFreeze(stored), now) : undefined);
    const opened = this.open(id, owner, sealed);
    return opened instanceof Promise ? opened.then(keep) : keep(opened);
  }

  /**
   * A row's Response, or undefined if its seal does not open under this master key, bound to `id` and `owner`. A row
   * sealed by an earlier build as a JWE (jose, a JSON object) still opens, through jose: a chain in use across an
   * upgrade goes on; only those rows pay jose's cost (and a promise), until their retention ends.
   */
  private open(id: string, owner: string, sealed: string): StoredResponse | undefined | Promise<StoredResponse | undefined> {
    if (sealed.startsWith('{')) {
      return openSecret(this.masterKey, sealed, binding(id, owner)).then(
        (text) => JSON.parse(text) as StoredResponse,
        () => undefined,
      );
    }
    const text = this.#sealer.open(sealed, binding(id, owner));
    return text === undefined ? undefined : (JSON.parse(text) as StoredResponse);
  }

  /**
   * Deletes the Responses whose retention is over, `retentionMs` being the retention now (`ai.responses.retention`);
   * returns how many. A row kept for another retention (the config changed since) is first given this one, counted
   * from its last keeping as its own was: an operator shortens the retention to delete what is older, and that is
   * deleted now, not once the retention it was saved under is over (a longer one keeps rows longer likewise). A row
   * of an earlier release, whose retention is unknown, keeps its expiry, but no later than one retention from now.
   * Run by the gateway every minute, off the data plane: reads go on checking `expires_at` alone, and a row kept for
   * another retention is read as such until the next sweep. The rows kept for another retention are found by index.
   */
  async purge(now: number, retentionMs: number): Promise<number> {
    const { db } = this.store;
    // In batches, a turn of the event loop between them: SQLite's writes run on it, and a changed retention (or the
    // first sweep after an upgrade) may touch every row, each with its sealed Response.
    const inBatches = async (step: (ids: ReturnType<typeof idsWhere>) => Promise<{ numUpdatedRows?: bigint; numDeletedRows?: bigint }>, where: Parameters<typeof idsWhere>[1]): Promise<number> => {
      let done = 0;
      for (;;) {
        const result = await step(idsWhere(db, where));
        const n = Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0);
        done += n;
        if (n < PURGE_BATCH_ROWS) return done;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await inBatches(
      (ids) => db.updateTable('ai_responses').set({ expires_at: sql<number>`${sql.ref('expires_at')} - ${sql.ref('retention_ms')} + ${retentionMs}`, retention_ms: retentionMs }).where('id', 'in', ids).executeTakeFirst(),
      (eb) => eb.or([eb('retention_ms', '<', retentionMs), eb('retention_ms', '>', retentionMs)]),
    );
    // A row of an earlier release is given this retention only when it would outlast it from now; the rest keep
    // their expiry and go by it.
    await inBatches(
      (ids) => db.updateTable('ai_responses').set({ expires_at: now + retentionMs, retention_ms: retentionMs }).where('id', 'in', ids).executeTakeFirst(),
      (eb) => eb.and([eb('retention_ms', 'is', null), eb('expires_at', '>', now + retentionMs)]),
    );
    return inBatches((ids) => db.deleteFrom('ai_responses').where('id', 'in', ids).executeTakeFirst(), (eb) => eb('expires_at', '<=', now));
  }
}

/** Rows a purge step writes at most at once (StoredResponses.purge). */
export const PURGE_BATCH_ROWS = 500;

/** The ids of at most PURGE_BATCH_ROWS stored Responses that `where` picks. */
function idsWhere(db: Kysely<Database>, where: (eb: ExpressionBuilder<Database, 'ai_responses'>) => Expression<SqlBool>) {
  return db.selectFrom('ai_responses').select('id').where(where).limit(PURGE_BATCH_ROWS);
}

/** Freezes `value` and everything in it: a Response kept opened is shared by every read of it. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/**
 * Opened rows by id, the least recently read dropped first once their sealed text adds up to more than `maxChars`,
 * or once unread for OPENED_ROWS_IDLE_MS. Each knows the owner and the sealed text it was opened from: it is given
 * only for both.
 */
class OpenedRows {
  /** In the order they were last read, the least recent first (a Map keeps the order of insertion). */
  readonly #rows = new Map<string, { owner: string; sealed: string; stored: StoredResponse; read: number }>();
  #chars = 0;

  constructor(readonly maxChars: number) {}

  get(id: string, owner: string, sealed: string, now: number): StoredResponse | undefined {
    this.#dropIdle(now);
    const row = this.#rows.get(id);
    if (row === undefined || row.owner !== owner || row.sealed !== sealed) return undefined;
    row.read = now;
    this.#rows.delete(id);
    this.#rows.set(id, row);
    return row.stored;
  }

  keep(id: string, owner: string, sealed: string, stored: StoredResponse, now: number): StoredResponse {
    if (sealed.length > this.maxChars) return stored;
    this.forget(id);
    this.#rows.set(id, { owner, sealed, stored, read: now });
    this.#chars += sealed.length;
    for (const [oldest, row] of this.#rows) {
      if (this.#chars <= this.maxChars) break;
      this.#rows.delete(oldest);
      this.#chars -= row.sealed.length;
    }
    return stored;
  }

  /** Drops the rows unread for OPENED_ROWS_IDLE_MS: the least recent first, so it stops at the first recent one. */
  #dropIdle(now: number): void {
    for (const [oldest, row] of this.#rows) {
      if (row.read > now - OPENED_ROWS_IDLE_MS) break;
      this.forget(oldest);
    }
  }

  forget(id: string): void {
    const row = this.#rows.get(id);
    if (row === undefined) return;
    this.#rows.delete(id);
    this.#chars -= row.sealed.length;
  }
}
