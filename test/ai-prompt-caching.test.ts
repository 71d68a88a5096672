import Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, WEATHER_TOOL, configureThreeProviders, startProviderEmulators, type OpenAIErrorBody, type ProviderEmulators } from './ai-fixtures.js';
import { startBedrockEmulator, type BedrockEmulator } from './emulators/bedrock.js';

const BEDROCK_CLAUDE = 'bedrock/anthropic.claude-haiku-4-5-20251001-v1:0';
const EPHEMERAL = { type: 'ephemeral' as const };

/** A body the openai client's types do not allow (cache_control is LiteLLM's and OpenRouter's form, not OpenAI's). */
const asOpenAI = (body: Record<string, unknown>) => body as unknown as ChatCompletionCreateParamsNonStreaming;

/**
 * Prompt-caching breakpoints end to end, through a Keygate node on loopback with its SQLite store: an Anthropic
 * client's and an OpenAI-format client's breakpoints reach Anthropic as cache_control and Bedrock as cachePoint
 * blocks, never an OpenAI provider; Bedrock's cache reads and writes are accounted, the writes at the model's write
 * prices; the response cache tells requests apart by their breakpoints.
 */
describe('prompt caching through the gateway', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let bedrock: BedrockEmulator;
  let anthropic: Anthropic;
  let openai: OpenAI;
  let apiKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    bedrock = await startBedrockEmulator();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, { providers: [{ name: 'bedrock', type: 'bedrock', baseUrl: bedrock.url, region: bedrock.region }], cache: { ttl: '10m' } });
    await gateway.addProviderKey('bedrock', bedrock.credential);
    apiKey = await gateway.createApp({ name: 'cache-app', team: 'cache-team' });
    anthropic = new Anthropic({ baseURL: gateway.proxyUrl, apiKey, maxRetries: 0 });
    openai = gateway.openai(apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await bedrock?.stop();
  });

  it("sends an Anthropic client's breakpoints to a Bedrock Claude as cachePoints, and accounts the repeated prefix as cached reads", async () => {
    const system = [{ type: 'text' as const, text: 'You answer questions about the weather, briefly and in metric units.', cache_control: EPHEMERAL }];
    const tools = [{ name: 'get_weather', description: 'The current weather in a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } }, cache_control: EPHEMERAL }];
    const params = { model: BEDROCK_CLAUDE, max_tokens: 100, system, tools, messages: [{ role: 'user' as const, content: 'Weather in Paris?' }] };

    const first = await anthropic.messages.create(params);
    const sent = bedrock.lastRequest()!.body as { system: unknown; toolConfig: { tools: unknown[] } };
    expect(sent.system).toEqual([{ text: system[0]!.text }, { cachePoint: { type: 'default' } }]);
    expect(sent.toolConfig.tools).toEqual([{ toolSpec: expect.objectContaining({ name: 'get_weather' }) }, { cachePoint: { type: 'default' } }]);
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(first.usage.cache_read_input_tokens).toBe(0);

    // Streamed, so that the response cache does not answer it: Bedrock reads what the first call wrote.
    const second = await anthropic.messages.stream(params).finalMessage();
    const written = first.usage.cache_creation_input_tokens!;
    expect(second.usage).toMatchObject({ cache_read_input_tokens: written, cache_creation_input_tokens: 0, input_tokens: first.usage.input_tokens });

    const [row] = await gateway.usage({ groupBy: 'app', app: 'cache-app', model: 'anthropic.claude-haiku-4-5-20251001-v1:0' });
    expect(row).toMatchObject({ calls: 2, cachedTokens: written, inputTokens: 2 * (first.usage.input_tokens + written) });
  });

  it("prices a Bedrock Claude call's cache writes at the model's write prices, 5-minute and 1-hour ones, in its cost header and usage row", async () => {
    const writerKey = await gateway.createApp({ name: 'cache-writer', team: 'cache-team' });
    const writer = new Anthropic({ baseURL: gateway.proxyUrl, apiKey: writerKey, maxRetries: 0 });
    const write = async (ttl: '5m' | '1h') => {
      const system = [{ type: 'text' as const, text: `A stable instruction, written to the cache for ${ttl}.`, cache_control: { type: 'ephemeral' as const, ttl } }];
      const { data, response } = await writer.messages.create({ model: 'bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0', max_tokens: 100, system, messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
      expect(bedrock.lastRequest()!.body).toMatchObject({ system: [{ text: system[0]!.text }, { cachePoint: { type: 'default', ttl } }] });
      expect(data.usage.cache_creation_input_tokens).toBeGreaterThan(0);
      return { usage: data.usage, cost: Number(response.headers.get('x-keygate-cost-usd')) };
    };
    // Claude Sonnet 4.5 on Bedrock: $3 input, $15 output; $3.75 per million written for 5 minutes, $6 for an hour.
    const fiveMinute = await write('5m');
    const { input_tokens: input5m, cache_creation_input_tokens: written5m, output_tokens: output5m } = fiveMinute.usage;
    expect(fiveMinute.cost).toBeCloseTo((input5m * 3 + written5m! * 3.75 + output5m * 15) / 1e6, 9);
    const oneHour = await write('1h');
    const { input_tokens: input1h, cache_creation_input_tokens: written1h, output_tokens: output1h } = oneHour.usage;
    expect(oneHour.cost).toBeCloseTo((input1h * 3 + written1h! * 6 + output1h * 15) / 1e6, 9);

    const [row] = await gateway.usage({ groupBy: 'app', app: 'cache-writer' });
    expect(row).toMatchObject({ calls: 2, cachedTokens: 0, inputTokens: input5m + written5m! + input1h + written1h! });
    expect(row!.costUsd).toBeCloseTo(fiveMinute.cost + oneHour.cost, 9);
  });

  it("tells an Anthropic client a Bedrock Claude's cache writes by the lifetime Converse reported them for (cache_creation), streamed and not", async () => {
    const ask = (text: string) => ({ model: 'bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0', max_tokens: 100, system: [{ type: 'text' as const, text, cache_control: { type: 'ephemeral' as const, ttl: '1h' as const } }], messages: [{ role: 'user' as const, content: 'Hello' }] });
    const whole = await anthropic.messages.create(ask('An instruction kept for an hour, asked whole.'));
    expect(whole.usage.cache_creation).toEqual({ ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: whole.usage.cache_creation_input_tokens });
    // Converse counts a stream's tokens at its end: the split comes with message_delta's usage.
    const streamed = await gateway.call('POST', '/v1/messages', apiKey, { ...ask('An instruction kept for an hour, asked in a stream.'), stream: true });
    const delta = streamed.text.split('\n\n').filter((event) => event.includes('data: ')).map((event) => event.slice(event.indexOf('data: ') + 6)).map((data) => JSON.parse(data) as { type: string; usage?: { cache_creation_input_tokens: number; cache_creation?: unknown } }).find((event) => event.type === 'message_delta')!;
    expect(delta.usage!.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(delta.usage!.cache_creation).toEqual({ ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: delta.usage!.cache_creation_input_tokens });
  });

  it("sends an OpenAI-format client's breakpoints on parts, messages and tools to Anthropic as cache_control, and none to OpenAI", async () => {
    const body = (model: string) =>
      asOpenAI({
        model,
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Be brief.', cache_control: EPHEMERAL }] },
          { role: 'user', content: 'Use get_weather for Paris.', cache_control: { type: 'ephemeral', ttl: '1h' } },
        ],
        tools: [{ ...WEATHER_TOOL, cache_control: EPHEMERAL }],
        cache_control: EPHEMERAL,
      });
    const completion = await openai.chat.completions.create(body('anthropic/claude-sonnet-4-6'));
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    const sent = emulators.anthropic.lastRequest()!.body;
    // The request's own: Anthropic's automatic caching.
    expect(sent.cache_control).toEqual(EPHEMERAL);

    // A breakpoint on a tool call of an assistant turn the client sends back: on its tool_use block.
    const call = { id: 'toolu_weather', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' }, cache_control: EPHEMERAL };
    const turns = (model: string) =>
      asOpenAI({
        model,
        messages: [
          { role: 'user', content: 'Use get_weather for Paris.' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: 'toolu_weather', content: '18°C' },
        ],
        tools: [WEATHER_TOOL],
      });
    await openai.chat.completions.create(turns('anthropic/claude-sonnet-4-6'));
    expect(emulators.anthropic.lastRequest()!.body.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_weather', name: 'get_weather', input: { city: 'Paris' }, cache_control: EPHEMERAL }] });
    await openai.chat.completions.create(turns('openai/gpt-4o-mini'));
    expect(JSON.stringify(emulators.openai.lastRequest()!.body)).not.toContain('cache_control');
    expect(sent.system).toEqual([{ type: 'text', text: 'Be brief.', cache_control: EPHEMERAL }]);
    expect(sent.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Use get_weather for Paris.', cache_control: { type: 'ephemeral', ttl: '1h' } }] }]);
    expect(sent.tools).toEqual([expect.objectContaining({ name: 'get_weather', cache_control: EPHEMERAL })]);

    // OpenAI refuses members it does not know: its emulator as well.
    const answered = await openai.chat.completions.create(body('openai/gpt-4o-mini'));
    expect(answered.choices[0]?.finish_reason).toBe('tool_calls');
    expect(JSON.stringify(emulators.openai.lastRequest()!.body)).not.toContain('cache_control');
  });

  it("refuses a cache_control that is not Anthropic's with OpenAI's 400 naming it, before any provider is called", async () => {
    const before = emulators.anthropic.lastRequest();
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'anthropic/claude-sonnet-4-6', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi', cache_control: { type: 'persistent' } }] }] });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages[0].content[0].cache_control' });
    expect(emulators.anthropic.lastRequest()).toBe(before);
  });

  it('answers a request from the response cache only when its breakpoints are the same, since they change the usage it reports', async () => {
    const plain = { model: BEDROCK_CLAUDE, messages: [{ role: 'user', content: [{ type: 'text', text: 'A question asked twice, about Lisbon.' }] }] };
    const marked = { model: BEDROCK_CLAUDE, messages: [{ role: 'user', content: [{ type: 'text', text: 'A question asked twice, about Lisbon.', cache_control: EPHEMERAL }] }] };
    const first = await gateway.chat<{ usage: Record<string, unknown> }>(apiKey, plain);
    expect(first.headers.get('x-keygate-cache')).toBeNull();
    const withBreakpoint = await gateway.chat<{ usage: { prompt_tokens: number } }>(apiKey, marked);
    expect(withBreakpoint.headers.get('x-keygate-cache')).toBeNull();
    expect(withBreakpoint.body.usage.prompt_tokens).toBeGreaterThan(first.body.usage.prompt_tokens as number);
    const again = await gateway.chat<{ usage: unknown }>(apiKey, marked);
    expect(again.headers.get('x-keygate-cache')).toBe('hit');
    expect(again.body.usage).toEqual(withBreakpoint.body.usage);
  });
});
