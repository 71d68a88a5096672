import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Response, ResponseCustomToolCall, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customCallOf, collect, AiGateway, configureThreeProviders, startProviderEmulators, type ProviderEmulators, SMART_AND_FAST } from './ai-fixtures.js';

/**
 * OpenAI's custom tools (free-text input, as Codex's `apply_patch`) through the gateway, as the official `openai`
 * client calls them: native to an OpenAI upstream, translated to a function of one string for Anthropic and Gemini,
 * on `/v1/responses` and `/v1/chat/completions` alike.
 */

/** A model name as a client writes it, the provider it must reach, and the input its emulator's model writes. */
const MODELS: Array<[model: string, provider: 'openai' | 'anthropic' | 'gemini', input: string]> = [
  ['openai/gpt-5-mini', 'openai', '*** apply_patch\nFix the typo in apply_patch'],
  ['smart', 'anthropic', 'Paris'],
  ['fast', 'gemini', 'Paris'],
];

/** Codex's `apply_patch` as a Responses API custom tool, its grammar cut short. */
const PATCH_TOOL = { type: 'custom' as const, name: 'apply_patch', description: 'Edits files with a patch.', format: { type: 'grammar' as const, syntax: 'lark' as const, definition: 'start: begin_patch hunk+ end_patch' } };
const QUESTION = 'Fix the typo in apply_patch';


type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The custom call a provider was sent back in a tool loop's second turn, read from its own request: OpenAI's
 * assistant tool call as it is; Anthropic's `tool_use` block and Gemini's `functionCall` part as name and arguments.
 */
function callSentBack(provider: 'openai' | 'anthropic' | 'gemini', body: Json): unknown {
  if (provider === 'openai') {
    const { id: _id, ...call } = body.messages.find((m: Json) => m.role === 'assistant').tool_calls[0];
    return call;
  }
  if (provider === 'anthropic') {
    const block = body.messages.find((m: Json) => m.role === 'assistant').content.find((b: Json) => b.type === 'tool_use');
    return { name: block.name, arguments: block.input };
  }
  const part = body.contents.find((c: Json) => c.role === 'model').parts.find((p: Json) => p.functionCall);
  return { name: part.functionCall.name, arguments: part.functionCall.args };
}

describe('custom tools through the gateway', () => {
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
    apiKey = await gateway.createApp({ name: 'custom-tools-app', team: 'custom-tools-team' });
    client = gateway.openai(apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  describe('on /v1/responses', () => {
    it.each(MODELS)('answers a call of a custom tool with %s (%s) as a custom_tool_call item', async (model, provider, input) => {
      const response = await client.responses.create({ model, input: QUESTION, tools: [PATCH_TOOL] });
      expect(response.status).toBe('completed');
      expect(customCallOf(response)).toEqual({ type: 'custom_tool_call', id: expect.stringMatching(/^ctc_[0-9a-f]{32}$/), call_id: expect.any(String), name: 'apply_patch', input, status: 'completed' });
      expect(response.tools).toEqual([PATCH_TOOL]);
      const sent = emulators[provider].lastRequest()!.body as Record<string, unknown>;
      if (provider === 'openai') expect(sent.tools).toEqual([{ type: 'custom', custom: { name: 'apply_patch', description: 'Edits files with a patch.', format: { type: 'grammar', grammar: { syntax: 'lark', definition: 'start: begin_patch hunk+ end_patch' } } } }]);
      else expect(JSON.stringify(sent.tools)).toContain('follows this Lark grammar exactly:\\nstart: begin_patch hunk+ end_patch');
    });

    it.each(MODELS)('streams a call of a custom tool with %s (%s) as custom_tool_call_input events the SDK puts together', async (model, _provider, input) => {
      const stream = client.responses.stream({ model, input: QUESTION, tools: [PATCH_TOOL] });
      const events = await collect<ResponseStreamEvent>(stream);
      const final = await stream.finalResponse();
      const call = customCallOf(final);
      expect(call).toMatchObject({ id: expect.stringMatching(/^ctc_/), name: 'apply_patch', input, status: 'completed' });
      const own = events.filter((event) => 'item_id' in event && event.item_id === call.id).map((event) => event.type);
      expect(own[0]).toBe('response.custom_tool_call_input.delta');
      expect(own.slice(-1)).toEqual(['response.custom_tool_call_input.done']);
      const deltas = events.flatMap((event) => (event.type === 'response.custom_tool_call_input.delta' ? [event.delta] : []));
      expect(deltas.join('')).toBe(input);
      const added = events.find((event) => event.type === 'response.output_item.added' && event.item.type === 'custom_tool_call');
      expect(added).toMatchObject({ item: { type: 'custom_tool_call', id: call.id, input: '', status: 'in_progress' } });
      expect(events.at(-1)).toMatchObject({ type: 'response.completed' });
    });

    it.each(MODELS)('goes round a tool loop with %s (%s), the custom call and its output sent back in input', async (model, provider) => {
      const first = await client.responses.create({ model, input: QUESTION, tools: [PATCH_TOOL], store: false });
      const call = customCallOf(first);
      const input: ResponseInputItem[] = [{ role: 'user', content: QUESTION }, ...(first.output as ResponseInputItem[]), { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Patched.' }];
      const second = await client.responses.create({ model, input, tools: [PATCH_TOOL], store: false });
      expect(second.output_text).toContain('Patched.');
      // The call went back in the provider's own form: native to OpenAI, as the function it was sent as to the others.
      expect(callSentBack(provider, emulators[provider].lastRequest()!.body as Json)).toEqual(
        provider === 'openai' ? { type: 'custom', custom: { name: 'apply_patch', input: call.input } } : { name: 'apply_patch', arguments: { input: call.input } },
      );
    });

    it.each(MODELS)('goes round a tool loop with %s (%s) by previous_response_id, and lists the custom items among its input items', async (model) => {
      const first = await client.responses.create({ model, input: QUESTION, tools: [PATCH_TOOL] });
      const call = customCallOf(first);
      const second = await client.responses.create({ model, previous_response_id: first.id, input: [{ type: 'custom_tool_call_output', call_id: call.call_id, output: 'Patched.' }], tools: [PATCH_TOOL] });
      expect(second.output_text).toContain('Patched.');
      const items = (await client.responses.inputItems.list(second.id, { order: 'asc' })).data as unknown as Array<Record<string, unknown>>;
      expect(items.find((item) => item.type === 'custom_tool_call')).toEqual(call);
      expect(items.at(-1)).toEqual({ id: expect.stringMatching(/^ctco_[0-9a-f]{32}$/), type: 'custom_tool_call_output', call_id: call.call_id, output: 'Patched.', status: 'completed' });
      expect(customCallOf(await client.responses.retrieve(first.id))).toEqual(call);
    });

    it('forces a custom tool with tool_choice {"type": "custom"}, sent to Gemini as its function', async () => {
      const response = await client.responses.create({ model: 'fast', input: 'Hello', tools: [{ type: 'function', name: 'get_time', parameters: { type: 'object', properties: {} }, strict: false }, PATCH_TOOL], tool_choice: { type: 'custom', name: 'apply_patch' } });
      expect(customCallOf(response).name).toBe('apply_patch');
      expect(response.tool_choice).toEqual({ type: 'custom', name: 'apply_patch' });
      expect((emulators.gemini.lastRequest()!.body as { toolConfig: unknown }).toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['apply_patch'] } });
    });

    it('refuses a function tool and a custom tool of one name with a 400 naming the later tool', async () => {
      const error = await client.responses.create({ model: 'smart', input: 'Hi', tools: [{ type: 'function', name: 'apply_patch', parameters: null, strict: false }, PATCH_TOOL] }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param: 'tools[1]' });
    });
  });

  describe('several calls in one answer', () => {
    /** A second custom tool, of plain text. */
    const NOTE_TOOL = { type: 'custom' as const, name: 'write_note', description: 'Writes a note.' };
    const WEATHER = { type: 'function' as const, name: 'get_weather', description: 'The current weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };
    const tools = [PATCH_TOOL, WEATHER, NOTE_TOOL];
    /** What each emulator's model calls for a question naming tools: each tool it names, in the tools' order. */
    const ASKS: Array<[question: string, calls: Array<{ type: string; name: string; input?: string; arguments?: string }>]> = [
      ['Use apply_patch and write_note.', [{ type: 'custom_tool_call', name: 'apply_patch', input: 'Paris' }, { type: 'custom_tool_call', name: 'write_note', input: 'Paris' }]],
      ['Use apply_patch and get_weather.', [{ type: 'custom_tool_call', name: 'apply_patch', input: 'Paris' }, { type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}' }]],
    ];
    const callsOf = (response: Response) => response.output.filter((item) => item.type === 'custom_tool_call' || item.type === 'function_call');

    describe.each([
      ['smart', 'anthropic'],
      ['fast', 'gemini'],
    ])('with %s (%s)', (model) => {
      it.each(ASKS)('answers "%s" with each call as its own item', async (question, calls) => {
        const response = await client.responses.create({ model, input: question, tools, store: false });
        const items = callsOf(response);
        expect(items).toEqual(calls.map((call) => ({ ...call, id: expect.any(String), call_id: expect.any(String), status: 'completed' })));
        expect(new Set(items.map((item) => item.id)).size).toBe(items.length);
        expect(new Set(items.map((item) => item.call_id)).size).toBe(items.length);
      });

      it.each(ASKS)('streams "%s" with each call as its own item, its input or arguments streamed to it alone', async (question, calls) => {
        const stream = client.responses.stream({ model, input: question, tools, store: false });
        const events = await collect<ResponseStreamEvent>(stream);
        const items = callsOf(await stream.finalResponse());
        // The SDK's final response gives a function call its own parsed_arguments as well.
        expect(items).toMatchObject(calls.map((call) => ({ ...call, id: expect.any(String), call_id: expect.any(String), status: 'completed' })));
        for (const item of items) {
          const own = events.filter((event) => 'item_id' in event && event.item_id === item.id);
          const pieces = own.flatMap((event) => (event.type === 'response.custom_tool_call_input.delta' || event.type === 'response.function_call_arguments.delta' ? [event.delta] : []));
          expect(pieces.join('')).toBe(item.type === 'custom_tool_call' ? item.input : item.arguments);
          expect(own.at(-1)?.type).toBe(item.type === 'custom_tool_call' ? 'response.custom_tool_call_input.done' : 'response.function_call_arguments.done');
        }
      });

      it('goes round a tool loop with two custom calls, each output answering its own call', async () => {
        const first = await client.responses.create({ model, input: ASKS[0]![0], tools, store: false });
        const calls = callsOf(first) as ResponseCustomToolCall[];
        const outputs: ResponseInputItem[] = calls.map((call) => ({ type: 'custom_tool_call_output', call_id: call.call_id, output: `Done: ${call.name}.` }));
        const second = await client.responses.create({ model, input: [{ role: 'user', content: ASKS[0]![0] }, ...(first.output as ResponseInputItem[]), ...outputs], tools, store: false });
        expect(second.output_text).toContain('Done: apply_patch.');
        expect(second.output_text).toContain('Done: write_note.');
      });
    });

    it('streams a custom call and a function call on /v1/chat/completions, each at its own index in its own shape', async () => {
      const chatTools = [{ type: 'custom' as const, custom: { name: 'apply_patch', description: 'Edits files with a patch.' } }, { type: 'function' as const, function: { name: 'get_weather', parameters: WEATHER.parameters } }];
      const chunks = await collect<ChatCompletionChunk>(await client.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'Use apply_patch and get_weather.' }], tools: chatTools, stream: true }));
      const deltas = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => (choice.delta.tool_calls ?? []) as unknown as Array<{ index: number; type?: string; custom?: { name?: string; input?: string }; function?: { name?: string; arguments?: string } }>));
      const at = (index: number) => deltas.filter((delta) => delta.index === index);
      expect(at(0)[0]).toMatchObject({ type: 'custom', custom: { name: 'apply_patch' } });
      expect(at(0).every((delta) => delta.custom !== undefined && delta.function === undefined)).toBe(true);
      expect(at(0).map((delta) => delta.custom!.input ?? '').join('')).toBe('Paris');
      expect(at(1)[0]).toMatchObject({ type: 'function', function: { name: 'get_weather' } });
      expect(at(1).every((delta) => delta.function !== undefined && delta.custom === undefined)).toBe(true);
      expect(JSON.parse(at(1).map((delta) => delta.function!.arguments ?? '').join(''))).toEqual({ city: 'Paris' });
    });
  });

  describe('on /v1/chat/completions', () => {
    const patchTool = { type: 'custom' as const, custom: { name: 'apply_patch', description: 'Edits files with a patch.' } };

    it.each([
      ['smart', 'anthropic'],
      ['fast', 'gemini'],
    ])('answers %s (%s) with a custom call, and takes it back in the next turn', async (model) => {
      const messages = [{ role: 'user' as const, content: QUESTION }];
      const first = await client.chat.completions.create({ model, messages, tools: [patchTool] });
      const call = first.choices[0]!.message.tool_calls!.find((c) => c.type === 'custom')!;
      expect(call).toEqual({ id: expect.any(String), type: 'custom', custom: { name: 'apply_patch', input: 'Paris' } });
      expect(first.choices[0]!.finish_reason).toBe('tool_calls');
      const second = await client.chat.completions.create({ model, messages: [...messages, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'Patched.' }], tools: [patchTool] });
      expect(second.choices[0]!.message.content).toContain('Patched.');
    });

    it.each([
      ['smart', 'anthropic'],
      ['fast', 'gemini'],
    ])('streams a custom call from %s (%s) as custom deltas whose input adds up to the text', async (model) => {
      const chunks = await collect<ChatCompletionChunk>(await client.chat.completions.create({ model, messages: [{ role: 'user', content: QUESTION }], tools: [patchTool], stream: true }));
      const deltas = chunks.flatMap((chunk) => chunk.choices.flatMap((choice) => (choice.delta.tool_calls ?? []) as unknown as Array<{ type?: string; custom?: { name?: string; input?: string } }>));
      expect(deltas[0]).toMatchObject({ type: 'custom', custom: { name: 'apply_patch' } });
      expect(deltas.every((delta) => delta.custom !== undefined && !('function' in delta))).toBe(true);
      expect(deltas.map((delta) => delta.custom!.input ?? '').join('')).toBe('Paris');
      expect(chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.finish_reason)).filter(Boolean)).toEqual(['tool_calls']);
    });

    it('refuses a function tool and a custom tool of one name with a 400, whatever the provider', async () => {
      const tools = [{ type: 'function' as const, function: { name: 'apply_patch' } }, patchTool];
      for (const model of ['openai/gpt-5-mini', 'smart']) {
        const { status, body } = await gateway.chat(apiKey, { model, messages: [{ role: 'user', content: 'Hi' }], tools });
        expect(status).toBe(400);
        expect(body).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_value', param: 'tools[1]' } });
      }
    });
    it.each([
      ['without its custom member', { type: 'custom' }, 'tools[0].custom'],
      ['without a name', { type: 'custom', custom: { description: 'Edits files.' } }, 'tools[0].custom.name'],
      ['with a format of no known type', { type: 'custom', custom: { name: 'apply_patch', format: { type: 'json' } } }, 'tools[0].custom.format.type'],
      ['with a grammar of no known syntax', { type: 'custom', custom: { name: 'apply_patch', format: { type: 'grammar', grammar: { syntax: 'ebnf', definition: 'start: x' } } } }, 'tools[0].custom.format.grammar.syntax'],
      ['with a grammar without its definition', { type: 'custom', custom: { name: 'apply_patch', format: { type: 'grammar', grammar: { syntax: 'lark' } } } }, 'tools[0].custom.format.grammar.definition'],
    ])('refuses a custom tool %s with a 400 naming the member, whatever the provider', async (_case, tool, param) => {
      for (const model of ['openai/gpt-5-mini', 'smart']) {
        const { status, body } = await gateway.chat(apiKey, { model, messages: [{ role: 'user', content: 'Hi' }], tools: [tool] });
        expect(status).toBe(400);
        expect(body).toMatchObject({ error: { type: 'invalid_request_error', param } });
      }
    });

    it('refuses a custom call in the history without an id, which its output could not name', async () => {
      const messages = [
        { role: 'user', content: QUESTION },
        { role: 'assistant', content: null, tool_calls: [{ type: 'custom', custom: { name: 'apply_patch', input: 'Paris' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'Patched.' },
      ];
      const { status, body } = await gateway.chat(apiKey, { model: 'smart', messages, tools: [patchTool] });
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: { type: 'invalid_request_error', param: 'messages[1].tool_calls[0].id' } });
    });
  });

  describe('a malformed custom tool or call on /v1/responses', () => {
    it.each([
      ['a name with a space', { input: 'Hi', tools: [{ ...PATCH_TOOL, name: 'apply patch' }] }, 'tools[0].name'],
      ['an empty name', { input: 'Hi', tools: [{ ...PATCH_TOOL, name: '' }] }, 'tools[0].name'],
      ['an empty grammar', { input: 'Hi', tools: [{ ...PATCH_TOOL, format: { type: 'grammar', syntax: 'lark', definition: '' } }] }, 'tools[0].format.definition'],
      ['a call without its call_id', { input: [{ role: 'user', content: QUESTION }, { type: 'custom_tool_call', call_id: '', name: 'apply_patch', input: 'x' }], tools: [PATCH_TOOL] }, 'input[1].call_id'],
    ])('is refused, %s, with a 400 naming the member, before any provider is called', async (_case, body, param) => {
      const before = emulators.anthropic.lastRequest();
      const { status, body: error } = await gateway.call('POST', '/v1/responses', apiKey, { model: 'smart', ...body });
      expect(status).toBe(400);
      expect(error).toMatchObject({ error: { type: 'invalid_request_error', param } });
      expect(emulators.anthropic.lastRequest()).toBe(before);
    });
  });

  describe("a Responses API request's include", () => {
    it('is refused, for a value OpenAI does not define, with OpenAI’s 400 naming the values it takes', async () => {
      const error = (await client.responses.create({ model: 'smart', input: 'Hi', include: ['usage' as never] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param: 'include[0]' });
      expect((error.error as { message: string }).message).toMatch(/^Invalid value: 'usage'\. Supported values are: 'file_search_call\.results', .*'reasoning\.encrypted_content', and 'message\.output_text\.logprobs'\.$/);
    });

    it('is refused when it is not an array', async () => {
      const { status, body } = await gateway.call('POST', '/v1/responses', apiKey, { model: 'smart', input: 'Hi', include: 'reasoning.encrypted_content' });
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: { type: 'invalid_request_error', code: 'invalid_type', param: 'include' } });
    });

    it('takes values that do not apply through a gateway, and answers as without them', async () => {
      const response = await client.responses.create({ model: 'fast', input: 'Hi', include: ['message.output_text.logprobs', 'web_search_call.action.sources', 'message.input_image.image_url'] });
      expect(response.output_text).toBe('Echo: Hi');
    });
  });
});
