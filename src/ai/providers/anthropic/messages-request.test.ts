import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signatureFor, startAnthropicEmulator, type AnthropicEmulator } from '../../../../test/emulators/anthropic.js';
import type { CatalogModel } from '../../catalog/index.js';
import { ANTHROPIC_BLOCKS, CACHE_CONTROL, OUTPUT_CONFIG, THINKING, type ChatRequest } from '../../chat-types.js';
import { callChat, ProviderCallError } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { AnthropicProvider } from './index.js';

const KEY = 'test-anthropic-key';
let emulator: AnthropicEmulator;
const ctx = (overrides: Partial<CallContext['provider']> = {}): CallContext => ({
  provider: { name: 'claude', type: 'anthropic', baseUrl: emulator.url, ...overrides },
  credential: { id: 'key-1', secret: KEY },
  model: 'claude-sonnet-4-5',
  stream: false,
  now: 1_700_000_000_000,
});
const sent = async (request: Partial<ChatRequest>, context = ctx()) => {
  await callChat(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: 'Hi' }], ...request }, context);
  return emulator.lastRequest()!;
};

beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: KEY });
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.setMode('normal'));

describe('the Anthropic request translation', () => {
  it("sends a conversation of instructions alone (no user turn, or only an empty one) as the user's turn, which Anthropic answers", async () => {
    for (const messages of [[{ role: 'system' as const, content: 'Say hello.' }], [{ role: 'developer' as const, content: 'Say hello.' }, { role: 'user' as const, content: '' }]]) {
      const { body } = await sent({ messages });
      expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Say hello.' }] }]);
      expect(body.system).toBeUndefined();
    }
  });

  it('refuses a conversation whose every message is empty, naming messages, before calling, for the next target to try', async () => {
    const before = emulator.lastRequest();
    const failure = await callChat(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: '' }] }, ctx()).catch((error: unknown) => error);
    expect((failure as ProviderCallError).failure).toMatchObject({ status: 400, param: 'messages', retryable: true });
    expect(emulator.lastRequest()).toBe(before);
  });

  it("keeps a user's message of nothing but whitespace, which left out would turn the answer before it into a prefill", async () => {
    const failure = await callChat(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: [{ type: 'text', text: '\n' }] }] }, ctx()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProviderCallError);
    expect((failure as ProviderCallError).failure).toMatchObject({ status: 400, message: 'messages: text content blocks must contain non-whitespace text' });
    expect(emulator.lastRequest()!.body.messages).toHaveLength(3);
  });

  it('leaves out text only of whitespace, which Anthropic refuses, and keeps the rest of its turn', async () => {
    const call = { id: 'toolu_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    const request = await sent({
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      messages: [
        { role: 'system', content: '\n' },
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: '\n\n', tool_calls: [call] },
        { role: 'tool', tool_call_id: 'toolu_1', content: ' ' },
      ],
    });
    expect(request.body).not.toHaveProperty('system');
    expect(request.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }] },
    ]);
  });

  it('posts to /v1/messages with the key in x-api-key and anthropic-version 2023-06-01', async () => {
    const request = await sent({});
    expect(request.path).toBe('/v1/messages');
    expect(request.headers['x-api-key']).toBe(KEY);
    expect(request.headers['anthropic-version']).toBe('2023-06-01');
    expect(request.headers.authorization).toBeUndefined();
  });

  it('sends the provider’s apiVersion as anthropic-version when it names one', async () => {
    const request = await sent({}, ctx({ apiVersion: '2024-01-01' }));
    expect(request.headers['anthropic-version']).toBe('2024-01-01');
  });

  it('uses the provider’s model id, not the one the client asked for', async () => {
    const request = await sent({ model: 'my-alias' });
    expect(request.body.model).toBe('claude-sonnet-4-5');
  });

  it('moves system and developer messages to the top-level system', async () => {
    const request = await sent({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
        { role: 'user', content: 'How tall is Everest?' },
      ],
    });
    expect(request.body.system).toBe('Be brief.\n\nUse metric units.');
    expect(request.body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'How tall is Everest?' }] }]);
  });

  it('sends system as blocks when one has a cache breakpoint, each breakpoint where it was', async () => {
    const request = await sent({
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'You are a helpful assistant.' }] },
        { role: 'system', content: [{ type: 'text', text: 'Answer in French.', [CACHE_CONTROL]: { type: 'ephemeral', ttl: '1h' } }] },
        { role: 'user', content: 'Hi' },
      ],
      response_format: { type: 'json_object' },
    });
    expect(request.body.system).toEqual([
      { type: 'text', text: 'You are a helpful assistant.' },
      { type: 'text', text: 'Answer in French.', cache_control: { type: 'ephemeral', ttl: '1h' } },
      { type: 'text', text: expect.stringMatching(/^Respond with a single valid JSON object/) },
    ]);
  });

  it('sends the cache breakpoints on content blocks, tool calls, tool results, tools and the request as they came', () => {
    const ephemeral = { type: 'ephemeral' };
    // More breakpoints than the four Anthropic allows in one request, to see each placed: the body is read, not sent.
    const call = AnthropicProvider.chatCall({
      model: 'claude',
      [CACHE_CONTROL]: ephemeral,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather here?', [CACHE_CONTROL]: ephemeral }, { type: 'image_url', image_url: { url: 'https://example.com/sky.png' }, [CACHE_CONTROL]: ephemeral }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' }, [CACHE_CONTROL]: ephemeral }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: [{ type: 'text', text: 'Sunny' }, { type: 'text', text: '18°C', [CACHE_CONTROL]: ephemeral }] },
        { role: 'assistant', content: 'Sunny.' },
        { role: 'user', content: 'Tomorrow?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'toolu_2', content: 'Rain', [CACHE_CONTROL]: ephemeral },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } }, [CACHE_CONTROL]: ephemeral }],
    }, ctx());
    const body = JSON.parse(call.body!) as Record<string, unknown>;
    expect(body.cache_control).toEqual(ephemeral);
    expect(body.tools).toEqual([{ name: 'get_weather', input_schema: { type: 'object', properties: {} }, cache_control: ephemeral }]);
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather here?', cache_control: ephemeral }, { type: 'image', source: { type: 'url', url: 'https://example.com/sky.png' }, cache_control: ephemeral }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' }, cache_control: ephemeral }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'Sunny' }, { type: 'text', text: '18°C', cache_control: ephemeral }] }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Sunny.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Tomorrow?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'Rain' }], cache_control: ephemeral }] },
    ]);
  });

  it("puts a message's own breakpoint (an OpenAI-format client's) on its last block: system text, user part, assistant tool call", async () => {
    const ephemeral = { type: 'ephemeral' };
    const request = await sent({
      messages: [
        { role: 'system', content: 'Be brief.', [CACHE_CONTROL]: ephemeral },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'text', text: 'In Paris.' }], [CACHE_CONTROL]: ephemeral },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }], [CACHE_CONTROL]: { type: 'ephemeral', ttl: '1h' } },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
    });
    expect(request.body.system).toEqual([{ type: 'text', text: 'Be brief.', cache_control: ephemeral }]);
    expect(request.body.messages.slice(0, 2)).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'text', text: 'In Paris.', cache_control: ephemeral }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {}, cache_control: { type: 'ephemeral', ttl: '1h' } }] },
    ]);
  });

  it('merges consecutive messages of one role into one turn', async () => {
    const request = await sent({
      messages: [
        { role: 'user', content: 'First.' },
        { role: 'user', content: 'Second.' },
      ],
    });
    expect(request.body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'First.' }, { type: 'text', text: 'Second.' }] }]);
  });

  it('asks for 4096 tokens when the client names no limit', async () => {
    expect((await sent({})).body.max_tokens).toBe(4096);
  });

  it("sends no stop sequence only of whitespace, which Claude refuses and OpenAI takes, and the others as they are", async () => {
    expect((await sent({ stop: ['\n', 'END', ' \t'] })).body.stop_sequences).toEqual(['END']);
    expect((await sent({ stop: '\n\n' })).body).not.toHaveProperty('stop_sequences');
    expect((await sent({ stop: ' END ' })).body.stop_sequences).toEqual([' END ']);
  });

  it('prefers max_completion_tokens to max_tokens', async () => {
    expect((await sent({ max_tokens: 100, max_completion_tokens: 200 })).body.max_tokens).toBe(200);
    expect((await sent({ max_tokens: 100 })).body.max_tokens).toBe(100);
  });

  it("bounds a call whose client named no limit by the model's own output limit where the catalog knows it, else 4,096", async () => {
    const sonnet: CatalogModel = { id: 'claude-sonnet-4-6', provider: 'anthropic', kind: 'chat', contextWindow: 200_000, maxOutputTokens: 64_000, inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3, capabilities: ['chat'] };
    expect((await sent({}, { ...ctx(), catalogModel: sonnet })).body.max_tokens).toBe(64_000);
    expect((await sent({})).body.max_tokens).toBe(4096);
  });

  it('sends stop as stop_sequences, and temperature, top_p and user as Anthropic names them', async () => {
    const request = await sent({ stop: 'END', temperature: 0.5, user: 'user-7' });
    expect(request.body).toMatchObject({ stop_sequences: ['END'], temperature: 0.5, metadata: { user_id: 'user-7' } });
    expect((await sent({ top_p: 0.9 })).body.top_p).toBe(0.9);
  });

  it('sends top_k as it is', async () => {
    expect((await sent({ top_k: 40 })).body.top_k).toBe(40);
  });

  it('sends temperature without top_p when a client sets both, which Claude 4.5 and later refuse', async () => {
    const { body } = await sent({ temperature: 0.5, top_p: 0.9 });
    expect(body.temperature).toBe(0.5);
    expect(body).not.toHaveProperty('top_p');
  });

  it('brings a temperature above Anthropic’s maximum of 1 down to 1', async () => {
    expect((await sent({ temperature: 1.6 })).body.temperature).toBe(1);
  });

  it('sends a data: image as a base64 source and an http image as a url source', async () => {
    const request = await sent({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these.' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(request.body.messages[0].content).toEqual([
      { type: 'text', text: 'Compare these.' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('sends tools with their parameters as input_schema', async () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const request = await sent({ tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters } }] });
    expect(request.body.tools).toEqual([{ name: 'get_weather', description: 'Weather now', input_schema: parameters }]);
    expect(request.body.tool_choice).toBeUndefined();
  });

  it('maps each tool_choice to Anthropic’s auto, none, any and tool', async () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }];
    expect((await sent({ tools, tool_choice: 'auto' })).body.tool_choice).toEqual({ type: 'auto' });
    expect((await sent({ tools, tool_choice: 'none' })).body.tool_choice).toEqual({ type: 'none' });
    expect((await sent({ tools, tool_choice: 'required' })).body.tool_choice).toEqual({ type: 'any' });
    expect((await sent({ tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } })).body.tool_choice).toEqual({ type: 'tool', name: 'get_weather' });
  });

  it('turns parallel_tool_calls false into disable_parallel_tool_use', async () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather' } }];
    expect((await sent({ tools, parallel_tool_calls: false })).body.tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
  });

  it('sends assistant tool calls as tool_use blocks and tool messages as tool_result blocks in one user turn', async () => {
    const request = await sent({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '24°C' }] },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
    expect(request.body.messages.slice(1)).toEqual([
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: '18°C' }] },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '24°C' }] },
        ],
      },
    ]);
  });

  it('refuses tool call arguments that are not JSON without calling Anthropic', async () => {
    const before = emulator.lastRequest();
    const call = sent({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{oops' } }] },
      ],
    });
    await expect(call).rejects.toMatchObject({ failure: { status: 400, code: 'invalid_tool_arguments', retryable: false, message: 'messages[1].tool_calls[0].function.arguments is not valid JSON' } });
    expect(emulator.lastRequest()).toBe(before);
  });

  it('refuses tool call arguments nested deeper than the gateway writes out again, naming them, without calling Anthropic', async () => {
    const before = emulator.lastRequest();
    const deep = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const call = sent({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: deep } }] },
      ],
    });
    await expect(call).rejects.toMatchObject({ failure: { status: 400, code: 'nesting_too_deep', retryable: false, param: 'messages[1].tool_calls[0].function.arguments' } });
    expect(emulator.lastRequest()).toBe(before);
  });

  it('refuses n greater than 1, which Anthropic cannot answer', async () => {
    await expect(sent({ n: 2 })).rejects.toBeInstanceOf(ProviderCallError);
  });

  it('sends an Anthropic-format client’s thinking as it came', async () => {
    for (const thinking of [{ type: 'enabled', budget_tokens: 1024 }, { type: 'disabled' }, { type: 'adaptive' }]) {
      const request = await sent({ max_completion_tokens: 2000, [THINKING]: thinking });
      expect(request.body.thinking).toEqual(thinking);
      expect(request.body.max_tokens).toBe(2000);
    }
  });

  it('sends no thinking for a request that asked for none', async () => {
    const request = await sent({});
    expect(request.body).not.toHaveProperty('thinking');
  });

  it.each([
    ['minimal', 1024],
    ['low', 1024],
    ['medium', 2048],
    ['high', 4096],
    ['xhigh', 8192],
  ] as const)("turns reasoning_effort %s into a thinking budget of %i, added to the legacy max_tokens (the answer's room), which Anthropic wants above it", async (effort, budget) => {
    const request = await sent({ reasoning_effort: effort, max_tokens: 500 });
    expect(request.body.thinking).toEqual({ type: 'enabled', budget_tokens: budget });
    expect(request.body.max_tokens).toBe(500 + budget);
  });

  it('keeps max_completion_tokens, which counts the reasoning, as the bound of the whole answer: the budget fits under it', async () => {
    const roomy = await sent({ reasoning_effort: 'high', max_completion_tokens: 10_000 });
    expect(roomy.body).toMatchObject({ max_tokens: 10_000, thinking: { type: 'enabled', budget_tokens: 4096 } });
    // Half the bound at most: the answer keeps the other half.
    const tight = await sent({ reasoning_effort: 'high', max_completion_tokens: 3000 });
    expect(tight.body).toMatchObject({ max_tokens: 3000, thinking: { type: 'enabled', budget_tokens: 1500 } });
    // No room for Claude's least budget (1,024) in half the bound: no thinking, rather than past the client's bound.
    const small = await sent({ reasoning_effort: 'high', max_completion_tokens: 2047 });
    expect(small.body.max_tokens).toBe(2047);
    expect(small.body).not.toHaveProperty('thinking');
    expect((await sent({ reasoning_effort: 'low', max_completion_tokens: 2048 })).body).toMatchObject({ max_tokens: 2048, thinking: { budget_tokens: 1024 } });
  });

  it('adds the budget to the default max_tokens when the client named no limit', async () => {
    const request = await sent({ reasoning_effort: 'high' });
    expect(request.body.max_tokens).toBe(4096 + 4096);
  });

  it('leaves out the sampling settings thinking does not take, for reasoning_effort', async () => {
    const request = await sent({ reasoning_effort: 'low', temperature: 0.3, top_k: 40, max_tokens: 500 });
    expect(request.body.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(request.body).not.toHaveProperty('temperature');
    expect(request.body).not.toHaveProperty('top_k');
    expect((await sent({ reasoning_effort: 'low', top_p: 0.9 })).body).not.toHaveProperty('top_p');
    expect((await sent({ reasoning_effort: 'low', top_p: 0.97 })).body.top_p).toBe(0.97);
  });

  it.each([
    ['a forced tool_choice', { tool_choice: 'required' as const, tools: [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }] }],
    ['a json_schema answer, carried by a forced tool', { response_format: { type: 'json_schema' as const, json_schema: { name: 'answer', schema: { type: 'object', properties: {} } } } }],
  ])('sends reasoning_effort with %s without thinking, which Anthropic refuses with forced tool use', async (_what, extra) => {
    const request = await sent({ reasoning_effort: 'high', max_completion_tokens: 500, temperature: 0.3, ...extra });
    expect(request.body).not.toHaveProperty('thinking');
    expect(request.body.max_tokens).toBe(500);
    expect(request.body.temperature).toBe(0.3);
    expect(['any', 'tool']).toContain((request.body.tool_choice as { type: string }).type);
  });

  describe('with the model’s catalog entry', () => {
    const entry = (capabilities: CatalogModel['capabilities'], maxOutputTokens: number): CatalogModel => ({ id: 'claude-x', provider: 'anthropic', kind: 'chat', contextWindow: 200_000, maxOutputTokens, inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3, capabilities });
    const REASONS: CatalogModel['capabilities'] = ['chat', 'tools', 'streaming', 'reasoning'];

    const CITY = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const cityAnswer = { response_format: { type: 'json_schema' as const, json_schema: { name: 'answer', strict: true, schema: CITY } } };

    it('sends a json_schema answer asked with reasoning as output_config.format, with thinking, to a model that takes structured output', async () => {
      const context = { ...ctx(), catalogModel: entry([...REASONS, 'json_schema'], 64_000) };
      const answer = await callChat(AnthropicProvider, { model: 'claude', messages: [{ role: 'user', content: 'Where?' }], reasoning_effort: 'high', max_completion_tokens: 10_000, ...cityAnswer }, context);
      const request = emulator.lastRequest()!;
      expect(request.body.output_config).toEqual({ format: { type: 'json_schema', schema: CITY } });
      expect(request.body.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
      expect(request.body).not.toHaveProperty('tools');
      expect(request.body).not.toHaveProperty('tool_choice');
      // The model's text is the JSON itself.
      expect(JSON.parse(answer.choices[0]!.message.content!)).toHaveProperty('city');
    });

    it('puts the format beside the effort of a model that thinks only adaptively', async () => {
      const request = await sent({ reasoning_effort: 'medium', ...cityAnswer }, { ...ctx(), model: 'claude-opus-4-7', catalogModel: entry([...REASONS, 'adaptive_thinking', 'json_schema'], 128_000) });
      expect(request.body.output_config).toEqual({ effort: 'medium', format: { type: 'json_schema', schema: CITY } });
      expect(request.body.thinking).toEqual({ type: 'adaptive' });
    });

    it('keeps the forced tool for a json_schema answer without reasoning, or on a model without structured output', async () => {
      const withoutReasoning = await sent(cityAnswer, { ...ctx(), catalogModel: entry([...REASONS, 'json_schema'], 64_000) });
      expect(withoutReasoning.body).not.toHaveProperty('output_config');
      expect(withoutReasoning.body.tool_choice).toEqual({ type: 'tool', name: 'keygate_json_response' });
      const olderModel = await sent({ reasoning_effort: 'high', ...cityAnswer }, { ...ctx(), catalogModel: entry(REASONS, 64_000) });
      expect(olderModel.body).not.toHaveProperty('output_config');
      expect(olderModel.body).not.toHaveProperty('thinking');
      expect(olderModel.body.tool_choice).toEqual({ type: 'tool', name: 'keygate_json_response' });
    });

    it('keeps the forced tool for a schema that is not strict, or a call that would not think after all', async () => {
      const capable = { ...ctx(), catalogModel: entry([...REASONS, 'json_schema'], 64_000) };
      const loose = await sent({ reasoning_effort: 'high', response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: CITY } } }, capable);
      expect(loose.body).not.toHaveProperty('output_config');
      expect(loose.body.tool_choice).toEqual({ type: 'tool', name: 'keygate_json_response' });
      // Half of 1,500 is under Claude's least budget: no thinking, so nothing to gain from Anthropic's format.
      const noRoom = await sent({ reasoning_effort: 'high', max_completion_tokens: 1500, ...cityAnswer }, capable);
      expect(noRoom.body).not.toHaveProperty('output_config');
      expect(noRoom.body).not.toHaveProperty('thinking');
    });

    it('asks a model that does not reason (Claude 3.5 Haiku) for no thinking, which it would refuse', async () => {
      const request = await sent({ reasoning_effort: 'high', max_completion_tokens: 500 }, { ...ctx(), catalogModel: entry(['chat', 'tools', 'streaming'], 8192) });
      expect(request.body).not.toHaveProperty('thinking');
      expect(request.body.max_tokens).toBe(500);
    });

    it('keeps max_tokens within the model’s output limit, the budget taken from the answer’s room', async () => {
      const request = await sent({ reasoning_effort: 'xhigh', max_completion_tokens: 64_000 }, { ...ctx(), catalogModel: entry(REASONS, 64_000) });
      expect(request.body.thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });
      expect(request.body.max_tokens).toBe(64_000);
    });

    it.each([
      ['minimal', 'low'],
      ['medium', 'medium'],
      ['xhigh', 'high'],
    ] as const)('asks a model that thinks only adaptively (Opus 4.7 on) for adaptive thinking at effort %s, as Anthropic’s %s, with no budget it would refuse', async (effort, anthropicEffort) => {
      const request = await sent({ reasoning_effort: effort, max_completion_tokens: 500, temperature: 0.3 }, { ...ctx(), model: 'claude-opus-4-7', catalogModel: entry([...REASONS, 'adaptive_thinking'], 128_000) });
      expect(request.body.thinking).toEqual({ type: 'adaptive' });
      expect(request.body.output_config).toEqual({ effort: anthropicEffort });
      expect(request.body.max_tokens).toBe(500);
      expect(request.body).not.toHaveProperty('temperature');
    });

    it.each(['claude-mythos-5', 'claude-opus-4-9-20270115', 'claude-sonnet-6'])('asks %s, which the catalog does not list, for adaptive thinking, as the families that think only adaptively are named', async (model) => {
      const request = await sent({ reasoning_effort: 'medium', max_completion_tokens: 500 }, { ...ctx(), model });
      expect(request.body.thinking).toEqual({ type: 'adaptive' });
      expect(request.body.output_config).toEqual({ effort: 'medium' });
      expect(request.body.max_tokens).toBe(500);
    });

    it.each([
      [1024, 'low'],
      [2048, 'medium'],
      [31_999, 'high'],
    ] as const)('asks a model that thinks only adaptively for adaptive thinking when a client sends a budget of %i, at effort %s, which it would refuse as sent', async (budget, effort) => {
      const request = await sent({ max_completion_tokens: 40_000, [THINKING]: { type: 'enabled', budget_tokens: budget, display: 'omitted' } }, { ...ctx(), model: 'claude-opus-4-7' });
      expect(request.body.thinking).toEqual({ type: 'adaptive', display: 'omitted' });
      expect(request.body.output_config).toEqual({ effort });
    });

    it("keeps a client's own effort beside its budget, and sends no thinking for disabled, which a model that thinks only adaptively refuses", async () => {
      const withEffort = await sent({ max_completion_tokens: 4000, [THINKING]: { type: 'enabled', budget_tokens: 1024 }, [OUTPUT_CONFIG]: { effort: 'max' } }, { ...ctx(), model: 'claude-mythos-5' });
      expect(withEffort.body.thinking).toEqual({ type: 'adaptive' });
      expect(withEffort.body.output_config).toEqual({ effort: 'max' });
      const disabled = await sent({ max_completion_tokens: 4000, [THINKING]: { type: 'disabled' } }, { ...ctx(), model: 'claude-opus-4-7' });
      expect(disabled.body).not.toHaveProperty('thinking');
      // A model that takes budgets gets the client's thinking as it came.
      const sonnet = await sent({ max_completion_tokens: 4000, [THINKING]: { type: 'enabled', budget_tokens: 1024 } }, { ...ctx(), model: 'claude-sonnet-4-5' });
      expect(sonnet.body.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
      expect(sonnet.body).not.toHaveProperty('output_config');
    });

    it('asks a model for adaptive thinking when its catalog entry says so, whatever its name', async () => {
      const request = await sent({ reasoning_effort: 'low', max_completion_tokens: 500 }, { ...ctx(), model: 'claude-sonnet-4-5', catalogModel: entry([...REASONS, 'adaptive_thinking'], 64_000) });
      expect(request.body.thinking).toEqual({ type: 'adaptive' });
    });

    it('asks for no thinking when the model’s limit leaves no room above the budget', async () => {
      const request = await sent({ reasoning_effort: 'low', max_completion_tokens: 500 }, { ...ctx(), catalogModel: entry(REASONS, 1024) });
      expect(request.body).not.toHaveProperty('thinking');
      expect(request.body.max_tokens).toBe(500);
    });
  });

  it('sends reasoning_effort none as no thinking, Anthropic’s default', async () => {
    const request = await sent({ reasoning_effort: 'none', max_completion_tokens: 500 });
    expect(request.body).not.toHaveProperty('thinking');
    expect(request.body.max_tokens).toBe(500);
  });

  it('lets an Anthropic-format client’s own thinking win over reasoning_effort', async () => {
    const request = await sent({ reasoning_effort: 'high', max_completion_tokens: 3000, [THINKING]: { type: 'enabled', budget_tokens: 1500 } });
    expect(request.body.thinking).toEqual({ type: 'enabled', budget_tokens: 1500 });
    expect(request.body.max_tokens).toBe(3000);
  });

  it('sends an assistant turn with thinking blocks as it came, blocks and order unchanged', async () => {
    const thinking = 'The user wrote "Weather?". I will answer it directly.';
    const turn = [
      { type: 'thinking', thinking, signature: signatureFor(thinking) },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ];
    const request = await sent({
      [THINKING]: { type: 'enabled', budget_tokens: 1024 },
      max_completion_tokens: 2000,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }], [ANTHROPIC_BLOCKS]: turn },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
      ],
    });
    expect(request.body.messages[1]).toEqual({ role: 'assistant', content: turn });
  });

  it('sends a client’s thinking without the tool-use turn’s thinking another provider wrote, and leaves thinking off for that turn, which Anthropic would refuse', async () => {
    const loop = (thinking: Record<string, unknown>) =>
      sent({
        [THINKING]: thinking,
        max_completion_tokens: 2000,
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: null, reasoning_content: 'Paris, then.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        ],
      });
    const request = await loop({ type: 'enabled', budget_tokens: 1024 });
    expect(request.body).not.toHaveProperty('thinking');
    expect(request.body.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }] });
    expect((await loop({ type: 'disabled' })).body.thinking).toEqual({ type: 'disabled' });
  });

  /** An OpenAI client's weather tool loop with reasoning_effort: its call, the tool's result, then `after`. */
  const weatherLoop = (after: ChatRequest['messages']) =>
    sent({
      reasoning_effort: 'low',
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
        ...after,
      ],
    });

  it('asks for no thinking for reasoning_effort on tool results whose assistant turn has no thinking blocks, which Anthropic would refuse', async () => {
    expect((await weatherLoop([])).body).not.toHaveProperty('thinking');
  });

  it('asks for no thinking either when a user message follows those tool results, since they share one user turn', async () => {
    expect((await weatherLoop([{ role: 'user', content: 'And answer in French.' }])).body).not.toHaveProperty('thinking');
  });

  it('thinks again once the tool loop is over: a user turn after the answer that followed the tool results', async () => {
    const request = await weatherLoop([
      { role: 'assistant', content: 'It is 18°C.' },
      { role: 'user', content: 'Thanks. And tomorrow?' },
    ]);
    expect(request.body.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
  });
});
