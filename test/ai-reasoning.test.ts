import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, AiGateway, CLAUDE_THINKING, CLAUDE_TOOL, configureThreeProviders, lostThinkingAnswer, startProviderEmulators, WEATHER_TOOL, type ProviderEmulators } from './ai-fixtures.js';
import { countTokens, REDACTED_DATA, REDACTED_THINKING_TRIGGER, signatureFor, thinkingFor } from './emulators/anthropic.js';
import { THOUGHT_SUMMARY } from './emulators/gemini.js';
import { REASONING_TOKENS } from './emulators/openai.js';

/** Extended thinking and reasoning through the gateway, with the official clients: Anthropic's and OpenAI's. */
const THINKING = CLAUDE_THINKING;

const reasoningOf = (chunks: ChatCompletionChunk[]) => chunks.map((c) => (c.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '').join('');

describe('reasoning through the gateway', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let claude: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      aliases: [
        { name: 'smart', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'fast', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'any-host', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }], fallbacks: [{ provider: 'openai', model: 'gpt-5-mini' }] },
      ],
    });
    const key = await gateway.createApp({ name: 'reasoning-app', team: 'reasoning-team' });
    claude = new Anthropic({ baseURL: gateway.proxyUrl, apiKey: key, maxRetries: 0 });
    openai = gateway.openai(key);
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  describe('Anthropic’s Messages API with extended thinking', () => {
    it('sends thinking to Anthropic as the client wrote it, and answers its thinking block with its signature', async () => {
      const message = await claude.messages.create({ model: 'smart', max_tokens: 2000, thinking: THINKING, messages: [{ role: 'user', content: 'Hello there' }] });
      const sent = emulators.anthropic.lastRequest()!.body;
      expect(sent.thinking).toEqual(THINKING);
      expect(sent.max_tokens).toBe(2000);
      const thinking = thinkingFor('Hello there');
      expect(message.content).toEqual([
        { type: 'thinking', thinking, signature: signatureFor(thinking) },
        { type: 'text', text: 'Echo: Hello there' },
      ]);
      // Anthropic bills thinking as output, and reports it within output_tokens.
      expect(message.usage.output_tokens).toBe(countTokens(thinking + 'Echo: Hello there'));
    });

    it('sends adaptive thinking on as it came', async () => {
      await claude.messages.create({ model: 'smart', max_tokens: 2000, thinking: { type: 'adaptive' }, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(emulators.anthropic.lastRequest()!.body.thinking).toEqual({ type: 'adaptive' });
    });

    it('sends output_config as it came: Claude Code’s effort beside adaptive thinking, and a structured output format', async () => {
      await claude.messages.create({ model: 'smart', max_tokens: 2000, thinking: { type: 'adaptive' }, output_config: { effort: 'medium' }, messages: [{ role: 'user', content: 'Hello there' }] } as never);
      expect(emulators.anthropic.lastRequest()!.body).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } });
      const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
      const message = (await claude.messages.create({ model: 'smart', max_tokens: 2000, output_config: { format: { type: 'json_schema', schema } }, messages: [{ role: 'user', content: 'Where?' }] } as never)) as unknown as Anthropic.Message;
      const sent = emulators.anthropic.lastRequest()!.body;
      expect(sent.output_config).toEqual({ format: { type: 'json_schema', schema } });
      expect(sent).not.toHaveProperty('tools');
      expect(message.content).toEqual([{ type: 'text', text: '{"city":"Paris"}' }]);
      // Another provider gets the format as OpenAI's response_format, and never the effort.
      await claude.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 200, output_config: { effort: 'low', format: { type: 'json_schema', schema } }, messages: [{ role: 'user', content: 'Where?' }] } as never);
      const openaiBody = emulators.openai.lastRequest()!.body;
      expect(openaiBody.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema } });
      expect(JSON.stringify(openaiBody)).not.toContain('effort');
    });

    it('streams thinking as Anthropic does: a thinking block with its deltas and signature, then the text block', async () => {
      const stream = await claude.messages.create({ model: 'smart', max_tokens: 2000, thinking: THINKING, stream: true, messages: [{ role: 'user', content: 'Hello there' }] });
      const events: string[] = [];
      for await (const event of stream) {
        if (event.type === 'content_block_start') events.push(`start:${event.index}:${event.content_block.type}`);
        else if (event.type === 'content_block_delta') events.push(`${event.index}:${event.delta.type}`);
        else if (event.type === 'content_block_stop') events.push(`stop:${event.index}`);
      }
      const distinct = events.filter((event, i) => event !== events[i - 1]);
      expect(distinct).toEqual(['start:0:thinking', '0:thinking_delta', '0:signature_delta', 'stop:0', 'start:1:text', '1:text_delta', 'stop:1']);
    });

    it('accumulates a streamed answer into the same Message as a non-streamed one', async () => {
      const stream = claude.messages.stream({ model: 'smart', max_tokens: 2000, thinking: THINKING, messages: [{ role: 'user', content: 'Hello there' }] });
      const thoughts: string[] = [];
      stream.on('thinking', (delta) => thoughts.push(delta));
      const final = await stream.finalMessage();
      const thinking = thinkingFor('Hello there');
      expect(thoughts.join('')).toBe(thinking);
      expect(final.content).toEqual([
        { type: 'thinking', thinking, signature: signatureFor(thinking) },
        { type: 'text', text: 'Echo: Hello there' },
      ]);
    });

    it.each([false, true])('uses a tool with thinking, the thinking block coming back to Anthropic unchanged (first turn streamed: %s)', async (streamed) => {
      const ask = { model: 'smart', max_tokens: 2000, thinking: THINKING, tools: [CLAUDE_TOOL] };
      const question = { role: 'user' as const, content: 'Use get_weather for Paris.' };
      const first = streamed ? await claude.messages.stream({ ...ask, messages: [question] }).finalMessage() : await claude.messages.create({ ...ask, messages: [question] });
      expect(first.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use']);
      const use = first.content.find((block) => block.type === 'tool_use')!;

      const second = await claude.messages.create({
        ...ask,
        messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"celsius":21}' }] }],
      });
      expect(second.content.at(-1)).toMatchObject({ type: 'text', text: 'The tool answered: {"celsius":21}' });
      // Anthropic got the assistant turn exactly as it had answered it: thinking, signature and order.
      expect(emulators.anthropic.lastRequest()!.body.messages[1]).toEqual({ role: 'assistant', content: first.content });
    });

    it('passes on Anthropic’s refusal of a tool result whose assistant turn lost its thinking block', async () => {
      const failure = await lostThinkingAnswer(claude, 'smart');
      expect(failure).toBeInstanceOf(Anthropic.BadRequestError);
      expect(String((failure as Error).message)).toContain('must start with a thinking block');
    });

    it('answers a redacted_thinking block, and takes it back in the next turn', async () => {
      const first = await claude.messages.create({ model: 'smart', max_tokens: 2000, thinking: THINKING, messages: [{ role: 'user', content: REDACTED_THINKING_TRIGGER }] });
      expect(first.content.map((block) => block.type)).toEqual(['thinking', 'redacted_thinking', 'text']);
      expect(first.content[1]).toEqual({ type: 'redacted_thinking', data: REDACTED_DATA });
      await claude.messages.create({
        model: 'smart',
        max_tokens: 2000,
        thinking: THINKING,
        messages: [{ role: 'user', content: REDACTED_THINKING_TRIGGER }, { role: 'assistant', content: first.content }, { role: 'user', content: 'And then?' }],
      });
      expect(emulators.anthropic.lastRequest()!.body.messages[1].content).toEqual(first.content);
    });

    it('does not send thinking to a provider other than Anthropic, nor its thinking blocks', async () => {
      const thinking = thinkingFor('Hi');
      const message = await claude.messages.create({
        model: 'openai/gpt-4o-mini',
        max_tokens: 2000,
        thinking: THINKING,
        messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [{ type: 'thinking', thinking, signature: signatureFor(thinking) }, { type: 'text', text: 'Hello!' }] }, { role: 'user', content: 'Hello there' }],
      });
      // OpenAI's body is the unified request as JSON: nothing under a symbol reaches it.
      const sent = JSON.stringify(emulators.openai.lastRequest()!.body);
      expect(sent).not.toContain('thinking');
      expect(sent).not.toContain(signatureFor(thinking));
      expect(message.content).toEqual([{ type: 'text', text: 'Echo: Hello there' }]);
    });
  });

  describe('OpenAI’s reasoning_effort', () => {
    it('gets an Anthropic-backed model to think, its thinking as message.reasoning_content', async () => {
      // max_completion_tokens bounds the reasoning and the answer together, as OpenAI defines it: Claude's max_tokens.
      const { data, response } = await openai.chat.completions.create({ model: 'smart', reasoning_effort: 'medium', max_completion_tokens: 5000, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
      expect(response.headers.get('x-keygate-provider')).toBe('anthropic');
      expect(emulators.anthropic.lastRequest()!.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 2048 }, max_tokens: 5000 });
      const message = data.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
      expect(message.content).toBe('Echo: Hello there');
      expect(message.reasoning_content).toBe(thinkingFor('Hello there'));
      expect(data.usage?.completion_tokens).toBe(countTokens(thinkingFor('Hello there') + 'Echo: Hello there'));
    });

    it('streams an Anthropic-backed model’s thinking as delta.reasoning_content before the answer', async () => {
      const chunks = await collect(await openai.chat.completions.create({ model: 'smart', reasoning_effort: 'low', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello there' }] }));
      expect(reasoningOf(chunks)).toBe(thinkingFor('Hello there'));
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Echo: Hello there');
      expect(chunks.at(-1)?.usage?.completion_tokens).toBe(countTokens(thinkingFor('Hello there') + 'Echo: Hello there'));
      // No signature nor block marks leak into OpenAI's chunks, nor chunks that say nothing where they were.
      expect(JSON.stringify(chunks)).not.toContain(signatureFor(thinkingFor('Hello there')));
      expect(chunks.filter((c) => c.choices.length > 0 && c.choices.every((choice) => choice.finish_reason === null && Object.keys(choice.delta).length === 0))).toEqual([]);
    });

    it('asks a model the catalog says does not reason for no thinking, and keeps a reasoning model within its output limit', async () => {
      await openai.chat.completions.create({ model: 'anthropic/claude-3-5-haiku-20241022', reasoning_effort: 'high', max_completion_tokens: 500, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(emulators.anthropic.lastRequest()!.body).not.toHaveProperty('thinking');
      // Claude Sonnet 4.5 answers at most 64,000 tokens (the catalog): 64,000 + 8,192 would be refused.
      await openai.chat.completions.create({ model: 'anthropic/claude-sonnet-4-5-20250929', reasoning_effort: 'xhigh', max_completion_tokens: 64_000, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(emulators.anthropic.lastRequest()!.body).toMatchObject({ max_tokens: 64_000, thinking: { type: 'enabled', budget_tokens: 8192 } });
    });

    it('gets a Claude model the catalog does not list, named as one that thinks only adaptively, to think adaptively rather than on a budget it refuses', async () => {
      const { data } = await openai.chat.completions.create({ model: 'anthropic/claude-mythos-5', reasoning_effort: 'high', max_completion_tokens: 500, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
      expect(emulators.anthropic.lastRequest()!.body).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' }, max_tokens: 500 });
      expect((data.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string }).reasoning_content).toBe(thinkingFor('Hello there'));
    });

    it('gets no reasoning_content from a call that did not ask for reasoning', async () => {
      const completion = await openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'Hello there' }] });
      expect(completion.choices[0]!.message).not.toHaveProperty('reasoning_content');
      expect(emulators.anthropic.lastRequest()!.body).not.toHaveProperty('thinking');
    });

    it('gets a Gemini-backed model’s thoughts as reasoning_content', async () => {
      const completion = await openai.chat.completions.create({ model: 'fast', reasoning_effort: 'high', messages: [{ role: 'user', content: 'Hello there' }] });
      expect(emulators.gemini.lastRequest()!.body.generationConfig.thinkingConfig).toEqual({ includeThoughts: true, thinkingBudget: 24576 });
      expect((completion.choices[0]!.message as { reasoning_content?: string }).reasoning_content).toBe(THOUGHT_SUMMARY);
      expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBeGreaterThan(0);
    });

    it('reaches OpenAI as it came, with the reasoning tokens OpenAI reports kept in the usage', async () => {
      const completion = await openai.chat.completions.create({ model: 'openai/gpt-5-mini', reasoning_effort: 'minimal', messages: [{ role: 'user', content: 'Hello there' }] });
      expect(emulators.openai.lastRequest()!.body.reasoning_effort).toBe('minimal');
      expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(REASONING_TOKENS);
      const chunks = await collect(await openai.chat.completions.create({ model: 'openai/gpt-5-mini', reasoning_effort: 'high', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Hello there' }] }));
      expect(chunks.at(-1)?.usage?.completion_tokens_details?.reasoning_tokens).toBe(REASONING_TOKENS);
    });

    it('refuses a reasoning_effort OpenAI does not document for an Anthropic-backed model, which has no budget for it, naming the parameter', async () => {
      const failure = await openai.chat.completions.create({ model: 'smart', reasoning_effort: 'extreme' as 'high', messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
      expect(failure).toMatchObject({ status: 400, param: 'reasoning_effort', type: 'invalid_request_error' });
    });

    it('passes a reasoning_effort a host defines (OpenRouter’s max) to an OpenAI-format provider as it came, and refuses one that is not text', async () => {
      await openai.chat.completions.create({ model: 'openai/gpt-5-mini', reasoning_effort: 'max' as 'high', messages: [{ role: 'user', content: 'Hi' }] });
      expect(emulators.openai.lastRequest()!.body.reasoning_effort).toBe('max');
      // An alias's Anthropic target has no budget for it: the call moves on to the target that takes it.
      const before = emulators.openai.requests().length;
      await openai.chat.completions.create({ model: 'any-host', reasoning_effort: 'max' as 'high', messages: [{ role: 'user', content: 'Hi' }] });
      expect(emulators.openai.requests().length).toBe(before + 1);
      const failure = await openai.chat.completions.create({ model: 'openai/gpt-5-mini', reasoning_effort: 3 as unknown as 'high', messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
      expect(failure).toMatchObject({ status: 400, param: 'reasoning_effort', type: 'invalid_request_error' });
    });

    it('uses tools with reasoning_effort on an Anthropic-backed model, the tool results answered without thinking', async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Use get_weather for Paris.' }];
      const first = await openai.chat.completions.create({ model: 'smart', reasoning_effort: 'low', tools: [WEATHER_TOOL], messages });
      const call = first.choices[0]!.message.tool_calls![0]!;
      expect((first.choices[0]!.message as { reasoning_content?: string }).reasoning_content).toBe(thinkingFor('Use get_weather for Paris.'));
      // OpenAI's shape has no place for the signed thinking block, which Anthropic wants back within a tool-use loop:
      // the loop goes on without thinking, which Anthropic takes.
      const second = await openai.chat.completions.create({ model: 'smart', reasoning_effort: 'low', tools: [WEATHER_TOOL], messages: [...messages, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '21' }] });
      expect(second.choices[0]!.message.content).toBe('The tool answered: 21');
      expect(emulators.anthropic.lastRequest()!.body).not.toHaveProperty('thinking');
    });
  });

  describe('with the response cache', () => {
    let cached: AiGateway;
    let cachedClaude: Anthropic;

    beforeAll(async () => {
      cached = await AiGateway.start();
      await configureThreeProviders(cached, emulators, { cache: { ttl: '10m' }, aliases: [{ name: 'smart', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] }] });
      cachedClaude = new Anthropic({ baseURL: cached.proxyUrl, apiKey: await cached.createApp({ name: 'cached-app', team: 'cached-team' }), maxRetries: 0 });
    });
    afterAll(async () => {
      await cached?.stop();
    });

    it('answers a repeated thinking request from the cache with its thinking blocks, and another thinking from Anthropic', async () => {
      const ask = (thinking: Anthropic.ThinkingConfigParam) => cachedClaude.messages.create({ model: 'smart', max_tokens: 4000, thinking, messages: [{ role: 'user', content: 'Cache me' }] }).withResponse();
      const first = await ask(THINKING);
      const again = await ask(THINKING);
      expect(again.response.headers.get('x-keygate-cache')).toBe('hit');
      expect(again.data.content).toEqual(first.data.content);
      expect(again.data.content[0]?.type).toBe('thinking');
      // The thinking asked for is under a symbol, outside the request's JSON: it is part of the key all the same.
      const other = await ask({ type: 'disabled' });
      expect(other.response.headers.get('x-keygate-cache')).toBeNull();
      expect(other.data.content.map((block) => block.type)).toEqual(['text']);
    });
  });
});
