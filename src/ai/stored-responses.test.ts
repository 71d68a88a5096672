import { randomBytes } from 'node:crypto';
import { sql, type Expression, type ExpressionBuilder, type KyselyPlugin, type SqlBool } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { onTwoStoreHandles, STORE_KINDS } from '../../test/databases.js';
import { sealSecret } from '../keys/index.js';
import type { Database, Store } from '../store/index.js';
import { chatToResponse, responseEchoOf, responsesToChat, RESPONSE_INPUT, type ResponsesChatRequest, type ResponsesInputItem } from './responses-ingress/index.js';
import { MAX_CHAIN_RESPONSES, OPENED_ROWS_IDLE_MS, PURGE_BATCH_ROWS, StoreReadError, StoredResponses, type EarlierOwner, type StoredResponse } from './stored-responses.js';

const T = Date.UTC(2026, 10, 29, 12);
const DAY = 86_400_000;
const ownership = (owner: string, earlier?: EarlierOwner) => ({ owner, ...(earlier ? { earlier } : {}), app: 'app-a', team: 'team-a', route: 'ai' });

/** A turn as the handler keeps it: the request's own input items, and the Response answered with `text`. */
function turn(request: ResponsesChatRequest, text: string): StoredResponse {
  const completion = { id: 'c', object: 'chat.completion' as const, created: T / 1000, model: 'm', choices: [{ index: 0, message: { role: 'assistant' as const, content: text }, finish_reason: 'stop' as const, logprobs: null }] };
  return { response: chatToResponse(completion, request.model, responseEchoOf(request)), input: request[RESPONSE_INPUT]! };
}

/** A Response's output items, as the next turn is sent them. */
const outputOf = (one: StoredResponse) => one.response.output as unknown as ResponsesInputItem[];

/**
 * Saves a chain of turns, one per text, `owner`'s, a millisecond apart from `at`, each continuing the one before
 * (the first continues `after` if given, `earlier`'s if so); returns them as kept.
 */
async function talk(store: StoredResponses, owner: string, texts: string[], at = T, retentionMs = 30 * DAY, after?: StoredResponse, earlier?: EarlierOwner): Promise<StoredResponse[]> {
  const kept: StoredResponse[] = [];
  let previous = after;
  for (const [i, text] of texts.entries()) {
    const request = responsesToChat({ model: 'm', input: text, ...(previous ? { previous_response_id: previous.response.id } : {}) }, previous ? { id: previous.response.id, items: [] } : undefined);
    const one = turn(request, `re: ${text}`);
    await store.save(ownership(owner, earlier), one, at + i, retentionMs);
    kept.push((previous = one));
  }
  return kept;
}

/** The store, its queries counted. */
function counting(store: Store): { store: Store; count: () => number } {
  let count = 0;
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      count += 1;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { store: { ...store, db: store.db.withPlugin(plugin) }, count: () => count };
}

/** A sealed row with one character of its ciphertext altered: it no longer opens, as a row tampered with in the table. */
function tampered(sealed: string): string {
  const at = Math.floor(sealed.length / 2);
  return sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
}

/**
 * A trigger on ai_responses that fails the `write` (an insert, or an update) of the row `id` with "refused by the
 * test", as a store that fails mid-transaction; `drop` removes it.
 */
async function refuseWrite(store: Store, kind: 'sqlite' | 'postgres', write: 'insert' | 'update', id: string): Promise<{ drop: () => Promise<void> }> {
  const name = sql.raw(`refuse_${write}`);
  const row = sql.raw(write === 'insert' ? 'NEW' : 'OLD');
  const event = sql.raw(write.toUpperCase());
  if (kind === 'sqlite') {
    await sql`CREATE TRIGGER ${name} BEFORE ${event} ON ai_responses WHEN ${row}.id = ${sql.lit(id)} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`.execute(store.db);
    return { drop: async () => void (await sql`DROP TRIGGER ${name}`.execute(store.db)) };
  }
  await sql`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`.execute(store.db);
  await sql`CREATE TRIGGER ${name} BEFORE ${event} ON ai_responses FOR EACH ROW WHEN (${row}.id = ${sql.lit(id)}) EXECUTE FUNCTION ${name}()`.execute(store.db);
  return {
    drop: async () => {
      await sql`DROP TRIGGER ${name} ON ai_responses`.execute(store.db);
      await sql`DROP FUNCTION ${name}()`.execute(store.db);
    },
  };
}

describe.each(STORE_KINDS)('stored Responses in the %s store', (kind) => {
  let first: Store;
  let second: Store;
  onTwoStoreHandles(kind, (a, b) => ([first, second] = [a, b]));
  const masterKey = randomBytes(32);

  it('resolves a chain of four turns with one query, the first turn first, on another handle', async () => {
    const kept = await talk(new StoredResponses(first, masterKey), 'app:a', ['My name is Ada.', 'I live in Paris.', 'I like tea.', 'Who am I?']);
    const queries = counting(second);
    const chain = await new StoredResponses(queries.store, masterKey).chain(kept[3]!.response.id, 'app:a', T + 10);
    expect(queries.count()).toBe(1);
    expect(chain).toEqual({ found: 'chain', responses: kept });
    // Sent on, the chain is the whole conversation in order.
    const items = kept.flatMap((one) => [...one.input, ...outputOf(one)]);
    const next = responsesToChat({ model: 'm', input: 'And?', previous_response_id: kept[3]!.response.id }, { id: kept[3]!.response.id, items });
    expect(next.messages.map((message) => message.content)).toEqual(['My name is Ada.', 're: My name is Ada.', 'I live in Paris.', 're: I live in Paris.', 'I like tea.', 're: I like tea.', 'Who am I?', 're: Who am I?', 'And?']);
  });

  it('tells a store that does not answer a read, a chain or a delete as a StoreReadError, the store\'s own failure', async () => {
    const [one] = await talk(new StoredResponses(first, masterKey), 'app:a', ['Hello.']);
    // A store whose every query fails, as one whose connection is gone.
    const failing: KyselyPlugin = {
      transformQuery: () => {
        throw new Error('connection terminated');
      },
      transformResult: async (args) => args.result,
    };
    const store = new StoredResponses({ ...second, db: second.db.withPlugin(failing) }, masterKey);
    const id = one!.response.id;
    for (const read of [store.find(id, 'app:a', T + 1), store.chain(id, 'app:a', T + 1), store.delete(id, 'app:a', T + 1)]) {
      await expect(read).rejects.toThrow(StoreReadError);
    }
  });

  it("keeps the Responses of an owner of any length: an outside issuer's long subject", async () => {
    const store = new StoredResponses(first, masterKey);
    const owner = JSON.stringify(['subject', 'https://issuer.example', `user-${'x'.repeat(600)}`]);
    const [one, two] = await talk(store, owner, ['one', 'two']);
    expect(await new StoredResponses(second, masterKey).chain(two!.response.id, owner, T + 2)).toMatchObject({ found: 'chain', responses: [one, two] });
  });

  it('keeps in each row its own turn alone, linked to the turn it continued', async () => {
    const store = new StoredResponses(first, masterKey);
    const long = 'x'.repeat(20_000);
    const kept = await talk(store, 'app:a', [long, 'short', 'shorter', 'shortest']);
    const rows = await first.db.selectFrom('ai_responses').select(['id', 'previous_id', 'sealed']).where('id', 'in', kept.map((one) => one.response.id)).execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(kept.map((one) => byId.get(one.response.id)!.previous_id)).toEqual([null, ...kept.slice(0, -1).map((one) => one.response.id)]);
    // The first turn's 20 KB are in its row only, not again in every later one.
    for (const later of kept.slice(1)) expect(byId.get(later.response.id)!.sealed.length).toBeLessThan(4_000);
    for (const one of kept) expect((await store.find(one.response.id, 'app:a', T + 10))!.input).toEqual(one.input);
    expect(kept.slice(1).every((one) => one.input.length === 1)).toBe(true);
  });

  it('keeps every earlier turn of a chain at least half a retention past the turn that continues it', async () => {
    const store = new StoredResponses(first, masterKey);
    const [one, two] = await talk(store, 'app:a', ['one', 'two'], T, DAY);
    const at = T + DAY / 2 + 10;
    const [three] = await talk(store, 'app:a', ['three'], at, DAY, two);
    const expiries = async () => {
      const rows = await first.db.selectFrom('ai_responses').select(['id', 'expires_at']).where('id', 'in', [one!.response.id, two!.response.id, three!.response.id]).execute();
      return Object.fromEntries(rows.map((row) => [row.id, Number(row.expires_at)]));
    };
    expect(await expiries()).toEqual({ [one!.response.id]: at + DAY, [two!.response.id]: at + DAY, [three!.response.id]: at + DAY });
    // Past the first turns' own retention the chain still resolves whole.
    expect(await store.chain(three!.response.id, 'app:a', T + DAY + 1)).toMatchObject({ found: 'chain', responses: [one, two, three] });
    // A turn soon after rewrites no earlier row (each lives half a retention more already), and a shorter retention never cuts one.
    await talk(store, 'app:a', ['four'], at + 1_000, DAY, three);
    await talk(store, 'app:a', ['five'], at + 2_000, 1, three);
    expect(await expiries()).toEqual({ [one!.response.id]: at + DAY, [two!.response.id]: at + DAY, [three!.response.id]: at + DAY });
  });

  // The update refused is what proves the transaction (save inserts first); the insert refused guards the order.
  it.each(['insert', 'update'] as const)('writes a Response and the longer retention of its chain together or not at all: with the %s refused, neither', async (refused) => {
    const store = new StoredResponses(first, masterKey);
    const owner = `app:refused-${refused}`;
    const [one, two] = await talk(store, owner, ['one', 'two'], T, DAY);
    const expiries = async () => {
      const rows = await first.db.selectFrom('ai_responses').select(['id', 'expires_at']).where('owner', '=', owner).execute();
      return Object.fromEntries(rows.map((row) => [row.id, Number(row.expires_at)]));
    };
    const before = await expiries();
    expect(before).toEqual({ [one!.response.id]: T + DAY, [two!.response.id]: T + 1 + DAY });
    // Half a retention on, the next turn would give both earlier rows its own expiry.
    const three = turn(responsesToChat({ model: 'm', input: 'three', previous_response_id: two!.response.id }, { id: two!.response.id, items: [] }), 're: three');
    three.response.id = `resp_refused_${refused}`;
    const refusal = await refuseWrite(first, kind, refused, refused === 'insert' ? three.response.id : one!.response.id);
    try {
      await expect(store.save(ownership(owner), three, T + DAY / 2 + 10, DAY)).rejects.toThrow(/refused by the test/);
    } finally {
      await refusal.drop();
    }
    expect(await expiries()).toEqual(before);
  });

  it('no longer resolves a chain whose earlier turn was deleted or expired, while its later turns are still found whole', async () => {
    const store = new StoredResponses(first, masterKey);
    const [one, two, three] = await talk(store, 'app:a', ['one', 'two', 'three']);
    expect(await store.delete(two!.response.id, 'app:a', T + 10)).toBe(true);
    expect(await store.chain(three!.response.id, 'app:a', T + 10)).toEqual({ found: 'broken' });
    expect(await store.find(three!.response.id, 'app:a', T + 10)).toEqual(three);
    expect(await store.chain(one!.response.id, 'app:a', T + 10)).toEqual({ found: 'chain', responses: [one] });
    const [a, b] = await talk(store, 'app:a', ['a', 'b']);
    await first.db.updateTable('ai_responses').set({ expires_at: T + 5 }).where('id', '=', a!.response.id).execute();
    expect(await store.chain(b!.response.id, 'app:a', T + 10)).toEqual({ found: 'broken' });
    expect(await store.chain(b!.response.id, 'app:a', T + 4)).toMatchObject({ found: 'chain' });
  });

  it("does not resolve a chain through another owner's row", async () => {
    const store = new StoredResponses(first, masterKey);
    const [, two, three] = await talk(store, 'app:a', ['one', 'two', 'three']);
    // Another owner's row in the middle of the chain, crafted in the table: the walk stops there.
    await first.db.updateTable('ai_responses').set({ owner: 'app:b' }).where('id', '=', two!.response.id).execute();
    expect(await store.chain(three!.response.id, 'app:a', T + 10)).toEqual({ found: 'broken' });
    // Nor does a row of another owner continue one of app:a's.
    const [mine] = await talk(store, 'app:a', ['mine']);
    const row = await first.db.selectFrom('ai_responses').selectAll().where('id', '=', three!.response.id).executeTakeFirstOrThrow();
    await first.db.insertInto('ai_responses').values({ ...row, id: 'resp_crafted', owner: 'app:b', previous_id: mine!.response.id }).execute();
    expect(await store.chain('resp_crafted', 'app:b', T + 10)).toEqual({ found: 'broken' });
  });

  it("reads an app's rows stored under its name alone, as earlier releases stored them, only if saved since the app was made", async () => {
    const store = new StoredResponses(first, masterKey);
    const [legacy, owner] = ['["app","a"]', `["app","a",${T}]`];
    const earlier = { owner: legacy, since: T };
    // Two turns an earlier release stored for the app, then one continuing them under the app's owner of today.
    const [one, two] = await talk(store, legacy, ['one', 'two'], T, DAY);
    const at = T + DAY / 2 + 10;
    const [three] = await talk(store, owner, ['three'], at, DAY, two, earlier);
    // Continuing them kept them as long as the new turn: past their own retention the chain still resolves whole.
    const reader = new StoredResponses(second, masterKey);
    expect(await reader.chain(three!.response.id, owner, T + DAY + 5, earlier)).toMatchObject({ found: 'chain', responses: [one, two, three] });
    expect(await reader.find(one!.response.id, owner, T + DAY + 5, earlier)).toEqual(one);
    // Without them taken as its own, or for an app of the name made after they were saved, they are another owner's.
    expect(await reader.chain(three!.response.id, owner, T + 10)).toEqual({ found: 'broken' });
    const later = { owner: legacy, since: T + 1 };
    expect(await reader.find(one!.response.id, `["app","a",${T + 1}]`, T + 10, later)).toBeUndefined();
    expect(await reader.find(two!.response.id, `["app","a",${T + 1}]`, T + 10, later)).toEqual(two);
    expect(await reader.chain(two!.response.id, `["app","a",${T + 1}]`, T + 10, later)).toEqual({ found: 'broken' });
    // Another app's earlier rows are not these.
    expect(await reader.find(one!.response.id, `["app","b",${T}]`, T + 10, { owner: '["app","b"]', since: 0 })).toBeUndefined();
    // Deleting goes by the same rule.
    expect(await reader.delete(one!.response.id, `["app","a",${T + 1}]`, T + 10, later)).toBe(false);
    expect(await reader.delete(one!.response.id, owner, T + 10, earlier)).toBe(true);
    expect(await reader.find(one!.response.id, owner, T + 10, earlier)).toBeUndefined();
  });

  it('walks at most its most responses: a longer chain, or a loop, is too long', async () => {
    const store = new StoredResponses(first, masterKey, 3);
    const kept = await talk(new StoredResponses(first, masterKey), 'app:a', ['one', 'two', 'three', 'four']);
    expect(await store.chain(kept[2]!.response.id, 'app:a', T + 10)).toMatchObject({ found: 'chain', responses: kept.slice(0, 3) });
    const queries = counting(first);
    expect(await new StoredResponses(queries.store, masterKey, 3).chain(kept[3]!.response.id, 'app:a', T + 10)).toEqual({ found: 'too_long' });
    expect(queries.count()).toBe(1);
    // A loop crafted in the table ends the walk all the same.
    await first.db.updateTable('ai_responses').set({ previous_id: kept[3]!.response.id }).where('id', '=', kept[0]!.response.id).execute();
    expect(await new StoredResponses(first, masterKey).chain(kept[3]!.response.id, 'app:a', T + 10)).toEqual({ found: 'too_long' });
  });

  it('finds a Response for its owner only, and not once it has expired', async () => {
    const store = new StoredResponses(first, masterKey);
    const kept = turn(responsesToChat({ model: 'm', input: 'secret plans' }), 'noted');
    await store.save(ownership('app:a'), kept, T, DAY);
    expect(await store.find(kept.response.id, 'app:b', T + 1)).toBeUndefined();
    expect(await store.find(kept.response.id, 'app:a', T + DAY - 1)).toBeDefined();
    expect(await store.find(kept.response.id, 'app:a', T + DAY)).toBeUndefined();
  });

  it('keeps the conversation sealed: its text is not in the row', async () => {
    const store = new StoredResponses(first, masterKey);
    const kept = turn(responsesToChat({ model: 'm', input: 'the launch code is 0000' }), 'the launch code is noted');
    await store.save(ownership('app:a'), kept, T, DAY);
    const row = await first.db.selectFrom('ai_responses').selectAll().where('id', '=', kept.response.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ owner: 'app:a', app: 'app-a', team: 'team-a', route: 'ai', created_at: T, expires_at: T + DAY });
    expect(row.sealed).not.toContain('launch code');
    // Bound to its owner: handed to another, the row does not open, and is as good as missing.
    await first.db.updateTable('ai_responses').set({ owner: 'app:b' }).where('id', '=', kept.response.id).execute();
    expect(await store.find(kept.response.id, 'app:b', T + 1)).toBeUndefined();
  });

  it('reads a Response whose row was tampered with as gone, naming its id alone, and still deletes it for its owner', async () => {
    const unopenable: string[] = [];
    const store = new StoredResponses(first, masterKey, MAX_CHAIN_RESPONSES, (id) => unopenable.push(id));
    const [one, two, three] = await talk(store, 'app:a', ['one', 'two', 'three']);
    const row = await first.db.selectFrom('ai_responses').select('sealed').where('id', '=', two!.response.id).executeTakeFirstOrThrow();
    await first.db.updateTable('ai_responses').set({ sealed: tampered(row.sealed) }).where('id', '=', two!.response.id).execute();
    expect(await store.find(two!.response.id, 'app:a', T + 10)).toBeUndefined();
    expect(await store.chain(two!.response.id, 'app:a', T + 10)).toEqual({ found: 'none' });
    // In the middle of a chain, it breaks the chain as a deleted row does; the rows around it still open.
    expect(await store.chain(three!.response.id, 'app:a', T + 10)).toEqual({ found: 'broken' });
    expect(await store.chain(one!.response.id, 'app:a', T + 10)).toEqual({ found: 'chain', responses: [one] });
    expect(unopenable).toEqual([two!.response.id, two!.response.id, two!.response.id]);
    expect(await store.delete(two!.response.id, 'app:a', T + 10)).toBe(true);
  });

  it('still opens a row an earlier build sealed as a JWE, so a chain in use across an upgrade goes on', async () => {
    const store = new StoredResponses(first, masterKey);
    const [one, two] = await talk(store, 'app:a', ['one', 'two']);
    // The first turn's row as builds before the synchronous sealer wrote it: a jose JWE bound to its id and owner.
    const legacy = await sealSecret(masterKey, JSON.stringify(one), `ai_responses:${one!.response.id}:${JSON.stringify('app:a')}`);
    await first.db.updateTable('ai_responses').set({ sealed: legacy }).where('id', '=', one!.response.id).execute();
    expect(await store.find(one!.response.id, 'app:a', T + 10)).toEqual(one);
    expect(await store.chain(two!.response.id, 'app:a', T + 10)).toEqual({ found: 'chain', responses: [one, two] });
    // Altered, it reads as gone, as any row does.
    await first.db.updateTable('ai_responses').set({ sealed: legacy.replace('"iv":"', '"iv":"A') }).where('id', '=', one!.response.id).execute();
    expect(await store.chain(two!.response.id, 'app:a', T + 10)).toEqual({ found: 'broken' });
  });

  describe('rows kept opened', () => {
    /** Counts the rows opened (their seal and JSON) by every StoredResponses while `work` runs. */
    async function openings(work: () => Promise<void>): Promise<number> {
      const open = vi.spyOn(StoredResponses.prototype as unknown as { open: (...args: unknown[]) => unknown }, 'open');
      try {
        await work();
        return open.mock.calls.length;
      } finally {
        open.mockRestore();
      }
    }

    it('opens each row once: later reads of its chain, and finds, use what it opened to, frozen', async () => {
      const kept = await talk(new StoredResponses(first, masterKey), 'app:a', ['one', 'two', 'three']);
      const store = new StoredResponses(second, masterKey);
      let chain: Awaited<ReturnType<StoredResponses['chain']>> | undefined;
      expect(await openings(async () => void (chain = await store.chain(kept[2]!.response.id, 'app:a', T + 10)))).toBe(3);
      expect(chain).toEqual({ found: 'chain', responses: kept });
      expect(await openings(async () => {
        for (let i = 0; i < 5; i++) expect(await store.chain(kept[2]!.response.id, 'app:a', T + 10)).toEqual({ found: 'chain', responses: kept });
        expect(await store.find(kept[1]!.response.id, 'app:a', T + 10)).toEqual(kept[1]);
      })).toBe(0);
      // Shared by every read: no reader can change what the next one gets.
      const again = await store.chain(kept[2]!.response.id, 'app:a', T + 10);
      expect(again.found === 'chain' && Object.isFrozen(again.responses[0]!.response.output[0])).toBe(true);
    });

    it('still answers each read as the store has it: deleted elsewhere, expired, or another owner\'s, a row opened before is not given', async () => {
      const store = new StoredResponses(first, masterKey);
      const [one, two, three] = await talk(store, 'app:a', ['one', 'two', 'three']);
      expect(await store.chain(three!.response.id, 'app:a', T + 10)).toMatchObject({ found: 'chain' });
      // Deleted through another node's handle: this one's opened copy does not keep the chain whole.
      expect(await new StoredResponses(second, masterKey).delete(two!.response.id, 'app:a', T + 10)).toBe(true);
      expect(await store.chain(three!.response.id, 'app:a', T + 10)).toEqual({ found: 'broken' });
      expect(await store.find(two!.response.id, 'app:a', T + 10)).toBeUndefined();
      expect(await store.chain(one!.response.id, 'app:a', T + 10)).toEqual({ found: 'chain', responses: [one] });
      expect(await store.chain(one!.response.id, 'app:a', T + 31 * DAY)).toEqual({ found: 'none' });
      expect(await store.find(one!.response.id, 'app:b', T + 10)).toBeUndefined();
    });

    it('opens a row altered in the store again, after it was read: the chain it is in reads as broken', async () => {
      const store = new StoredResponses(first, masterKey);
      const [, two, three] = await talk(store, 'app:a', ['one', 'two', 'three']);
      expect(await store.chain(three!.response.id, 'app:a', T + 10)).toMatchObject({ found: 'chain' });
      const row = await second.db.selectFrom('ai_responses').select('sealed').where('id', '=', two!.response.id).executeTakeFirstOrThrow();
      await second.db.updateTable('ai_responses').set({ sealed: tampered(row.sealed) }).where('id', '=', two!.response.id).execute();
      expect(await store.chain(three!.response.id, 'app:a', T + 10)).toEqual({ found: 'broken' });
      expect(await store.find(two!.response.id, 'app:a', T + 10)).toBeUndefined();
    });

    /** The sealed text of each Response in `kept`, in characters. */
    const sizes = async (kept: StoredResponse[]) => {
      const rows = await first.db.selectFrom('ai_responses').select(['id', 'sealed']).where('id', 'in', kept.map((one) => one.response.id)).execute();
      return kept.map((one) => rows.find((row) => row.id === one.response.id)!.sealed.length);
    };

    it('keeps of a chain longer than half its bound the first rows up to that half, so each turn reopens only the rest', async () => {
      const kept = await talk(new StoredResponses(first, masterKey), 'app:a', ['one', 'two', 'three', 'four']);
      const [a, b] = await sizes(kept);
      // Half the bound holds the first two rows: the last two are opened at every read, the first two once.
      const store = new StoredResponses(second, masterKey, MAX_CHAIN_RESPONSES, () => undefined, 2 * (a! + b!));
      expect(await openings(async () => void (await store.chain(kept[3]!.response.id, 'app:a', T + 10)))).toBe(4);
      expect(await openings(async () => void (await store.chain(kept[3]!.response.id, 'app:a', T + 10)))).toBe(2);
      expect(await openings(async () => void (await store.chain(kept[3]!.response.id, 'app:a', T + 10)))).toBe(2);
      const none = new StoredResponses(second, masterKey, MAX_CHAIN_RESPONSES, () => undefined, 0);
      await none.chain(kept[1]!.response.id, 'app:a', T + 10);
      expect(await openings(async () => void (await none.chain(kept[1]!.response.id, 'app:a', T + 10)))).toBe(2);
    });

    it('drops the least recently read rows first once over its bound', async () => {
      const chains = [await talk(new StoredResponses(first, masterKey), 'app:a', ['one', 'two']), await talk(new StoredResponses(first, masterKey), 'app:b', ['uno', 'dos']), await talk(new StoredResponses(first, masterKey), 'app:c', ['un', 'deux'])];
      const largest = Math.max(...(await Promise.all(chains.map(sizes))).map(([x, y]) => x! + y!));
      // Room for two of the three chains: each one's half of the bound holds it whole.
      const store = new StoredResponses(second, masterKey, MAX_CHAIN_RESPONSES, () => undefined, 2 * largest);
      const read = (i: number) => store.chain(chains[i]![1]!.response.id, `app:${'abc'[i]}`, T + 10);
      for (const i of [0, 1, 2]) await read(i);
      // app:c's rows pushed out app:a's, read least recently; app:c's, read last, stay.
      expect(await openings(async () => void (await read(2)))).toBe(0);
      expect(await openings(async () => void (await read(0)))).toBe(2);
    });

    it('drops a row unread for ten minutes: it is opened again at its next read', async () => {
      const kept = await talk(new StoredResponses(first, masterKey), 'app:a', ['one', 'two']);
      const store = new StoredResponses(second, masterKey);
      await store.chain(kept[1]!.response.id, 'app:a', T + 10);
      expect(await openings(async () => void (await store.chain(kept[1]!.response.id, 'app:a', T + 10 + OPENED_ROWS_IDLE_MS - 1)))).toBe(0);
      expect(await openings(async () => void (await store.chain(kept[1]!.response.id, 'app:a', T + 10 + 2 * OPENED_ROWS_IDLE_MS)))).toBe(2);
    });
  });

  it('reads every Response as gone under another master key, once a read, the asked one named', async () => {
    const kept = await talk(new StoredResponses(first, masterKey), 'app:a', ['one', 'two']);
    const unopenable: string[] = [];
    const store = new StoredResponses(second, randomBytes(32), MAX_CHAIN_RESPONSES, (id) => unopenable.push(id));
    expect(await store.find(kept[0]!.response.id, 'app:a', T + 10)).toBeUndefined();
    expect(await store.chain(kept[1]!.response.id, 'app:a', T + 10)).toEqual({ found: 'none' });
    expect(unopenable).toEqual([kept[0]!.response.id, kept[1]!.response.id]);
  });

  it('deletes a Response for its owner only, once', async () => {
    const store = new StoredResponses(first, masterKey);
    const kept = turn(responsesToChat({ model: 'm', input: 'Hi' }), 'Hello');
    await store.save(ownership('app:a'), kept, T, DAY);
    expect(await store.delete(kept.response.id, 'app:b', T + 1)).toBe(false);
    expect(await store.delete(kept.response.id, 'app:a', T + 1)).toBe(true);
    expect(await store.delete(kept.response.id, 'app:a', T + 1)).toBe(false);
    expect(await store.find(kept.response.id, 'app:a', T + 1)).toBeUndefined();
  });

  it('purges the Responses whose retention is over, and only those', async () => {
    const store = new StoredResponses(second, masterKey);
    const early = turn(responsesToChat({ model: 'm', input: 'early' }), 'a');
    const late = turn(responsesToChat({ model: 'm', input: 'late' }), 'b');
    await store.save(ownership('app:p'), early, T + 10 * DAY, DAY);
    await store.save(ownership('app:p'), late, T + 11 * DAY, DAY);
    expect(await store.purge(T + 11 * DAY + DAY / 2, DAY)).toBeGreaterThanOrEqual(1);
    expect(await idsOf('app:p')).toEqual([late.response.id]);
  });

  describe('under a retention changed since they were saved', () => {
    const expiryOf = async (id: string) => (await second.db.selectFrom('ai_responses').select('expires_at').where('id', '=', id).executeTakeFirstOrThrow()).expires_at;

    it('deletes at the next purge the Responses older than a shorter retention, and keeps the others as long as it says from their saving', async () => {
      const store = new StoredResponses(first, masterKey);
      await talk(store, 'app:shorter', ['old'], T, 30 * DAY);
      const [recent] = await talk(store, 'app:shorter', ['recent'], T + 5 * DAY, 30 * DAY);
      await store.purge(T + 8 * DAY, 7 * DAY);
      expect(await idsOf('app:shorter')).toEqual([recent!.response.id]);
      expect(await expiryOf(recent!.response.id)).toBe(T + 12 * DAY);
      expect(await store.find(recent!.response.id, 'app:shorter', T + 12 * DAY)).toBeUndefined();
    });

    it('counts a shorter retention from the last turn that continued a chain, so a chain in use is not cut', async () => {
      const store = new StoredResponses(first, masterKey);
      const [one] = await talk(store, 'app:in-use', ['one'], T, 30 * DAY);
      const [two] = await talk(store, 'app:in-use', ['two'], T + 20 * DAY, 30 * DAY, one);
      await store.purge(T + 21 * DAY, 7 * DAY);
      expect(await store.chain(two!.response.id, 'app:in-use', T + 27 * DAY - 1)).toMatchObject({ found: 'chain', responses: [one, two] });
      expect(await store.chain(two!.response.id, 'app:in-use', T + 27 * DAY)).toEqual({ found: 'none' });
    });

    it('counts the retention of an earlier turn that a continuation kept longer as the continuation\'s', async () => {
      const store = new StoredResponses(first, masterKey);
      const [one] = await talk(store, 'app:continued-longer', ['one'], T, DAY);
      // Continued under a longer retention (the config changed) before any purge: the earlier turn is kept as long.
      await talk(store, 'app:continued-longer', ['two'], T + DAY / 2, 30 * DAY, one);
      await store.purge(T + DAY, 30 * DAY);
      expect(await expiryOf(one!.response.id)).toBe(T + DAY / 2 + 30 * DAY);
    });

    it('moves and deletes more rows than one batch holds, every one of them', async () => {
      const store = new StoredResponses(first, masterKey);
      const [model] = await talk(store, 'app:many', ['model'], T, 30 * DAY);
      const row = await second.db.selectFrom('ai_responses').selectAll().where('id', '=', model!.response.id).executeTakeFirstOrThrow();
      const many = PURGE_BATCH_ROWS * 2 + 7;
      await second.db.transaction().execute(async (tx) => {
        for (let i = 0; i < many; i += 100) {
          await tx.insertInto('ai_responses').values(Array.from({ length: Math.min(100, many - i) }, (_, j) => ({ ...row, id: `resp_many_${i + j}`, created_at: T + DAY, expires_at: T + DAY + 30 * DAY }))).execute();
        }
      });
      const count = async (where: (eb: ExpressionBuilder<Database, 'ai_responses'>) => Expression<SqlBool>) => Number((await second.db.selectFrom('ai_responses').select((eb) => eb.fn.countAll<number>().as('n')).where('owner', '=', 'app:many').where(where).executeTakeFirstOrThrow()).n);
      // A shorter retention: every row's expiry moves, then the model row (saved first) is past it; the copies are not.
      await store.purge(T + 7.5 * DAY, 7 * DAY);
      expect(await count((eb) => eb('retention_ms', '=', 7 * DAY))).toBe(many);
      expect(await count((eb) => eb('id', '=', model!.response.id))).toBe(0);
      await store.purge(T + 40 * DAY, 7 * DAY);
      expect(await count((eb) => eb('id', 'is not', null))).toBe(0);
    });

    it('keeps the Responses already stored longer under a longer retention', async () => {
      const store = new StoredResponses(first, masterKey);
      const [kept] = await talk(store, 'app:longer', ['kept'], T, DAY);
      await store.purge(T + DAY / 2, 3 * DAY);
      expect(await store.find(kept!.response.id, 'app:longer', T + 3 * DAY - 1)).toBeDefined();
      expect(await expiryOf(kept!.response.id)).toBe(T + 3 * DAY);
    });

    it('keeps a Response of an earlier release, whose retention is unknown, until its own expiry, but no more than a retention past the purge', async () => {
      const store = new StoredResponses(first, masterKey);
      const [long, short] = await talk(store, 'app:earlier-release', ['long', 'short'], T, 30 * DAY);
      await second.db.updateTable('ai_responses').set({ retention_ms: null }).where('owner', '=', 'app:earlier-release').execute();
      await second.db.updateTable('ai_responses').set({ expires_at: T + 2 * DAY }).where('id', '=', short!.response.id).execute();
      await store.purge(T + DAY, 7 * DAY);
      expect([await expiryOf(long!.response.id), await expiryOf(short!.response.id)]).toEqual([T + 8 * DAY, T + 2 * DAY]);
      // From then on the row is kept for the retention it was given.
      await store.purge(T + DAY, 5 * DAY);
      expect(await expiryOf(long!.response.id)).toBe(T + 6 * DAY);
    });
  });

  /** The ids of `owner`'s rows, in the order they were saved. */
  const idsOf = async (owner: string) => (await second.db.selectFrom('ai_responses').select('id').where('owner', '=', owner).orderBy('created_at').execute()).map((row) => row.id);
});
