import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, configureThreeProviders, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';
import { signatureFor, thinkingFor } from './emulators/anthropic.js';
import { THOUGHT_SUMMARY } from './emulators/gemini.js';
import { reasoningFor, REASONING_TOKENS, startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

/**
 * An Anthropic-format client (the official SDK, as Claude Code uses it) asking for thinking from providers other
 * than Anthropic: Gemini, a DeepSeek-like OpenAI-compatible host and OpenAI's reasoning models.
 */
const TOOL = {
  name: 'get_weather',
  description: 'The current weather in a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};
const QUESTION = { role: 'user' as const, content: 'Use get_weather for Paris.' };

/** A stream's events as `start:<index>:<type>`, `<index>:<delta type>` and `stop:<index>`, repeats merged. */
async function shapeOf(stream: AsyncIterable<Anthropic.RawMessageStreamEvent>): Promise<string[]> {
  const events: string[] = [];
  for await (const event of stream) {
    if (event.type === 'content_block_start') events.push(`start:${event.index}:${event.content_block.type}`);
    else if (event.type === 'content_block_delta') events.push(`${event.index}:${event.delta.type}`);
    else if (event.type === 'content_block_stop') events.push(`stop:${event.index}`);
  }
  return events.filter((event, i) => event !== events[i - 1]);
}

describe('thinking for /v1/messages clients from providers other than Anthropic', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let deepseek: OpenAIEmulator;
  let groq: OpenAIEmulator;
  let apiKey: string;
  let claude: Anthropic;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    deepseek = await startOpenAIEmulator({ reasoningContent: true });
    groq = await startOpenAIEmulator({ refusesReasoningContent: true });
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      providers: [
        { name: 'deepseek', type: 'openai-compatible', baseUrl: deepseek.url, catalog: 'deepseek' },
        { name: 'groq', type: 'openai-compatible', baseUrl: groq.url, catalog: 'groq' },
        { name: 'strict', type: 'openai-compatible', baseUrl: groq.url, reasoningBack: false },
      ],
      aliases: [
        { name: 'fast', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'deep', targets: [{ provider: 'deepseek', model: 'deepseek-reasoner' }] },
      ],
    });
    await gateway.addProviderKey('deepseek', 'test-openai-key');
    await gateway.addProviderKey('groq', 'test-openai-key');
    await gateway.addProviderKey('strict', 'test-openai-key');
    apiKey = await gateway.createApp({ name: 'thinking-app', team: 'thinking-team' });
    claude = new Anthropic({ baseURL: gateway.proxyUrl, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await deepseek?.stop();
    await groq?.stop();
    await emulators?.stop();
  });

  describe('Gemini', () => {
    it('gets the thinking budget itself, and answers its thoughts as a thinking block before the text', async () => {
      const message = await claude.messages.create({ model: 'fast', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 5000 }, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(emulators.gemini.lastRequest()!.body.generationConfig.thinkingConfig).toEqual({ includeThoughts: true, thinkingBudget: 5000 });
      expect(message.content).toEqual([
        { type: 'thinking', thinking: THOUGHT_SUMMARY, signature: 'keygate:v1' },
        { type: 'text', text: 'Echo: Hello there' },
      ]);
    });

    it('streams its thoughts as a thinking block with deltas and a signature, accumulated into the same Message', async () => {
      const ask = { model: 'fast', max_tokens: 8000, thinking: { type: 'adaptive' as const }, messages: [{ role: 'user' as const, content: 'Hello there' }] };
      expect(await shapeOf(await claude.messages.create({ ...ask, stream: true }))).toEqual(['start:0:thinking', '0:thinking_delta', '0:signature_delta', 'stop:0', 'start:1:text', '1:text_delta', 'stop:1']);
      expect(emulators.gemini.lastRequest()!.body.generationConfig.thinkingConfig).toEqual({ includeThoughts: true, thinkingBudget: -1 });
      const final = await claude.messages.stream(ask).finalMessage();
      expect(final.content).toEqual([
        { type: 'thinking', thinking: THOUGHT_SUMMARY, signature: 'keygate:v1' },
        { type: 'text', text: 'Echo: Hello there' },
      ]);
    });

    it('is asked for no thoughts, and answers none, when the client asked for no thinking', async () => {
      const message = await claude.messages.create({ model: 'fast', max_tokens: 500, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(emulators.gemini.lastRequest()!.body).not.toHaveProperty('generationConfig.thinkingConfig');
      expect(message.content).toEqual([{ type: 'text', text: 'Echo: Hello there' }]);
      await claude.messages.create({ model: 'fast', max_tokens: 500, thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(emulators.gemini.lastRequest()!.body.generationConfig.thinkingConfig).toEqual({ thinkingBudget: 0 });
    });
  });

  describe('an OpenAI-compatible host that returns reasoning_content (DeepSeek)', () => {
    it.each([false, true])('uses a tool with thinking, its reasoning coming back to the host as reasoning_content (first turn streamed: %s)', async (streamed) => {
      const ask = { model: 'deep', max_tokens: 4000, thinking: { type: 'adaptive' as const }, output_config: { effort: 'high' }, tools: [TOOL] } as const;
      const first = streamed ? await claude.messages.stream({ ...ask, messages: [QUESTION] } as never).finalMessage() : ((await claude.messages.create({ ...ask, messages: [QUESTION] } as never)) as unknown as Anthropic.Message);
      expect(deepseek.lastRequest()!.body.reasoning_effort).toBe('high');
      expect(first.content[0]).toEqual({ type: 'thinking', thinking: reasoningFor(QUESTION.content), signature: 'keygate:v1' });
      expect(first.content.map((block) => block.type)).toEqual(['thinking', 'tool_use']);
      const use = first.content.find((block) => block.type === 'tool_use')!;

      // DeepSeek refuses a tool-calling turn sent back without its reasoning (the emulator too).
      const second = (await claude.messages.create({ ...ask, messages: [QUESTION, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"celsius":21}' }] }] } as never)) as unknown as Anthropic.Message;
      expect(deepseek.lastRequest()!.body.messages[1]).toMatchObject({ role: 'assistant', reasoning_content: reasoningFor(QUESTION.content) });
      expect(second.content).toEqual([
        { type: 'thinking', thinking: reasoningFor('{"celsius":21}'), signature: 'keygate:v1' },
        { type: 'text', text: 'The tool answered: {"celsius":21}' },
      ]);
    });

    it('answers omitted thinking with its text empty, and still gives the host its reasoning back', async () => {
      const ask = { model: 'deep', max_tokens: 4000, thinking: { type: 'enabled' as const, budget_tokens: 1024, display: 'omitted' }, tools: [TOOL] };
      const first = await claude.messages.create({ ...ask, messages: [QUESTION] } as never) as unknown as Anthropic.Message;
      expect(first.content[0]).toMatchObject({ type: 'thinking', thinking: '' });
      expect(JSON.stringify(first.content[0])).not.toContain('get_weather for Paris');
      const use = first.content.find((block) => block.type === 'tool_use')!;
      await claude.messages.create({ ...ask, messages: [QUESTION, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '21' }] }] } as never);
      expect(deepseek.lastRequest()!.body.messages[1].reasoning_content).toBe(reasoningFor(QUESTION.content));
    });

    it.each([false, true])('runs a tool loop for a client that asked for no thinking, the host getting back its reasoning, which thinking blocks without text carry (streamed: %s)', async (streamed) => {
      const ask = { model: 'deep', max_tokens: 4000, tools: [TOOL] };
      const create = (messages: Anthropic.MessageParam[]) => (streamed ? claude.messages.stream({ ...ask, messages }).finalMessage() : claude.messages.create({ ...ask, messages }));
      const first = await create([QUESTION]);
      const use = first.content.find((block) => block.type === 'tool_use')!;
      // The SDK sends the answer back as it got it; DeepSeek (the emulator too) refuses a tool-calling turn without its
      // reasoning, and wants the reasoning of every answer of the turn, the last one's too, in every later request.
      const loop: Anthropic.MessageParam[] = [QUESTION, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"celsius":21}' }] }];
      const second = await create(loop);
      await create([...loop, { role: 'assistant', content: second.content }, { role: 'user', content: 'And Rome?' }]);

      expect(deepseek.lastRequest()!.body).not.toHaveProperty('reasoning_effort');
      expect(deepseek.lastRequest()!.body.messages).toMatchObject([{ role: 'user' }, { role: 'assistant', reasoning_content: reasoningFor(QUESTION.content) }, { role: 'tool' }, { role: 'assistant', reasoning_content: reasoningFor('{"celsius":21}') }, { role: 'user' }]);
      // Blocks that show no text: the client is shown no thinking it did not ask for.
      const hidden = (reasoning: string) => ({ type: 'thinking', thinking: '', signature: `keygate:v1:${Buffer.from(reasoning).toString('base64')}` });
      expect(first.content).toEqual([hidden(reasoningFor(QUESTION.content)), expect.objectContaining({ type: 'tool_use', name: 'get_weather' })]);
      expect(second.content).toEqual([hidden(reasoningFor('{"celsius":21}')), { type: 'text', text: 'The tool answered: {"celsius":21}' }]);
    });

    it('is not asked whether it wants its reasoning back for an OpenAI-format call, streamed or not, which has nothing to hand back', async () => {
      const config = gateway.gateway.snapshot().ai.providers.get('deepseek')!.config;
      const wants = config.reasoningBack;
      let asked = 0;
      Object.defineProperty(config, 'reasoningBack', { configurable: true, get: () => (asked++, wants) });
      try {
        const body = { model: 'deep', tools: [{ type: 'function', function: { name: TOOL.name, parameters: TOOL.input_schema } }], messages: [QUESTION] };
        expect((await gateway.chat(apiKey, body)).status).toBe(200);
        expect((await gateway.chat(apiKey, { ...body, stream: true })).status).toBe(200);
        // The provider call itself reads it (whether to send the history's reasoning on), once a call: nothing more.
        expect(asked).toBe(2);
        // A Messages API call is: its answer may hand the reasoning back.
        await claude.messages.create({ model: 'deep', max_tokens: 500, tools: [TOOL], messages: [QUESTION] });
        expect(asked).toBeGreaterThan(3);
      } finally {
        Object.defineProperty(config, 'reasoningBack', { configurable: true, enumerable: true, writable: true, value: wants });
      }
    });

    it('goes on with a host that refuses reasoning_content (Groq, or any set reasoningBack: false): the reasoning is left out', async () => {
      const first = await claude.messages.create({ model: 'deep', max_tokens: 500, tools: [TOOL], messages: [QUESTION] });
      const use = first.content.find((block) => block.type === 'tool_use')!;
      expect(first.content[0]).toMatchObject({ type: 'thinking', thinking: '' });
      const loop: Anthropic.MessageParam[] = [QUESTION, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"celsius":21}' }] }];
      // The same history, DeepSeek's hidden reasoning in it, to a host that refuses the field (a fallback, say).
      for (const model of ['groq/llama-3.3-70b-versatile', 'strict/some-model']) {
        const answer = await claude.messages.create({ model, max_tokens: 500, tools: [TOOL], messages: loop });
        expect(answer.content).toEqual([{ type: 'text', text: 'The tool answered: {"celsius":21}' }]);
        expect(groq.lastRequest()!.body.messages[1]).not.toHaveProperty('reasoning_content');
      }
      // A Chat Completions client's own reasoning_content is left out for it too.
      const chat = await gateway.chat(apiKey, { model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello', reasoning_content: 'A greeting.' }, { role: 'user', content: 'Bye' }] });
      expect(chat.status).toBe(200);
    });

    it('answers no thinking block when the client asked for no thinking', async () => {
      const message = await claude.messages.create({ model: 'deep', max_tokens: 500, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(deepseek.lastRequest()!.body).not.toHaveProperty('reasoning_effort');
      expect(message.content).toEqual([{ type: 'text', text: 'Echo: Hello there' }]);
    });

    it.each([false, true])('turns DeepSeek’s thinking off for a client that disabled it, through a whole tool loop without reasoning (streamed: %s)', async (streamed) => {
      const ask = { model: 'deepseek/deepseek-v4-flash', max_tokens: 4000, thinking: { type: 'disabled' as const }, tools: [TOOL] };
      const create = (messages: Anthropic.MessageParam[]) => (streamed ? claude.messages.stream({ ...ask, messages }).finalMessage() : claude.messages.create({ ...ask, messages }));
      const first = await create([QUESTION]);
      expect(deepseek.lastRequest()!.body.thinking).toEqual({ type: 'disabled' });
      expect(deepseek.lastRequest()!.body).not.toHaveProperty('reasoning_effort');
      expect(first.content.map((block) => block.type)).toEqual(['tool_use']);
      const use = first.content.find((block) => block.type === 'tool_use')!;
      const second = await create([QUESTION, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"celsius":21}' }] }]);
      expect(deepseek.lastRequest()!.body.thinking).toEqual({ type: 'disabled' });
      expect(second.content).toEqual([{ type: 'text', text: 'The tool answered: {"celsius":21}' }]);
    });

    it('switches DeepSeek’s thinking on, beside the effort, for a client that asked for thinking', async () => {
      const message = await claude.messages.create({ model: 'deepseek/deepseek-v4-flash', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(deepseek.lastRequest()!.body).toMatchObject({ thinking: { type: 'enabled' }, reasoning_effort: 'low' });
      expect(message.content).toEqual([
        { type: 'thinking', thinking: reasoningFor('Hello there'), signature: 'keygate:v1' },
        { type: 'text', text: 'Echo: Hello there' },
      ]);
    });

    it('sends no switch where DeepSeek does not document it: deepseek-reasoner turned off, deepseek-chat turned on, another host', async () => {
      const hello = [{ role: 'user' as const, content: 'Hello there' }];
      await claude.messages.create({ model: 'deep', max_tokens: 500, thinking: { type: 'disabled' }, messages: hello });
      expect(deepseek.lastRequest()!.body.model).toBe('deepseek-reasoner');
      expect(deepseek.lastRequest()!.body).not.toHaveProperty('thinking');
      await claude.messages.create({ model: 'deepseek/deepseek-chat', max_tokens: 500, thinking: { type: 'adaptive' }, messages: hello });
      expect(deepseek.lastRequest()!.body).not.toHaveProperty('thinking');
      await claude.messages.create({ model: 'deepseek/deepseek-chat', max_tokens: 500, thinking: { type: 'disabled' }, messages: hello });
      expect(deepseek.lastRequest()!.body.thinking).toEqual({ type: 'disabled' });
      // The emulator refuses `thinking` as OpenAI does a member it does not define: the call going through says none was sent.
      const groqAnswer = await claude.messages.create({ model: 'groq/llama-3.3-70b-versatile', max_tokens: 500, thinking: { type: 'disabled' }, messages: hello });
      expect(groqAnswer.content).toEqual([{ type: 'text', text: 'Echo: Hello there' }]);
      expect(groq.lastRequest()!.body).not.toHaveProperty('thinking');
    });

    it('leaves an OpenAI-format client’s own thinking switch as it sent it, and adds none', async () => {
      expect((await gateway.chat(apiKey, { model: 'deepseek/deepseek-v4-flash', thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Hi' }] })).status).toBe(200);
      expect(deepseek.lastRequest()!.body.thinking).toEqual({ type: 'disabled' });
      expect((await gateway.chat(apiKey, { model: 'deepseek/deepseek-v4-flash', messages: [{ role: 'user', content: 'Hi' }] })).status).toBe(200);
      expect(deepseek.lastRequest()!.body).not.toHaveProperty('thinking');
    });
  });

  describe('OpenAI', () => {
    it('gives a reasoning model the effort the thinking budget comes to, streamed or not', async () => {
      const message = await claude.messages.create({ model: 'openai/gpt-5-mini', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(emulators.openai.lastRequest()!.body.reasoning_effort).toBe('medium');
      // Chat Completions never returns OpenAI's reasoning, only its tokens, which count as output.
      expect(message.content).toEqual([{ type: 'text', text: 'Echo: Hello there' }]);
      expect(message.usage.output_tokens).toBeGreaterThanOrEqual(REASONING_TOKENS);
      await claude.messages.stream({ model: 'openai/gpt-5-mini', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 31_999 }, messages: [{ role: 'user', content: 'Hello there' }] }).finalMessage();
      expect(emulators.openai.lastRequest()!.body.reasoning_effort).toBe('high');
      // A temperature beside thinking (which OpenAI refuses beside an effort) is left out rather than failing the call.
      // (The SDK no longer types `temperature`, which Anthropic's API still takes: sent as a body member.)
      await claude.messages.create({ model: 'openai/gpt-5-mini', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: 'Hello there' }] }, { body: { model: 'openai/gpt-5-mini', max_tokens: 4000, temperature: 0.5, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: 'Hello there' }] } });
      expect(emulators.openai.lastRequest()!.body).not.toHaveProperty('temperature');
    });

    it('sends no effort where OpenAI would refuse it: a model that does not reason, or GPT-5.2 and later beside tools', async () => {
      const message = await claude.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 500, thinking: { type: 'enabled', budget_tokens: 2048 }, output_config: { effort: 'high' }, messages: [{ role: 'user', content: 'Hello there' }] } as never) as unknown as Anthropic.Message;
      expect(emulators.openai.lastRequest()!.body).not.toHaveProperty('reasoning_effort');
      expect(message.content).toEqual([{ type: 'text', text: 'Echo: Hello there' }]);
      await claude.messages.create({ model: 'openai/gpt-5.4', max_tokens: 500, thinking: { type: 'enabled', budget_tokens: 2048 }, tools: [TOOL], messages: [QUESTION] });
      expect(emulators.openai.lastRequest()!.body).not.toHaveProperty('reasoning_effort');
    });
  });

  it('sends Anthropic its own signed thinking and never Keygate’s, leaving thinking off for a tool loop another provider’s thinking began', async () => {
    const earlier = await claude.messages.create({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(earlier.content[0]).toEqual({ type: 'thinking', thinking: thinkingFor('Hello there'), signature: signatureFor(thinkingFor('Hello there')) });
    const history = [{ role: 'user' as const, content: 'Hello there' }, { role: 'assistant' as const, content: earlier.content }, QUESTION];
    const ask = { max_tokens: 4000, thinking: { type: 'enabled' as const, budget_tokens: 1024 }, tools: [TOOL] };
    const first = await claude.messages.create({ ...ask, model: 'deep', messages: history });
    // The host never gets Anthropic's thinking as its own reasoning.
    expect(deepseek.lastRequest()!.body.messages[1]).not.toHaveProperty('reasoning_content');
    const use = first.content.find((block) => block.type === 'tool_use')!;

    const second = await claude.messages.create({ ...ask, model: 'anthropic/claude-sonnet-4-5', messages: [...history, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '21' }] }] });
    expect(second.content).toEqual([{ type: 'text', text: 'The tool answered: 21' }]);
    const sent = emulators.anthropic.lastRequest()!.body;
    expect(sent).not.toHaveProperty('thinking');
    expect(JSON.stringify(sent)).not.toContain('keygate:v1');
    expect(sent.messages[1]).toEqual({ role: 'assistant', content: earlier.content });
  });

  it("asks Claude models that think only adaptively to think adaptively when a client written for earlier ones sends a budget", async () => {
    const message = await claude.messages.create({ model: 'anthropic/claude-opus-4-7', max_tokens: 8000, thinking: { type: 'enabled', budget_tokens: 2048 }, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(emulators.anthropic.lastRequest()!.body).toMatchObject({ thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } });
    expect(message.content.map((block) => block.type)).toContain('text');
    await claude.messages.create({ model: 'anthropic/claude-opus-4-7', max_tokens: 8000, thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(emulators.anthropic.lastRequest()!.body).not.toHaveProperty('thinking');
  });
});
