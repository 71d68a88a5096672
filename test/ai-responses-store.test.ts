import OpenAI from 'openai';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ResponseObject } from '../src/ai/responses-ingress/index.js';
import { StoredResponses, MAX_CHAIN_RESPONSES } from '../src/ai/stored-responses.js';
import { ManualClock } from '../src/clock.js';
import { loadMasterKey } from '../src/keys/index.js';
import { signatureFor, thinkingFor } from './emulators/anthropic.js';
import { collect, AiGateway, PROVIDER_SECRETS, configureThreeProviders, startProviderEmulators, type OpenAIErrorBody, type ProviderEmulators, SMART_AND_FAST } from './ai-fixtures.js';
import { createTestDatabase, STORE_KINDS, type TestDatabase } from './databases.js';

/**
 * Stored responses of OpenAI's Responses API through the gateway, as the official `openai` client calls them:
 * `previous_response_id` across turns and providers, `responses.retrieve`, `responses.delete` and
 * `responses.inputItems.list`, for the app that stored them only, until their retention is over.
 */

const WEATHER_TOOL = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The current weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};
const HOUR = 3_600_000;


/** A sealed row with one character of its ciphertext altered: it no longer opens, as a row tampered with in the table. */
function tampered(sealed: string): string {
  const at = Math.floor(sealed.length / 2);
  return sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
}

/**
 * Holds every StoredResponses.save of this process (the gateway's runs in it) until `release`: `started` once one
 * is called, `committed` once the held save has resolved; `restore` puts save back.
 */
function holdSaves(): { started: Promise<void>; release: () => void; readonly committed: boolean; restore: () => void } {
  const save = StoredResponses.prototype.save;
  let release!: () => void;
  let start!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const started = new Promise<void>((resolve) => (start = resolve));
  let committed = false;
  const spy = vi.spyOn(StoredResponses.prototype, 'save').mockImplementation(async function (this: StoredResponses, ...args) {
    start();
    await released;
    await save.apply(this, args);
    committed = true;
  });
  return {
    started,
    release,
    get committed() {
      return committed;
    },
    restore: () => spy.mockRestore(),
  };
}

/** The text of each message an emulator was sent last, in the order sent: what the provider saw of the conversation. */
const textsOf = (messages: Array<{ role: string; content: unknown }>) =>
  messages.map((message) => `${message.role}: ${typeof message.content === 'string' ? message.content : JSON.stringify(message.content)}`);

describe.each(STORE_KINDS)('stored responses on the %s store', (kind) => {
  let database: TestDatabase;
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let client: OpenAI;
  let other: OpenAI;
  const clock = new ManualClock(Date.now());
  const warnings: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    emulators = await startProviderEmulators();
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    gateway = await AiGateway.start({ clock, logger, env: kind === 'postgres' ? { KEYGATE_DATABASE_URL: database.url } : {} });
    expect(gateway.gateway.store.dialect).toBe(kind);
    await configureThreeProviders(gateway, emulators, {
      aliases: SMART_AND_FAST,
      responses: { retention: '1h' },
    });
    client = gateway.openai(await gateway.createApp({ name: 'chain-app', team: 'chain-team' }));
    other = gateway.openai(await gateway.createApp({ name: 'other-app', team: 'chain-team' }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await database?.drop();
  });

  it('continues a stored response with previous_response_id, from one provider to another', async () => {
    const first = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'My name is Ada.' });
    expect(first).toMatchObject({ store: true, previous_response_id: null });
    const second = await client.responses.create({ model: 'smart', input: 'What is my name?', previous_response_id: first.id });
    expect(second).toMatchObject({ status: 'completed', store: true, previous_response_id: first.id });
    expect(textsOf(emulators.anthropic.lastRequest()!.body.messages)).toEqual([
      'user: [{"type":"text","text":"My name is Ada."}]',
      'assistant: [{"type":"text","text":"Echo: My name is Ada."}]',
      'user: [{"type":"text","text":"What is my name?"}]',
    ]);
    // And on again, to a third provider: the chain keeps every turn.
    const third = await client.responses.create({ model: 'fast', input: 'Thanks.', previous_response_id: second.id });
    expect(third.output_text).toBe('Echo: Thanks.');
    expect(JSON.stringify(emulators.gemini.lastRequest()!.body)).toContain('Echo: What is my name?');
  });

  it("does not carry the earlier turn's instructions over", async () => {
    const first = await client.responses.create({ model: 'openai/gpt-4o-mini', instructions: 'Answer like a pirate.', input: 'Hello' });
    await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello again', previous_response_id: first.id });
    expect(emulators.openai.lastRequest()!.body.messages.map((message: { role: string }) => message.role)).toEqual(['user', 'assistant', 'user']);
    await client.responses.create({ model: 'openai/gpt-4o-mini', instructions: 'Be brief.', input: 'Once more', previous_response_id: first.id });
    expect(emulators.openai.lastRequest()!.body.messages[0]).toEqual({ role: 'system', content: 'Be brief.' });
    expect(JSON.stringify(emulators.openai.lastRequest()!.body)).not.toContain('pirate');
  });

  it.each(['openai/gpt-4o-mini', 'smart'])('answers a function call of the previous response from its function_call_output alone (%s)', async (model) => {
    const first = await client.responses.create({ model, input: 'What is the weather in Paris? Use get_weather.', tools: [WEATHER_TOOL] });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    const second = await client.responses.create({ model, tools: [WEATHER_TOOL], previous_response_id: first.id, input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }] });
    expect(second.output_text).toMatch(/^The tool answered: .*21/);
  });

  it.each([false, true])("gives Claude its signed thinking back through previous_response_id, though the client never included encrypted_content (first turn streamed: %s)", async (streamed) => {
    const question = 'What is the weather in Paris? Use get_weather.';
    const ask = { model: 'smart', tools: [WEATHER_TOOL], reasoning: { effort: 'low' as const } };
    const first = streamed ? await client.responses.stream({ ...ask, input: question }).finalResponse() : await client.responses.create({ ...ask, input: question });
    expect(first.output[0]).toMatchObject({ type: 'reasoning' });
    expect(first.output[0]).not.toHaveProperty('encrypted_content');
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    const second = await client.responses.create({ ...ask, previous_response_id: first.id, input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"celsius":21}' }] });
    const sent = emulators.anthropic.lastRequest()!.body;
    const thinking = thinkingFor(question);
    expect(sent.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(sent.messages[1].content[0]).toEqual({ type: 'thinking', thinking, signature: signatureFor(thinking) });
    expect(sent.messages[1].content.map((block: { type: string }) => block.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(second.output_text).toBe('The tool answered: {"celsius":21}');
    // Retrieved as it was answered, without encrypted_content; with it when the retrieve includes it.
    const retrieved = await client.responses.retrieve(first.id);
    expect(retrieved.output[0]).toEqual(first.output[0]);
    expect(retrieved.output[0]).not.toHaveProperty('encrypted_content');
    const included = await client.responses.retrieve(first.id, { include: ['reasoning.encrypted_content'] });
    expect(included.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(/^kg2\./) });
  });

  it('refuses a retrieve whose include names a value OpenAI does not define, with a 400 naming it', async () => {
    const first = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello' });
    const refused = await client.responses.retrieve(first.id, { include: ['reasoning.encrypted_content', 'usage' as never] }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, param: 'include[1]', code: 'invalid_value' });
  });

  it('refuses to stream a stored response again, which it has no events of, with a 400 naming stream', async () => {
    const first = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello' });
    const refused = await (async () => {
      for await (const _event of await client.responses.retrieve(first.id, { stream: true })) return undefined;
      return undefined;
    })().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, param: 'stream', code: 'unsupported_parameter' });
    // Without it, the same response as ever.
    expect((await client.responses.retrieve(first.id)).id).toBe(first.id);
  });

  it('retrieves a response whose request included encrypted_content with it, as it was answered', async () => {
    const first = await client.responses.create({ model: 'smart', reasoning: { effort: 'low' }, include: ['reasoning.encrypted_content'], input: 'Hello there' });
    expect(first.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(/^kg2\./) });
    expect(await client.responses.retrieve(first.id)).toMatchObject({ output: first.output });
  });

  it("lists a reasoning item's encrypted_content, the client's own or an earlier turn's, only when input_items includes it", async () => {
    const ask = { model: 'smart', reasoning: { effort: 'low' as const }, include: ['reasoning.encrypted_content' as const] };
    const unstored = await client.responses.create({ ...ask, store: false, input: 'Hello' });
    const sentBack = unstored.output[0]!;
    expect(sentBack).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(/^kg2\./) });
    const first = await client.responses.create({ ...ask, input: [{ role: 'user', content: 'Hello' }, sentBack as ResponseInputItem, { role: 'user', content: 'Again' }] });
    const second = await client.responses.create({ ...ask, input: 'Once more', previous_response_id: first.id });
    const encrypted = (items: Array<{ type: string }>) => items.filter((item) => item.type === 'reasoning').map((item) => (item as { encrypted_content?: string }).encrypted_content);
    expect(encrypted((await client.responses.inputItems.list(first.id)).data)).toEqual([undefined]);
    expect(encrypted((await client.responses.inputItems.list(second.id)).data)).toEqual([undefined, undefined]);
    const included = (await client.responses.inputItems.list(second.id, { include: ['reasoning.encrypted_content'], order: 'asc' })).data;
    expect(encrypted(included)).toEqual([(sentBack as { encrypted_content: string }).encrypted_content, (first.output[0] as { encrypted_content: string }).encrypted_content]);
    const refused = await gateway.call<OpenAIErrorBody>('GET', `/v1/responses/${second.id}/input_items?include[]=usage`, client.apiKey!);
    expect([refused.status, refused.body.error]).toEqual([400, expect.objectContaining({ type: 'invalid_request_error', code: 'invalid_value', param: 'include[0]' })]);
  });

  it('stores a streamed response before response.completed, so a chained turn right after finds it', async () => {
    const events = await collect(await client.responses.create({ model: 'smart', stream: true, input: 'Stream this.' }));
    const done = events.at(-1)!;
    if (done.type !== 'response.completed') throw new Error(`the stream ended with ${done.type}`);
    expect(done.response).toMatchObject({ store: true });
    const next = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'And now?', previous_response_id: done.response.id });
    expect(textsOf(emulators.openai.lastRequest()!.body.messages)).toEqual(['user: Stream this.', 'assistant: Echo: Stream this.', 'user: And now?']);
    expect(next.output_text).toBe('Echo: And now?');
    expect(await client.responses.retrieve(done.response.id)).toMatchObject({ id: done.response.id, output: done.response.output, usage: done.response.usage });
  });

  it('commits a response to the store before the client receives any of its answer', async () => {
    const save = holdSaves();
    try {
      let answered = false;
      const answer = gateway.call<{ id: string }>('POST', '/v1/responses', client.apiKey!, { model: 'fast', input: 'Hold this.' }).then((result) => {
        answered = true;
        return { ...result, committed: save.committed };
      });
      await save.started;
      // Turns enough for an answer sent without waiting to reach the client.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(answered).toBe(false);
      save.release();
      const { status, body, committed } = await answer;
      expect([status, committed]).toEqual([200, true]);
      expect((await client.responses.retrieve(body.id)).id).toBe(body.id);
    } finally {
      save.restore();
    }
  });

  it('commits a streamed response to the store before response.completed is written, the events before it already sent', async () => {
    const save = holdSaves();
    try {
      const response = await fetch(`${gateway.proxyUrl}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fast', stream: true, input: 'Hold this stream.' }),
      });
      let received = '';
      let completedWhenCommitted: boolean | undefined;
      const reading = (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of response.body!) {
          received += decoder.decode(chunk, { stream: true });
          if (completedWhenCommitted === undefined && received.includes('event: response.completed')) completedWhenCommitted = save.committed;
        }
      })();
      await save.started;
      await vi.waitFor(() => expect(received).toContain('event: response.output_item.done'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(received).not.toContain('response.completed');
      save.release();
      await reading;
      expect(completedWhenCommitted).toBe(true);
      const done = JSON.parse(received.split('event: response.completed\ndata: ')[1]!.split('\n')[0]!) as { response: { id: string; store: boolean } };
      expect(done.response.store).toBe(true);
      expect((await client.responses.retrieve(done.response.id)).id).toBe(done.response.id);
    } finally {
      save.restore();
    }
  });

  it('retrieves a stored response as it was answered, and lists its input items as OpenAI does', async () => {
    const first = await client.responses.create({ model: 'fast', input: 'one' });
    const second = await client.responses.create({ model: 'fast', input: [{ role: 'user', content: 'two' }], previous_response_id: first.id });
    const { _request_id: _a, ...answered } = second as typeof second & { _request_id?: string };
    const { _request_id: _b, ...retrieved } = (await client.responses.retrieve(second.id)) as typeof second & { _request_id?: string };
    expect(retrieved).toEqual(answered);
    // The newest first by default; ids as OpenAI gives them.
    const page = await client.responses.inputItems.list(second.id);
    expect(page.data.map((item) => item.type === 'message' && item.content[0]!.type !== 'refusal' && 'text' in item.content[0]! ? item.content[0].text : item.type)).toEqual(['two', 'Echo: one', 'one']);
    expect(page.data.map((item) => item.id)).toEqual([expect.stringMatching(/^msg_/), first.output[0]!.id, expect.stringMatching(/^msg_/)]);
    // Page by page in ascending order, as the SDK's auto-pagination reads them.
    const ascending: string[] = [];
    for await (const item of client.responses.inputItems.list(second.id, { order: 'asc', limit: 1 })) ascending.push(item.id!);
    expect(ascending).toEqual([...page.data.map((item) => item.id)].reverse());
  });

  it('stores nothing for store: false', async () => {
    const unstored = await client.responses.create({ model: 'fast', input: 'Forget this.', store: false });
    expect(unstored).toMatchObject({ store: false });
    expect(await client.responses.retrieve(unstored.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    const chained = await client.responses.create({ model: 'fast', input: 'More', previous_response_id: unstored.id }).catch((e: unknown) => e);
    expect(chained).toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
  });

  it("answers another app's response id as an unknown one: 404 to retrieve, delete or list, 400 to continue, calling no provider", async () => {
    const mine = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Mine.' });
    const calls = emulators.openai.requests().length;
    const error = await other.responses.create({ model: 'openai/gpt-4o-mini', input: 'Yours?', previous_response_id: mine.id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'previous_response_not_found', param: 'previous_response_id' });
    expect((error as Error).message).toContain(`Previous response with id '${mine.id}' not found.`);
    expect(emulators.openai.requests().length).toBe(calls);
    expect(await other.responses.retrieve(mine.id).catch((e: unknown) => e)).toMatchObject({ status: 404, code: 'response_not_found' });
    expect(await other.responses.inputItems.list(mine.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await other.responses.delete(mine.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect((await client.responses.retrieve(mine.id)).id).toBe(mine.id);
  });

  it('answers an unknown id of any length with 404 response_not_found, the message repeating its first 64 characters only', async () => {
    const long = `resp_${'x'.repeat(5_000)}`;
    for (const [method, path] of [['GET', `/v1/responses/${long}`], ['GET', `/v1/responses/${long}/input_items`], ['DELETE', `/v1/responses/${long}`]] as const) {
      const answer = await gateway.call<OpenAIErrorBody>(method, path, client.apiKey!);
      expect([answer.status, answer.body.error]).toEqual([404, { type: 'invalid_request_error', code: 'response_not_found', param: null, message: `Response with id '${long.slice(0, 64)}…' not found.` }]);
    }
  });

  it('deletes a stored response: then it can be neither read nor continued', async () => {
    const kept = await client.responses.create({ model: 'fast', input: 'Delete me.' });
    const raw = await fetch(`${gateway.proxyUrl}/v1/responses/${kept.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${client.apiKey}` } });
    expect([raw.status, await raw.json()]).toEqual([200, { id: kept.id, object: 'response', deleted: true }]);
    expect(await client.responses.delete(kept.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await client.responses.retrieve(kept.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await client.responses.create({ model: 'fast', input: 'Again', previous_response_id: kept.id }).catch((e: unknown) => e)).toMatchObject({ status: 400, code: 'previous_response_not_found' });
  });

  it('keeps the earlier responses of a chain as long as its last: a chain continued within its retention lives on', async () => {
    const first = await client.responses.create({ model: 'fast', input: 'Remember: blue.' });
    clock.advance(HOUR - 10 * 60_000);
    const second = await client.responses.create({ model: 'fast', input: 'And green.', previous_response_id: first.id });
    clock.advance(30 * 60_000);
    expect((await client.responses.retrieve(first.id)).id).toBe(first.id);
    await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Which colours?', previous_response_id: second.id });
    expect(textsOf(emulators.openai.lastRequest()!.body.messages)).toEqual(['user: Remember: blue.', 'assistant: Echo: Remember: blue.', 'user: And green.', 'assistant: Echo: And green.', 'user: Which colours?']);
  });

  it('deletes a response of a chain alone: a later one is still retrieved, but neither continued nor listed', async () => {
    const first = await client.responses.create({ model: 'fast', input: 'one' });
    const second = await client.responses.create({ model: 'fast', input: 'two', previous_response_id: first.id });
    const third = await client.responses.create({ model: 'fast', input: 'three', previous_response_id: second.id });
    await client.responses.delete(second.id);
    expect((await client.responses.retrieve(third.id)).output_text).toBe('Echo: three');
    expect((await client.responses.retrieve(first.id)).id).toBe(first.id);
    const calls = emulators.gemini.requests().length;
    const continued = await client.responses.create({ model: 'fast', input: 'four', previous_response_id: third.id }).catch((e: unknown) => e);
    expect(continued).toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
    expect((continued as Error).message).toContain('an earlier response of its chain was deleted or expired');
    expect(emulators.gemini.requests().length).toBe(calls);
    const listed = await client.responses.inputItems.list(third.id).catch((e: unknown) => e);
    expect(listed).toMatchObject({ status: 404, code: 'response_not_found' });
    expect((listed as Error).message).toContain('an earlier response of its chain was deleted or expired');
  });

  it('refuses to continue a chain of 1,000 responses with 400 response_chain_too_long, calling no provider', async () => {
    const first = await client.responses.create({ model: 'fast', input: 'turn 1' });
    const { store } = gateway.gateway;
    const { owner, app, team, route } = await store.db.selectFrom('ai_responses').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    // Turns 2 to 1,000 saved straight into the store, as the gateway would have (its chains walked one row deep, for speed).
    const saving = new StoredResponses(store, (await loadMasterKey(store, gateway.dataFolder, undefined)).key, 1);
    let last = first.id;
    for (let n = 2; n <= MAX_CHAIN_RESPONSES; n += 1) {
      const id = `resp_turn_${n}`;
      await saving.save({ owner, app, team, route }, { response: { ...(first as unknown as ResponseObject), id, previous_response_id: last }, input: [] }, clock.now(), HOUR);
      last = id;
    }
    const calls = emulators.gemini.requests().length;
    const refused = await gateway.call<OpenAIErrorBody>('POST', '/v1/responses', client.apiKey!, { model: 'fast', input: 'turn 1001', previous_response_id: last });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'response_chain_too_long', param: 'previous_response_id' });
    expect(refused.body.error.message).toContain('ends a chain of 1000 responses');
    expect(emulators.gemini.requests().length).toBe(calls);
    // The chain is still read whole, and the one before its last may still be continued.
    expect((await client.responses.inputItems.list(last, { limit: 1, order: 'asc' })).data[0]).toMatchObject({ type: 'message', role: 'user' });
    const branch = await client.responses.create({ model: 'fast', input: 'turn 1000 again', previous_response_id: `resp_turn_${MAX_CHAIN_RESPONSES - 1}` });
    expect(branch.output_text).toBe('Echo: turn 1000 again');
  });

  it('answers a stored response whose row no longer opens as gone: 404 to read or list, 400 to continue, its id alone logged', async () => {
    const first = await client.responses.create({ model: 'fast', input: 'one' });
    const second = await client.responses.create({ model: 'fast', input: 'The door code is 4711.', previous_response_id: first.id });
    const third = await client.responses.create({ model: 'fast', input: 'three', previous_response_id: second.id });
    const { db } = gateway.gateway.store;
    const { sealed } = await db.selectFrom('ai_responses').select('sealed').where('id', '=', second.id).executeTakeFirstOrThrow();
    await db.updateTable('ai_responses').set({ sealed: tampered(sealed) }).where('id', '=', second.id).execute();
    warnings.length = 0;
    const calls = emulators.gemini.requests().length;
    expect(await client.responses.retrieve(second.id).catch((e: unknown) => e)).toMatchObject({ status: 404, code: 'response_not_found' });
    expect(await client.responses.inputItems.list(second.id).catch((e: unknown) => e)).toMatchObject({ status: 404, code: 'response_not_found' });
    expect(await client.responses.create({ model: 'fast', input: 'Go on.', previous_response_id: second.id }).catch((e: unknown) => e)).toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
    // In the middle of a chain it breaks the chain, as a deleted response does; the responses around it are whole.
    const continued = await client.responses.create({ model: 'fast', input: 'Go on.', previous_response_id: third.id }).catch((e: unknown) => e);
    expect(continued).toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
    expect((continued as Error).message).toContain('an earlier response of its chain was deleted or expired');
    expect(emulators.gemini.requests().length).toBe(calls);
    expect((await client.responses.retrieve(third.id)).output_text).toBe('Echo: three');
    expect((await client.responses.retrieve(first.id)).output_text).toBe('Echo: one');
    const logged = warnings.filter((line) => String(line.msg).includes('does not open'));
    // Said once for the id, however often it is read.
    expect(logged.map((line) => line.response)).toEqual([second.id]);
    expect(JSON.stringify(warnings)).not.toMatch(/4711|app:|chain-app|"err"/);
    expect(JSON.stringify(warnings)).not.toContain(sealed.slice(-40));
    // Its owner may still delete it: the row is theirs by its owner column, and no one can read it any more.
    expect(await client.responses.delete(second.id)).toMatchObject({ id: second.id, deleted: true });
    expect(await db.selectFrom('ai_responses').select('id').where('id', '=', second.id).execute()).toEqual([]);
  });

  it('refuses to continue a stored response before reading its chain when the app has spent its budget or may not use the model', async () => {
    const spender = gateway.openai(await gateway.createApp({ name: 'spent-app', team: 'spent-team', budget: { dailyUsd: 0.000002 } }));
    const first = await spender.responses.create({ model: 'openai/gpt-4o-mini', input: 'Hello there, spend the budget.' });
    const reads = vi.spyOn(StoredResponses.prototype, 'chain');
    try {
      const spent = await spender.responses.create({ model: 'openai/gpt-4o-mini', input: 'Go on.', previous_response_id: first.id }).catch((e: unknown) => e);
      expect(spent).toMatchObject({ status: 429, code: 'budget_exceeded' });
      const unknown = await spender.responses.create({ model: 'openai-nope/none', input: 'Go on.', previous_response_id: first.id }).catch((e: unknown) => e);
      expect(unknown).toMatchObject({ status: 404, code: 'model_not_found' });
      // The same app, its models narrowed to another: the model is there, but not this app's to use.
      const narrowed = gateway.openai(await gateway.createApp({ name: 'spent-app', team: 'spent-team', budget: { dailyUsd: 0.000002 }, models: ['openai/gpt-4o'] }));
      const barred = await narrowed.responses.create({ model: 'openai/gpt-4o-mini', input: 'Go on.', previous_response_id: first.id }).catch((e: unknown) => e);
      expect(barred).toMatchObject({ status: 404, code: 'model_not_found' });
      expect(reads).not.toHaveBeenCalled();
      // A chain read is seen: listing the response's input items reads it.
      await spender.responses.inputItems.list(first.id);
      expect(reads).toHaveBeenCalledTimes(1);
    } finally {
      reads.mockRestore();
    }
  });

  it("deletes an app's stored Responses with it, so an app made again under its name finds none of them", async () => {
    const before = gateway.openai(await gateway.createApp({ name: 'reborn-app', team: 'reborn-team' }));
    const first = await before.responses.create({ model: 'openai/gpt-4o-mini', input: 'Remember the launch code.' });
    const other = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Another app.' });
    expect((await before.responses.retrieve(first.id)).id).toBe(first.id);
    await gateway.admin(204, 'DELETE', '/apps/reborn-app');
    const { db } = gateway.gateway.store;
    expect(await db.selectFrom('ai_responses').select('id').where('id', '=', first.id).execute()).toEqual([]);
    // Another app's are left alone.
    expect(await db.selectFrom('ai_responses').select('id').where('id', '=', other.id).execute()).toEqual([{ id: other.id }]);
    const after = gateway.openai(await gateway.createApp({ name: 'reborn-app', team: 'reborn-team' }));
    expect(await after.responses.retrieve(first.id).catch((e: unknown) => e)).toMatchObject({ status: 404 });
    const continued = await after.responses.create({ model: 'openai/gpt-4o-mini', input: 'Go on.', previous_response_id: first.id }).catch((e: unknown) => e);
    expect(continued).toMatchObject({ status: 400, code: 'previous_response_not_found' });
    const own = await after.responses.create({ model: 'openai/gpt-4o-mini', input: 'A new start.' });
    expect((await after.responses.retrieve(own.id)).id).toBe(own.id);
  });

  it('keeps from an app made again under a deleted one\'s name the Response that a call still under way at the deletion saved', async () => {
    const before = gateway.openai(await gateway.createApp({ name: 'late-app', team: 'late-team' }));
    const save = holdSaves();
    let after: OpenAI;
    let id: string;
    try {
      const answer = before.responses.create({ model: 'openai/gpt-4o-mini', input: 'Remember the launch code.' });
      await save.started;
      await gateway.admin(204, 'DELETE', '/apps/late-app');
      clock.advance(1);
      after = gateway.openai(await gateway.createApp({ name: 'late-app', team: 'late-team' }));
      save.release();
      ({ id } = await answer);
    } finally {
      save.restore();
    }
    // Saved after the deletion, for the app the call was made for: no one's now, until its retention ends.
    const row = await gateway.gateway.store.db.selectFrom('ai_responses').select('app').where('id', '=', id).executeTakeFirst();
    expect(row).toEqual({ app: 'late-app' });
    expect(await after.responses.retrieve(id).catch((e: unknown) => e)).toMatchObject({ status: 404 });
    expect(await after.responses.inputItems.list(id).catch((e: unknown) => e)).toMatchObject({ status: 404 });
    expect(await after.responses.create({ model: 'openai/gpt-4o-mini', input: 'Go on.', previous_response_id: id }).catch((e: unknown) => e)).toMatchObject({ status: 400, code: 'previous_response_not_found' });
    expect(await after.responses.delete(id).catch((e: unknown) => e)).toMatchObject({ status: 404 });
  });

  it('still reads the Responses an app stored under its name alone, as earlier releases did, if stored since the app was made', async () => {
    const app = gateway.openai(await gateway.createApp({ name: 'upgraded-app', team: 'upgraded-team' }));
    const first = await app.responses.create({ model: 'openai/gpt-4o-mini', input: 'My name is Ada.' });
    const { store } = gateway.gateway;
    const row = await store.db.selectFrom('ai_responses').selectAll().where('id', '=', first.id).executeTakeFirstOrThrow();
    expect(JSON.parse(row.owner)).toEqual(['app', 'upgraded-app', expect.any(Number)]);
    // The row again as an earlier release stored it: owned, and sealed, for the app's name alone.
    const saving = new StoredResponses(store, (await loadMasterKey(store, gateway.dataFolder, undefined)).key);
    const kept = (await saving.find(first.id, row.owner, clock.now()))!;
    await store.db.deleteFrom('ai_responses').where('id', '=', first.id).execute();
    const legacy = { owner: JSON.stringify(['app', 'upgraded-app']), app: row.app, team: row.team, route: row.route };
    await saving.save(legacy, kept, clock.now(), HOUR);
    expect((await app.responses.retrieve(first.id)).id).toBe(first.id);
    const second = await app.responses.create({ model: 'openai/gpt-4o-mini', input: 'What is my name?', previous_response_id: first.id });
    expect(textsOf(emulators.openai.lastRequest()!.body.messages)).toEqual(['user: My name is Ada.', 'assistant: Echo: My name is Ada.', 'user: What is my name?']);
    expect((await app.responses.inputItems.list(second.id)).data).toHaveLength(3);
    // An app made again under the name, later: such rows are its own only if stored since it was made.
    await gateway.admin(204, 'DELETE', '/apps/upgraded-app');
    const made = clock.advance(1_000);
    const again = gateway.openai(await gateway.createApp({ name: 'upgraded-app', team: 'upgraded-team' }));
    const older = { response: { ...kept.response, id: 'resp_before_made' }, input: kept.input };
    const newer = { response: { ...kept.response, id: 'resp_since_made' }, input: kept.input };
    await saving.save(legacy, older, made - 1, HOUR);
    await saving.save(legacy, newer, made, HOUR);
    expect(await again.responses.retrieve('resp_before_made').catch((e: unknown) => e)).toMatchObject({ status: 404 });
    expect((await again.responses.retrieve('resp_since_made')).id).toBe('resp_since_made');
  });

  it("opens no reasoning token of a deleted app for an app made again under its name: Claude's thinking goes back to the first one's calls only", async () => {
    const question = { role: 'user' as const, content: 'What is the weather in Paris? Use get_weather.' };
    const ask = { model: 'smart', tools: [WEATHER_TOOL], reasoning: { effort: 'low' as const }, store: false, include: ['reasoning.encrypted_content' as const] };
    const thinking = thinkingFor(question.content);
    const before = gateway.openai(await gateway.createApp({ name: 'thinking-app', team: 'thinking-team' }));
    const first = await before.responses.create({ ...ask, input: [question] });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('the first turn calls get_weather');
    const input = [question, ...(first.output as ResponseInputItem[]), { type: 'function_call_output' as const, call_id: call.call_id, output: '{"celsius":21}' }];
    await before.responses.create({ ...ask, input });
    expect(emulators.anthropic.lastRequest()!.body.messages[1].content[0]).toEqual({ type: 'thinking', thinking, signature: signatureFor(thinking) });
    await gateway.admin(204, 'DELETE', '/apps/thinking-app');
    clock.advance(1);
    const after = gateway.openai(await gateway.createApp({ name: 'thinking-app', team: 'thinking-team' }));
    const second = await after.responses.create({ ...ask, input });
    const sent = emulators.anthropic.lastRequest()!.body;
    expect(sent.thinking).toBeUndefined();
    expect(JSON.stringify(sent)).not.toContain(thinking);
    expect(second.output_text).toBe('The tool answered: {"celsius":21}');
  });

  it("counts a continued chain's turns in the prompt a budget's room is checked against", async () => {
    const apiKey = await gateway.createApp({ name: 'room-app', team: 'room-team' });
    const long = 'lorem ipsum '.repeat(3_000);
    const first = await gateway.call<{ id: string }>('POST', '/v1/responses', apiKey, { model: 'openai/gpt-4o-mini', input: long });
    const spent = Number(first.headers.get('x-keygate-cost-usd'));
    // Room for a short prompt, not for the chain's 18,000 tokens.
    const continuing = gateway.openai(await gateway.createApp({ name: 'room-app', team: 'room-team', budget: { dailyUsd: spent + 0.000001 } }));
    const refused = await continuing.responses.create({ model: 'openai/gpt-4o-mini', input: 'Go on.', previous_response_id: first.body.id }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 429, code: 'budget_exceeded' });
    expect((refused as Error).message).toContain("this call's prompt alone costs at least");
    expect((await continuing.responses.create({ model: 'openai/gpt-4o-mini', input: 'Go on.' })).status).toBe('completed');
  });

  it('forgets a stored response once ai.responses.retention is over', async () => {
    const kept = await client.responses.create({ model: 'fast', input: 'Short-lived.' });
    clock.advance(HOUR - 1_000);
    expect((await client.responses.retrieve(kept.id)).id).toBe(kept.id);
    clock.advance(1_000);
    expect(await client.responses.retrieve(kept.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await client.responses.create({ model: 'fast', input: 'Still there?', previous_response_id: kept.id }).catch((e: unknown) => e)).toMatchObject({ status: 400, code: 'previous_response_not_found' });
  });

  it('deletes at the next sweep the stored responses older than a retention shortened since they were saved', async () => {
    const retain = (retention: string) =>
      gateway.configure({
        aliases: SMART_AND_FAST,
        responses: { retention },
        providers: [
          { name: 'openai', type: 'openai', baseUrl: emulators.openai.url },
          { name: 'anthropic', type: 'anthropic', baseUrl: emulators.anthropic.url },
          { name: 'gemini', type: 'gemini', baseUrl: emulators.gemini.url },
        ],
      });
    const old = await client.responses.create({ model: 'fast', input: 'Old.' });
    clock.advance(20 * 60_000);
    const recent = await client.responses.create({ model: 'fast', input: 'Recent.' });
    await retain('15m');
    try {
      clock.advance(60_000);
      await gateway.gateway.purgeExpired();
      expect(await gateway.gateway.store.db.selectFrom('ai_responses').select('id').where('id', '=', old.id).executeTakeFirst()).toBeUndefined();
      expect(await client.responses.retrieve(old.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
      // The recent one is kept 15 minutes from its saving, not an hour.
      clock.advance(14 * 60_000 - 1);
      expect((await client.responses.retrieve(recent.id)).id).toBe(recent.id);
      clock.advance(1);
      expect(await client.responses.retrieve(recent.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    } finally {
      // The rows of the tests after this one kept for an hour again, as they are saved.
      await retain('1h');
      await gateway.gateway.purgeExpired();
    }
  });

  it('answers still when the store fails, saying store: false, streamed or not', async () => {
    const { db } = gateway.gateway.store;
    await sql`alter table ai_responses rename to ai_responses_away`.execute(db);
    try {
      const answered = await client.responses.create({ model: 'fast', input: 'Keep this if you can.' });
      expect(answered).toMatchObject({ status: 'completed', store: false, output_text: 'Echo: Keep this if you can.' });
      const done = (await collect(await client.responses.create({ model: 'fast', stream: true, input: 'And this.' }))).at(-1)!;
      expect(done).toMatchObject({ type: 'response.completed', response: { status: 'completed', store: false } });
    } finally {
      await sql`alter table ai_responses_away rename to ai_responses`.execute(db);
    }
  });

  it('answers 503 store_unavailable with Retry-After when the store fails to read, list, continue or delete a stored response, calling no provider', async () => {
    const kept = await client.responses.create({ model: 'fast', input: 'Keep this.' });
    const { db } = gateway.gateway.store;
    const calls = emulators.gemini.requests().length;
    warnings.length = 0;
    await sql`alter table ai_responses rename to ai_responses_away`.execute(db);
    try {
      const answers = [
        await gateway.call<OpenAIErrorBody>('GET', `/v1/responses/${kept.id}`, client.apiKey!),
        await gateway.call<OpenAIErrorBody>('GET', `/v1/responses/${kept.id}/input_items`, client.apiKey!),
        await gateway.call<OpenAIErrorBody>('DELETE', `/v1/responses/${kept.id}`, client.apiKey!),
        await gateway.call<OpenAIErrorBody>('POST', '/v1/responses', client.apiKey!, { model: 'fast', input: 'Go on.', previous_response_id: kept.id }),
      ];
      for (const answer of answers) {
        expect([answer.status, answer.headers.get('retry-after')]).toEqual([503, '1']);
        expect(answer.body.error).toMatchObject({ type: 'api_error', code: 'store_unavailable', param: null, message: expect.stringContaining('the store did not answer; try again shortly') });
      }
    } finally {
      await sql`alter table ai_responses_away rename to ai_responses`.execute(db);
    }
    expect(emulators.gemini.requests().length).toBe(calls);
    expect(warnings.filter((line) => String(line.msg).includes('the store did not answer a read or delete of stored Responses'))).toHaveLength(4);
    expect(warnings.filter((line) => String(line.msg).includes('failed inside the gateway'))).toEqual([]);
    expect((await client.responses.retrieve(kept.id)).id).toBe(kept.id);
  });

  it('refuses a previous_response_id that is not an id with 400 invalid_value', async () => {
    const raw = await gateway.call<OpenAIErrorBody>('POST', '/v1/responses', client.apiKey!, { model: 'fast', input: 'Hi', previous_response_id: 42 });
    expect(raw.status).toBe(400);
    expect(raw.body.error).toMatchObject({ code: 'invalid_value', param: 'previous_response_id' });
  });
});

describe('a gateway that stores no responses (ai.responses.store: false)', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let client: OpenAI;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, { responses: { store: false } });
    client = gateway.openai(await gateway.createApp({ name: 'unstored-app', team: 'unstored-team' }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it('answers every Response with store: false, streamed or not, and keeps no row', async () => {
    const answered = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Remember nothing.' });
    expect(answered).toMatchObject({ status: 'completed', store: false, output_text: 'Echo: Remember nothing.' });
    const done = (await collect(await client.responses.create({ model: 'openai/gpt-4o-mini', stream: true, store: true, input: 'Nor this.' }))).at(-1)!;
    expect(done).toMatchObject({ type: 'response.completed', response: { store: false } });
    const rows = await gateway.gateway.store.db.selectFrom('ai_responses').select('id').execute();
    expect(rows).toEqual([]);
    expect(await client.responses.retrieve(answered.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('refuses previous_response_id with 400 previous_response_not_supported, calling no provider', async () => {
    const calls = emulators.openai.requests().length;
    const refused = await client.responses.create({ model: 'openai/gpt-4o-mini', input: 'Go on.', previous_response_id: 'resp_0123456789abcdef' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, code: 'previous_response_not_supported', param: 'previous_response_id' });
    expect((refused as Error).message).toContain('ai.responses.store is false');
    expect(emulators.openai.requests().length).toBe(calls);
  });
});

describe('stored responses on routes without authentication', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await gateway.admin(200, 'PUT', '/config', {
      version: 1,
      routes: [
        { name: 'open-a', paths: ['/a/v1/*'], ai: {} },
        { name: 'open-b', paths: ['/b/v1/*'], ai: {} },
      ],
      ai: { providers: [{ name: 'openai', type: 'openai', baseUrl: emulators.openai.url }] },
    });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it("keeps each open route's responses its own: another open route neither reads nor continues them", async () => {
    const a = new OpenAI({ baseURL: `${gateway.proxyUrl}/a/v1`, apiKey: 'unused', maxRetries: 0 });
    const b = new OpenAI({ baseURL: `${gateway.proxyUrl}/b/v1`, apiKey: 'unused', maxRetries: 0 });
    const kept = await a.responses.create({ model: 'openai/gpt-4o-mini', input: 'On route a.' });
    expect((await a.responses.retrieve(kept.id)).id).toBe(kept.id);
    expect(await b.responses.retrieve(kept.id).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await b.responses.create({ model: 'openai/gpt-4o-mini', input: 'Go on.', previous_response_id: kept.id }).catch((e: unknown) => e)).toMatchObject({ status: 400, code: 'previous_response_not_found' });
    expect((await a.responses.create({ model: 'openai/gpt-4o-mini', input: 'Go on.', previous_response_id: kept.id })).previous_response_id).toBe(kept.id);
  });
});
