import OpenAI from 'openai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { estimatePromptTokens } from '../src/ai/token-estimate.js';
import { AiGateway, PROVIDER_SECRETS, type OpenAIErrorBody } from './ai-fixtures.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const MODEL = 'openai/gpt-4o-mini';
const HELLO = [{ role: 'user', content: 'Hello there' }];
/** More than the prompt of HELLO costs (9 tokens at gpt-4o-mini's $0.15 a million), less than the whole call: spent after the first. */
const TINY_USD = 0.000002;

describe('budgets and token limits of apps and teams', () => {
  let gateway: AiGateway;
  let openai: OpenAIEmulator;

  beforeAll(async () => {
    openai = await startOpenAIEmulator();
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }] });
    await gateway.addProviderKey('openai', PROVIDER_SECRETS.openai);
  });
  afterAll(async () => {
    await gateway?.stop();
    await openai?.stop();
  });

  it('says a tiny budget and what is left of it in plain decimals, to three significant digits', async () => {
    const key = await gateway.createApp({ name: 'tiny-budget-app', team: 'tiny-budget-team', budget: { dailyUsd: 0.0000001 } });
    const refused = await gateway.chat<OpenAIErrorBody>(key, { model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(200) }] });
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain('daily budget of $0.0000001');
    expect(refused.body.error.message).not.toMatch(/e-\d/);
  });

  it("does not refuse for good a prompt whose images could cost less than its budget: they count at their least, nothing, for that", async () => {
    const key = await gateway.createApp({ name: 'image-budget-app', team: 'image-budget-team', budget: { dailyUsd: 0.001 } });
    // An image by URL is estimated at 1,600 tokens ($0.004 at gpt-4o's input price), which OpenAI counts at 85 in low detail.
    const picture = { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } }] };
    const answer = await gateway.chat(key, { model: 'openai/gpt-4o', max_tokens: 16, messages: [picture] });
    expect(answer.status).toBe(200);
  });

  it('refuses a budgeted app a model the catalog has no price for (400 model_not_priced), which would pass its budget unseen, and goes to a priced target instead', async () => {
    const unlisted = 'openai/unlisted-model-2099';
    await gateway.configure({
      providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }],
      aliases: [{ name: 'mixed', targets: [{ provider: 'openai', model: 'unlisted-model-2099' }], fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    const budgeted = await gateway.createApp({ name: 'priced-app', team: 'priced-team', budget: { dailyUsd: 0.01 } });
    const calls = openai.requests().length;
    const refused = await gateway.chat<OpenAIErrorBody>(budgeted, { model: unlisted, messages: HELLO });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_priced', param: 'model' });
    expect(refused.body.error.message).toContain('`openai/unlisted-model-2099` has no price in the model catalog');
    expect(openai.requests().length).toBe(calls);
    // An alias whose first target has no price goes to the one that has.
    const mixed = await gateway.chat(budgeted, { model: 'mixed', messages: HELLO });
    expect(mixed.status).toBe(200);
    expect(openai.lastRequest()!.body.model).toBe('gpt-4o-mini');
    expect(Number(mixed.headers.get('x-keygate-cost-usd'))).toBeGreaterThan(0);
    // A team's budget counts the same; an app with no budget in money calls the model, at no cost.
    const teamBudgeted = await gateway.createApp({ name: 'team-priced-app', team: 'priced-team-2', teamBudget: { monthlyUsd: 5 } });
    expect((await gateway.chat<OpenAIErrorBody>(teamBudgeted, { model: unlisted, messages: HELLO })).body.error).toMatchObject({ code: 'model_not_priced' });
    const free = await gateway.createApp({ name: 'unbudgeted-app', team: 'priced-team', budget: { tokensPerMinute: 100_000 } });
    const served = await gateway.chat(free, { model: unlisted, messages: HELLO });
    expect(served.status).toBe(200);
    expect(Number(served.headers.get('x-keygate-cost-usd'))).toBe(0);
    // GET /v1/models lists only what each may call.
    const listed = async (key: string) => ((await gateway.call<{ data: Array<{ id: string }> }>('GET', '/v1/models', key)).body.data ?? []).map((model) => model.id);
    await gateway.configure({
      providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }],
      aliases: [
        { name: 'mixed', targets: [{ provider: 'openai', model: 'unlisted-model-2099' }], fallbacks: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'unpriced', targets: [{ provider: 'openai', model: 'unlisted-model-2099' }] },
      ],
    });
    expect(await listed(budgeted)).toEqual(expect.arrayContaining(['mixed', 'openai/gpt-4o-mini']));
    expect(await listed(budgeted)).not.toContain('unpriced');
    expect(await listed(free)).toEqual(expect.arrayContaining(['mixed', 'unpriced']));
    expect((await gateway.call('GET', '/v1/models/unpriced', budgeted)).status).toBe(404);
  });

  it('answers 503 budget_unavailable, calling no provider, when the store cannot give a budget its first figure', async () => {
    const apiKey = await gateway.createApp({ name: 'unread-app', team: 'unread-team', budget: { dailyUsd: 1 } });
    const calls = openai.requests().length;
    const { db } = gateway.gateway.store;
    // The daily sums' table away: the store's reads of them fail, as when it does not answer.
    await sql`ALTER TABLE ai_spend_daily RENAME TO ai_spend_daily_away`.execute(db);
    let refused: Awaited<ReturnType<typeof gateway.chat<OpenAIErrorBody>>>;
    try {
      refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: HELLO });
    } finally {
      await sql`ALTER TABLE ai_spend_daily_away RENAME TO ai_spend_daily`.execute(db);
    }
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ type: 'api_error', code: 'budget_unavailable' });
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(openai.requests().length).toBe(calls);
    expect((await gateway.chat(apiKey, { model: MODEL, messages: HELLO })).status).toBe(200);
  });

  it.each([
    ['daily', { dailyUsd: TINY_USD }],
    ['monthly', { monthlyUsd: TINY_USD }],
  ])('refuses an app whose %s budget is spent with 429 budget_exceeded, before calling the provider', async (period, budget) => {
    const apiKey = await gateway.createApp({ name: `${period}-app`, team: `${period}-team`, budget });
    expect((await gateway.chat(apiKey, { model: MODEL, messages: HELLO })).status).toBe(200);
    const calls = openai.requests().length;

    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: HELLO });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(refused.body.error.message).toContain(`${period}-app`);
    // Spent until the period turns: the official clients must not retry it (they do retry other 429s).
    expect(refused.headers.get('x-should-retry')).toBe('false');
    const streamed = await gateway.chat(apiKey, { model: MODEL, stream: true, messages: HELLO });
    expect(streamed.status).toBe(429);
    const embedded = await gateway.call('POST', '/v1/embeddings', apiKey, { model: 'openai/text-embedding-3-small', input: 'text' });
    expect(embedded.status).toBe(429);
    expect(openai.requests().length).toBe(calls);
  });

  it.each([
    ['daily', { dailyUsd: TINY_USD }],
    ['monthly', { monthlyUsd: TINY_USD }],
  ])('refuses every app of a team whose %s budget one of them spent', async (period, teamBudget) => {
    const spender = await gateway.createApp({ name: `${period}-spender`, team: `${period}-frugal-team`, teamBudget });
    const sibling = await gateway.createApp({ name: `${period}-sibling`, team: `${period}-frugal-team`, teamBudget });
    expect((await gateway.chat(spender, { model: MODEL, messages: HELLO })).status).toBe(200);
    const calls = openai.requests().length;

    const refused = await gateway.chat<OpenAIErrorBody>(sibling, { model: MODEL, messages: HELLO });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(refused.body.error.message).toContain(`team "${period}-frugal-team" has spent its ${period} budget`);
    expect(openai.requests().length).toBe(calls);
  });

  it('names a budget in its refusal as it was set, to the billionth, and the amounts to the millionth', async () => {
    const apiKey = await gateway.createApp({ name: 'precise', team: 'wordy-team', budget: { dailyUsd: 0.000123456 } });
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(2_000) }] });
    expect(refused.body.error.message).toBe('app "precise" has $0.000123 left of its daily budget of $0.000123456, and this call\'s prompt alone costs at least $0.000188');
  });

  it('refuses a call whose prompt alone costs more than the budget has left, before calling the provider', async () => {
    const apiKey = await gateway.createApp({ name: 'wordy', team: 'wordy-team', budget: { dailyUsd: 0.0001 } });
    const calls = openai.requests().length;
    // 2,506 tokens of prompt (four characters a token, 3 a message, 3 a call): at least $0.000188 at gpt-4o-mini's
    // lowest rate ($0.075 a million, cached input), over the $0.0001 budget before any answer.
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(2_000) }] });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
    expect(refused.body.error.message).toMatch(/app "wordy" has \$0\.0001 left of its daily budget of \$0\.0001, and this call's prompt alone costs at least \$0\.000188/);
    expect(openai.requests().length).toBe(calls);
    // Nothing was spent: a call the budget covers still goes through.
    expect((await gateway.chat(apiKey, { model: MODEL, messages: HELLO })).status).toBe(200);
  });

  it("counts what calls under way may cost against the budget: a call the others' longest answers leave no room for gets 429 with Retry-After, and passes once they end", async () => {
    const held = await startOpenAIEmulator({ holdStreams: true });
    try {
      await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }, { name: 'held', type: 'openai', baseUrl: held.url }], cache: { ttl: '1m' } });
      await gateway.addProviderKey('held', PROVIDER_SECRETS.openai);
      // gpt-4o-mini at $0.15 and $0.60 a million: a call of 1,000 answer tokens at most may cost $0.0006, one of 2,000 $0.0012.
      const apiKey = await gateway.createApp({ name: 'concurrent', team: 'concurrent-team', budget: { dailyUsd: 0.001 } });
      const streamOf = (maxTokens: number) => gateway.chat(apiKey, { model: 'held/gpt-4o-mini', stream: true, max_tokens: maxTokens, messages: HELLO });

      // Under way, a call that may cost $0.0006 leaves room: another is answered.
      const first = streamOf(1_000);
      await vi.waitFor(() => expect(held.heldStreams()).toBe(1));
      expect((await gateway.chat(apiKey, { model: MODEL, messages: HELLO })).status).toBe(200);
      // A prompt that fits once the call under way has ended is worth a retry; one that never fits is not.
      // (At least $0.075 a million, cached input: 7,500 tokens cost $0.00056, 18,750 tokens $0.0014.)
      const fitsLater = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(6_000) }] });
      expect(fitsLater.status).toBe(429);
      expect(fitsLater.body.error.message).toMatch(/besides what calls under way hold \(\$0\.0006\d+\), and this call's prompt alone costs at least/);
      expect(fitsLater.headers.get('retry-after')).toBe('1');
      const neverFits = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(15_000) }] });
      expect(neverFits.status).toBe(429);
      expect(neverFits.headers.get('retry-after')).toBeNull();
      expect(neverFits.headers.get('x-should-retry')).toBe('false');
      held.releaseStreams();
      expect((await first).status).toBe(200);

      // One that may cost $0.0012 holds all of it: the next is refused before any provider is called.
      const second = streamOf(2_000);
      await vi.waitFor(() => expect(held.heldStreams()).toBe(1));
      const calls = openai.requests().length;
      // An answer from the cache costs nothing: the holds do not refuse it.
      const cached = await gateway.chat(apiKey, { model: MODEL, messages: HELLO });
      expect(cached.status).toBe(200);
      expect(cached.headers.get('x-keygate-cache')).toBe('hit');
      const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: [{ role: 'user', content: 'Hello again' }] });
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded' });
      expect(refused.body.error.message).toMatch(/^app "concurrent" has \$0\.000\d+ left of its daily budget of \$0\.001, held by calls under way that may cost up to \$0\.0012\d*; try again when they end$/);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('x-should-retry')).toBeNull();
      // A prompt that cannot fit even once the holds are gone is refused for good, holds or not.
      const never = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: [{ role: 'user', content: 'word '.repeat(15_000) }] });
      expect(never.status).toBe(429);
      expect(never.body.error.message).toMatch(/and this call's prompt alone costs at least \$0\.0014\d+$/);
      expect(never.headers.get('retry-after')).toBeNull();
      expect(never.headers.get('x-should-retry')).toBe('false');
      expect(openai.requests().length).toBe(calls);

      // Once it ends, only what it cost counts.
      held.releaseStreams();
      expect((await second).status).toBe(200);
      expect((await gateway.chat(apiKey, { model: MODEL, messages: [{ role: 'user', content: 'Hello again' }] })).status).toBe(200);
    } finally {
      await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }] });
      await held.stop();
    }
  });

  it('holds every answer a call asks for (n), each billed, against the budget while it runs', async () => {
    const held = await startOpenAIEmulator({ holdStreams: true });
    try {
      await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }, { name: 'held', type: 'openai', baseUrl: held.url }] });
      await gateway.addProviderKey('held', PROVIDER_SECRETS.openai);
      const apiKey = await gateway.createApp({ name: 'several-answers', team: 'several-team', budget: { dailyUsd: 0.001 } });
      // Two answers of at most 1,000 tokens at $0.60 a million: $0.0012, all of the budget (one alone would be $0.0006).
      const two = gateway.chat(apiKey, { model: 'held/gpt-4o-mini', stream: true, n: 2, max_tokens: 1_000, messages: HELLO });
      await vi.waitFor(() => expect(held.heldStreams()).toBe(1));
      const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: HELLO });
      expect(refused.status).toBe(429);
      expect(refused.body.error.message).toMatch(/held by calls under way that may cost up to \$0\.0012\d*;/);
      held.releaseStreams();
      expect((await two).status).toBe(200);
    } finally {
      await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }] });
      await held.stop();
    }
  });

  it('refuses a call whose tool definitions alone cost more than the budget has left, before calling the provider', async () => {
    const apiKey = await gateway.createApp({ name: 'tool-heavy', team: 'tool-heavy-team', budget: { dailyUsd: 0.0001 } });
    const calls = openai.requests().length;
    // About 10,000 tokens of definitions: at least $0.00075 at gpt-4o-mini's lowest rate, over the budget.
    const tools = [{ type: 'function', function: { name: 'lookup', description: 'word '.repeat(8_000), parameters: { type: 'object', properties: {} } } }];
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: HELLO, tools, tool_choice: 'none' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'budget_exceeded' });
    expect(refused.body.error.message).toMatch(/this call's prompt alone costs at least/);
    expect(openai.requests().length).toBe(calls);
  });

  it('counts the prompt tokens a provider reports beyond the estimate against the tokens per minute', async () => {
    // A host whose tokenizer counts 5,000 prompt tokens where the gateway estimates a handful.
    const host = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5_000, completion_tokens: 1, total_tokens: 5_001 } }));
      });
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    try {
      await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }, { name: 'counting', type: 'openai', baseUrl: `http://127.0.0.1:${(host.address() as AddressInfo).port}` }] });
      await gateway.addProviderKey('counting', PROVIDER_SECRETS.openai);
      const apiKey = await gateway.createApp({ name: 'undercounted', team: 'undercounted-team', budget: { tokensPerMinute: 1_000 } });
      expect((await gateway.chat(apiKey, { model: 'counting/gpt-4o-mini', messages: HELLO })).status).toBe(200);
      await new Promise((resolve) => setImmediate(resolve));
      const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'counting/gpt-4o-mini', messages: HELLO });
      expect(refused.status).toBe(429);
      expect(refused.body.error).toMatchObject({ code: 'rate_limit_exceeded' });
    } finally {
      await gateway.configure({ providers: [{ name: 'openai', type: 'openai', baseUrl: openai.url }] });
      host.close();
    }
  });

  it('lets an app with budget left keep calling', async () => {
    const apiKey = await gateway.createApp({ name: 'comfortable', team: 'comfortable-team', budget: { dailyUsd: 10 }, teamBudget: { dailyUsd: 10 } });
    for (let i = 0; i < 3; i++) expect((await gateway.chat(apiKey, { model: MODEL, messages: HELLO })).status).toBe(200);
  });

  it('refuses an app beyond its tokens per minute with 429 rate_limit_exceeded and Retry-After, before calling the provider', async () => {
    const messages = [{ role: 'user' as const, content: 'Please summarise the weather in Paris in spring, when the chestnut trees blossom along the boulevards.' }];
    // The limit counts the prompt tokens the gateway estimates before the call: one call fits, two do not.
    const perCall = estimatePromptTokens(messages);
    const apiKey = await gateway.createApp({ name: 'hasty', team: 'hasty-team', budget: { tokensPerMinute: Math.floor(perCall * 1.5) } });
    expect((await gateway.chat(apiKey, { model: MODEL, messages })).status).toBe(200);
    const calls = openai.requests().length;

    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // A sliding window counter can ask for up to two windows.
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(120);
    expect(openai.requests().length).toBe(calls);
  });

  it("counts an answer's tokens against the tokens per minute even past the limit, so that short prompts with long answers are refused", async () => {
    const messages = [{ role: 'user' as const, content: `Say this back: ${'lorem ipsum dolor sit amet '.repeat(20)}` }];
    const prompt = estimatePromptTokens(messages);
    // Room for two prompts, not for a prompt and its answer: three choices, each echoing the prompt (n: 3).
    const apiKey = await gateway.createApp({ name: 'talkative', team: 'talkative-team', budget: { tokensPerMinute: Math.floor(prompt * 2.5) } });
    const first = await gateway.chat<{ usage: { completion_tokens: number } }>(apiKey, { model: MODEL, n: 3, messages });
    expect(first.status).toBe(200);
    expect(first.body.usage.completion_tokens).toBeGreaterThan(prompt * 1.5);
    await new Promise((resolve) => setImmediate(resolve));
    const calls = openai.requests().length;
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(openai.requests().length).toBe(calls);
  });

  it('gives back to the tokens per minute the prompt of a call its budget then refuses, which was never made', async () => {
    const long = [{ role: 'user' as const, content: 'lorem ipsum '.repeat(3_000) }];
    const prompt = estimatePromptTokens(long);
    // The long prompt fills the whole minute, and costs more than the day's budget: refused by the budget.
    const apiKey = await gateway.createApp({ name: 'refunded', team: 'refunded-team', budget: { dailyUsd: 0.0001, tokensPerMinute: prompt } });
    const calls = openai.requests().length;
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages: long });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'budget_exceeded' });
    // Its prompt was given back: a short call fits in the minute.
    expect((await gateway.chat(apiKey, { model: MODEL, messages: HELLO })).status).toBe(200);
    expect(openai.requests().length).toBe(calls + 1);
  });

  it('counts a Chinese prompt at about its real size against the tokens per minute, not at a third of it', async () => {
    const messages = [{ role: 'user' as const, content: '请用三句话总结巴黎春天的天气，那时林荫大道两旁的栗子树正在开花。'.repeat(6) }];
    // A limit of one and a half prompts, as the tokenizer counts them: a second call must not fit.
    const apiKey = await gateway.createApp({ name: 'hasty-zh', team: 'hasty-zh-team', budget: { tokensPerMinute: Math.floor(countTokens(messages[0]!.content) * 1.5) } });
    expect((await gateway.chat(apiKey, { model: MODEL, messages })).status).toBe(200);
    const calls = openai.requests().length;

    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: MODEL, messages });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(openai.requests().length).toBe(calls);
  });

  /**
   * Budgets reached to the cent by costs whose floating-point sum falls short of it: the emulator answers "Hello
   * there" with 5 tokens, and the catalog entries below price input at nothing and output so that 5 tokens cost
   * $0.01 or $0.06.
   */
  describe('a budget reached to the cent', () => {
    const entry = (id: string, outputPerMillion: number) => ({ id, provider: 'openai', kind: 'chat', contextWindow: 128_000, maxOutputTokens: 1_000, inputPerMillion: 0, outputPerMillion, cachedInputPerMillion: null, capabilities: ['chat', 'streaming'] });

    beforeAll(async () => {
      await gateway.admin(200, 'PUT', '/ai/catalog/openai/cent', entry('cent', 2_000));
      await gateway.admin(200, 'PUT', '/ai/catalog/openai/six-cents', entry('six-cents', 12_000));
    });

    it('refuses the next call once $0.01 and $0.06 have spent $0.07 of $0.07, though 0.01 + 0.06 is 0.06999999999999999 in floating point', async () => {
      const apiKey = await gateway.createApp({ name: 'to-the-cent', team: 'to-the-cent-team', budget: { dailyUsd: 0.07 } });
      expect((await gateway.chat(apiKey, { model: 'openai/cent', messages: HELLO })).headers.get('x-keygate-cost-usd')).toBe('0.010000000');
      expect((await gateway.chat(apiKey, { model: 'openai/six-cents', messages: HELLO })).headers.get('x-keygate-cost-usd')).toBe('0.060000000');
      const after = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'openai/cent', messages: HELLO });
      expect(after.status).toBe(429);
      expect(after.body.error.code).toBe('budget_exceeded');
    });

    it('lets through only the calls whose holds fill the budget exactly, of twenty at once: five of $0.01 for $0.05', async () => {
      const apiKey = await gateway.createApp({ name: 'at-once', team: 'at-once-team', budget: { dailyUsd: 0.05 } });
      const sdk = new OpenAI({ baseURL: `${gateway.proxyUrl}/v1`, apiKey, maxRetries: 0 });
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () =>
          sdk.chat.completions
            .create({ model: 'openai/cent', max_tokens: 5, messages: [{ role: 'user', content: 'Hello there' }] })
            .then(() => 200)
            .catch((error: unknown) => (error as InstanceType<typeof OpenAI.APIError>).status ?? 0),
        ),
      );
      expect(statuses.filter((status) => status === 200)).toHaveLength(5);
      expect(statuses.filter((status) => status !== 200).every((status) => status === 429)).toBe(true);
    });
  });
});
