import Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, CLAUDE_TOOL, configureThreeProviders, SMART_AND_FAST, startProviderEmulators, WEATHER_TOOL, type ProviderEmulators } from './ai-fixtures.js';

/**
 * `parallel_tool_calls: false` (Anthropic's `disable_parallel_tool_use`) routed to Gemini, which has no such setting
 * and answers the emulator's prompt naming two tools with two calls: the client gets one.
 */
describe('one tool call at a time, from a provider without the setting', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let openai: OpenAI;
  let claude: Anthropic;
  const ASK = 'Use get_weather and get_time.';
  const TIME_TOOL = { type: 'function' as const, function: { name: 'get_time', description: 'The time in a zone', parameters: { type: 'object', properties: { zone: { type: 'string' } } } } };
  const request = { model: 'fast', messages: [{ role: 'user' as const, content: ASK }], tools: [WEATHER_TOOL, TIME_TOOL] };

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, { aliases: SMART_AND_FAST });
    const apiKey = await gateway.createApp({ name: 'one-call-app', team: 'one-call-team' });
    openai = gateway.openai(apiKey);
    claude = new Anthropic({ baseURL: gateway.proxyUrl, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it('answers with every call the model made when the client allows several', async () => {
    const answer = await openai.chat.completions.create(request);
    expect(answer.choices[0]!.message.tool_calls!.map((call) => call.type === 'function' && call.function.name)).toEqual(['get_weather', 'get_time']);
  });

  it('answers with the first call only when the client allows one, streamed or not, its tokens counting both', async () => {
    const answer = await openai.chat.completions.create({ ...request, parallel_tool_calls: false });
    expect(answer.choices[0]!.message.tool_calls!.map((call) => call.type === 'function' && call.function.name)).toEqual(['get_weather']);
    expect(answer.choices[0]!.finish_reason).toBe('tool_calls');
    const all = await openai.chat.completions.create(request);
    expect(answer.usage!.completion_tokens).toBe(all.usage!.completion_tokens);

    const streamed = await openai.chat.completions.stream({ ...request, parallel_tool_calls: false }).finalChatCompletion();
    expect(streamed.choices[0]!.message.tool_calls!.map((call) => call.type === 'function' && call.function.name)).toEqual(['get_weather']);
    expect(streamed.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it("holds Anthropic's disable_parallel_tool_use the same way, streamed or not", async () => {
    const ask = {
      model: 'fast',
      max_tokens: 200,
      messages: [{ role: 'user' as const, content: ASK }],
      tools: [CLAUDE_TOOL, { name: 'get_time', input_schema: { type: 'object' as const, properties: { zone: { type: 'string' } } } }],
      tool_choice: { type: 'auto' as const, disable_parallel_tool_use: true },
    };
    for (const message of [await claude.messages.create(ask), await claude.messages.stream(ask).finalMessage()]) {
      expect(message.content.filter((block) => block.type === 'tool_use').map((block) => block.type === 'tool_use' && block.name)).toEqual(['get_weather']);
      expect(message.stop_reason).toBe('tool_use');
    }
  });
});
