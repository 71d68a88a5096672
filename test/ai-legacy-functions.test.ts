import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, WEATHER_TOOL, configureThreeProviders, startProviderEmulators, type OpenAIErrorBody, type ProviderEmulators } from './ai-fixtures.js';

/** The weather tool as a deprecated `functions` entry. */
const WEATHER_FUNCTION = WEATHER_TOOL.function;
const ASK: ChatCompletionMessageParam = { role: 'user', content: 'What is the weather in Paris? Use get_weather.' };

/**
 * OpenAI's deprecated function calling (`functions`, `function_call`, the `function` role), as the official openai
 * client still sends it, through the gateway to providers that each know only tools: answered in the legacy form.
 */
describe('deprecated function calling through the gateway', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let client: OpenAI;
  let apiKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators);
    apiKey = await gateway.createApp({ name: 'legacy-app', team: 'legacy-team' });
    client = gateway.openai(apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it.each(['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5-20251001', 'gemini/gemini-2.5-flash'])('answers %s with a function_call, and then from the function message with its result', async (model) => {
    const first = await client.chat.completions.create({ model, messages: [ASK], functions: [WEATHER_FUNCTION] });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('function_call');
    expect(choice.message.tool_calls ?? []).toEqual([]);
    expect(choice.message.function_call?.name).toBe('get_weather');
    expect(JSON.parse(choice.message.function_call!.arguments)).toEqual({ city: expect.any(String) });
    const second = await client.chat.completions.create({
      model,
      messages: [ASK, choice.message, { role: 'function', name: 'get_weather', content: '{"celsius":21}' }],
      functions: [WEATHER_FUNCTION],
    });
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expect(second.choices[0]?.message.content).toEqual(expect.any(String));
  });

  it.each(['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5-20251001', 'gemini/gemini-2.5-flash'])('streams %s\'s call as function_call deltas that join into the arguments', async (model) => {
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of await client.chat.completions.create({ model, stream: true, messages: [ASK], functions: [WEATHER_FUNCTION], function_call: { name: 'get_weather' } })) chunks.push(chunk);
    const deltas = chunks.flatMap((c) => (c.choices[0]?.delta.function_call ? [c.choices[0].delta.function_call] : []));
    expect(deltas[0]?.name).toBe('get_weather');
    expect(JSON.parse(deltas.map((d) => d.arguments ?? '').join(''))).toEqual({ city: expect.any(String) });
    expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])).toEqual([]);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'function_call')).toBe(true);
  });

  it('sends OpenAI the tool forms: functions as tools one call at a time, the call and its result matched by id', async () => {
    await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [ASK, { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { role: 'function', name: 'get_weather', content: '{"celsius":21}' }],
      functions: [WEATHER_FUNCTION],
      function_call: 'auto',
    });
    const sent = emulators.openai.lastRequest()!.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty('functions');
    expect(sent).not.toHaveProperty('function_call');
    expect(sent).toMatchObject({ tools: [{ type: 'function', function: WEATHER_FUNCTION }], tool_choice: 'auto' });
    expect(sent).not.toHaveProperty('parallel_tool_calls');
    const [, call, result] = sent.messages as Array<{ tool_calls?: Array<{ id: string }>; tool_call_id?: string; role: string }>;
    expect(result).toMatchObject({ role: 'tool', tool_call_id: call!.tool_calls![0]!.id });
  });

  it('answers a call that offers tools with tool_calls, though its history has function messages', async () => {
    const completion = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [ASK, { role: 'assistant', content: null, function_call: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { role: 'function', name: 'get_weather', content: '{"celsius":21}' }, { role: 'user', content: 'And in Rome? Use get_weather.' }],
      tools: [WEATHER_TOOL],
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(completion.choices[0]?.message.function_call ?? undefined).toBeUndefined();
  });

  it('refuses functions beside tools with 400, naming the parameter', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'openai/gpt-4o-mini', messages: [ASK], functions: [WEATHER_FUNCTION], tools: [WEATHER_TOOL] });
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', param: 'functions' });
  });
});
