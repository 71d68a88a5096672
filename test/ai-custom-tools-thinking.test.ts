import type OpenAI from 'openai';
import type { Response, ResponseCreateParamsNonStreaming, ResponseInputItem } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, configureThreeProviders, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';
import { REDACTED_DATA, REDACTED_THINKING_TRIGGER, signatureFor, thinkingFor } from './emulators/anthropic.js';
import { REDACTED_REASONING, reasoningSignatureFor, startBedrockEmulator, type BedrockEmulator } from './emulators/bedrock.js';

/**
 * Claude's extended thinking and a custom tool in one tool loop, on the Responses API as Codex drives it: Claude
 * thinks, then calls the function the custom tool went as; the client sends back the reasoning item and the
 * custom_tool_call with its output, statelessly (`store: false`, the thinking sealed in `encrypted_content`) or by
 * `previous_response_id`. Anthropic, and Bedrock for Claude, refuse a tool loop whose assistant turn lost its
 * thinking, so the loop going round proves the thinking blocks and the tool_use block came back together, in order.
 */

/** Codex's `apply_patch` as a Responses API custom tool, its grammar cut short. */
const PATCH_TOOL = { type: 'custom' as const, name: 'apply_patch', description: 'Edits files with a patch.', format: { type: 'grammar' as const, syntax: 'lark' as const, definition: 'start: begin_patch hunk+ end_patch' } };
const QUESTION = 'Fix the typo with apply_patch';
const THINKING = thinkingFor(QUESTION);

type Json = Record<string, unknown>;

/**
 * Each provider: the model, the assistant turn and the tool result it must be sent back, in its own wire format
 * (Anthropic's thinking, text and tool_use blocks; Converse's reasoningContent, text and toolUse blocks), and what
 * its emulator answers a tool result with.
 */
const CLAUDES = [
  {
    provider: 'anthropic',
    model: 'smart',
    turn: (callId: string) => [
      { role: 'assistant', content: [{ type: 'thinking', thinking: THINKING, signature: signatureFor(THINKING) }, { type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: callId, name: 'apply_patch', input: { input: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: callId, content: [{ type: 'text', text: 'Patched.' }] }] },
    ],
    answer: 'The tool answered: Patched.',
    /** The thinking a question holding Anthropic's redacted-thinking test string gets: a thinking block, then a redacted one. */
    thought: (thinking: string) => [{ type: 'thinking', thinking, signature: signatureFor(thinking) }, { type: 'redacted_thinking', data: REDACTED_DATA }],
    uses: (blocks: Json[]) => blocks.filter((block) => block.type === 'tool_use').map((block) => [block.name, block.input]),
  },
  {
    provider: 'bedrock',
    model: 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    turn: (callId: string) => [
      { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: THINKING, signature: reasoningSignatureFor(THINKING) } } }, { text: 'Let me check.' }, { toolUse: { toolUseId: callId, name: 'apply_patch', input: { input: 'Paris' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: callId, content: [{ text: 'Patched.' }] } }] },
    ],
    answer: 'It is 21 degrees in Paris.',
    thought: (thinking: string) => [{ reasoningContent: { reasoningText: { text: thinking, signature: reasoningSignatureFor(thinking) } } }, { reasoningContent: { redactedContent: REDACTED_REASONING } }],
    uses: (blocks: Json[]) => blocks.flatMap((block) => ('toolUse' in block ? [[(block.toolUse as Json).name, (block.toolUse as Json).input]] : [])),
  },
] as const;

const customCallOf = (response: Response) => {
  const call = response.output.find((item) => item.type === 'custom_tool_call');
  if (call?.type !== 'custom_tool_call') throw new Error(`no custom_tool_call among ${response.output.map((item) => item.type).join(', ')}`);
  return call;
};

describe('extended thinking and a custom tool in one tool loop', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let bedrock: BedrockEmulator;
  let client: OpenAI;

  /** What the provider was last sent. */
  const sent = (provider: 'anthropic' | 'bedrock') => (provider === 'anthropic' ? emulators.anthropic.lastRequest()!.body : bedrock.lastRequest()!.body) as { messages: Json[]; thinking?: unknown; additionalModelRequestFields?: Json };
  const thinkingAsked = (provider: 'anthropic' | 'bedrock') => (provider === 'anthropic' ? sent(provider).thinking : sent(provider).additionalModelRequestFields?.thinking);

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    bedrock = await startBedrockEmulator();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      providers: [{ name: 'bedrock', type: 'bedrock', baseUrl: bedrock.url, region: bedrock.region }],
      aliases: [{ name: 'smart', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-6' }] }],
    });
    await gateway.addProviderKey('bedrock', bedrock.credential);
    client = gateway.openai(await gateway.createApp({ name: 'custom-thinking-app', team: 'custom-thinking-team' }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    await bedrock?.stop();
  });

  describe.each(CLAUDES)('with $provider', ({ provider, model, turn, answer, thought, uses }) => {
    const ask = { model, tools: [PATCH_TOOL], reasoning: { effort: 'low' as const } } satisfies Partial<ResponseCreateParamsNonStreaming>;

    it.each([false, true])('gives Claude back its thinking, text and tool_use from the reasoning item and custom_tool_call a stateless client sends (first turn streamed: %s)', async (streamed) => {
      const stateless = { ...ask, store: false, include: ['reasoning.encrypted_content' as const] };
      const first = streamed ? await client.responses.stream({ ...stateless, input: QUESTION }).finalResponse() : await client.responses.create({ ...stateless, input: QUESTION });
      expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'custom_tool_call']);
      expect(first.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: expect.stringMatching(/^kg2\./) });
      const call = customCallOf(first);
      expect(call).toMatchObject({ name: 'apply_patch', input: 'Paris' });
      const input: ResponseInputItem[] = [{ role: 'user', content: QUESTION }, ...(first.output as ResponseInputItem[]), { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Patched.' }];
      const second = await client.responses.create({ ...stateless, input });
      expect(second.output_text).toBe(answer);
      expect(thinkingAsked(provider)).toMatchObject({ type: 'enabled' });
      expect(sent(provider).messages.slice(1)).toEqual(turn(call.call_id));
    });

    it('gives Claude back a redacted thinking block with its thinking, before two custom calls of one answer', async () => {
      const question = `${REDACTED_THINKING_TRIGGER} Use apply_patch and write_note.`;
      const stateless = { ...ask, tools: [PATCH_TOOL, { type: 'custom' as const, name: 'write_note' }], store: false, include: ['reasoning.encrypted_content' as const] };
      const first = await client.responses.stream({ ...stateless, input: question }).finalResponse();
      expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'custom_tool_call', 'custom_tool_call']);
      const outputs: ResponseInputItem[] = first.output.flatMap((item) => (item.type === 'custom_tool_call' ? [{ type: 'custom_tool_call_output' as const, call_id: item.call_id, output: `Done: ${item.name}.` }] : []));
      await client.responses.create({ ...stateless, input: [{ role: 'user', content: question }, ...(first.output as ResponseInputItem[]), ...outputs] });
      const content = sent(provider).messages[1]!.content as Json[];
      expect(content.slice(0, 2)).toEqual(thought(thinkingFor(question)));
      expect(uses(content)).toEqual([
        ['apply_patch', { input: 'Paris' }],
        ['write_note', { input: 'Paris' }],
      ]);
    });

    it('gives Claude back its thinking and the custom call through previous_response_id', async () => {
      const first = await client.responses.create({ ...ask, input: QUESTION });
      expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'custom_tool_call']);
      const call = customCallOf(first);
      const second = await client.responses.create({ ...ask, previous_response_id: first.id, input: [{ type: 'custom_tool_call_output', call_id: call.call_id, output: 'Patched.' }] });
      expect(second.output_text).toBe(answer);
      expect(thinkingAsked(provider)).toMatchObject({ type: 'enabled' });
      expect(sent(provider).messages.slice(1)).toEqual(turn(call.call_id));
    });
  });
});
