import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COHERE_THOUGHT, COHERE_TOOL_PLAN as PLAN, startCohereEmulator } from '../../../../test/emulators/cohere.js';
import { failureOf, streamedChunks } from '../../../../test/provider-calls.js';
import { ModelCatalog } from '../../catalog/index.js';
import { OUTPUT_CONFIG, STOP_SEQUENCE, THINKING, type ChatRequest } from '../../chat-types.js';
import { ProviderCallError, callChat, callEmbeddings } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { CohereProvider } from './index.js';

const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
const weatherTool = { type: 'function' as const, function: { name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const hello: ChatRequest = { model: 'command', messages: [{ role: 'user', content: 'Hello' }] };

let emulator: Awaited<ReturnType<typeof startCohereEmulator>>;

function ctx(secret = emulator.apiKey): CallContext {
  return { provider: { name: 'cohere-test', type: 'cohere', baseUrl: emulator.url }, credential: { id: 'k1', secret }, model: 'command-a-03-2025', stream: false, now: NOW };
}

const collect = (chat: ChatRequest, context = ctx()) => streamedChunks(CohereProvider, chat, context);

beforeAll(async () => {
  emulator = await startCohereEmulator();
});
afterEach(() => {
  emulator.setMode('normal');
});
afterAll(async () => {
  await emulator.stop();
});

describe('the Cohere provider', () => {
  it('posts a v2 chat request with a Bearer key and Cohere\'s parameter names', async () => {
    await callChat(
      CohereProvider,
      {
        model: 'command',
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        ],
        max_completion_tokens: 40,
        temperature: 0.3,
        top_p: 0.8,
        top_k: 40,
        stop: ['END'],
        seed: 7,
        frequency_penalty: 0.1,
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'string' } } } } },
      },
      ctx(),
    );
    const recorded = emulator.lastRequest();
    expect(recorded?.path).toBe('/v2/chat');
    expect(recorded?.headers.authorization).toBe(`Bearer ${emulator.apiKey}`);
    expect(recorded?.body).toEqual({
      model: 'command-a-03-2025',
      stream: false,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      ],
      max_tokens: 40,
      temperature: 0.3,
      p: 0.8,
      k: 40,
      stop_sequences: ['END'],
      seed: 7,
      frequency_penalty: 0.1,
      response_format: { type: 'json_object', json_schema: { type: 'object', properties: { a: { type: 'string' } } } },
    });
  });

  it("brings OpenAI's top_p, penalties and top_k into Cohere's ranges (p 0.01–0.99, penalties 0–1, k up to 500)", async () => {
    await callChat(CohereProvider, { model: 'command', messages: [{ role: 'user', content: 'Hi' }], top_p: 1, presence_penalty: 1.5, top_k: 1000 }, ctx());
    expect(emulator.lastRequest()?.body).toMatchObject({ p: 0.99, presence_penalty: 1, k: 500 });
  });

  // https://docs.cohere.com/reference/errors: "cannot specify both frequency_penalty and presence_penalty".
  it('sends only the penalty that is not 0, as Cohere refuses both in one request', async () => {
    for (const [frequency, presence] of [[0, 0.4], [-0.5, 0.4], [0.4, 0]] as const) {
      await callChat(CohereProvider, { ...hello, frequency_penalty: frequency, presence_penalty: presence }, ctx());
      const body = emulator.lastRequest()?.body as Record<string, unknown>;
      expect([body.frequency_penalty, body.presence_penalty]).toEqual(frequency > 0 ? [0.4, undefined] : [undefined, 0.4]);
    }
  });

  it('refuses two penalties that are not 0, retryably and before calling, so that an alias moves on', async () => {
    const before = emulator.lastRequest();
    const failure = await failureOf(callChat(CohereProvider, { ...hello, frequency_penalty: 0.5, presence_penalty: 0.5 }, ctx()));
    expect(failure).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'presence_penalty', retryable: true });
    expect(emulator.lastRequest()).toBe(before);
  });

  it('translates tools, tool calls and tool results into Cohere\'s v2 shapes', async () => {
    await callChat(
      CohereProvider,
      {
        model: 'command',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: 'I will check.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'c1', content: '{"celsius":21}' },
        ],
        tools: [weatherTool],
        tool_choice: 'required',
      },
      ctx(),
    );
    expect(emulator.lastRequest()?.body).toMatchObject({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', tool_plan: 'I will check.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '{"celsius":21}' },
      ],
      tools: [{ type: 'function', function: weatherTool.function }],
      tool_choice: 'REQUIRED',
    });
  });

  it('forces a named tool by offering it alone with tool_choice REQUIRED', async () => {
    const other = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
    await callChat(CohereProvider, { ...hello, tools: [other, weatherTool], tool_choice: { type: 'function', function: { name: 'get_weather' } } }, ctx());
    expect(emulator.lastRequest()?.body).toMatchObject({ tools: [{ function: { name: 'get_weather' } }], tool_choice: 'REQUIRED' });
  });

  it('answers non-streaming text with finish reason stop and the billed tokens (billed_units, not the processed ones) as usage', async () => {
    const completion = await callChat(CohereProvider, hello, ctx());
    expect(completion).toMatchObject({ id: 'cohere-emulator-0001', object: 'chat.completion', model: 'command-a-03-2025', created: Math.floor(NOW / 1000) });
    expect(completion.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Hello from the Cohere emulator.' }, finish_reason: 'stop' });
    expect(completion.usage).toEqual({ prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 });
  });

  // https://docs.cohere.com/reference/chat: usage.cached_tokens, "the number of prompt tokens that hit the inference cache".
  it("reports the prompt tokens Cohere read from its cache as prompt_tokens_details.cached_tokens, streamed or not", async () => {
    const again: ChatRequest = { ...hello, messages: [{ role: 'user', content: 'Hello again' }] };
    const expected = { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14, prompt_tokens_details: { cached_tokens: 8 } };
    expect((await callChat(CohereProvider, again, ctx())).usage).toEqual(expected);
    expect((await collect(again)).at(-1)?.usage).toEqual(expected);
  });

  it('reports no more cached tokens than the prompt tokens it reports', () => {
    const answer = CohereProvider.parseChat({ finish_reason: 'COMPLETE', message: { content: [] }, usage: { billed_units: { input_tokens: 5, output_tokens: 1 }, tokens: { input_tokens: 71, output_tokens: 1 }, cached_tokens: 60 } }, ctx());
    expect(answer.usage?.prompt_tokens_details).toEqual({ cached_tokens: 5 });
  });

  it('streams text as a role chunk, ordered content chunks, a finish chunk and a usage chunk', async () => {
    const chunks = await collect(hello);
    expect((emulator.lastRequest()?.body as { stream: boolean }).stream).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const content = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(content.length).toBeGreaterThan(2);
    expect(content.join('')).toBe('Hello from the Cohere emulator.');
    expect(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0]?.finish_reason)).toEqual(['stop']);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ id: 'cohere-emulator-0001', choices: [], usage: { prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 } });
  });

  it("answers a reasoning model's thinking item as reasoning_content, apart from the text", async () => {
    const completion = await callChat(CohereProvider, hello, { ...ctx(), model: 'command-a-reasoning-08-2025' });
    expect(completion.choices[0]!.message).toMatchObject({ content: 'Hello from the Cohere emulator.', reasoning_content: COHERE_THOUGHT });
  });

  // Cohere's content-delta carries `thinking` or `text` (ChatContentDeltaEventDeltaMessageContent).
  it("streams a reasoning model's thinking deltas as reasoning_content, before the text's content", async () => {
    const chunks = await collect(hello, { ...ctx(), model: 'command-a-reasoning-08-2025' });
    const deltas = chunks.map((c) => c.choices[0]?.delta ?? {});
    expect(deltas.map((delta) => delta.reasoning_content ?? '').join('')).toBe(COHERE_THOUGHT);
    expect(deltas.map((delta) => delta.content ?? '').join('')).toBe('Hello from the Cohere emulator.');
    expect(deltas.findLastIndex((delta) => delta.reasoning_content !== undefined)).toBeLessThan(deltas.findIndex((delta) => delta.content));
  });

  describe("a client's wish for reasoning, as Cohere's thinking setting", () => {
    const reasoning = () => ({ ...ctx(), model: 'command-a-reasoning-08-2025' });
    const thinkingSent = () => (emulator.lastRequest()?.body as { thinking?: unknown }).thinking;

    it("sends reasoning_effort none as thinking disabled, which a reasoning model answers without thinking", async () => {
      const completion = await callChat(CohereProvider, { ...hello, reasoning_effort: 'none' }, reasoning());
      expect(thinkingSent()).toEqual({ type: 'disabled' });
      expect(completion.choices[0]!.message.content).toBe('Hello from the Cohere emulator.');
      expect(completion.choices[0]!.message.reasoning_content).toBeUndefined();
    });

    it.each(['minimal', 'low', 'medium', 'high', 'xhigh'] as const)('sends reasoning_effort %s as thinking enabled, with no budget of its guessing', async (effort) => {
      const completion = await callChat(CohereProvider, { ...hello, reasoning_effort: effort }, reasoning());
      expect(thinkingSent()).toEqual({ type: 'enabled' });
      expect(completion.choices[0]!.message.reasoning_content).toBe(COHERE_THOUGHT);
    });

    it("sends an Anthropic-format client's thinking: its budget_tokens as token_budget, disabled as disabled, adaptive as enabled", async () => {
      const streamed = await collect({ ...hello, [THINKING]: { type: 'enabled', budget_tokens: 3 } }, reasoning());
      expect(thinkingSent()).toEqual({ type: 'enabled', token_budget: 3 });
      expect(streamed.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe(COHERE_THOUGHT.split(/(?= )/).slice(0, 3).join(''));
      await callChat(CohereProvider, { ...hello, [THINKING]: { type: 'disabled' } }, reasoning());
      expect(thinkingSent()).toEqual({ type: 'disabled' });
      await callChat(CohereProvider, { ...hello, [THINKING]: { type: 'adaptive' }, [OUTPUT_CONFIG]: { effort: 'low' } }, reasoning());
      expect(thinkingSent()).toEqual({ type: 'enabled' });
    });

    it('sends no thinking when the client asked nothing of reasoning, nor to a model the catalog says does not reason', async () => {
      await callChat(CohereProvider, hello, reasoning());
      expect(thinkingSent()).toBeUndefined();
      const plain = { ...ctx(), catalogModel: ModelCatalog.shipped().priced('cohere', 'command-a-03-2025') };
      expect(plain.catalogModel?.capabilities).not.toContain('reasoning');
      await callChat(CohereProvider, { ...hello, reasoning_effort: 'high' }, plain);
      expect(thinkingSent()).toBeUndefined();
    });

    it('refuses a reasoning_effort it has no thinking setting for, retryably and before calling', async () => {
      const before = emulator.lastRequest();
      const failure = await failureOf(callChat(CohereProvider, { ...hello, reasoning_effort: 'extreme' }, reasoning()));
      expect(failure).toMatchObject({ status: 400, code: 'unsupported_value', param: 'reasoning_effort', retryable: true });
      expect(emulator.lastRequest()).toBe(before);
    });
  });

  it('returns a tool call with finish reason tool_calls, and the tool plan as the text beside it', async () => {
    const completion = await callChat(CohereProvider, { ...hello, tools: [weatherTool] }, ctx());
    expect(completion.choices[0]).toMatchObject({
      message: { content: PLAN, tool_calls: [{ id: 'get_weather_emu1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      finish_reason: 'tool_calls',
    });
  });

  it('streams the tool plan as content, then a tool call whose argument pieces reassemble to valid JSON', async () => {
    const chunks = await collect({ ...hello, tools: [weatherTool] });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(PLAN);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls[0]).toEqual({ index: 0, id: 'get_weather_emu1', type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(calls.length).toBeGreaterThan(2);
    expect(JSON.parse(calls.map((call) => call.function?.arguments ?? '').join(''))).toEqual({ city: 'Paris' });
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('streams a call of a tool without parameters, which Cohere streams with no delta, with arguments {}', async () => {
    const clock = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
    const calls = (await collect({ ...hello, tools: [clock] })).flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls.map((call) => call.function?.arguments ?? '').join('')).toBe('{}');
  });

  it('gives a call Cohere never ends (no tool-call-end) arguments {} at the message\'s end when none came', () => {
    const event = (data: { type: string; [member: string]: unknown }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
    const read = event({ type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { id: 'get_time_1', type: 'function', function: { name: 'get_time', arguments: '' } } } } }) + event({ type: 'message-end', delta: { finish_reason: 'TOOL_CALL' } });
    const chunks = CohereProvider.streamTranslator({ ...ctx(), stream: true }).push(Buffer.from(read));
    expect(chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((call) => call.function?.arguments).join('')).toBe('{}');
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers with text once the tool result is sent back', async () => {
    const completion = await callChat(
      CohereProvider,
      {
        model: 'command',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'get_weather_emu1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'get_weather_emu1', content: '{"celsius":21}' },
        ],
        tools: [weatherTool],
      },
      ctx(),
    );
    expect(completion.choices[0]).toMatchObject({ message: { content: 'It is 21 degrees in Paris.' }, finish_reason: 'stop' });
  });

  it('maps STOP_SEQUENCE to stop, saying that a stop sequence ended the answer without a member OpenAI lacks, streamed or not', async () => {
    const stopped = { ...hello, stop: ['emulator'] };
    const completion = await callChat(CohereProvider, stopped, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { content: 'Hello from the Cohere ' }, finish_reason: 'stop' });
    // Cohere does not say which sequence it was.
    expect(completion.choices[0]?.[STOP_SEQUENCE]).toBeNull();
    expect(Object.keys(JSON.parse(JSON.stringify(completion.choices[0])) as object)).toEqual(['index', 'message', 'finish_reason', 'logprobs']);
    const finish = (await collect(stopped)).find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    expect(finish?.choices[0]?.[STOP_SEQUENCE]).toBeNull();
    expect(STOP_SEQUENCE in (await callChat(CohereProvider, hello, ctx())).choices[0]!).toBe(false);
  });

  it('maps MAX_TOKENS to length', async () => {
    const completion = await callChat(CohereProvider, { ...hello, max_tokens: 2 }, ctx());
    expect(completion.choices[0]).toMatchObject({ message: { content: 'Hello from' }, finish_reason: 'length' });
  });

  it('reports a generation that ended in ERROR as a retryable failure, streamed or not', async () => {
    const failing: ChatRequest = { model: 'command', messages: [{ role: 'user', content: 'please fail' }] };
    expect(await failureOf(callChat(CohereProvider, failing, ctx()))).toMatchObject({ status: 502, code: 'provider_generation_failed', retryable: true });
    // What Cohere billed for the failed generation goes with the failure, for the call's record.
    const error = await callChat(CohereProvider, failing, ctx()).catch((e: unknown) => e);
    expect((error as ProviderCallError).billed).toMatchObject({ prompt_tokens: 9 });
    expect(await failureOf(collect(failing))).toMatchObject({ code: 'provider_generation_failed', message: expect.stringContaining('the model failed to generate') });
  });

  /** What the translator throws for one read holding a content-delta and a message-end in ERROR, and the translator. */
  const failedRead = () => {
    const event = (data: { type: string; [member: string]: unknown }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
    const read = event({ type: 'content-delta', index: 0, delta: { message: { content: { text: 'Last words' } } } }) + event({ type: 'message-end', delta: { finish_reason: 'ERROR', error: 'boom', usage: { billed_units: { input_tokens: 9, output_tokens: 2 } } } });
    const translator = CohereProvider.streamTranslator({ ...ctx(), stream: true });
    try {
      translator.push(Buffer.from(read));
    } catch (error) {
      return { thrown: error as ProviderCallError, translator };
    }
    throw new Error('the read did not fail');
  };

  it('hands the words of the same read before a message-end in ERROR on with the failure', () => {
    const { thrown } = failedRead();
    expect(thrown).toBeInstanceOf(ProviderCallError);
    expect(thrown.before.map((c) => c.choices[0]?.delta.content)).toEqual(['Last words']);
  });

  it('tells no usage for an answer Cohere counted nothing of (its usage is optional), so that the gateway estimates rather than book 0 tokens', () => {
    const answer = CohereProvider.parseChat({ id: 'c2', finish_reason: 'COMPLETE', message: { role: 'assistant', content: [{ type: 'text', text: 'Hello there.' }] } }, ctx());
    expect(answer.choices[0]?.message.content).toBe('Hello there.');
    expect(answer.usage).toBeUndefined();
  });

  it('tells no usage for a stream Cohere counted nothing of, and sends no usage chunk', () => {
    const event = (data: { type: string; [member: string]: unknown }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
    const translator = CohereProvider.streamTranslator({ ...ctx(), stream: true });
    const chunks = translator.push(Buffer.from(event({ type: 'content-delta', index: 0, delta: { message: { content: { text: 'Hello there.' } } } }) + event({ type: 'message-end', delta: { finish_reason: 'COMPLETE' } })));
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    expect(translator.usage()).toBeUndefined();
  });

  it('tells what Cohere counted of a usage it gave in part', () => {
    expect(CohereProvider.parseChat({ finish_reason: 'COMPLETE', message: { content: [] }, usage: { tokens: { input_tokens: 7 } } }, ctx()).usage).toEqual({ prompt_tokens: 7, completion_tokens: 0, total_tokens: 7 });
  });

  it('keeps what Cohere billed for a streamed generation that ended in ERROR, with the failure and as the usage', () => {
    const { thrown, translator } = failedRead();
    expect(thrown.billed).toEqual({ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 });
    expect(translator.usage()).toEqual({ prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 });
  });

  it('fails a stream that ends before message-end', () => {
    const event = (data: { type: string; [member: string]: unknown }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
    const translator = CohereProvider.streamTranslator({ ...ctx(), stream: true });
    translator.push(Buffer.from(event({ type: 'message-start', id: 'c1', delta: { message: { role: 'assistant' } } }) + event({ type: 'content-delta', index: 0, delta: { message: { content: { text: 'Hello' } } } })));
    expect(() => translator.end()).toThrow(expect.objectContaining({ failure: expect.objectContaining({ status: 502, code: 'provider_stream_incomplete', retryable: true }) }));
  });

  it("answers base64 float32 vectors when encoding_format asks for them, as the openai SDK does by default", async () => {
    const embeddings = await callEmbeddings(CohereProvider, { model: 'embed', input: ['one two'], encoding_format: 'base64' }, { ...ctx(), model: 'embed-v4.0' });
    const encoded = embeddings.data[0]!.embedding as unknown as string;
    expect(typeof encoded).toBe('string');
    const bytes = Buffer.from(encoded, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4))).toEqual(Array.from(Float32Array.from([0.7, 0.5, -0.25])));
  });

  it.each(['embed-english-v3.0', 'embed-multilingual-light-v3.0'])('refuses dimensions for %s, whose vectors have one length, before calling Cohere', async (model) => {
    const before = emulator.lastRequest();
    const failure = await callEmbeddings(CohereProvider, { model: 'embed', input: ['one'], dimensions: 256 }, { ...ctx(), model }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ failure: { status: 400, code: 'unsupported_parameter', param: 'dimensions', retryable: true } });
    expect(emulator.lastRequest()).toBe(before);
  });

  it('embeds texts as search documents and answers in OpenAI\'s shape', async () => {
    const embeddings = await callEmbeddings(CohereProvider, { model: 'embed', input: ['one two', 'three'], dimensions: 256 }, { ...ctx(), model: 'embed-v4.0' });
    expect(emulator.lastRequest()?.path).toBe('/v2/embed');
    expect(emulator.lastRequest()?.body).toEqual({ model: 'embed-v4.0', texts: ['one two', 'three'], input_type: 'search_document', embedding_types: ['float'], output_dimension: 256 });
    expect(embeddings).toEqual({
      object: 'list',
      data: [
        { object: 'embedding', index: 0, embedding: [0.7, 0.5, -0.25] },
        { object: 'embedding', index: 1, embedding: [0.5, 0.5, -0.25] },
      ],
      model: 'embed-v4.0',
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
  });

  it.each([
    ['no embeddings', {}],
    ['no float embeddings', { embeddings: {}, meta: { billed_units: { input_tokens: 1 } } }],
    ['a float embedding that is no list of numbers', { embeddings: { float: [{ values: [0.5] }] } }],
  ])("takes a /v2/embed answer of %s as the provider's bad response, which another target may answer", async (_what, body) => {
    const failure = await failureOf(Promise.resolve().then(() => CohereProvider.parseEmbeddings!(body, { ...ctx(), model: 'embed-v4.0' }, { model: 'embed', input: 'one' })));
    expect(failure).toMatchObject({ status: 502, code: 'provider_bad_response', retryable: true });
  });

  it('embeds texts for what the request\'s input_type says they are for', async () => {
    await callEmbeddings(CohereProvider, { model: 'embed', input: 'a question', input_type: 'search_query' }, { ...ctx(), model: 'embed-v4.0' });
    expect(emulator.lastRequest()?.body).toMatchObject({ texts: ['a question'], input_type: 'search_query' });
  });

  it('refuses an input_type Cohere does not define, before calling it', async () => {
    const before = emulator.lastRequest();
    const failure = await failureOf(callEmbeddings(CohereProvider, { model: 'embed', input: 'a', input_type: 'query' }, { ...ctx(), model: 'embed-v4.0' }));
    expect(failure).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'input_type' });
    expect(emulator.lastRequest()).toBe(before);
  });

  it('reports a wrong key as an invalid credential without naming it', async () => {
    const failure = await failureOf(callChat(CohereProvider, hello, ctx('wrong-cohere-key')));
    expect(failure).toMatchObject({ status: 401, type: 'authentication_error', credentialProblem: 'invalid', retryable: true });
    expect(JSON.stringify(failure)).not.toContain('wrong-cohere-key');
  });

  it('reports a rate limit as retryable with its retry-after', async () => {
    emulator.setMode('rate-limited');
    expect(await failureOf(callChat(CohereProvider, hello, ctx()))).toMatchObject({ status: 429, type: 'rate_limit_error', retryAfterMs: 2000, retryable: true });
  });

  it('reports a 503 as retryable', async () => {
    emulator.setMode('unavailable');
    expect(await failureOf(callChat(CohereProvider, hello, ctx()))).toMatchObject({ status: 503, type: 'api_error', retryable: true });
  });

  it('reports a 400 as the caller\'s, not retryable', async () => {
    const failure = await failureOf(callChat(CohereProvider, { model: 'command', messages: [] }, ctx()));
    expect(failure).toMatchObject({ status: 400, type: 'invalid_request_error', message: 'invalid request: messages must not be empty.', retryable: false });
  });
});
