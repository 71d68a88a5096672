import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { THOUGHTS_TOKEN_COUNT, THOUGHT_SUMMARY, startGeminiEmulator, type GeminiEmulator } from '../../../../test/emulators/gemini.js';
import type { CatalogModel } from '../../catalog/index.js';
import { OUTPUT_CONFIG, THINKING, type ChatRequest } from '../../chat-types.js';
import { callChat } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { GeminiProvider, SIGNATURE_NOT_KEPT } from './index.js';

const KEY = 'test-gemini-key';
let emulator: GeminiEmulator;
const ctx = (overrides: Partial<CallContext['provider']> = {}, model = 'gemini-2.5-flash'): CallContext => ({
  provider: { name: 'google', type: 'gemini', baseUrl: emulator.url, ...overrides },
  credential: { id: 'key-1', secret: KEY },
  model,
  stream: false,
  now: 1_700_000_000_000,
});
const sent = async (request: Partial<ChatRequest>, context = ctx()) => {
  await callChat(GeminiProvider, { model: 'gemini', messages: [{ role: 'user', content: 'Hi' }], ...request }, context);
  return emulator.lastRequest()!;
};
/** An object schema `levels` deep, each level's one property the next level. */
const deeplyNested = (levels: number): Record<string, unknown> => {
  let schema: Record<string, unknown> = { type: 'string' };
  for (let level = 1; level < levels; level++) schema = { type: 'object', properties: { next: schema }, required: ['next'], additionalProperties: false };
  return schema;
};
const weather: ChatRequest['tools'] = [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } }];

beforeAll(async () => {
  emulator = await startGeminiEmulator({ apiKey: KEY });
});
afterAll(() => emulator.stop());

describe('the Gemini request translation', () => {
  it("sends a conversation of instructions alone (no user turn, or only an empty one) as the user's turn, which Gemini answers", async () => {
    for (const messages of [[{ role: 'system' as const, content: 'Say hello.' }], [{ role: 'developer' as const, content: 'Say hello.' }, { role: 'user' as const, content: '' }]]) {
      const { body } = await sent({ messages });
      expect(body.contents).toEqual([{ role: 'user', parts: [{ text: 'Say hello.' }] }]);
      expect(body.systemInstruction).toBeUndefined();
    }
  });

  it('refuses a conversation whose every message is empty, naming messages, before calling, for the next target to try', async () => {
    const before = emulator.requests().length;
    const failure = await callChat(GeminiProvider, { model: 'gemini', messages: [{ role: 'user', content: '' }] }, ctx()).catch((error: unknown) => error);
    expect((failure as { failure?: unknown }).failure).toMatchObject({ status: 400, param: 'messages', retryable: true });
    expect(emulator.requests().length).toBe(before);
  });

  it('posts to /v1beta/models/{model}:generateContent with the key in x-goog-api-key, not the URL', async () => {
    const request = await sent({});
    expect(request.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(request.headers['x-goog-api-key']).toBe(KEY);
    expect(request.path).not.toContain(KEY);
  });

  it('uses the provider’s apiVersion in the path when it names one', async () => {
    expect((await sent({}, ctx({ apiVersion: 'v1' }))).path).toBe('/v1/models/gemini-2.5-flash:generateContent');
  });

  it('moves system and developer messages to systemInstruction and names the assistant model', async () => {
    const request = await sent({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: 'Use metric units.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi! How can I help?' },
        { role: 'user', content: [{ type: 'text', text: 'How tall is Everest?' }] },
      ],
    });
    expect(request.body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Use metric units.' }] });
    expect(request.body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hello' }] },
      { role: 'model', parts: [{ text: 'Hi! How can I help?' }] },
      { role: 'user', parts: [{ text: 'How tall is Everest?' }] },
    ]);
  });

  it('puts sampling settings in generationConfig under Gemini’s names', async () => {
    const request = await sent({ max_completion_tokens: 300, temperature: 1.5, top_p: 0.9, top_k: 40, stop: ['END'], seed: 42, presence_penalty: 0.1, frequency_penalty: 0.2 });
    expect(request.body.generationConfig).toEqual({ maxOutputTokens: 300, temperature: 1.5, topP: 0.9, topK: 40, stopSequences: ['END'], seed: 42, presencePenalty: 0.1, frequencyPenalty: 0.2 });
  });

  it.each([
    ['none', { thinkingBudget: 0 }],
    ['minimal', { includeThoughts: true, thinkingBudget: 1024 }],
    ['low', { includeThoughts: true, thinkingBudget: 1024 }],
    ['medium', { includeThoughts: true, thinkingBudget: 8192 }],
    ['high', { includeThoughts: true, thinkingBudget: 24576 }],
    ['xhigh', { includeThoughts: true, thinkingBudget: 24576 }],
  ] as const)('sends reasoning_effort %s to Gemini 2.5 as the thinking budget %j', async (effort, thinkingConfig) => {
    expect((await sent({ reasoning_effort: effort })).body.generationConfig).toEqual({ thinkingConfig });
  });

  it.each([
    ['gemini-2.5-flash', { type: 'enabled', budget_tokens: 5000 }, { includeThoughts: true, thinkingBudget: 5000 }],
    ['gemini-2.5-flash', { type: 'enabled', budget_tokens: 31_999 }, { includeThoughts: true, thinkingBudget: 24_576 }],
    ['gemini-2.5-pro', { type: 'enabled', budget_tokens: 31_999 }, { includeThoughts: true, thinkingBudget: 31_999 }],
    ['gemini-2.5-pro', { type: 'enabled', budget_tokens: 64_000 }, { includeThoughts: true, thinkingBudget: 32_768 }],
    ['gemini-2.5-pro', { type: 'enabled', budget_tokens: 100 }, { includeThoughts: true, thinkingBudget: 128 }],
    ['gemini-2.5-flash-lite', { type: 'enabled', budget_tokens: 200 }, { includeThoughts: true, thinkingBudget: 512 }],
    ['gemini-2.5-flash', { type: 'adaptive' }, { includeThoughts: true, thinkingBudget: -1 }],
    ['gemini-2.5-flash', { type: 'disabled' }, { thinkingBudget: 0 }],
    ['gemini-2.5-flash-lite', { type: 'disabled' }, { thinkingBudget: 0 }],
    ['gemini-2.5-pro', { type: 'disabled' }, { thinkingBudget: 128 }],
    ['gemini-3-flash-preview', { type: 'enabled', budget_tokens: 2048 }, { includeThoughts: true, thinkingLevel: 'medium' }],
    ['gemini-3-flash-preview', { type: 'enabled', budget_tokens: 31_999 }, { includeThoughts: true, thinkingLevel: 'high' }],
    ['gemini-3-flash-preview', { type: 'adaptive' }, { includeThoughts: true }],
    ['gemini-3-flash-preview', { type: 'disabled' }, { includeThoughts: false, thinkingLevel: 'minimal' }],
    ['gemini-3-pro-preview', { type: 'enabled', budget_tokens: 1024 }, { includeThoughts: true, thinkingLevel: 'low' }],
  ] as const)('sends %s an Anthropic-format client’s thinking %j as %j', async (model, thinking, thinkingConfig) => {
    expect((await sent({ [THINKING]: { ...thinking } }, ctx({}, model))).body.generationConfig).toEqual({ thinkingConfig });
  });

  it('sends an Anthropic-format client’s effort as the reasoning_effort of that name, when no budget says otherwise', async () => {
    expect((await sent({ [THINKING]: { type: 'adaptive' }, [OUTPUT_CONFIG]: { effort: 'medium' } })).body.generationConfig).toEqual({ thinkingConfig: { includeThoughts: true, thinkingBudget: 8192 } });
    expect((await sent({ [OUTPUT_CONFIG]: { effort: 'max' } }, ctx({}, 'gemini-3-flash-preview'))).body.generationConfig).toEqual({ thinkingConfig: { includeThoughts: true, thinkingLevel: 'high' } });
    expect((await sent({ [THINKING]: { type: 'enabled', budget_tokens: 3000 }, [OUTPUT_CONFIG]: { effort: 'low' } })).body.generationConfig).toEqual({ thinkingConfig: { includeThoughts: true, thinkingBudget: 3000 } });
  });

  it('sends no thinkingConfig for an Anthropic-format client’s thinking to a model the catalog says does not think', async () => {
    const catalogModel: CatalogModel = { id: 'gemini-2.0-flash', provider: 'gemini', kind: 'chat', contextWindow: 1_048_576, maxOutputTokens: 8192, inputPerMillion: 0.1, outputPerMillion: 0.4, cachedInputPerMillion: 0.025, capabilities: ['chat', 'tools', 'streaming'] };
    expect((await sent({ [THINKING]: { type: 'enabled', budget_tokens: 2048 }, max_completion_tokens: 100 }, { ...ctx({}, 'gemini-2.0-flash'), catalogModel })).body.generationConfig).toEqual({ maxOutputTokens: 100 });
  });

  it('sends no thinkingConfig to a model the catalog says does not think (Gemini 2.0 Flash), which would refuse it', async () => {
    const catalogModel: CatalogModel = { id: 'gemini-2.0-flash', provider: 'gemini', kind: 'chat', contextWindow: 1_048_576, maxOutputTokens: 8192, inputPerMillion: 0.1, outputPerMillion: 0.4, cachedInputPerMillion: 0.025, capabilities: ['chat', 'tools', 'streaming'] };
    const request = await sent({ reasoning_effort: 'high', temperature: 0.5 }, { ...ctx({}, 'gemini-2.0-flash'), catalogModel });
    expect(request.body.generationConfig).toEqual({ temperature: 0.5 });
  });

  it('sends reasoning_effort none to Gemini 2.5 Pro, which cannot stop thinking, as its least budget', async () => {
    expect((await sent({ reasoning_effort: 'none' }, ctx({}, 'gemini-2.5-pro'))).body.generationConfig).toEqual({ thinkingConfig: { thinkingBudget: 128 } });
  });

  it.each([
    ['gemini-3-pro-preview', 'none', 'low'],
    ['gemini-3-pro-preview', 'minimal', 'low'],
    ['gemini-3-pro-preview', 'medium', 'high'],
    ['gemini-3-pro-preview', 'low', 'low'],
    ['gemini-3.1-pro-preview', 'minimal', 'low'],
    ['gemini-3.1-pro-preview', 'medium', 'medium'],
  ] as const)('sends %s, a Pro model, the levels it takes: %s as %s', async (model, effort, thinkingLevel) => {
    expect((await sent({ reasoning_effort: effort }, ctx({}, model))).body.generationConfig).toEqual({ thinkingConfig: { includeThoughts: effort !== 'none', thinkingLevel } });
  });

  it.each([
    ['none', { includeThoughts: false, thinkingLevel: 'minimal' }],
    ['minimal', { includeThoughts: true, thinkingLevel: 'minimal' }],
    ['medium', { includeThoughts: true, thinkingLevel: 'medium' }],
    ['xhigh', { includeThoughts: true, thinkingLevel: 'high' }],
  ] as const)('sends reasoning_effort %s to Gemini 3 as the thinking level %j', async (effort, thinkingConfig) => {
    expect((await sent({ reasoning_effort: effort }, ctx({}, 'gemini-3-flash-preview'))).body.generationConfig).toEqual({ thinkingConfig });
  });

  it('returns the thoughts as reasoning_content, and their tokens as reasoning tokens within the completion tokens', async () => {
    const completion = await callChat(GeminiProvider, { model: 'gemini', messages: [{ role: 'user', content: 'Hi' }], reasoning_effort: 'low' }, ctx());
    expect(completion.choices[0]?.message).toEqual({ role: 'assistant', content: 'Echo: Hi', reasoning_content: THOUGHT_SUMMARY });
    expect(completion.usage).toMatchObject({ completion_tokens: Math.ceil('Echo: Hi'.length / 4) + THOUGHTS_TOKEN_COUNT, completion_tokens_details: { reasoning_tokens: THOUGHTS_TOKEN_COUNT } });
  });

  it('sends no generationConfig when the client set nothing', async () => {
    expect((await sent({})).body.generationConfig).toBeUndefined();
  });

  it('sends a data: image as inlineData and an http image as fileData with the type its extension names', async () => {
    const request = await sent({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these.' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/photos/cat.JPG?size=large' } },
            { type: 'image_url', image_url: { url: 'https://example.com/render' } },
          ],
        },
      ],
    });
    expect(request.body.contents[0].parts).toEqual([
      { text: 'Compare these.' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photos/cat.JPG?size=large' } },
      { fileData: { fileUri: 'https://example.com/render' } },
    ]);
  });

  it("sends a data: image of type image/jpg, which Gemini refuses, as JPEG's registered image/jpeg", () => {
    const request = { model: 'gemini', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/jpg;base64,/9j/4AAQ' } }, { type: 'image_url', image_url: { url: 'data:IMAGE/PNG;base64,iVBORw0KGgo=' } }] }] } as ChatRequest;
    const parts = JSON.parse(String(GeminiProvider.chatCall(request, ctx()).body)).contents[0].parts;
    expect(parts).toEqual([{ inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }]);
  });

  it('refuses an http image URL that does not parse with 400 invalid_image_url, not a failure of its own', () => {
    const request = { model: 'gemini', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://' } }] }] } as ChatRequest;
    expect(() => GeminiProvider.chatCall(request, ctx())).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 400, code: 'invalid_image_url' }) }));
  });

  it('leaves a $ref whose name does not percent-decode unresolved, as any unknown one', async () => {
    const tool = { type: 'function' as const, function: { name: 'f', parameters: { type: 'object', properties: { a: { $ref: '#/$defs/%zz' } }, $defs: {} } } };
    const request = await sent({ tools: [tool] });
    expect(request.body.tools[0].functionDeclarations[0].parameters).toEqual({ type: 'OBJECT', properties: { a: { type: 'OBJECT' } } });
  });

  it('sends tools as functionDeclarations with parameters Gemini accepts', async () => {
    const request = await sent({ tools: weather });
    expect(request.body.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'Weather now', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] } }] }]);
    expect(request.body.toolConfig).toBeUndefined();
  });

  it('leaves out the parameters of a function that takes none', async () => {
    const request = await sent({ tools: [{ type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } }] });
    expect(request.body.tools[0].functionDeclarations[0]).toEqual({ name: 'now' });
  });

  it('maps each tool_choice to a functionCallingConfig mode', async () => {
    const config = async (tool_choice: ChatRequest['tool_choice']) => (await sent({ tools: weather, tool_choice })).body.toolConfig;
    expect(await config('auto')).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(await config('none')).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(await config('required')).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(await config({ type: 'function', function: { name: 'get_weather' } })).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
  });

  it('sends assistant tool calls as functionCall parts and tool messages as functionResponse parts named after their call', async () => {
    const request = await sent({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_1', type: 'function', function: { name: 'get_forecast', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_0', content: '{"temperature":18}' },
        { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
      ],
    });
    expect(request.body.contents.slice(1)).toEqual([
      {
        role: 'model',
        parts: [
          { functionCall: { id: 'call_0', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: SIGNATURE_NOT_KEPT },
          { functionCall: { id: 'call_1', name: 'get_forecast', args: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        parts: [{ functionResponse: { id: 'call_0', name: 'get_weather', response: { temperature: 18 } } }, { functionResponse: { id: 'call_1', name: 'get_forecast', response: { output: 'Sunny' } } }],
      },
    ]);
  });

  it("gives each call back the thought signature it came with (extra_content), the stand-in only to a step's first call without one", async () => {
    const request = await sent({
      messages: [
        { role: 'user', content: 'Weather in Paris, then Rome?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' }, extra_content: { google: { thought_signature: 'c2lnbmVk' } } }] },
        { role: 'tool', tool_call_id: 'call_0', content: '{"temperature":18}' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' }, extra_content: { google: {} } }] },
        { role: 'tool', tool_call_id: 'call_0', content: '{"temperature":21}' },
      ],
    });
    const contents = request.body.contents as Array<{ role: string; parts: unknown[] }>;
    const calls = contents.filter((content) => content.role === 'model').map((content) => content.parts[0]);
    expect(calls).toEqual([
      { functionCall: { id: 'call_0', name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2lnbmVk' },
      { functionCall: { id: 'call_0', name: 'get_weather', args: { city: 'Rome' } }, thoughtSignature: SIGNATURE_NOT_KEPT },
    ]);
  });

  it('names a function response after the nearest earlier call with its id', async () => {
    const request = await sent({
      messages: [
        { role: 'user', content: 'Go' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'first', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_0', content: '1' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'second', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_0', content: '2' },
      ],
    });
    expect(request.body.contents[4].parts[0].functionResponse).toEqual({ id: 'call_0', name: 'second', response: { output: 2 } });
  });

  // FunctionCall.id and FunctionResponse.id (https://ai.google.dev/api/caching#FunctionCall): results answered out of
  // order, as OpenAI's clients may send them, are still each their own call's.
  it('sends each call its id and each function response the id of the call it answers, so parallel calls of one function are told apart', async () => {
    const request = await sent({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'fc-paris', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'fc-rome', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'fc-rome', content: '{"temperature":30}' },
        { role: 'tool', tool_call_id: 'fc-paris', content: '{"temperature":12}' },
      ],
    });
    const [, calls, results] = request.body.contents as Array<{ parts: Array<{ functionCall?: { id?: string }; functionResponse?: { id?: string; response: unknown } }> }>;
    expect(calls!.parts.map((part) => part.functionCall?.id)).toEqual(['fc-paris', 'fc-rome']);
    expect(results!.parts.map((part) => [part.functionResponse?.id, part.functionResponse?.response])).toEqual([
      ['fc-rome', { temperature: 30 }],
      ['fc-paris', { temperature: 12 }],
    ]);
  });

  it('refuses tool call arguments nested deeper than the gateway writes out again, naming them, without calling Gemini', async () => {
    const before = emulator.lastRequest();
    const deep = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const call = sent({ messages: [{ role: 'user', content: 'Go' }, { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'first', arguments: deep } }] }] });
    await expect(call).rejects.toMatchObject({ failure: { status: 400, code: 'nesting_too_deep', retryable: false, param: 'messages[1].tool_calls[0].function.arguments' } });
    expect(emulator.lastRequest()).toBe(before);
  });

  it("sends a tool's result nested too deep to be written out again as its text, under output", async () => {
    const deep = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const request = await sent({
      messages: [
        { role: 'user', content: 'Go' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'first', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_0', content: deep },
      ],
    });
    // Compared as a flag: a failed comparison would print the value 3,000 levels deep.
    expect(request.body.contents[2].parts[0].functionResponse.response.output === deep).toBe(true);
  });

  it('refuses a tool message that answers no earlier tool call, without calling Gemini', async () => {
    const before = emulator.lastRequest();
    const call = sent({ messages: [{ role: 'user', content: 'Go' }, { role: 'tool', tool_call_id: 'call_9', content: 'x' }] });
    await expect(call).rejects.toMatchObject({ failure: { status: 400, code: 'unknown_tool_call', retryable: false } });
    expect(emulator.lastRequest()).toBe(before);
  });

  it('asks for JSON with responseMimeType for json_object', async () => {
    const request = await sent({ response_format: { type: 'json_object' } });
    expect(request.body.generationConfig).toEqual({ responseMimeType: 'application/json' });
  });

  it('sends a json_schema that is not strict as responseSchema without the JSON Schema keywords Gemini rejects', async () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      additionalProperties: false,
      properties: {
        name: { type: 'string', format: 'email', minLength: 1 },
        nickname: { type: ['string', 'null'] },
        born: { type: 'string', format: 'date-time' },
        size: { $ref: '#/$defs/size' },
        tags: { type: 'array', items: { type: 'string', const: 'x' } },
        rank: { type: 'integer', enum: [1, 2, 3] },
      },
      required: ['name', 'missing'],
      $defs: { size: { type: 'string', enum: ['S', 'M', 'L'] } },
    };
    const request = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } });
    expect(request.body.generationConfig.responseSchema).toEqual({
      type: 'OBJECT',
      properties: {
        name: { type: 'STRING', minLength: 1 },
        nickname: { type: 'STRING', nullable: true },
        born: { type: 'STRING', format: 'date-time' },
        size: { type: 'STRING', enum: ['S', 'M', 'L'] },
        tags: { type: 'ARRAY', items: { type: 'STRING', enum: ['x'] } },
        rank: { type: 'INTEGER' },
      },
      required: ['name'],
    });
  });

  it('sends a strict json_schema of only the keywords Google lists for JSON Schema as responseJsonSchema, as written, numeric enums and tuples kept', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: ['string', 'null'] }, rank: { type: 'integer', enum: [1, 2, 3] }, point: { type: 'array', prefixItems: [{ type: 'number' }, { type: 'number' }], minItems: 2, maxItems: 2 }, size: { $ref: '#/$defs/size' } },
      required: ['name', 'rank', 'point', 'size'],
      additionalProperties: false,
      $defs: { size: { type: 'string', enum: ['S', 'M', 'L'] } },
    };
    const request = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } } });
    expect(request.body.generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('sends a strict json_schema that recurses through an array that may be empty as responseJsonSchema', async () => {
    const schema = { type: 'object', properties: { label: { type: 'string' }, children: { type: 'array', items: { $ref: '#' } } }, required: ['label', 'children'], additionalProperties: false };
    const request = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'tree', schema, strict: true } } });
    expect(request.body.generationConfig.responseJsonSchema).toEqual(schema);
  });

  it('keeps a json_schema that is not strict on responseSchema even when it is made of keywords Google lists for JSON Schema', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const request = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } });
    expect(request.body.generationConfig).toEqual({ responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { name: { type: 'STRING' } }, required: ['name'] } });
  });

  it('keeps a strict json_schema with a keyword Google does not list for JSON Schema on responseSchema, which holds pattern', async () => {
    const schema = { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]{3}$' } }, required: ['code'], additionalProperties: false };
    const request = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'airport', schema, strict: true } } });
    expect(request.body.generationConfig).toEqual({ responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { code: { type: 'STRING', pattern: '^[A-Z]{3}$' } }, required: ['code'] } });
  });

  it('keeps a strict json_schema whose $ref has a sibling that is not a $ keyword on responseSchema, as Google refuses it beside $ref', async () => {
    const schema = { type: 'object', properties: { size: { $ref: '#/$defs/size', description: 'The size' } }, required: ['size'], additionalProperties: false, $defs: { size: { type: 'string', enum: ['S', 'M'] } } };
    const request = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'shirt', schema, strict: true } } });
    expect(request.body.generationConfig.responseJsonSchema).toBeUndefined();
    expect(request.body.generationConfig.responseSchema.properties.size).toEqual({ type: 'STRING', description: 'The size', enum: ['S', 'M'] });
  });

  it('converts a strict json_schema whose allOf member is a $ref to what the definition says, on responseSchema, as Google lists no allOf for JSON Schema', async () => {
    const schema = { type: 'object', properties: { size: { description: 'The size', allOf: [{ $ref: '#/$defs/size' }] } }, required: ['size'], additionalProperties: false, $defs: { size: { type: 'string', enum: ['S', 'M'] } } };
    const request = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'shirt', schema, strict: true } } });
    expect(request.body.generationConfig).toEqual({ responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { size: { type: 'STRING', description: 'The size', enum: ['S', 'M'] } }, required: ['size'] } });
  });

  it.each([
    ['a const that is not a string', { rank: { type: 'integer', const: 1 } }, 'response_format.json_schema.schema.properties.rank.const'],
    ['a format Gemini does not take beside a keyword Google does not list for JSON Schema', { email: { type: 'string', format: 'email', minLength: 3 } }, 'response_format.json_schema.schema.properties.email.format'],
    ['a format Gemini does not take', { email: { type: 'string', format: 'email' } }, 'response_format.json_schema.schema.properties.email.format'],
    ['uniqueItems', { tags: { type: 'array', items: { type: 'string' }, uniqueItems: true } }, 'response_format.json_schema.schema.properties.tags.uniqueItems'],
    ['a $ref that recurses through required properties only', { next: { $ref: '#' } }, 'response_format.json_schema.schema.properties.next.$ref'],
    ['a multipleOf in an allOf inside an allOf member', { even: { type: 'integer', allOf: [{ allOf: [{ multipleOf: 2 }] }] } }, 'response_format.json_schema.schema.properties.even.allOf[0].allOf[0].multipleOf'],
  ])('refuses a strict json_schema with %s, which Gemini would drop, naming its place, before calling', async (_, properties, param) => {
    const before = emulator.requests().length;
    const schema = { type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
    const failure = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'p', schema, strict: true } } }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ failure: { status: 400, code: 'unsupported_value', param, retryable: true } });
    expect(emulator.requests().length).toBe(before);
  });

  it('sends a strict tool whose parameters use only the keywords Google lists for JSON Schema as parametersJsonSchema, without parameters', async () => {
    const parameters = { type: 'object', properties: { level: { type: 'integer', enum: [1, 2] } }, required: ['level'], additionalProperties: false };
    const request = await sent({ tools: [{ type: 'function', function: { name: 'set_level', strict: true, parameters } }] });
    expect(request.body.tools[0].functionDeclarations[0]).toEqual({ name: 'set_level', parametersJsonSchema: parameters });
  });

  it("refuses a strict tool whose parameters hold a constraint Gemini would drop, naming it under the tool's parameters", async () => {
    const tools: ChatRequest['tools'] = [{ type: 'function', function: { name: 'set_level', strict: true, parameters: { type: 'object', properties: { level: { type: 'integer', const: 1 } }, required: ['level'], additionalProperties: false } } }];
    const failure = await sent({ tools }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ failure: { status: 400, code: 'unsupported_value', param: 'tools[0].function.parameters.properties.level.const' } });
  });

  it.each([false, true])('refuses a json_schema nested 20,000 levels deep (strict: %s) with 400 schema_too_complex naming it, before calling', async (strict) => {
    const before = emulator.requests().length;
    const failure = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'deep', schema: deeplyNested(20_000), strict } } }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ failure: { status: 400, code: 'schema_too_complex', param: 'response_format.json_schema.schema' } });
    expect(emulator.requests().length).toBe(before);
  });

  it.each([false, true])("refuses a tool whose parameters nest 20,000 levels deep (strict: %s) with 400 schema_too_complex naming the tool's parameters, before calling", async (strict) => {
    const before = emulator.requests().length;
    const failure = await sent({ tools: [...weather!, { type: 'function', function: { name: 'deep', strict, parameters: deeplyNested(20_000) } }] }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ failure: { status: 400, code: 'schema_too_complex', param: 'tools[1].function.parameters' } });
    expect(emulator.requests().length).toBe(before);
  });

  it('turns a recursive $ref into a plain object instead of looping', async () => {
    const schema = { type: 'object', properties: { root: { $ref: '#/definitions/node' } }, definitions: { node: { type: 'object', properties: { child: { $ref: '#/definitions/node' }, label: { type: 'string' } } } } };
    const request = await sent({ response_format: { type: 'json_schema', json_schema: { name: 'tree', schema } } });
    expect(request.body.generationConfig.responseSchema.properties.root).toEqual({ type: 'OBJECT', properties: { child: { type: 'OBJECT' }, label: { type: 'STRING' } } });
  });
});
