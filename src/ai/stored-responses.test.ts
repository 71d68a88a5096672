import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from '../../test/databases.js';
import { openStore, type Store } from '../store/index.js';
import { chatToResponse, responseEchoOf, responsesToChat, RESPONSE_INPUT, type ResponsesChatRequest } from './responses-ingress/index.js';
import { StoredResponses, type StoredResponse } from './stored-responses.js';

const T = Date.UTC(2026, 10, 29, 12);
const DAY = 86_400_000;
const ownership = (owner: string) => ({ owner, app: 'app-a', team: 'team-a', route: 'ai' });

/** A turn as the handler keeps it: the request's whole input items, and the Response answered with `text`. */
function turn(request: ResponsesChatRequest, text: string): StoredResponse {
  const completion = { id: 'c', object: 'chat.completion' as const, created: T / 1000, model: 'm', choices: [{ index: 0, message: { role: 'assistant' as const, content: text }, finish_reason: 'stop' as const, logprobs: null }] };
  return { response: chatToResponse(completion, request.model, responseEchoOf(request)), input: request[RESPONSE_INPUT]! };
}

describe.each(STORE_KINDS)('stored Responses in the %s store', (kind) => {
  let database: TestDatabase;
  let first: Store;
  let second: Store;
  const masterKey = randomBytes(32);

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // Two handles on one store: two workers, or two nodes.
    first = await openStore(database.url);
    second = await openStore(database.url);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await database?.drop();
  });

  it('resolves a chain with one read: the next turn is sent the first turn’s input and output, on another handle', async () => {
    const [a, b] = [new StoredResponses(first, masterKey), new StoredResponses(second, masterKey)];
    const one = turn(responsesToChat({ model: 'm', input: 'My name is Ada.' }), 'Hello Ada.');
    await a.save(ownership('app:a'), one, T, 30 * DAY);
    const found = (await b.find(one.response.id, 'app:a', T + 1))!;
    expect(found).toEqual(one);
    const next = responsesToChat({ model: 'm', input: 'What is my name?', previous_response_id: one.response.id }, { id: one.response.id, items: [...found.input, ...(found.response.output as unknown as StoredResponse['input'])] });
    expect(next.messages).toEqual([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: 'Hello Ada.' },
      { role: 'user', content: 'What is my name?' },
    ]);
    // The second turn keeps the whole chain: a third resolves it with one read too.
    const two = turn(next, 'Ada.');
    await b.save(ownership('app:a'), two, T + 2, 30 * DAY);
    expect((await a.find(two.response.id, 'app:a', T + 3))!.input.map((item) => item.id)).toEqual([...one.input.map((item) => item.id), one.response.output[0]!.id, next[RESPONSE_INPUT]!.at(-1)!.id]);
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
    // Bound to its owner: handed to another, the row does not open.
    await first.db.updateTable('ai_responses').set({ owner: 'app:b' }).where('id', '=', kept.response.id).execute();
    await expect(store.find(kept.response.id, 'app:b', T + 1)).rejects.toThrow(/does not open/);
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
    await store.save(ownership('app:p'), late, T + 10 * DAY, 3 * DAY);
    await store.purge(T + 12 * DAY);
    const left = await second.db.selectFrom('ai_responses').select('id').where('owner', '=', 'app:p').execute();
    expect(left.map((row) => row.id)).toEqual([late.response.id]);
  });
});
