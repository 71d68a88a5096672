import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED_THINKING_TRIGGER, thinkingFor } from '../../../../test/emulators/anthropic.js';
import { REDACTED_REASONING, reasoningSignatureFor, startBedrockEmulator } from '../../../../test/emulators/bedrock.js';
import { failureOf, streamedChunks } from '../../../../test/provider-calls.js';
import type { CatalogModel } from '../../catalog/index.js';
import { ANTHROPIC_BLOCKS, OUTPUT_CONFIG, THINKING, THINKING_DELTA, type AnthropicBlock, type ChatCompletionChunk, type ChatMessage, type ChatRequest, type ToolCall } from '../../chat-types.js';
import { callChat } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { encodeEventStreamMessage } from './event-stream.js';
import { toConverseRequest } from './converse-request.js';
import { BedrockProvider } from './index.js';

const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const LLAMA = 'us.meta.llama3-3-70b-instruct-v1:0';
const weatherTool = { type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
const REASONS: CatalogModel['capabilities'] = ['chat', 'tools', 'streaming', 'reasoning'];
const entry = (capabilities: CatalogModel['capabilities'], maxOutputTokens: number): CatalogModel => ({ id: SONNET, provider: 'bedrock', kind: 'chat', contextWindow: 200_000, maxOutputTokens, inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3, capabilities });

/** One event of a Converse stream, framed as Bedrock's event stream frames it. */
const frame = (type: string, payload: object) => encodeEventStreamMessage({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify(payload)));

let emulator: Awaited<ReturnType<typeof startBedrockEmulator>>;

function ctx(model = SONNET, catalogModel?: CatalogModel, stream = false): CallContext {
  return { provider: { name: 'bedrock-test', type: 'bedrock', baseUrl: emulator.url, region: emulator.region }, credential: { id: 'k1', secret: emulator.credential }, model, stream, now: Date.now(), ...(catalogModel ? { catalogModel } : {}) };
}
const ask = (extra: Partial<ChatRequest> = {}, content = 'Hello'): ChatRequest => ({ model: 'claude', messages: [{ role: 'user', content }], ...extra });
/** The Converse body the emulator last took. */
const sent = () => emulator.lastRequest()!.body as { additionalModelRequestFields?: Record<string, unknown>; inferenceConfig?: Record<string, unknown>; messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };

/** A `/v1/messages` client's request (what the ingress makes of it): `thinking` and earlier turns under symbols. */
function anthropicClientRequest(thinking: Record<string, unknown>, messages: ChatMessage[], extra: Partial<ChatRequest> = {}): ChatRequest {
  const request: ChatRequest = { model: 'claude', max_completion_tokens: 2000, messages, ...extra };
  request[THINKING] = thinking;
  return request;
}
const assistantTurn = (blocks: AnthropicBlock[], toolCalls: ChatMessage['tool_calls'] = undefined): ChatMessage => {
  const text = blocks.filter((b) => b.type === 'text').map((b) => String(b.text)).join('');
  const message: ChatMessage = { role: 'assistant', content: text || null, ...(toolCalls ? { tool_calls: toolCalls } : {}) };
  message[ANTHROPIC_BLOCKS] = blocks;
  return message;
};
const signed = (text: string): AnthropicBlock => ({ type: 'thinking', thinking: text, signature: reasoningSignatureFor(text) });

beforeAll(async () => {
  emulator = await startBedrockEmulator();
});
afterAll(async () => {
  await emulator.stop();
});

describe('extended thinking on Bedrock, asked with reasoning_effort', () => {
  it("asks a Claude model to think in additionalModelRequestFields, the budget added to the client's legacy max_tokens, and answers its thinking as reasoning_content", async () => {
    const completion = await callChat(BedrockProvider, ask({ reasoning_effort: 'medium', max_tokens: 500 }), ctx());
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(sent().inferenceConfig).toMatchObject({ maxTokens: 500 + 2048 });
    expect(completion.choices[0]!.message.reasoning_content).toBe(thinkingFor('Hello'));
    expect(completion.choices[0]!.message.content).toBe('Hello from the Bedrock emulator.');
  });

  it('keeps max_completion_tokens, which counts the reasoning, as the bound of the whole answer', async () => {
    await callChat(BedrockProvider, ask({ reasoning_effort: 'medium', max_completion_tokens: 5000 }), ctx());
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(sent().inferenceConfig).toMatchObject({ maxTokens: 5000 });
    // Half of a tighter bound at most, the answer keeping the rest.
    await callChat(BedrockProvider, ask({ reasoning_effort: 'medium', max_completion_tokens: 3000 }), ctx());
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 1500 } });
    expect(sent().inferenceConfig).toMatchObject({ maxTokens: 3000 });
  });

  it("bounds a thinking call whose client set no limit by the model's output limit where the catalog knows it, as the Anthropic adapter does", async () => {
    await callChat(BedrockProvider, ask({ reasoning_effort: 'high' }), ctx(SONNET, entry(REASONS, 64_000)));
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 4096 } });
    expect(sent().inferenceConfig).toEqual({ maxTokens: 64_000 });
  });

  it('adds the budget to 4096 tokens, the Anthropic adapter’s default, when the client sets no limit', async () => {
    await callChat(BedrockProvider, ask({ reasoning_effort: 'low' }), ctx());
    expect(sent().inferenceConfig).toEqual({ maxTokens: 4096 + 1024 });
  });

  it('asks a model the catalog says does not reason for no thinking, and keeps a reasoning model within its output limit', async () => {
    await callChat(BedrockProvider, ask({ reasoning_effort: 'high', max_completion_tokens: 500 }), ctx(SONNET, entry(['chat', 'tools', 'streaming'], 8192)));
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    await callChat(BedrockProvider, ask({ reasoning_effort: 'xhigh', max_completion_tokens: 64_000 }), ctx(SONNET, entry(REASONS, 64_000)));
    expect(sent()).toMatchObject({ additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 8192 } }, inferenceConfig: { maxTokens: 64_000 } });
  });

  it('asks for no thinking with a forced tool, which Claude refuses beside thinking', async () => {
    for (const tool_choice of ['required', { type: 'function', function: { name: 'get_weather' } }] as const) {
      await callChat(BedrockProvider, ask({ reasoning_effort: 'high', tools: [weatherTool], tool_choice }), ctx());
      expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    }
  });

  it('drops the temperature and a topP under 0.95 beside thinking, which Claude refuses, and keeps a topP of 0.95 or more', async () => {
    await callChat(BedrockProvider, ask({ reasoning_effort: 'low', temperature: 0.3 }), ctx());
    expect(sent().inferenceConfig).not.toHaveProperty('temperature');
    await callChat(BedrockProvider, ask({ reasoning_effort: 'low', top_p: 0.5 }), ctx());
    expect(sent().inferenceConfig).not.toHaveProperty('topP');
    await callChat(BedrockProvider, ask({ reasoning_effort: 'low', top_p: 0.97 }), ctx());
    expect(sent().inferenceConfig).toMatchObject({ topP: 0.97 });
  });

  it("answers tool results without thinking when the tool call's turn came without its reasoning (an OpenAI client's)", async () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Use get_weather.' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'tooluse_1', content: '21' },
    ];
    const completion = await callChat(BedrockProvider, { model: 'claude', reasoning_effort: 'low', tools: [weatherTool], messages }, ctx());
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    expect(completion.choices[0]!.message.content).toBe('It is 21 degrees in Paris.');
  });

  it('asks a Claude model that thinks only adaptively for adaptive thinking at Anthropic’s effort, with no budget it would refuse', async () => {
    const opus = 'global.anthropic.claude-opus-4-8';
    const adaptive: CatalogModel = { ...entry([...REASONS, 'adaptive_thinking'], 128_000), id: opus };
    await callChat(BedrockProvider, ask({ reasoning_effort: 'high', max_completion_tokens: 500 }), ctx(opus, adaptive));
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } });
    expect(sent().inferenceConfig?.maxTokens).toBe(500);
  });

  it.each(['us.anthropic.claude-opus-4-9-20270115-v1:0', 'anthropic.claude-mythos-5-v1:0', 'global.anthropic.claude-sonnet-6'])('asks %s, which the catalog does not list, for adaptive thinking, as the families that think only adaptively are named', async (model) => {
    const completion = await callChat(BedrockProvider, ask({ reasoning_effort: 'minimal', max_completion_tokens: 500 }), ctx(model));
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
    expect(sent().inferenceConfig?.maxTokens).toBe(500);
    expect(completion.choices[0]!.message.reasoning_content).toBe(thinkingFor('Hello'));
  });

  it("asks a model that thinks only adaptively for adaptive thinking when an Anthropic-format client sends a budget, and for none when it disables thinking, which such a model refuses", async () => {
    const opus = 'us.anthropic.claude-opus-4-7';
    await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 2048 }, [{ role: 'user', content: 'Hello' }]), ctx(opus));
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } });
    expect(sent().inferenceConfig?.maxTokens).toBe(2000);
    await callChat(BedrockProvider, anthropicClientRequest({ type: 'disabled' }, [{ role: 'user', content: 'Hello' }]), ctx(opus));
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
  });

  it("leaves out a blank text block of a client's own turn, which Converse refuses, and keeps its thinking and tool use", async () => {
    const call = { id: 'toolu_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    const turn = assistantTurn([signed('The weather, then.'), { type: 'text', text: '\n\n' }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }], [call]);
    const messages: ChatMessage[] = [{ role: 'user', content: 'Weather in Paris?' }, turn, { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' }];
    await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, messages, { tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }] }), ctx());
    expect(sent().messages[1]?.content.map((block) => Object.keys(block)[0])).toEqual(['reasoningContent', 'toolUse']);
  });

  it('asks for no thinking with the effort none', async () => {
    const completion = await callChat(BedrockProvider, ask({ reasoning_effort: 'none' }), ctx());
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    expect(completion.choices[0]!.message).not.toHaveProperty('reasoning_content');
  });

  it('refuses an effort OpenAI does not document, for Claude and for another model, as a 400 the next target of an alias may take', async () => {
    for (const model of [SONNET, LLAMA]) {
      const failure = await failureOf(callChat(BedrockProvider, ask({ reasoning_effort: 'max' }), ctx(model)));
      expect(failure).toMatchObject({ status: 400, code: 'unsupported_value', param: 'reasoning_effort', retryable: true });
    }
  });

  it('sends a model other than Claude no thinking, which Bedrock documents for none of them, and answers it all the same', async () => {
    const completion = await callChat(BedrockProvider, ask({ reasoning_effort: 'high', max_completion_tokens: 500 }), ctx(LLAMA));
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    expect(sent().inferenceConfig).toEqual({ maxTokens: 500 });
    expect(completion.choices[0]!.message.content).toBe('Hello from the Bedrock emulator.');
  });

  it('gets no reasoning_content, nor Anthropic blocks, from a call that did not ask for reasoning', async () => {
    const completion = await callChat(BedrockProvider, ask(), ctx());
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    expect(completion.choices[0]!.message).not.toHaveProperty('reasoning_content');
    expect(completion.choices[0]!.message[ANTHROPIC_BLOCKS]).toBeUndefined();
  });
});

describe('extended thinking on Amazon Nova 2, asked with reasoning_effort', () => {
  const NOVA_2 = 'us.amazon.nova-2-lite-v1:0';

  it("asks Nova 2 for reasoning at the effort's level, keeping the client's sampling and limit, and answers its redacted reasoning as reasoning_content", async () => {
    const completion = await callChat(BedrockProvider, ask({ reasoning_effort: 'medium', max_completion_tokens: 500, temperature: 0.3 }), ctx(NOVA_2));
    expect(sent().additionalModelRequestFields).toEqual({ reasoningConfig: { type: 'enabled', maxReasoningEffort: 'medium' } });
    expect(sent().inferenceConfig).toEqual({ maxTokens: 500, temperature: 0.3 });
    expect(completion.choices[0]!.message.reasoning_content).toBe('[REDACTED]');
    expect(completion.choices[0]!.message[ANTHROPIC_BLOCKS]).toBeUndefined();
  });

  it('maps minimal to low, and xhigh to high, Nova’s least and most', async () => {
    await callChat(BedrockProvider, ask({ reasoning_effort: 'minimal' }), ctx(NOVA_2));
    expect(sent().additionalModelRequestFields).toEqual({ reasoningConfig: { type: 'enabled', maxReasoningEffort: 'low' } });
    await callChat(BedrockProvider, ask({ reasoning_effort: 'xhigh' }), ctx(NOVA_2));
    expect(sent().additionalModelRequestFields).toEqual({ reasoningConfig: { type: 'enabled', maxReasoningEffort: 'high' } });
  });

  it('drops temperature, topP and maxTokens beside a high effort, which Nova 2 refuses', async () => {
    await callChat(BedrockProvider, ask({ reasoning_effort: 'high', max_completion_tokens: 500, temperature: 0.3, top_p: 0.9 }), ctx(NOVA_2));
    expect(sent()).not.toHaveProperty('inferenceConfig');
  });

  it('asks Nova 2 for no reasoning with the effort none, nor a model the catalog says does not reason, nor Nova 1', async () => {
    await callChat(BedrockProvider, ask({ reasoning_effort: 'none' }), ctx(NOVA_2));
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    await callChat(BedrockProvider, ask({ reasoning_effort: 'high' }), ctx(NOVA_2, { ...entry(['chat', 'tools', 'streaming'], 64_000), id: NOVA_2 }));
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    await callChat(BedrockProvider, ask({ reasoning_effort: 'high' }), ctx('amazon.nova-lite-v1:0'));
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
  });

  it("sends Nova 2 no Anthropic-format client's thinking", async () => {
    await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: 'Hi' }]), ctx(NOVA_2));
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
  });
});

describe("extended thinking on Bedrock, asked by an Anthropic-format client's thinking", () => {
  it('sends the thinking as it came: enabled with its budget, adaptive with its effort, disabled', async () => {
    await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: 'Hi' }]), ctx());
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'enabled', budget_tokens: 1024 } });
    expect(sent().inferenceConfig).toEqual({ maxTokens: 2000 });
    const adaptive = anthropicClientRequest({ type: 'adaptive' }, [{ role: 'user', content: 'Hi' }]);
    adaptive[OUTPUT_CONFIG] = { effort: 'medium' };
    await callChat(BedrockProvider, adaptive, ctx());
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } });
    await callChat(BedrockProvider, anthropicClientRequest({ type: 'disabled' }, [{ role: 'user', content: 'Hi' }]), ctx());
    expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'disabled' } });
  });

  it('sends a model other than Claude neither the thinking nor the thinking blocks of earlier turns', async () => {
    const thought = thinkingFor('Hi');
    await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: 'Hi' }, assistantTurn([signed(thought), { type: 'text', text: 'Hello!' }]), { role: 'user', content: 'Again' }]), ctx(LLAMA));
    expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    expect(sent().messages[1]).toEqual({ role: 'assistant', content: [{ text: 'Hello!' }] });
  });

  it('answers Claude’s reasoning as Anthropic’s blocks in their order: thinking with its signature, redacted_thinking with its data, text, tool_use', async () => {
    const completion = await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: REDACTED_THINKING_TRIGGER }], { tools: [weatherTool] }), ctx());
    const thought = thinkingFor(REDACTED_THINKING_TRIGGER);
    expect(completion.choices[0]!.message[ANTHROPIC_BLOCKS]).toEqual([
      { type: 'thinking', thinking: thought, signature: reasoningSignatureFor(thought) },
      { type: 'redacted_thinking', data: REDACTED_REASONING },
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'tooluse_emulator01', name: 'get_weather', input: { city: 'Paris' } },
    ]);
    expect(completion.choices[0]!.message.reasoning_content).toBe(thought);
  });

  it('sends an earlier turn’s thinking back in its place as reasoningContent, signature and redacted bytes unchanged, so a tool loop with thinking goes on', async () => {
    const first = await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: REDACTED_THINKING_TRIGGER }], { tools: [weatherTool] }), ctx());
    const answer = first.choices[0]!.message;
    const messages: ChatMessage[] = [{ role: 'user', content: REDACTED_THINKING_TRIGGER }, assistantTurn(answer[ANTHROPIC_BLOCKS]!, answer.tool_calls as ToolCall[]), { role: 'tool', tool_call_id: 'tooluse_emulator01', content: '{"celsius":21}' }];
    const second = await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, messages, { tools: [weatherTool] }), ctx());
    expect(second.choices[0]!.message.content).toBe('It is 21 degrees in Paris.');
    const thought = thinkingFor(REDACTED_THINKING_TRIGGER);
    expect(sent().messages[1]!.content).toEqual([
      { reasoningContent: { reasoningText: { text: thought, signature: reasoningSignatureFor(thought) } } },
      { reasoningContent: { redactedContent: REDACTED_REASONING } },
      { text: 'Let me check.' },
      { toolUse: { toolUseId: 'tooluse_emulator01', name: 'get_weather', input: { city: 'Paris' } } },
    ]);
  });

  it('puts a cache breakpoint of a block of such a turn as a cachePoint after it', async () => {
    const thought = thinkingFor('Hi');
    await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: 'Hi' }, assistantTurn([signed(thought), { type: 'text', text: 'Hello!', cache_control: { type: 'ephemeral' } }]), { role: 'user', content: 'Again' }]), ctx());
    expect(sent().messages[1]!.content.slice(1)).toEqual([{ text: 'Hello!' }, { cachePoint: { type: 'default' } }]);
  });

  it.each([
    ['a budget under 1024', { type: 'enabled', budget_tokens: 500 }, {}, 'greater than or equal to 1024'],
    ['a budget of max_tokens or more', { type: 'enabled', budget_tokens: 2000 }, {}, '`max_tokens` must be greater than `thinking.budget_tokens`'],
    ['a temperature beside thinking', { type: 'enabled', budget_tokens: 1024 }, { temperature: 0.5 }, '`temperature` may only be set to 1'],
    ['a forced tool beside thinking', { type: 'enabled', budget_tokens: 1024 }, { tools: [weatherTool], tool_choice: 'required' as const }, 'Thinking may not be enabled when tool_choice forces tool use'],
  ])("passes on Claude's refusal of %s, sent as the client asked, as the caller's 400", async (_, thinking, extra, message) => {
    const failure = await failureOf(callChat(BedrockProvider, anthropicClientRequest(thinking, [{ role: 'user', content: 'Hi' }], extra), ctx()));
    expect(failure).toMatchObject({ status: 400, retryable: false });
    expect(failure.message).toContain(message);
  });

  it("passes on Claude's refusal of a tool loop whose turn lost its thinking block, and of a thinking block whose signature was changed", async () => {
    const first = await callChat(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: 'Use it.' }], { tools: [weatherTool] }), ctx());
    const answer = first.choices[0]!.message;
    const loop = (blocks: AnthropicBlock[]) => anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: 'Use it.' }, assistantTurn(blocks, answer.tool_calls as ToolCall[]), { role: 'tool', tool_call_id: 'tooluse_emulator01', content: '21' }], { tools: [weatherTool] });
    const lost = await failureOf(callChat(BedrockProvider, loop(answer[ANTHROPIC_BLOCKS]!.filter((b) => b.type !== 'thinking')), ctx()));
    expect(lost.message).toContain('must start with a thinking block');
    const changed = await failureOf(callChat(BedrockProvider, loop(answer[ANTHROPIC_BLOCKS]!.map((b) => (b.type === 'thinking' ? { ...b, thinking: 'Something else.' } : b))), ctx()));
    expect(changed.message).toContain('Invalid `signature`');
  });

  it('answers tool results without thinking when the tool call’s turn had thinking another provider wrote (its reasoning_content), which Claude cannot check', async () => {
    const otherProvidersTurn: ChatMessage = { role: 'assistant', content: null, reasoning_content: 'Paris first.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] };
    const request = anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: 'Use it.' }, otherProvidersTurn, { role: 'tool', tool_call_id: 'call_1', content: '21' }], { tools: [weatherTool] });
    const answer = await callChat(BedrockProvider, request, ctx());
    expect(answer.choices[0]!.message.content).toBeTruthy();
    expect(sent().additionalModelRequestFields?.thinking).toBeUndefined();
  });
});

describe('streamed thinking on Bedrock', () => {
  const thinkingDeltas = (chunks: ChatCompletionChunk[]) => chunks.flatMap((c) => (c.choices[0]?.delta[THINKING_DELTA] ? [c.choices[0].delta[THINKING_DELTA]] : []));

  it('streams Claude’s reasoning as reasoning_content, and as Anthropic streams thinking: the block, its text, its signature, then the redacted block whole', async () => {
    const chunks = await streamedChunks(BedrockProvider, anthropicClientRequest({ type: 'enabled', budget_tokens: 1024 }, [{ role: 'user', content: REDACTED_THINKING_TRIGGER }]), ctx(SONNET, undefined, true));
    const thought = thinkingFor(REDACTED_THINKING_TRIGGER);
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe(thought);
    const deltas = thinkingDeltas(chunks);
    expect(deltas[0]).toEqual({ block: { type: 'thinking', thinking: '', signature: '' } });
    expect(deltas.filter((d) => d.thinking !== undefined).map((d) => d.thinking).join('')).toBe(thought);
    expect(deltas.slice(-2)).toEqual([{ signature: reasoningSignatureFor(thought) }, { block: { type: 'redacted_thinking', data: REDACTED_REASONING } }]);
    expect(deltas.filter((d) => d.block)).toHaveLength(2);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello from the Bedrock emulator.');
  });

  it('starts a thinking block for a Claude reasoning block that streams its signature alone, as one whose display is omitted does', () => {
    const translator = BedrockProvider.streamTranslator(ctx(SONNET, undefined, true));
    const chunks = translator.push(
      Buffer.concat([
        frame('messageStart', { role: 'assistant' }),
        frame('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'omitted-thinking-signature' } } }),
        frame('contentBlockStop', { contentBlockIndex: 0 }),
        frame('contentBlockDelta', { contentBlockIndex: 1, delta: { text: 'Done.' } }),
      ]),
    );
    expect(thinkingDeltas(chunks)).toEqual([{ block: { type: 'thinking', thinking: '', signature: '' } }, { signature: 'omitted-thinking-signature' }]);
  });

  it('streams the reasoning of a model other than Claude as reasoning_content alone, with no blocks to send back', async () => {
    const translator = BedrockProvider.streamTranslator(ctx('deepseek.r1-v1:0', undefined, true));
    const chunks = translator.push(
      Buffer.concat([
        frame('messageStart', { role: 'assistant' }),
        frame('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Thinking it over.' } } }),
        frame('contentBlockStop', { contentBlockIndex: 0 }),
        frame('contentBlockDelta', { contentBlockIndex: 1, delta: { text: 'Done.' } }),
      ]),
    );
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe('Thinking it over.');
    expect(thinkingDeltas(chunks)).toEqual([]);
  });

  it('answers the reasoning of a model other than Claude as reasoning_content, with no Anthropic blocks', () => {
    const body = { output: { message: { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'Thinking it over.' } } }, { text: 'Done.' }] } }, stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 5 } };
    const completion = BedrockProvider.parseChat(body, ctx('deepseek.r1-v1:0'));
    expect(completion.choices[0]!.message).toMatchObject({ content: 'Done.', reasoning_content: 'Thinking it over.' });
    expect(completion.choices[0]!.message[ANTHROPIC_BLOCKS]).toBeUndefined();
  });
});

describe('the output limit a Converse call may bill, by which budget holds are sized', () => {
  const asked = (reasoning_effort: ChatRequest['reasoning_effort']): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 16, reasoning_effort });

  it("is a Claude model's max_tokens with the thinking budget it is sent with", () => {
    const limit = BedrockProvider.billedOutputLimit!(asked('high'), 'anthropic.claude-sonnet-4-5-20250929-v1:0');
    const sent = toConverseRequest(asked('high'), 'anthropic.claude-sonnet-4-5-20250929-v1:0') as { inferenceConfig: { maxTokens: number } };
    expect(sent.inferenceConfig.maxTokens).toBeGreaterThan(16);
    expect(limit).toBe(sent.inferenceConfig.maxTokens);
  });

  it("is none, the model's own, for Nova 2 at a high effort, which is sent no maxTokens", () => {
    const sent = toConverseRequest(asked('high'), 'us.amazon.nova-2-lite-v1:0') as { inferenceConfig?: { maxTokens?: number } };
    expect(sent.inferenceConfig?.maxTokens).toBeUndefined();
    expect(BedrockProvider.billedOutputLimit!(asked('high'), 'us.amazon.nova-2-lite-v1:0')).toBeUndefined();
  });

  it.each([
    ['Nova 2 at a low effort', 'us.amazon.nova-2-lite-v1:0', 'low' as const],
    ['a model that does not reason', 'meta.llama3-70b-instruct-v1:0', 'high' as const],
  ])("is max_tokens for %s, as it is sent", (_what, model, effort) => {
    expect(BedrockProvider.billedOutputLimit!(asked(effort), model)).toBe(16);
  });
});
