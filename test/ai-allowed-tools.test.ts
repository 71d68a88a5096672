import type OpenAI from 'openai';
import type { ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import type { FunctionTool, ResponseCustomToolCall, ResponseFunctionToolCall, Tool, ToolChoiceAllowed } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, configureThreeProviders, startProviderEmulators, WEATHER_TOOL, type OpenAIErrorBody, type ProviderEmulators, SMART_AND_FAST } from './ai-fixtures.js';

/**
 * OpenAI's `allowed_tools` tool choice (https://platform.openai.com/docs/guides/function-calling#allowed-tools): a
 * client sends all its tools every turn and names the few the model may call now. OpenAI takes it as it is; every
 * provider that has no such choice is sent only the tools it allows, and the mode as its tool choice.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TIME_TOOL = { type: 'function', function: { name: 'get_time', description: 'The time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } } as const;
const PATCH_TOOL = { type: 'custom', custom: { name: 'apply_patch', description: 'Edits files with a patch.' } } as const;
const TOOLS = [WEATHER_TOOL, TIME_TOOL, PATCH_TOOL] as unknown as ChatCompletionTool[];

/** An allowed_tools choice as Chat Completions takes it. */
const allowed = (mode: 'auto' | 'required', ...tools: Array<{ type: 'function'; function: { name: string } } | { type: 'custom'; custom: { name: string } }>) =>
  ({ type: 'allowed_tools', allowed_tools: { mode, tools } }) as unknown as ChatCompletionToolChoiceOption;
const fn = (name: string) => ({ type: 'function' as const, function: { name } });

describe('allowed_tools through the gateway', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let apiKey: string;
  let client: OpenAI;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      aliases: SMART_AND_FAST,
    });
    apiKey = await gateway.createApp({ name: 'allowed-tools-app', team: 'allowed-tools-team' });
    client = gateway.openai(apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  const lastSent = (provider: 'openai' | 'anthropic' | 'gemini'): Json => emulators[provider].lastRequest()!.body as Json;

  it('sends Claude only the allowed tool, its use required, and answers the call of it', async () => {
    // The question names another tool, which the emulator's model would call were it offered.
    const completion = await client.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'Use get_weather for Paris.' }], tools: TOOLS, tool_choice: allowed('required', fn('get_time')) });
    const sent = lastSent('anthropic');
    expect(sent.tools.map((tool: Json) => tool.name)).toEqual(['get_time']);
    expect(sent.tool_choice).toEqual({ type: 'any' });
    const calls = completion.choices[0]!.message.tool_calls!;
    expect(calls.map((call) => (call.type === 'function' ? call.function.name : call.custom.name))).toEqual(['get_time']);
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
  });

  it('sends Gemini an allowed custom tool as the function it goes as, in auto mode, and answers its call as a custom call', async () => {
    const completion = await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'Fix the typo in apply_patch' }], tools: TOOLS, tool_choice: allowed('auto', { type: 'custom', custom: { name: 'apply_patch' } }) });
    const sent = lastSent('gemini');
    expect(sent.tools.flatMap((tool: Json) => tool.functionDeclarations.map((declaration: Json) => declaration.name))).toEqual(['apply_patch']);
    expect(sent.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(call.type).toBe('custom');
  });

  it('keeps the order of the tools as the client sent them, whatever the order of the allowed list', async () => {
    await client.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'Use get_time for Paris.' }], tools: TOOLS, tool_choice: allowed('auto', fn('get_time'), fn('get_weather')) });
    expect(lastSent('anthropic').tools.map((tool: Json) => tool.name)).toEqual(['get_weather', 'get_time']);
    expect(lastSent('anthropic').tool_choice).toEqual({ type: 'auto' });
  });

  it('passes the choice and every tool to OpenAI as they are', async () => {
    const choice = allowed('required', fn('get_time'));
    const completion = await client.chat.completions.create({ model: 'openai/gpt-5-mini', messages: [{ role: 'user', content: 'Use get_time for Paris.' }], tools: TOOLS, tool_choice: choice });
    expect(completion.choices[0]!.message.tool_calls).toHaveLength(1);
    const sent = lastSent('openai');
    expect(sent.tool_choice).toEqual(choice);
    expect(sent.tools).toEqual(TOOLS);
  });

  it('refuses an allowed tool that is not among the tools with 400 invalid_value naming it, before any provider is called', async () => {
    const before = emulators.anthropic.lastRequest();
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'smart', messages: [{ role: 'user', content: 'Hi' }], tools: TOOLS, tool_choice: allowed('auto', fn('get_time'), fn('get_stock')) });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param: 'tool_choice.allowed_tools.tools[1]' });
    expect(refused.body.error.message).toContain("'get_stock'");
    // A custom tool named as a function is not that tool either.
    const wrongKind = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'smart', messages: [{ role: 'user', content: 'Hi' }], tools: TOOLS, tool_choice: allowed('auto', fn('apply_patch')) });
    expect(wrongKind.body.error).toMatchObject({ code: 'invalid_value', param: 'tool_choice.allowed_tools.tools[0]' });
    expect(emulators.anthropic.lastRequest()).toBe(before);
    // The same answer whatever the provider: OpenAI, which takes the choice as it is, is not called either.
    const toOpenAI = emulators.openai.lastRequest();
    const refusedForOpenAI = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'openai/gpt-5-mini', messages: [{ role: 'user', content: 'Hi' }], tools: TOOLS, tool_choice: allowed('auto', fn('get_stock')) });
    expect(refusedForOpenAI.body.error).toMatchObject({ code: 'invalid_value', param: 'tool_choice.allowed_tools.tools[0]' });
    expect(emulators.openai.lastRequest()).toBe(toOpenAI);
  });

  describe('on /v1/responses', () => {
    const RESPONSES_TOOLS: Tool[] = [
      { type: 'function', name: 'get_weather', parameters: WEATHER_TOOL.function.parameters, strict: null } as FunctionTool,
      { type: 'function', name: 'get_time', parameters: TIME_TOOL.function.parameters, strict: null } as FunctionTool,
      { type: 'custom', name: 'apply_patch', description: 'Edits files with a patch.' },
    ];

    it('sends Claude only the allowed tools and echoes the choice as the client gave it', async () => {
      const choice: ToolChoiceAllowed = { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'get_time' }] };
      const response = await client.responses.create({ model: 'smart', input: 'Use get_weather for Paris.', tools: RESPONSES_TOOLS, tool_choice: choice });
      expect(response.tool_choice).toEqual(choice);
      expect(lastSent('anthropic').tools.map((tool: Json) => tool.name)).toEqual(['get_time']);
      expect(lastSent('anthropic').tool_choice).toEqual({ type: 'any' });
      const call = response.output.find((item): item is ResponseFunctionToolCall => item.type === 'function_call')!;
      expect(call.name).toBe('get_time');
      // Kept with the Response, as the client gave it.
      expect((await client.responses.retrieve(response.id)).tool_choice).toEqual(choice);
    });

    it('sends an allowed custom tool to Gemini and answers its call as a custom_tool_call item', async () => {
      const response = await client.responses.create({ model: 'fast', input: 'Fix the typo in apply_patch', tools: RESPONSES_TOOLS, tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'custom', name: 'apply_patch' }] } });
      expect(lastSent('gemini').tools.flatMap((tool: Json) => tool.functionDeclarations.map((declaration: Json) => declaration.name))).toEqual(['apply_patch']);
      expect(response.output.find((item): item is ResponseCustomToolCall => item.type === 'custom_tool_call')?.name).toBe('apply_patch');
    });

    it('passes the choice to OpenAI in Chat Completions\' form', async () => {
      await client.responses.create({ model: 'openai/gpt-5-mini', input: 'Use get_time for Paris.', tools: RESPONSES_TOOLS, tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_time' }, { type: 'custom', name: 'apply_patch' }] } });
      expect(lastSent('openai').tool_choice).toEqual({ type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [fn('get_time'), { type: 'custom', custom: { name: 'apply_patch' } }] } });
    });

    it('refuses a tool that is not among the tools with 400 invalid_value naming it as the client wrote it, whatever the provider', async () => {
      for (const model of ['smart', 'openai/gpt-5-mini']) {
        const refused = await gateway.call<{ error: Json }>('POST', '/v1/responses', apiKey, { model, input: 'Hi', tools: RESPONSES_TOOLS, tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_time' }, { type: 'function', name: 'apply_patch' }] } });
        expect(refused.status).toBe(400);
        expect(refused.body.error).toMatchObject({ code: 'invalid_value', param: 'tool_choice.tools[1]' });
      }
    });

    it("refuses a named tool choice that is not among the tools with OpenAI's 400, before any provider is called", async () => {
      const before = emulators.anthropic.lastRequest();
      for (const tool_choice of [{ type: 'function', name: 'get_stock' }, { type: 'function', name: 'apply_patch' }, { type: 'custom', name: 'get_time' }]) {
        const refused = await gateway.call<{ error: Json }>('POST', '/v1/responses', apiKey, { model: 'smart', input: 'Hi', tools: RESPONSES_TOOLS, tool_choice });
        expect(refused.status).toBe(400);
        expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'tool_choice', message: `Tool choice '${tool_choice.name}' not found in 'tools' parameter.` });
      }
      expect(emulators.anthropic.lastRequest()).toBe(before);
    });

    it('refuses a built-in tool in the list with 400 unsupported_value naming it', async () => {
      const refused = await gateway.call<{ error: Json }>('POST', '/v1/responses', apiKey, { model: 'smart', input: 'Hi', tools: RESPONSES_TOOLS, tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'image_generation' }] } });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'unsupported_value', param: 'tool_choice.tools[0]' });
    });
  });
});
