import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, CLAUDE_THINKING, CLAUDE_TOOL, WEATHER_TOOL, configureThreeProviders, lostThinkingAnswer, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';
import { REDACTED_THINKING_TRIGGER, thinkingFor } from './emulators/anthropic.js';
import { REDACTED_REASONING, reasoningSignatureFor, startBedrockEmulator, type BedrockEmulator } from './emulators/bedrock.js';

const SONNET = 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const THINKING = CLAUDE_THINKING;

/**
 * Claude's extended thinking on Amazon Bedrock behind the gateway, with the official clients: Anthropic's (Claude
 * Code's case: `/v1/messages` routed to Bedrock, thinking blocks sent back in tool loops) and OpenAI's
 * (`reasoning_effort`, thinking as `reasoning_content`).
 */
describe('extended thinking on Bedrock through the gateway', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let bedrock: BedrockEmulator;
  let claude: Anthropic;
  let openai: OpenAI;

  /** The Converse body Bedrock last took. */
  const sent = () => bedrock.lastRequest()!.body as { additionalModelRequestFields?: unknown; inferenceConfig?: Record<string, unknown>; messages: Array<{ content: unknown[] }> };

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    bedrock = await startBedrockEmulator();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, { providers: [{ name: 'bedrock', type: 'bedrock', baseUrl: bedrock.url, region: bedrock.region }] });
    await gateway.addProviderKey('bedrock', bedrock.credential);
    const key = await gateway.createApp({ name: 'bedrock-thinking-app', team: 'bedrock-thinking-team' });
    claude = new Anthropic({ baseURL: gateway.proxyUrl, apiKey: key, maxRetries: 0 });
    openai = gateway.openai(key);
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await bedrock?.stop();
  });

  describe("with Anthropic's SDK", () => {
    it('asks Bedrock for thinking as the client wrote it, and answers its thinking block with the signature Bedrock gave', async () => {
      const message = await claude.messages.create({ model: SONNET, max_tokens: 2000, thinking: THINKING, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(sent().additionalModelRequestFields).toEqual({ thinking: THINKING });
      const thinking = thinkingFor('Hello there');
      expect(message.content).toEqual([
        { type: 'thinking', thinking, signature: reasoningSignatureFor(thinking) },
        { type: 'text', text: 'Hello from the Bedrock emulator.' },
      ]);
    });

    it('streams thinking as Anthropic does, which the SDK accumulates into the same Message', async () => {
      const stream = claude.messages.stream({ model: SONNET, max_tokens: 2000, thinking: THINKING, messages: [{ role: 'user', content: REDACTED_THINKING_TRIGGER }] });
      const events: string[] = [];
      stream.on('streamEvent', (event) => {
        if (event.type === 'content_block_start') events.push(`start:${event.index}:${event.content_block.type}`);
        else if (event.type === 'content_block_delta') events.push(`${event.index}:${event.delta.type}`);
      });
      const final = await stream.finalMessage();
      expect(events.filter((event, i) => event !== events[i - 1])).toEqual(['start:0:thinking', '0:thinking_delta', '0:signature_delta', 'start:1:redacted_thinking', 'start:2:text', '2:text_delta']);
      const thinking = thinkingFor(REDACTED_THINKING_TRIGGER);
      expect(final.content).toEqual([
        { type: 'thinking', thinking, signature: reasoningSignatureFor(thinking) },
        { type: 'redacted_thinking', data: REDACTED_REASONING },
        { type: 'text', text: 'Hello from the Bedrock emulator.' },
      ]);
    });

    it.each([false, true])('uses a tool with thinking, the thinking block going back to Bedrock unchanged (first turn streamed: %s)', async (streamed) => {
      const ask = { model: SONNET, max_tokens: 2000, thinking: THINKING, tools: [CLAUDE_TOOL] };
      const question = { role: 'user' as const, content: 'Use get_weather for Paris.' };
      const first = streamed ? await claude.messages.stream({ ...ask, messages: [question] }).finalMessage() : await claude.messages.create({ ...ask, messages: [question] });
      expect(first.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use']);
      const use = first.content.find((block) => block.type === 'tool_use')!;
      const second = await claude.messages.create({ ...ask, messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"celsius":21}' }] }] });
      expect(second.content.at(-1)).toMatchObject({ type: 'text', text: 'It is 21 degrees in Paris.' });
      const thinking = thinkingFor('Use get_weather for Paris.');
      expect(sent().messages[1]!.content[0]).toEqual({ reasoningContent: { reasoningText: { text: thinking, signature: reasoningSignatureFor(thinking) } } });
    });

    it("passes on Bedrock's refusal of a tool result whose assistant turn lost its thinking block", async () => {
      const failure = await lostThinkingAnswer(claude, SONNET);
      expect(failure).toBeInstanceOf(Anthropic.BadRequestError);
      expect(String((failure as Error).message)).toContain('must start with a thinking block');
    });

    it('sends adaptive thinking with its effort, as Bedrock documents it for Claude 4.6 and later', async () => {
      await claude.messages.create({ model: 'bedrock/anthropic.claude-sonnet-4-6', max_tokens: 2000, thinking: { type: 'adaptive' }, output_config: { effort: 'low' }, messages: [{ role: 'user', content: 'Hello there' }] } as never);
      expect(sent().additionalModelRequestFields).toEqual({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } });
    });
  });

  describe("with OpenAI's SDK", () => {
    it("gets a Claude model on Bedrock to think with reasoning_effort, its thinking as reasoning_content, within the client's max_completion_tokens", async () => {
      const { data, response } = await openai.chat.completions.create({ model: SONNET, reasoning_effort: 'medium', max_completion_tokens: 5000, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
      expect(response.headers.get('x-keygate-provider')).toBe('bedrock');
      expect(sent()).toMatchObject({ additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2048 } }, inferenceConfig: { maxTokens: 5000 } });
      const message = data.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
      expect(message.reasoning_content).toBe(thinkingFor('Hello there'));
      expect(message.content).toBe('Hello from the Bedrock emulator.');
    });

    it('gets Claude Opus 4.7, which thinks only adaptively, to think with reasoning_effort at Anthropic’s effort rather than a budget it refuses', async () => {
      const { data } = await openai.chat.completions.create({ model: 'bedrock/us.anthropic.claude-opus-4-7', reasoning_effort: 'medium', max_completion_tokens: 500, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
      expect(sent()).toMatchObject({ additionalModelRequestFields: { thinking: { type: 'adaptive' }, output_config: { effort: 'medium' } }, inferenceConfig: { maxTokens: 500 } });
      expect((data.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string }).reasoning_content).toBe(thinkingFor('Hello there'));
    });

    it('gets a Claude model the catalog does not list, named as one that thinks only adaptively (a newer Opus snapshot), to think adaptively', async () => {
      const { data } = await openai.chat.completions.create({ model: 'bedrock/eu.anthropic.claude-opus-4-9-20270115-v1:0', reasoning_effort: 'low', max_completion_tokens: 500, messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
      expect(sent()).toMatchObject({ additionalModelRequestFields: { thinking: { type: 'adaptive' }, output_config: { effort: 'low' } }, inferenceConfig: { maxTokens: 500 } });
      expect((data.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string }).reasoning_content).toBe(thinkingFor('Hello there'));
    });

    it('streams the thinking as delta.reasoning_content before the answer, with no signature in the chunks', async () => {
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of await openai.chat.completions.create({ model: SONNET, reasoning_effort: 'low', stream: true, messages: [{ role: 'user', content: 'Hello there' }] })) chunks.push(chunk);
      const thinking = thinkingFor('Hello there');
      expect(chunks.map((c) => (c.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '').join('')).toBe(thinking);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello from the Bedrock emulator.');
      expect(JSON.stringify(chunks)).not.toContain(reasoningSignatureFor(thinking));
      expect(chunks.filter((c) => c.choices.length > 0 && c.choices.every((choice) => choice.finish_reason === null && Object.keys(choice.delta).length === 0))).toEqual([]);
    });

    it('uses tools with reasoning_effort, the tool results answered without thinking, as Claude takes them', async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Use get_weather for Paris.' }];
      const first = await openai.chat.completions.create({ model: SONNET, reasoning_effort: 'low', tools: [WEATHER_TOOL], messages });
      const call = first.choices[0]!.message.tool_calls![0]!;
      const second = await openai.chat.completions.create({ model: SONNET, reasoning_effort: 'low', tools: [WEATHER_TOOL], messages: [...messages, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '21' }] });
      expect(second.choices[0]!.message.content).toBe('It is 21 degrees in Paris.');
      expect(sent()).not.toHaveProperty('additionalModelRequestFields');
    });

    it.each([false, true])("gives a Claude model on Bedrock its thinking back from a Responses API reasoning item's encrypted_content, so the tool loop keeps thinking (first turn streamed: %s)", async (streamed) => {
      const tool = { type: 'function' as const, name: WEATHER_TOOL.function.name, description: WEATHER_TOOL.function.description ?? null, parameters: WEATHER_TOOL.function.parameters ?? null, strict: null };
      const question: OpenAI.Responses.ResponseInputItem = { role: 'user', content: 'Use get_weather for Paris.' };
      const ask = { model: SONNET, tools: [tool], reasoning: { effort: 'low' as const }, store: false, include: ['reasoning.encrypted_content' as const] };
      const first = streamed ? await openai.responses.stream({ ...ask, input: [question] }).finalResponse() : await openai.responses.create({ ...ask, input: [question] });
      const call = first.output.find((item) => item.type === 'function_call');
      if (call?.type !== 'function_call') throw new Error('no function call');
      expect(first.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(/^kg2\./) });
      const second = await openai.responses.create({ ...ask, input: [question, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: '21' }] });
      expect(second.output_text).toBe('It is 21 degrees in Paris.');
      const thinking = thinkingFor('Use get_weather for Paris.');
      expect(sent()).toHaveProperty('additionalModelRequestFields.thinking.type', 'enabled');
      expect(sent().messages[1]!.content[0]).toEqual({ reasoningContent: { reasoningText: { text: thinking, signature: reasoningSignatureFor(thinking) } } });
    });

    it('asks a Claude model the catalog says does not reason, and a model other than Claude, for no thinking', async () => {
      for (const model of ['bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', 'bedrock/us.meta.llama3-3-70b-instruct-v1:0']) {
        const completion = await openai.chat.completions.create({ model, reasoning_effort: 'high', messages: [{ role: 'user', content: 'Hello there' }] });
        expect(completion.choices[0]!.message.content).toBe('Hello from the Bedrock emulator.');
        expect(sent()).not.toHaveProperty('additionalModelRequestFields');
      }
    });

    it("gets Amazon Nova 2 to reason at the effort's level, its redacted reasoning as reasoning_content", async () => {
      const completion = await openai.chat.completions.create({ model: 'bedrock/amazon.nova-2-lite-v1:0', reasoning_effort: 'high', max_completion_tokens: 500, messages: [{ role: 'user', content: 'Hello there' }] });
      expect(sent().additionalModelRequestFields).toEqual({ reasoningConfig: { type: 'enabled', maxReasoningEffort: 'high' } });
      expect((completion.choices[0]!.message as { reasoning_content?: string }).reasoning_content).toBe('[REDACTED]');
      expect(completion.choices[0]!.message.content).toBe('Hello from the Bedrock emulator.');
    });

    it('refuses a reasoning_effort OpenAI does not document, naming the parameter', async () => {
      const failure = await openai.chat.completions.create({ model: SONNET, reasoning_effort: 'extreme' as 'high', messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
      expect(failure).toMatchObject({ status: 400, param: 'reasoning_effort', type: 'invalid_request_error' });
    });
  });
});
