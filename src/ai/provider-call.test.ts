import { once } from 'node:events';
import http, { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startOpenAIEmulator, type OpenAIEmulator } from '../../test/emulators/openai.js';
import type { ChatRequest } from './chat-types.js';
import { CallCancelled, Cancellation, ProviderCallError, callChat, callEmbeddings, chatAnswer, openChatStream, type ChatAnswer } from './provider-call.js';
import { OpenAIProvider } from './providers/openai/index.js';
import type { CallContext } from './providers/provider.js';

const request: ChatRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };

describe('a non-streamed chat call without a promise', () => {
  let emulator: OpenAIEmulator;
  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: 'sk-test' });
  });
  afterAll(() => emulator?.stop());
  const ctx = (baseUrl = emulator.url): CallContext => ({ provider: { name: 'up', type: 'openai', baseUrl }, credential: { id: 'k1', secret: 'sk-test' }, model: 'gpt-4o-mini', stream: false, now: 0 });
  /** Lets undici finish the exchange's bookkeeping, and whatever it would do with an exception, before the test looks. */
  const settled = () => new Promise((resolve) => setTimeout(resolve, 0)).then(() => new Promise((resolve) => setImmediate(resolve)));

  it('calls back once with the answer, even when the callback throws (undici would report it as a second, failed end)', async () => {
    const calls: Array<[Error | undefined, ChatAnswer | undefined]> = [];
    await new Promise<void>((resolve) => {
      chatAnswer(OpenAIProvider, request, ctx(), {}, (error, answer) => {
        calls.push([error, answer]);
        resolve();
        throw new Error('the caller failed while handling the answer');
      });
    });
    await settled();
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBeUndefined();
    expect(calls[0]![1]!.completion.object).toBe('chat.completion');
  });

  it('calls back with the failure when the call cannot be made at all, instead of throwing', async () => {
    const calls: Array<Error | undefined> = [];
    chatAnswer(OpenAIProvider, request, ctx('not a url'), {}, (error) => calls.push(error));
    await settled();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(Error);
  });
});

describe('embeddings past the most inputs a provider takes in one call', () => {
  let emulator: OpenAIEmulator;
  beforeAll(async () => {
    emulator = await startOpenAIEmulator({ apiKey: 'sk-test' });
  });
  afterAll(() => emulator?.stop());
  const ctx = (): CallContext => ({ provider: { name: 'up', type: 'openai', baseUrl: emulator.url }, credential: { id: 'k1', secret: 'sk-test' }, model: 'text-embedding-3-small', stream: false, now: 0 });
  /** OpenAI as if it took two inputs a call: its answers report usage, which the parts' answers add up to. */
  const twoAtATime = { ...OpenAIProvider, maxEmbeddingInputs: () => 2 };
  const inputsSent = (from: number) => emulator.requests().slice(from).map((r) => (r.body as { input: unknown }).input);

  it('add up the usage every part reported', async () => {
    const input = ['one', 'two two', 'three three three', 'four', 'five'];
    const whole = await callEmbeddings(OpenAIProvider, { model: 'text-embedding-3-small', input }, ctx());
    const before = emulator.requests().length;
    const parted = await callEmbeddings(twoAtATime, { model: 'text-embedding-3-small', input }, ctx());
    // The parts go at once, so they may arrive in any order.
    expect(inputsSent(before)).toHaveLength(3);
    expect(inputsSent(before)).toEqual(expect.arrayContaining([['one', 'two two'], ['three three three', 'four'], ['five']]));
    expect(parted.data).toEqual(whole.data);
    expect(parted.usage).toEqual(whole.usage);
  });

  it('send a single token array as one input, however many tokens it has', async () => {
    const before = emulator.requests().length;
    // The emulator embeds text only and refuses the call: what counts here is what was sent.
    await callEmbeddings(twoAtATime, { model: 'text-embedding-3-small', input: [1, 2, 3, 4, 5] }, ctx()).catch(() => undefined);
    expect(inputsSent(before)).toEqual([[1, 2, 3, 4, 5]]);
  });

  it("ask for as many inputs a call as the model takes", async () => {
    const byModel = { ...OpenAIProvider, maxEmbeddingInputs: (model: string) => (model === 'text-embedding-3-small' ? 3 : undefined) };
    const before = emulator.requests().length;
    await callEmbeddings(byModel, { model: 'text-embedding-3-small', input: ['a', 'b', 'c', 'd'] }, ctx());
    expect(inputsSent(before).map((input) => (input as string[]).length).sort()).toEqual([1, 3]);
  });
});

/**
 * A host that embeds one text a call and refuses the texts in `refuse`. It holds its first calls until `hold` of them
 * wait, then answers the refusals at once and the others 200 ms later (so that a refusal is read first), and the
 * calls after those at once: what it saw, and how many calls it had at once.
 */
async function heldHost(hold: number, refuse: readonly string[] = []) {
  const waiting: Array<{ res: ServerResponse; text: string }> = [];
  const seen: string[] = [];
  let atOnce = 0;
  let released = false;
  const answer = ({ res, text }: { res: ServerResponse; text: string }) => {
    const body = refuse.includes(text)
      ? { status: 400, json: { error: { message: `refused ${text}`, type: 'invalid_request_error', param: null, code: null } } }
      : { status: 200, json: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [text.length] }], model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } } };
    res.writeHead(body.status, { 'content-type': 'application/json' }).end(JSON.stringify(body.json));
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const text = (JSON.parse(raw) as { input: string[] }).input[0]!;
      seen.push(text);
      if (released) return answer({ res, text });
      waiting.push({ res, text });
      atOnce = Math.max(atOnce, waiting.length);
      if (waiting.length < hold) return;
      released = true;
      const held = waiting.splice(0);
      held.filter((call) => refuse.includes(call.text)).forEach(answer);
      setTimeout(() => held.filter((call) => !refuse.includes(call.text)).forEach(answer), 200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, atOnce: () => atOnce, stop: () => server.close() };
}

describe('embeddings sent in parts', () => {
  const oneAtATime = { ...OpenAIProvider, maxEmbeddingInputs: () => 1 };
  const ctx = (baseUrl: string): CallContext => ({ provider: { name: 'up', type: 'openai', baseUrl }, credential: { id: 'k1', secret: 'sk-test' }, model: 'm', stream: false, now: 0 });
  const texts = (n: number) => Array.from({ length: n }, (_, i) => 'x'.repeat(i + 1));

  it('go four at a time, and come back in the order of the inputs', async () => {
    // Answered only once four calls wait: one part after another would never be.
    const host = await heldHost(4);
    try {
      const answer = await callEmbeddings(oneAtATime, { model: 'm', input: texts(8) }, ctx(host.url));
      expect(host.atOnce()).toBe(4);
      expect(host.seen).toHaveLength(8);
      expect(answer.data.map((item) => [item.index, item.embedding])).toEqual(texts(8).map((text, i) => [i, [text.length]]));
      expect(answer.usage).toEqual({ prompt_tokens: 8, total_tokens: 8 });
    } finally {
      host.stop();
    }
  });

  it('start no part after one fails, and fail once those under way were answered and told', async () => {
    const host = await heldHost(4, ['xx']);
    try {
      const told: unknown[] = [];
      const failed = await callEmbeddings(oneAtATime, { model: 'm', input: texts(12) }, ctx(host.url), { onPart: (_at, input) => told.push(input) }).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(ProviderCallError);
      expect(host.seen.sort()).toEqual(texts(4).sort());
      expect(told.sort()).toEqual([['x'], ['xxx'], ['xxxx']]);
    } finally {
      host.stop();
    }
  });

  it('send again no part an earlier try answered, its answer kept in its place', async () => {
    const host = await heldHost(0);
    try {
      const earlier = { object: 'list' as const, data: [{ object: 'embedding' as const, index: 0, embedding: [-1] }], model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } };
      const answer = await callEmbeddings(oneAtATime, { model: 'm', input: texts(3) }, ctx(host.url), { answered: new Map([[1, earlier]]) });
      expect(host.seen.sort()).toEqual(['x', 'xxx']);
      expect(answer.data.map((item) => item.embedding)).toEqual([[1], [-1], [3]]);
    } finally {
      host.stop();
    }
  });

  it('send no part once beforePart throws, and fail with what it threw', async () => {
    const host = await heldHost(0);
    try {
      let allowed = 2;
      const stop = new Error('the key was deleted');
      const beforePart = () => {
        if (allowed-- <= 0) throw stop;
      };
      const failed = await callEmbeddings(oneAtATime, { model: 'm', input: texts(6) }, ctx(host.url), { beforePart }).catch((error: unknown) => error);
      expect(failed).toBe(stop);
      expect(host.seen).toHaveLength(2);
    } finally {
      host.stop();
    }
  });
});

describe('an embeddings answer that does not hold one vector an input', () => {
  const vector = (index: number) => ({ object: 'embedding', index, embedding: [0.5] });
  let data: unknown[] = [];
  let server: http.Server;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: 'm', usage: { prompt_tokens: 2, total_tokens: 2 } })));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => server?.close());
  const ctx = (): CallContext => ({ provider: { name: 'up', type: 'openai', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, credential: { id: 'k1', secret: 'sk-test' }, model: 'm', stream: false, now: 0 });

  it.each([
    ['none', [], ['a', 'b']],
    ['fewer vectors than inputs', [vector(0)], ['a', 'b']],
    ['more vectors than inputs', [vector(0), vector(1)], 'a'],
    ['one input twice and another not at all', [vector(0), vector(0)], ['a', 'b']],
  ])("is the provider's bad response when it holds %s, which another target may answer", async (_what, answered, input) => {
    data = answered;
    const failure = await callEmbeddings(OpenAIProvider, { model: 'm', input }, ctx()).then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(ProviderCallError);
    expect((failure as ProviderCallError).failure).toMatchObject({ status: 502, code: 'provider_bad_response', retryable: true });
  });

  it("puts each vector in its input's place when the host lists them in another order", async () => {
    data = [{ object: 'embedding', index: 2, embedding: [3] }, { object: 'embedding', index: 0, embedding: [1] }, { object: 'embedding', index: 1, embedding: [2] }];
    const answer = await callEmbeddings(OpenAIProvider, { model: 'm', input: ['a', 'b', 'c'] }, ctx());
    expect(answer.data.map((item) => [item.index, item.embedding])).toEqual([[0, [1]], [1, [2]], [2, [3]]]);
  });

  it('numbers the vectors of a host that numbers none in the order it gave them', async () => {
    data = [{ object: 'embedding', embedding: [1] }, { object: 'embedding', embedding: [2] }];
    const answer = await callEmbeddings(OpenAIProvider, { model: 'm', input: ['a', 'b'] }, ctx());
    expect(answer.data).toEqual([{ object: 'embedding', index: 0, embedding: [1] }, { object: 'embedding', index: 1, embedding: [2] }]);
  });

  it('counts a single array of token ids as one input', async () => {
    data = [vector(0)];
    const answer = await callEmbeddings(OpenAIProvider, { model: 'm', input: [15339, 1917] }, ctx());
    expect(answer.data).toHaveLength(1);
  });
});

describe('embeddings in parts, the caller gone', () => {
  it('stop every part under way at once, not only the last one started', async () => {
    const closed: string[] = [];
    let arrived = 0;
    // A host that takes each call and answers none.
    const server = createServer((req) => {
      arrived += 1;
      req.resume();
      req.on('close', () => closed.push(req.url ?? ''));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const cancel = new Cancellation();
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ctx: CallContext = { provider: { name: 'up', type: 'openai', baseUrl }, credential: { id: 'k1', secret: 'sk-test' }, model: 'm', stream: false, now: 0 };
      const parts = callEmbeddings({ ...OpenAIProvider, maxEmbeddingInputs: () => 1 }, { model: 'm', input: ['a', 'b', 'c', 'd', 'e', 'f'] }, ctx, { cancel });
      await vi.waitFor(() => expect(arrived).toBe(4));
      cancel.cancel(new CallCancelled('the client closed the connection before the answer'));
      await expect(parts).rejects.toBeInstanceOf(CallCancelled);
      await vi.waitFor(() => expect(closed).toHaveLength(4));
      expect(arrived).toBe(4);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('a provider base URL no parser takes', () => {
  const ctx = (): CallContext => ({ provider: { name: 'bad', type: 'openai', baseUrl: 'http://exa mple.com' }, credential: { id: 'k1', secret: 'sk-test' }, model: 'gpt-4o-mini', stream: false, now: 0 });

  it.each([
    ['a chat call', () => callChat(OpenAIProvider, request, ctx())],
    ['a stream', () => openChatStream(OpenAIProvider, { ...request, stream: true }, { ...ctx(), stream: true })],
    ['an embeddings call', () => callEmbeddings(OpenAIProvider, { model: 'm', input: 'a' }, ctx())],
  ])('fails %s as a misconfigured provider, not reached (502), which an alias moves on from', async (_what, call) => {
    const failure = await call().then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(ProviderCallError);
    expect((failure as ProviderCallError).local).toBe(true);
    expect((failure as ProviderCallError).failure).toMatchObject({ status: 502, code: 'provider_misconfigured', retryable: true });
  });
});

describe('a provider that answers a whole request with a redirect', () => {
  it('fails the call as a bad answer, which an alias moves on from, and goes nowhere else', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(302, { location: '/elsewhere', 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'moved' }, finish_reason: 'stop' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const failure = await callChat(OpenAIProvider, request, { provider: { name: 'moved', type: 'openai', baseUrl }, credential: { id: 'k1', secret: 'sk-test' }, model: 'gpt-4o-mini', stream: false, now: 0 }).then(() => undefined, (error: unknown) => error);
      expect((failure as ProviderCallError).failure).toMatchObject({ status: 502, code: 'provider_bad_response', retryable: true });
      expect(seen).toEqual(['/v1/chat/completions']);
    } finally {
      server.close();
    }
  });
});

describe('a streamed chat call', () => {
  let host: http.Server;
  beforeAll(async () => {
    // A host that sends its head and a first chunk, then nothing more.
    host = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"finish_reason":null}]}\n\n');
    });
    host.listen(0, '127.0.0.1');
    await once(host, 'listening');
  });
  afterAll(() => {
    host.closeAllConnections();
    host.close();
  });

  it('ends with a provider_timeout when the provider sends nothing for longer than the timeout after its words went out', async () => {
    const ctx: CallContext = { provider: { name: 'up', type: 'openai', baseUrl: `http://127.0.0.1:${(host.address() as AddressInfo).port}` }, credential: { id: 'k1', secret: 'sk-test' }, model: 'm', stream: true, now: 0 };
    const stream = await openChatStream(OpenAIProvider, request, ctx, { timeoutMs: 200 });
    const ended = await new Promise<Error | undefined>((resolve) => stream.pipe({ chunk: () => true, end: resolve }));
    expect(ended).toBeInstanceOf(ProviderCallError);
    expect((ended as ProviderCallError).failure).toMatchObject({ status: 504, code: 'provider_timeout', retryable: true });
  });
});

describe('ProviderCallError', () => {
  it.each([[Object], [200], [Number.NaN], [600]])('makes a failure whose status is no HTTP error status (%s) a retryable 502', (status) => {
    const error = new ProviderCallError({ status: status as unknown as number, type: 'invalid_request_error', code: null, message: 'odd', retryable: false });
    expect(error.failure).toMatchObject({ status: 502, retryable: true, message: 'odd' });
  });
});
