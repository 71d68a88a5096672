import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBedrockEmulator } from '../../../../test/emulators/bedrock.js';
import { embeddingFor } from '../../../../test/emulators/gemini.js';
import { SAMPLE_PDF_BASE64 } from '../../../../test/emulators/sample-pdf.js';
import { callChatStream, failureOf, streamedChunks } from '../../../../test/provider-calls.js';
import { INPUT_RATES } from '../../catalog/index.js';
import { CACHE_CONTROL, CACHE_WRITES, STOP_SEQUENCE, TOOL_ERROR, type ChatCompletionChunk, type ChatRequest } from '../../chat-types.js';
import { ProviderCallError, callChat, callEmbeddings } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { messagesToChat } from '../../anthropic-ingress/messages-to-chat.js';
import { toConverseRequest } from './converse-request.js';
import { BedrockProvider, encodeEventStreamMessage } from './index.js';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
const weatherTool = { type: 'function' as const, function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const hello: ChatRequest = { model: 'claude', messages: [{ role: 'user', content: 'Hello' }] };

/** Amazon Bedrock API keys in their two forms: a long-term one (`ABSK`, base64) and a short-term one (`bedrock-api-key-`, base64 of a presigned URL). */
const LONG_TERM_KEY = `ABSK${Buffer.from('BedrockAPIKey-emu1-at-123456789012:emulator+long/term=secret').toString('base64')}`;
const SHORT_TERM_KEY = `bedrock-api-key-${Buffer.from('bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Credential=ASIAEMULATOR%2F20250102%2Fus-east-1%2Fbedrock%2Faws4_request&X-Amz-Security-Token=FwoGEMULATOR&X-Amz-Signature=0f0f&Version=1').toString('base64')}`;

let emulator: Awaited<ReturnType<typeof startBedrockEmulator>>;
let withToken: Awaited<ReturnType<typeof startBedrockEmulator>>;
let withLongTermKey: Awaited<ReturnType<typeof startBedrockEmulator>>;
let withShortTermKey: Awaited<ReturnType<typeof startBedrockEmulator>>;

function ctx(overrides: { secret?: string; url?: string; model?: string } = {}): CallContext {
  return {
    provider: { name: 'bedrock-test', type: 'bedrock', baseUrl: overrides.url ?? emulator.url, region: emulator.region },
    credential: { id: 'k1', secret: overrides.secret ?? emulator.credential },
    model: overrides.model ?? MODEL,
    stream: false,
    now: NOW,
  };
}

const collect = (chat: ChatRequest, context = ctx()) => streamedChunks(BedrockProvider, chat, context);

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  withToken = await startBedrockEmulator({ accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temporary/secret', sessionToken: 'FwoGZXIvYXdzEXAMPLETOKEN' });
  withLongTermKey = await startBedrockEmulator({ apiKey: LONG_TERM_KEY });
  withShortTermKey = await startBedrockEmulator({ apiKey: SHORT_TERM_KEY });
});
afterEach(() => {
  emulator.setMode('normal');
});
afterAll(async () => {
  await emulator.stop();
  await withToken.stop();
  await withLongTermKey.stop();
  await withShortTermKey.stop();
});

describe('the Bedrock provider', () => {
  it('posts to the model\'s converse path with the model id percent-encoded, signed at the call\'s time', async () => {
    await callChat(BedrockProvider, hello, ctx());
    const recorded = emulator.lastRequest();
    expect(recorded?.path).toBe('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
    expect(recorded?.headers['x-amz-date']).toBe('20250102T030405Z');
    expect(recorded?.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(recorded?.rawBody ?? '').digest('hex'));
    expect(recorded?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEMULATOR\/20250102\/us-east-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
  });

  it('translates system, user, assistant and tool turns into alternating Converse messages', async () => {
    await callChat(
      BedrockProvider,
      {
        model: 'claude',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
          { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { id: 't2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } }] },
          { role: 'tool', tool_call_id: 't1', content: '{"celsius":21}' },
          { role: 'tool', tool_call_id: 't2', content: 'sunny' },
        ],
        tools: [weatherTool],
        tool_choice: 'auto',
        max_tokens: 50,
        temperature: 0.2,
        top_p: 0.9,
        stop: 'END',
      },
      ctx(),
    );
    expect(emulator.lastRequest()?.body).toEqual({
      system: [{ text: 'Be brief.' }],
      messages: [
        { role: 'user', content: [{ text: 'Weather in Paris and Rome?' }, { image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'get_weather', input: { city: 'Paris' } } }, { toolUse: { toolUseId: 't2', name: 'get_weather', input: { city: 'Rome' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: { celsius: 21 } }] } }, { toolResult: { toolUseId: 't2', content: [{ text: 'sunny' }] } }] },
      ],
      // A Claude model: temperature without top_p, which Claude 4.5 and later refuse beside it.
      inferenceConfig: { maxTokens: 50, temperature: 0.2, stopSequences: ['END'] },
      additionalModelResponseFieldPaths: ['/stop_sequence'],
      toolConfig: { tools: [{ toolSpec: { name: 'get_weather', description: 'The weather in a city', inputSchema: { json: weatherTool.function.parameters } } }], toolChoice: { auto: {} } },
    });
  });

  it('refuses tool-call arguments nested deeper than the gateway writes out again, without calling Bedrock', async () => {
    const before = emulator.lastRequest();
    const deep = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const call = callChat(BedrockProvider, { model: 'claude', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: deep } }] }] }, ctx());
    expect(await failureOf(call)).toMatchObject({ status: 400, code: 'nesting_too_deep', param: 'messages[1].tool_calls[0].function.arguments', retryable: false });
    expect(emulator.lastRequest()).toBe(before);
  });

  it("sends a conversation of instructions alone (no user turn, or only an empty one) as the user's turn, which Converse answers", () => {
    for (const messages of [[{ role: 'system' as const, content: 'Say hello.' }], [{ role: 'developer' as const, content: 'Say hello.' }, { role: 'user' as const, content: '' }]]) {
      const body = toConverseRequest({ model: 'claude', messages }, MODEL);
      expect(body.messages).toEqual([{ role: 'user', content: [{ text: 'Say hello.' }] }]);
      expect(body.system).toBeUndefined();
    }
  });

  it('refuses a conversation whose every message is empty, naming messages, for the next target to try', () => {
    const failure = (() => {
      try {
        return toConverseRequest({ model: 'claude', messages: [{ role: 'user', content: '' }] }, MODEL);
      } catch (error) {
        return (error as ProviderCallError).failure;
      }
    })();
    expect(failure).toMatchObject({ status: 400, param: 'messages', retryable: true });
  });

  it("sends a tool's result nested too deep to be written out again as its text, not as JSON", () => {
    const deep = `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`;
    const chat: ChatRequest = { model: 'claude', tools: [weatherTool], messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 't1', content: deep }] };
    const result = (toConverseRequest(chat, MODEL).messages as Array<{ content: unknown[] }>).at(-1)!.content[0];
    // Compared as a flag: a failed comparison would print the value 3,000 levels deep.
    expect(JSON.stringify(result) === JSON.stringify({ toolResult: { toolUseId: 't1', content: [{ text: deep }] } })).toBe(true);
  });

  it("sends a strict tool's flag as toolSpec.strict, and none for a tool that is not strict", async () => {
    const strictTool = { type: 'function' as const, function: { ...weatherTool.function, parameters: { ...weatherTool.function.parameters, additionalProperties: false }, strict: true } };
    await callChat(BedrockProvider, { ...hello, tools: [strictTool, weatherTool] }, ctx());
    const tools = (emulator.lastRequest()?.body as { toolConfig: { tools: Array<{ toolSpec: Record<string, unknown> }> } }).toolConfig.tools;
    expect(tools.map((tool) => tool.toolSpec.strict)).toEqual([true, undefined]);
  });

  it('names a forced tool with toolChoice tool, and required with toolChoice any', async () => {
    await callChat(BedrockProvider, { ...hello, tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } }, ctx());
    expect((emulator.lastRequest()?.body as { toolConfig: unknown }).toolConfig).toMatchObject({ toolChoice: { tool: { name: 'get_weather' } } });
    await callChat(BedrockProvider, { ...hello, tools: [weatherTool], tool_choice: 'required' }, ctx());
    expect((emulator.lastRequest()?.body as { toolConfig: unknown }).toolConfig).toMatchObject({ toolChoice: { any: {} } });
  });

  it('answers non-streaming text with finish reason stop and its usage', async () => {
    const completion = await callChat(BedrockProvider, hello, ctx());
    expect(completion).toMatchObject({ object: 'chat.completion', model: MODEL, created: Math.floor(NOW / 1000) });
    expect(completion.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Hello from the Bedrock emulator.' }, finish_reason: 'stop' });
    expect(completion.usage).toEqual({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });
  });

  it('streams text as a role chunk, ordered content chunks, a finish chunk and a usage chunk', async () => {
    const chunks = await collect(hello);
    expect(emulator.lastRequest()?.path).toBe('/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream');
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const content = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(content.length).toBeGreaterThan(2);
    expect(content.join('')).toBe('Hello from the Bedrock emulator.');
    const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finishes.map((c) => c.choices[0]?.finish_reason)).toEqual(['stop']);
    expect(chunks.indexOf(finishes[0] as ChatCompletionChunk)).toBe(chunks.length - 2);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('reports the streamed usage through the translator once the stream is read', async () => {
    const { chunks, usage } = await callChatStream(BedrockProvider, hello, ctx());
    for await (const _chunk of chunks) {
      // read to the end
    }
    expect(usage()).toMatchObject({ prompt_tokens: 12, completion_tokens: 5 });
  });

  it('returns a tool call with its input as a JSON string of arguments', async () => {
    const completion = await callChat(BedrockProvider, { ...hello, tools: [weatherTool] }, ctx());
    expect(completion.choices[0]).toMatchObject({
      message: { content: 'Let me check.', tool_calls: [{ id: 'tooluse_emulator01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      finish_reason: 'tool_calls',
    });
  });

  it('streams a tool call whose argument pieces reassemble to valid JSON, after the text block', async () => {
    const chunks = await collect({ ...hello, tools: [weatherTool] });
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toEqual({ index: 0, id: 'tooluse_emulator01', type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(calls.length).toBeGreaterThan(2);
    expect(calls.every((call) => call.index === 0)).toBe(true);
    expect(JSON.parse(calls.map((call) => call.function?.arguments ?? '').join(''))).toEqual({ city: 'Paris' });
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('streams a call of a tool without parameters, which Bedrock streams with no delta, with arguments {}', async () => {
    const clock = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
    const calls = (await collect({ ...hello, tools: [clock] })).flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((call) => call.function?.arguments ?? '').join('')).toBe('{}');
  });

  it('answers with text once the tool result is sent back', async () => {
    const completion = await callChat(
      BedrockProvider,
      {
        model: 'claude',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'tooluse_emulator01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'tooluse_emulator01', content: '{"celsius":21}' },
        ],
        tools: [weatherTool],
      },
      ctx(),
    );
    expect(completion.choices[0]).toMatchObject({ message: { content: 'It is 21 degrees in Paris.' }, finish_reason: 'stop' });
  });

  describe('with a json_schema response format', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } }, required: ['city', 'celsius'], additionalProperties: false };
    const asJson: ChatRequest = { ...hello, response_format: { type: 'json_schema', json_schema: { name: 'weather', description: 'The weather in a city', schema } } };

    it('asks Converse for structured output, the schema as a JSON string in outputConfig.textFormat', async () => {
      await callChat(BedrockProvider, asJson, ctx({ model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }));
      const body = emulator.lastRequest()?.body as { outputConfig?: unknown; toolConfig?: unknown };
      expect(body.outputConfig).toEqual({ textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name: 'weather', description: 'The weather in a city' } } } });
      expect(body.toolConfig).toBeUndefined();
    });

    it('answers the JSON as the message\'s content, finished with stop', async () => {
      const completion = await callChat(BedrockProvider, asJson, ctx());
      expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop' });
      expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
      expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ city: 'Paris', celsius: 21 });
    });

    it('streams the JSON as content deltas, finished with stop', async () => {
      const chunks = await collect(asJson);
      const content = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
      expect(content.length).toBeGreaterThan(1);
      expect(JSON.parse(content.join(''))).toEqual({ city: 'Paris', celsius: 21 });
      expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]?.finish_reason)).toEqual(['stop']);
      expect((emulator.lastRequest()?.body as { outputConfig?: unknown }).outputConfig).toBeDefined();
    });

    it('refuses json_object, which has no schema for Converse to follow, before calling', async () => {
      const calls = emulator.requests().length;
      const failure = await failureOf(callChat(BedrockProvider, { ...hello, response_format: { type: 'json_object' } }, ctx()));
      expect(failure).toMatchObject({ status: 400, code: 'unsupported_parameter' });
      expect(emulator.requests().length).toBe(calls);
    });
  });

  it('maps max_tokens to length and guardrail_intervened to content_filter', async () => {
    const cut = await callChat(BedrockProvider, { ...hello, max_completion_tokens: 2 }, ctx());
    expect(cut.choices[0]).toMatchObject({ message: { content: 'Hello from' }, finish_reason: 'length' });
    const filtered = await callChat(BedrockProvider, { model: 'claude', messages: [{ role: 'user', content: 'something forbidden' }] }, ctx());
    expect(filtered.choices[0]?.finish_reason).toBe('content_filter');
  });

  it("says which stop sequence ended a Claude model's answer, streamed or not, asked of Converse as Claude's own field and without a member OpenAI lacks", async () => {
    const stopped = { ...hello, stop: ['emulator', 'Bedrock'] };
    const completion = await callChat(BedrockProvider, stopped, ctx());
    expect((emulator.lastRequest()?.body as { additionalModelResponseFieldPaths?: unknown }).additionalModelResponseFieldPaths).toEqual(['/stop_sequence']);
    expect(completion.choices[0]).toMatchObject({ message: { content: 'Hello from the ' }, finish_reason: 'stop' });
    expect(completion.choices[0]?.[STOP_SEQUENCE]).toBe('Bedrock');
    expect(JSON.parse(JSON.stringify(completion.choices[0]))).toEqual({ index: 0, message: { role: 'assistant', content: 'Hello from the ' }, finish_reason: 'stop', logprobs: null });
    const finish = (await collect(stopped)).find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.[STOP_SEQUENCE]).toBe('Bedrock');
  });

  it("says only that a stop sequence ended another model's answer, and asks no Claude field of it", async () => {
    const stopped = { ...hello, stop: ['emulator', 'Bedrock'] };
    const nova = ctx({ model: 'amazon.nova-lite-v1:0' });
    const completion = await callChat(BedrockProvider, stopped, nova);
    expect(emulator.lastRequest()?.body).not.toHaveProperty('additionalModelResponseFieldPaths');
    expect(completion.choices[0]?.[STOP_SEQUENCE]).toBeNull();
    const finish = (await collect(stopped, nova)).find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.[STOP_SEQUENCE]).toBeNull();
  });

  it('leaves out text blocks only of whitespace, which Converse refuses as blank, and keeps the rest of their turns', async () => {
    const completion = await callChat(
      BedrockProvider,
      {
        model: 'claude',
        tools: [weatherTool],
        messages: [
          { role: 'system', content: ' ' },
          { role: 'user', content: [{ type: 'text', text: '\n' }, { type: 'text', text: 'Weather in Paris?' }] },
          { role: 'assistant', content: '\n\n', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
        ],
      },
      ctx(),
    );
    expect(completion.choices[0]?.message.role).toBe('assistant');
    const body = emulator.lastRequest()?.body as { system?: unknown; messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
    expect(body).not.toHaveProperty('system');
    expect(body.messages.map((m) => m.content.map((block) => Object.keys(block)[0]))).toEqual([['text'], ['toolUse'], ['toolResult']]);
    expect(body.messages[0]?.content).toEqual([{ text: 'Weather in Paris?' }]);
  });

  it("keeps a user's message of nothing but whitespace, which left out would turn the answer before it into a prefill", async () => {
    const failure = await failureOf(callChat(BedrockProvider, { model: 'claude', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: ' \t' }] }, ctx()));
    expect(failure).toMatchObject({ status: 400 });
    expect((emulator.lastRequest()?.body as { messages: unknown[] }).messages).toHaveLength(3);
  });

  it('sends a Claude model no stop sequence only of whitespace, which Claude refuses, and another model every one', async () => {
    const completion = await callChat(BedrockProvider, { ...hello, stop: ['\n', 'Bedrock'] }, ctx());
    expect((emulator.lastRequest()?.body as { inferenceConfig?: unknown }).inferenceConfig).toMatchObject({ stopSequences: ['Bedrock'] });
    expect(completion.choices[0]?.[STOP_SEQUENCE]).toBe('Bedrock');
    await callChat(BedrockProvider, { ...hello, stop: '\n' }, ctx());
    expect(emulator.lastRequest()?.body).not.toHaveProperty('inferenceConfig.stopSequences');
    expect(emulator.lastRequest()?.body).not.toHaveProperty('additionalModelResponseFieldPaths');
    await callChat(BedrockProvider, { ...hello, stop: ['\n', 'Bedrock'] }, ctx({ model: 'amazon.nova-lite-v1:0' }));
    expect((emulator.lastRequest()?.body as { inferenceConfig?: unknown }).inferenceConfig).toMatchObject({ stopSequences: ['\n', 'Bedrock'] });
  });

  it('asks no stop sequence field of a request without stop sequences', async () => {
    await callChat(BedrockProvider, hello, ctx());
    expect(emulator.lastRequest()?.body).not.toHaveProperty('additionalModelResponseFieldPaths');
  });

  it('says no stop sequence ended an answer that ended by itself', async () => {
    const completion = await callChat(BedrockProvider, { ...hello, stop: ['nowhere'] }, ctx());
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(STOP_SEQUENCE in completion.choices[0]!).toBe(false);
  });

  it.each([
    ['tool_choice is none', { tools: [weatherTool], tool_choice: 'none' as const }],
    ['the call offers no tools', {}],
  ])('sends earlier tool calls and results as text when %s, which Converse refuses as tool blocks without a toolConfig', async (_when, extra) => {
    const completion = await callChat(
      BedrockProvider,
      {
        model: 'claude',
        messages: [
          { role: 'user', content: 'Weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 't1', content: 'sunny' },
        ],
        ...extra,
      },
      ctx(),
    );
    expect(completion.choices[0]?.message.content).toBe('Hello from the Bedrock emulator.');
    const body = emulator.lastRequest()?.body as { toolConfig?: unknown; messages: unknown };
    expect(body.toolConfig).toBeUndefined();
    expect(body.messages).toEqual([
      { role: 'user', content: [{ text: 'Weather?' }] },
      { role: 'assistant', content: [{ text: '[called tool get_weather (call t1) with {"city":"Paris"}]' }] },
      { role: 'user', content: [{ text: '[result of call t1]\nsunny' }] },
    ]);
  });

  describe('prompt caching', () => {
    // A Claude model Bedrock caches prompts for (Claude 3 Haiku, the file's default, is not one).
    const CACHING = 'anthropic.claude-haiku-4-5-20251001-v1:0';
    const cctx = (overrides: { model?: string } = {}) => ctx({ model: CACHING, ...overrides });
    const ephemeral = { type: 'ephemeral' };
    const mark = <T extends object>(what: T, control: Record<string, unknown> = ephemeral): T => Object.assign(what, { [CACHE_CONTROL]: control });
    const cachePoint = { cachePoint: { type: 'default' } };
    /** A request with a breakpoint in every place a client can set one. */
    const everywhere = (): ChatRequest =>
      mark(
        {
          model: 'claude',
          messages: [
            { role: 'system', content: [{ type: 'text', text: 'You are terse.' }, mark({ type: 'text' as const, text: 'Answer in French.' }, { type: 'ephemeral', ttl: '1h' })] },
            mark({ role: 'user', content: 'Weather in Paris?' }),
            { role: 'assistant', content: null, tool_calls: [mark({ id: 't1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } })] },
            { role: 'tool', tool_call_id: 't1', content: [mark({ type: 'text' as const, text: 'sunny' })] },
            { role: 'user', content: [mark({ type: 'text' as const, text: 'And now?' }, { type: 'ephemeral', ttl: '5m' })] },
          ],
          tools: [mark({ ...weatherTool })],
        },
        ephemeral,
      );

    it("puts a Claude model's breakpoints as cachePoint blocks after what they mark: system part, message, tool call, tool result, content part, tool, TTL kept", () => {
      const body = toConverseRequest(everywhere(), CACHING);
      expect(body.system).toEqual([{ text: 'You are terse.' }, { text: 'Answer in French.' }, { cachePoint: { type: 'default', ttl: '1h' } }]);
      expect((body.toolConfig as { tools: unknown[] }).tools).toEqual([{ toolSpec: expect.objectContaining({ name: 'get_weather' }) }, cachePoint]);
      expect(body.messages).toEqual([
        { role: 'user', content: [{ text: 'Weather in Paris?' }, cachePoint] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'get_weather', input: { city: 'Paris' } } }, cachePoint] },
        // The tool result's part's breakpoint after the result, then the content part's with its TTL; the request's
        // own, for the same place, is not repeated.
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ text: 'sunny' }] } }, cachePoint, { text: 'And now?' }, { cachePoint: { type: 'default', ttl: '5m' } }] },
      ]);
    });

    it('sends cachePoints Bedrock takes, in each place it documents them', async () => {
      const [system, , call, result] = everywhere().messages;
      // Converse takes at most 4: here those of the system part, the tool, the tool call and the tool result.
      const completion = await callChat(BedrockProvider, { model: 'claude', messages: [system!, { role: 'user', content: 'Weather in Paris?' }, call!, result!], tools: [mark({ ...weatherTool })] }, cctx());
      expect(completion.choices[0]?.message.content).toBe('It is 21 degrees in Paris.');
      expect(JSON.stringify(emulator.lastRequest()?.body).match(/cachePoint/g)).toHaveLength(4);
    });

    it("passes on Bedrock's refusal of more cachePoints than it takes, as the caller's error", async () => {
      const failure = await failureOf(callChat(BedrockProvider, everywhere(), cctx()));
      expect(failure).toMatchObject({ status: 400, retryable: false });
      expect(failure.message).toMatch(/maximum of 4 cachePoint/);
    });

    it("puts the request's own breakpoint after the last message", async () => {
      await callChat(BedrockProvider, mark({ ...hello }), cctx());
      expect((emulator.lastRequest()?.body as { messages: unknown }).messages).toEqual([{ role: 'user', content: [{ text: 'Hello' }, cachePoint] }]);
    });

    it("gives an Amazon Nova model its system and message breakpoints but not its tools', which Nova does not cache, and other models none", async () => {
      const request: ChatRequest = { model: 'nova', messages: [{ role: 'system', content: [mark({ type: 'text' as const, text: 'Be brief.' })] }, mark({ role: 'user', content: 'Weather in Paris?' })], tools: [mark({ ...weatherTool })] };
      await callChat(BedrockProvider, request, cctx({ model: 'us.amazon.nova-pro-v1:0' }));
      const nova = emulator.lastRequest()?.body as { system: unknown; messages: unknown; toolConfig: { tools: unknown[] } };
      expect(nova.system).toEqual([{ text: 'Be brief.' }, cachePoint]);
      expect(nova.messages).toEqual([{ role: 'user', content: [{ text: 'Weather in Paris?' }, cachePoint] }]);
      expect(nova.toolConfig.tools).toHaveLength(1);
      await callChat(BedrockProvider, request, cctx({ model: 'meta.llama3-70b-instruct-v1:0' }));
      expect(JSON.stringify(emulator.lastRequest()?.body)).not.toContain('cachePoint');
    });

    it.each(['anthropic.claude-3-haiku-20240307-v1:0', 'us.anthropic.claude-3-5-sonnet-20241022-v2:0', 'anthropic.claude-v2:1'])('gives %s, a Claude model Bedrock caches nothing for, no breakpoints, which it would refuse', async (model) => {
      const request: ChatRequest = { model: 'claude', messages: [{ role: 'system', content: [mark({ type: 'text' as const, text: 'Be brief.' })] }, mark({ role: 'user', content: 'Weather in Paris?' })], tools: [mark({ ...weatherTool })] };
      await callChat(BedrockProvider, request, ctx({ model }));
      expect(JSON.stringify(emulator.lastRequest()?.body)).not.toContain('cachePoint');
    });

    it.each(['anthropic.claude-3-5-haiku-20241022-v1:0', 'us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'anthropic.claude-sonnet-4-20250514-v1:0', 'global.anthropic.claude-opus-4-5-20251101-v1:0'])('gives %s its breakpoints', async (model) => {
      await callChat(BedrockProvider, mark({ ...hello }), ctx({ model }));
      expect(JSON.stringify(emulator.lastRequest()?.body)).toContain('cachePoint');
    });

    it('accounts a repeated prefix as a cache write, then a cache read, the writes by TTL at input rates short of a catalog write price, streamed or not', async () => {
      const request: ChatRequest = { model: 'claude', messages: [{ role: 'system', content: [mark({ type: 'text' as const, text: 'A long and stable instruction, written once.' }, { type: 'ephemeral', ttl: '1h' })] }, { role: 'user', content: 'Hello' }] };
      const first = await callChat(BedrockProvider, request, cctx());
      const written = first.usage![CACHE_WRITES]!;
      expect(written).toMatchObject({ fiveMinute: 0, rates: INPUT_RATES });
      expect(written.oneHour).toBeGreaterThan(0);
      expect(first.usage).toMatchObject({ prompt_tokens: 12 + written.oneHour });
      expect(first.usage?.prompt_tokens_details).toBeUndefined();
      const second = await callChat(BedrockProvider, request, cctx());
      expect(second.usage).toEqual({ prompt_tokens: 12 + written.oneHour, completion_tokens: 5, total_tokens: 17 + written.oneHour, prompt_tokens_details: { cached_tokens: written.oneHour } });
      expect(second.usage![CACHE_WRITES]).toBeUndefined();
      const streamed = (await collect(request, cctx())).at(-1)?.usage;
      expect(streamed).toMatchObject({ prompt_tokens: 12 + written.oneHour, prompt_tokens_details: { cached_tokens: written.oneHour } });
    });
  });

  it('leaves top_k out, which Converse has no member for', async () => {
    const completion = await callChat(BedrockProvider, { ...hello, top_k: 40, temperature: 0.5 }, ctx());
    expect(completion.choices[0]?.message.content).toBe('Hello from the Bedrock emulator.');
    expect(JSON.stringify(emulator.lastRequest()?.body)).not.toMatch(/top_?k/i);
  });

  it("brings OpenAI's temperature into Converse's 0-1, and keeps top_p beside it for a model other than Claude", async () => {
    await callChat(BedrockProvider, { ...hello, temperature: 1.6, top_p: 0.9 }, ctx({ model: 'meta.llama3-70b-instruct-v1:0' }));
    expect((emulator.lastRequest()?.body as { inferenceConfig: unknown }).inferenceConfig).toEqual({ temperature: 1, topP: 0.9 });
    await callChat(BedrockProvider, { ...hello, top_p: 0.9 }, ctx({ model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }));
    expect((emulator.lastRequest()?.body as { inferenceConfig: unknown }).inferenceConfig).toEqual({ topP: 0.9 });
  });

  it('signs temporary credentials\' session token, which the emulator requires', async () => {
    const completion = await callChat(BedrockProvider, hello, { ...ctx({ url: withToken.url, secret: withToken.credential }) });
    expect(completion.choices[0]?.message.content).toBe('Hello from the Bedrock emulator.');
    expect(withToken.lastRequest()?.headers['x-amz-security-token']).toBe('FwoGZXIvYXdzEXAMPLETOKEN');
  });

  it('is refused by the emulator once the body is changed after signing', async () => {
    const call = BedrockProvider.chatCall(hello, ctx());
    const tampered = (call.body ?? '').replace('Hello', 'Hullo');
    const response = await request(call.url, { method: 'POST', headers: call.headers, body: tampered });
    expect(response.statusCode).toBe(403);
    expect(response.headers['x-amzn-errortype']).toMatch(/^InvalidSignatureException/);
    await response.body.dump();
  });

  it('reports a signature made with the wrong secret as an invalid credential, without the secret or the session token', async () => {
    const secret = 'ASIATEMPORARY:wrong/secret:FwoGZXIvYXdzEXAMPLETOKEN';
    const failure = await failureOf(callChat(BedrockProvider, hello, ctx({ url: withToken.url, secret })));
    expect(failure).toMatchObject({ status: 403, type: 'authentication_error', code: 'InvalidSignatureException', credentialProblem: 'invalid', retryable: true });
    expect(JSON.stringify(failure)).not.toContain('wrong/secret');
    expect(JSON.stringify(failure)).not.toContain('FwoGZXIvYXdzEXAMPLETOKEN');
  });

  it('reports an unknown access key as an invalid credential', async () => {
    const failure = await failureOf(callChat(BedrockProvider, hello, ctx({ secret: 'AKIDUNKNOWN:whatever' })));
    expect(failure).toMatchObject({ status: 403, code: 'UnrecognizedClientException', credentialProblem: 'invalid' });
  });

  it('refuses a credential that is neither an API key nor ACCESS_KEY_ID:SECRET_ACCESS_KEY before calling', async () => {
    const before = emulator.lastRequest();
    for (const secret of ['AKIDEMULATOR:', 'not an api key', 'just-one-part', 'AKIAIOSFODNN7EXAMPLE']) {
      const failure = await failureOf(callChat(BedrockProvider, hello, ctx({ secret })));
      expect(failure).toMatchObject({ code: 'invalid_credential_format', credentialProblem: 'invalid' });
      expect(failure.message).not.toContain(secret);
    }
    expect(emulator.lastRequest()).toBe(before);
  });

  it.each([
    ['a long-term', () => withLongTermKey, LONG_TERM_KEY],
    ['a short-term', () => withShortTermKey, SHORT_TERM_KEY],
  ])('sends %s Amazon Bedrock API key as its Bearer token, unsigned, which Bedrock takes in place of SigV4', async (_kind, keyed, key) => {
    const completion = await callChat(BedrockProvider, hello, ctx({ url: keyed().url, secret: key }));
    expect(completion.choices[0]?.message.content).toBe('Hello from the Bedrock emulator.');
    const headers = keyed().lastRequest()?.headers;
    expect(headers?.authorization).toBe(`Bearer ${key}`);
    expect(headers?.['x-amz-date']).toBeUndefined();
    expect(headers?.['x-amz-security-token']).toBeUndefined();
  });

  it('sends an API key to ConverseStream and to InvokeModel as it does to Converse', async () => {
    const chunks = await collect(hello, ctx({ url: withLongTermKey.url, secret: LONG_TERM_KEY }));
    expect(chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : [])).join('')).toBe('Hello from the Bedrock emulator.');
    expect(withLongTermKey.lastRequest()?.path).toMatch(/\/converse-stream$/);
    await callEmbeddings(BedrockProvider, { model: 'titan', input: 'hello' }, ctx({ url: withLongTermKey.url, secret: LONG_TERM_KEY, model: 'amazon.titan-embed-text-v2:0' }));
    expect(withLongTermKey.lastRequest()?.path).toBe('/model/amazon.titan-embed-text-v2%3A0/invoke');
    expect(withLongTermKey.lastRequest()?.headers.authorization).toBe(`Bearer ${LONG_TERM_KEY}`);
  });

  it('reports an API key Bedrock refuses as an invalid credential, without the key', async () => {
    const failure = await failureOf(callChat(BedrockProvider, hello, ctx({ url: withLongTermKey.url, secret: SHORT_TERM_KEY })));
    expect(failure).toMatchObject({ status: 403, type: 'authentication_error', code: 'invalid_api_key', message: 'Authentication failed: Please make sure your API Key is valid.', credentialProblem: 'invalid', retryable: true });
    expect(JSON.stringify(failure)).not.toContain(SHORT_TERM_KEY);
  });

  it('reports throttling as a retryable rate limit with its retry-after', async () => {
    emulator.setMode('rate-limited');
    const failure = await failureOf(callChat(BedrockProvider, hello, ctx()));
    expect(failure).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'ThrottlingException', retryAfterMs: 2000, retryable: true });
    expect(failure.credentialProblem).toBeUndefined();
  });

  it('reports a service unavailable answer as retryable', async () => {
    emulator.setMode('unavailable');
    const failure = await failureOf(callChat(BedrockProvider, hello, ctx()));
    expect(failure).toMatchObject({ status: 503, type: 'api_error', code: 'ServiceUnavailableException', retryable: true });
  });

  it('reports a validation error as a 400 that is not retryable', async () => {
    const failure = await failureOf(callChat(BedrockProvider, { model: 'claude', messages: [{ role: 'assistant', content: 'I start.' }] }, ctx()));
    expect(failure).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'ValidationException', retryable: false });
  });

  it('ends a stream with a retryable failure when Bedrock sends an exception event', async () => {
    emulator.setMode('stream-exception');
    const failure = await failureOf(collect(hello));
    expect(failure).toMatchObject({ code: 'ModelStreamErrorException', message: 'The model stopped answering.', retryable: true });
  });

  it.each([
    ['throttlingException', { status: 429, type: 'rate_limit_error', code: 'ThrottlingException', retryable: true }],
    ['validationException', { status: 400, type: 'invalid_request_error', code: 'ValidationException', retryable: false }],
    ['serviceUnavailableException', { status: 503, type: 'api_error', retryable: true }],
    ['internalServerException', { status: 500, type: 'api_error', retryable: true }],
    // Documented as 424: the model's failure, told as a 5xx, as the same exception answering a call is.
    ['modelStreamErrorException', { status: 500, type: 'api_error', code: 'ModelStreamErrorException', retryable: true }],
  ])('reads a %s in the stream as the status ConverseStream documents for it', (type, failure) => {
    const exception = encodeEventStreamMessage({ ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' }, Buffer.from('{"message":"It failed."}'));
    let thrown: unknown;
    try {
      BedrockProvider.streamTranslator({ ...ctx(), stream: true }).push(exception);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProviderCallError);
    expect((thrown as ProviderCallError).failure).toMatchObject({ ...failure, message: 'It failed.' });
  });

  it('hands the words of the same read before an exception event on with the failure', () => {
    const frame = (type: string, payload: object) => encodeEventStreamMessage({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify(payload)));
    const exception = encodeEventStreamMessage({ ':exception-type': 'modelStreamErrorException', ':content-type': 'application/json', ':message-type': 'exception' }, Buffer.from('{"message":"The model stopped answering."}'));
    const read = Buffer.concat([frame('messageStart', { role: 'assistant' }), frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Last words' } }), exception]);
    let thrown: unknown;
    try {
      BedrockProvider.streamTranslator({ ...ctx(), stream: true }).push(read);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProviderCallError);
    expect((thrown as ProviderCallError).before.flatMap((c) => c.choices[0]?.delta.content ?? [])).toEqual(['', 'Last words']);
  });

  describe('the end of a stream', () => {
    const frame = (type: string, payload: object) => encodeEventStreamMessage({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify(payload)));
    const words = [frame('messageStart', { role: 'assistant' }), frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello' } })];

    it('fails a stream that ends before messageStop', () => {
      const translator = BedrockProvider.streamTranslator({ ...ctx(), stream: true });
      translator.push(Buffer.concat(words));
      expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_stream_incomplete', retryable: true }) }));
    });

    it('fails a stream whose messageStop says the tool use was malformed, retryably, with the tokens its metadata bills, and no finish chunk', () => {
      const translator = BedrockProvider.streamTranslator({ ...ctx(), stream: true });
      const out = translator.push(Buffer.concat([...words, frame('messageStop', { stopReason: 'malformed_tool_use' })]));
      expect(out.some((chunk) => chunk.choices[0]?.finish_reason)).toBe(false);
      expect(() => translator.push(frame('metadata', { usage: { inputTokens: 12, outputTokens: 7 }, metrics: { latencyMs: 1 } }))).toThrow(
        expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_generation_failed', retryable: true }), billed: expect.objectContaining({ prompt_tokens: 12, completion_tokens: 7 }) }),
      );
    });

    it('fails a stream whose messageStop says the output was malformed, when it ends before its metadata', () => {
      const translator = BedrockProvider.streamTranslator({ ...ctx(), stream: true });
      translator.push(Buffer.concat([...words, frame('messageStop', { stopReason: 'malformed_model_output' })]));
      expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_generation_failed' }) }));
    });

    it('takes a stream that ends after messageStop, before its metadata, as whole', () => {
      const translator = BedrockProvider.streamTranslator({ ...ctx(), stream: true });
      translator.push(Buffer.concat([...words, frame('messageStop', { stopReason: 'end_turn' })]));
      expect(translator.end()).toEqual([]);
    });
  });

  it('ends a stream with a failure when a frame fails its CRC', async () => {
    emulator.setMode('corrupt-stream');
    const failure = await failureOf(collect(hello));
    expect(failure).toMatchObject({ status: 502, code: 'event_stream_message_crc_mismatch', retryable: true });
  });

  it('refuses an image given by web URL, which Converse cannot fetch', async () => {
    const failure = await failureOf(callChat(BedrockProvider, { model: 'claude', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }, ctx()));
    expect(failure).toMatchObject({ status: 400, code: 'unsupported_parameter', retryable: true });
  });

  it('sends PDFs as document blocks, each named as Converse allows and apart from the others, and the model reads them', async () => {
    const pdf = { type: 'file' as const, file: { file_data: `data:application/pdf;base64,${SAMPLE_PDF_BASE64}`, filename: 'Q3_report.pdf' } };
    const completion = await callChat(BedrockProvider, { model: 'claude', messages: [{ role: 'user', content: [pdf, pdf, { type: 'text', text: 'Compare them.' }] }] }, ctx());
    expect(completion.choices[0]?.message.content).toMatch(/\[documents: 2\]$/);
    const sent = emulator.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[0]?.content.slice(0, 2)).toEqual([
      { document: { format: 'pdf', name: 'Q3-report', source: { bytes: SAMPLE_PDF_BASE64 } } },
      { document: { format: 'pdf', name: 'Q3-report (2)', source: { bytes: SAMPLE_PDF_BASE64 } } },
    ]);
  });

  it("puts a tool result's image and PDF back in that result for Claude, and leaves them after the results for a model without media in results", () => {
    const anthropicLoop = messagesToChat({
      model: 'claude',
      max_tokens: 100,
      tools: [{ name: 'fetch', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'Fetch it.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'fetch', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_a', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: SAMPLE_PDF_BASE64 } }] }, { type: 'text', text: 'Read it.' }] },
      ],
    });
    const turn = (model: string) => (toConverseRequest(anthropicLoop, model).messages as Array<{ content: unknown[] }>)[2]!.content;
    expect(turn(MODEL)).toEqual([
      { toolResult: { toolUseId: 'toolu_a', content: [{ image: { format: 'png', source: { bytes: 'iVBORw0KGgo=' } } }, { document: { format: 'pdf', name: 'document', source: { bytes: SAMPLE_PDF_BASE64 } } }] } },
      { text: 'Read it.' },
    ]);
    expect(turn('meta.llama3-70b-instruct-v1:0').map((block) => Object.keys(block as object)[0])).toEqual(['toolResult', 'image', 'document', 'text']);
    // Offered no tools, the results go as text, which keeps their media beside it.
    const untooled = (toConverseRequest({ ...anthropicLoop, tools: undefined }, MODEL).messages as Array<{ content: Array<Record<string, unknown>> }>)[2]!.content;
    expect(untooled.map((block) => Object.keys(block)[0])).toEqual(['text', 'image', 'document', 'text']);
    expect(untooled[0]).toEqual({ text: '[result of call toolu_a]\n' });
  });

  it('sends a PDF sent alone with a text block naming it, as Converse wants beside a document, and the model reads it', async () => {
    const completion = await callChat(BedrockProvider, { model: 'claude', messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: `data:application/pdf;base64,${SAMPLE_PDF_BASE64}`, filename: 'Q3 report.pdf' } }] }] }, ctx());
    expect(completion.choices[0]?.message.content).toMatch(/\[documents: 1\]$/);
    const sent = emulator.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[0]?.content).toEqual([{ document: { format: 'pdf', name: 'Q3 report', source: { bytes: SAMPLE_PDF_BASE64 } } }, { text: 'Q3 report' }]);
  });

  it('refuses more than 5 documents, which Converse refuses, as a 400 an alias moves on from', async () => {
    const pdf = { type: 'file' as const, file: { file_data: `data:application/pdf;base64,${SAMPLE_PDF_BASE64}`, filename: 'a.pdf' } };
    const failure = await failureOf(callChat(BedrockProvider, { model: 'claude', messages: [{ role: 'user', content: [pdf, pdf, pdf, pdf, pdf, pdf, { type: 'text', text: 'Compare.' }] }] }, ctx()));
    expect(failure).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'messages', retryable: true });
  });

  it("sends an Anthropic-format document's context as the document's own to a model that cites", () => {
    const chat = messagesToChat({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: SAMPLE_PDF_BASE64 }, title: 'Q3', context: 'From finance' }, { type: 'text', text: 'Sum it up.' }] }] });
    expect((toConverseRequest(chat, 'anthropic.claude-3-5-haiku-20241022-v1:0').messages as Array<{ content: unknown[] }>)[0]!.content).toEqual([{ document: { format: 'pdf', name: 'Q3', source: { bytes: SAMPLE_PDF_BASE64 }, context: 'From finance' } }, { text: 'Sum it up.' }]);
  });

  it("refuses a file by OpenAI's id, which Converse cannot read, as a 400 an alias moves on from", async () => {
    const failure = await failureOf(callChat(BedrockProvider, { model: 'claude', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-abc' } }] }] }, ctx()));
    expect(failure).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'messages[0].content[0].file.file_id', retryable: true });
  });

  describe('embeddings through InvokeModel', () => {
    const embedCtx = (model: string) => ({ ...ctx(), model });

    it('embeds one text with Titan, signed, its token count as usage', async () => {
      const response = await callEmbeddings(BedrockProvider, { model: 'titan', input: 'a sentence to embed', dimensions: 256 }, embedCtx('amazon.titan-embed-text-v2:0'));
      expect(emulator.lastRequest()?.path).toBe('/model/amazon.titan-embed-text-v2%3A0/invoke');
      expect(emulator.lastRequest()?.body).toEqual({ inputText: 'a sentence to embed', dimensions: 256, normalize: true });
      expect(response).toMatchObject({ object: 'list', model: 'amazon.titan-embed-text-v2:0', usage: { prompt_tokens: 4, total_tokens: 4 } });
      expect(response.data).toEqual([{ object: 'embedding', index: 0, embedding: embeddingFor('a sentence to embed', 256) }]);
    });

    it('sends Titan V1 its text alone, as V1 takes no other member', async () => {
      const response = await callEmbeddings(BedrockProvider, { model: 'titan', input: 'hello there' }, embedCtx('us.amazon.titan-embed-text-v1'));
      expect(emulator.lastRequest()?.body).toEqual({ inputText: 'hello there' });
      expect(response.data[0]!.embedding).toHaveLength(1536);
      expect(response.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    });

    it.each([
      ['Titan, one text a call', { model: 'titan', input: ['one', 'two', 'three'] }, 'amazon.titan-embed-text-v2:0', [1, 1, 1]],
      ['Cohere Embed, 96 texts a call', { model: 'embed', input: Array.from({ length: 97 }, (_, i) => `text ${i}`) }, 'cohere.embed-english-v3', [1, 96]],
    ])('sends more texts than %s takes in parts, answered as one', async (_what, request, model, sizes) => {
      const before = emulator.requests().length;
      const response = await callEmbeddings(BedrockProvider, request, embedCtx(model));
      const sent = emulator.requests().slice(before).map((r) => (r.body as { texts?: string[] }).texts?.length ?? 1);
      expect(sent.sort((a, b) => a - b)).toEqual(sizes);
      expect(response.data.map((d) => d.index)).toEqual(request.input.map((_, i) => i));
    });

    it('refuses dimensions for a fixed-length model before calling Bedrock, naming them', async () => {
      const before = emulator.lastRequest();
      const failure = await failureOf(callEmbeddings(BedrockProvider, { model: 'embed', input: 'one', dimensions: 256 }, embedCtx('cohere.embed-english-v3')));
      expect(failure).toMatchObject({ status: 400, code: 'unsupported_input', param: 'dimensions', retryable: true });
      expect(emulator.lastRequest()).toBe(before);
    });

    it('embeds several texts with Cohere Embed in one call, in base64 when asked, with no usage to report', async () => {
      const response = await callEmbeddings(BedrockProvider, { model: 'embed', input: ['first', 'second'], encoding_format: 'base64' }, embedCtx('cohere.embed-multilingual-v3'));
      expect(emulator.lastRequest()?.body).toEqual({ texts: ['first', 'second'], input_type: 'search_document' });
      expect(response.usage).toBeUndefined();
      expect(response.data.map((d) => d.index)).toEqual([0, 1]);
      const decoded = Buffer.from(response.data[1]!.embedding as string, 'base64');
      const floats = new Float32Array(decoded.buffer, decoded.byteOffset, decoded.byteLength / 4);
      expect(floats).toHaveLength(1024);
      embeddingFor('second', 1024).slice(0, 8).forEach((value, i) => expect(floats[i]).toBeCloseTo(value, 5));
    });

    it("takes a Cohere Embed answer whose vectors are no lists of numbers as the provider's bad response, which another target may answer", async () => {
      const body = { embeddings: [{ values: [0.5] }] };
      const failure = await failureOf(Promise.resolve().then(() => BedrockProvider.parseEmbeddings!(body, embedCtx('cohere.embed-english-v3'), { model: 'x', input: 'hello' })));
      expect(failure).toMatchObject({ status: 502, code: 'provider_bad_response', retryable: true });
    });

    it('passes a throttled embeddings call on as a retryable 429', async () => {
      emulator.setMode('rate-limited');
      const failure = await failureOf(callEmbeddings(BedrockProvider, { model: 'embed', input: 'hello' }, embedCtx('cohere.embed-english-v3')));
      expect(failure).toMatchObject({ status: 429, retryable: true, retryAfterMs: 2000 });
    });

    it.each([MODEL, 'cohere.embed-v4:0'])('refuses %s, whose embeddings API (if any) the gateway does not speak', async (model) => {
      const failure = await failureOf(callEmbeddings(BedrockProvider, { model: 'x', input: 'hello' }, embedCtx(model)));
      expect(failure).toMatchObject({ status: 400, code: 'unsupported_operation' });
    });
  });

  it('defaults to the region\'s runtime endpoint', () => {
    const call = BedrockProvider.chatCall(hello, { ...ctx(), provider: { name: 'b', type: 'bedrock', baseUrl: '', region: 'eu-central-1' } });
    expect(call.url).toBe('https://bedrock-runtime.eu-central-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse');
  });
});

describe('a tool result an Anthropic-format client marked as an error, on Bedrock', () => {
  const failedResult = (): ChatRequest => ({
    model: 'm',
    tools: [weatherTool],
    messages: [
      { role: 'user', content: 'Weather in Atlantis?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Atlantis"}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'Error: no such city', [TOOL_ERROR]: true },
    ],
  });
  const resultOf = (modelId: string) => (toConverseRequest(failedResult(), modelId).messages as Array<{ content: unknown[] }>).at(-1)!.content[0];

  it.each(['anthropic.claude-3-haiku-20240307-v1:0', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'amazon.nova-lite-v1:0'])('says status "error" to %s, which takes it, with the text as the client wrote it', (modelId) => {
    expect(resultOf(modelId)).toEqual({ toolResult: { toolUseId: 't1', content: [{ text: 'no such city' }], status: 'error' } });
  });

  it('says it in the text instead to a model that takes no status: Bedrock takes it from Claude and Nova only', () => {
    expect(resultOf('meta.llama3-70b-instruct-v1:0')).toEqual({ toolResult: { toolUseId: 't1', content: [{ text: 'Error: no such city' }] } });
  });
});
