import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealerFor } from '../../keys/index.js';
import { ANTHROPIC_BLOCKS, THINKING_DELTA, type AnthropicBlock, type ChatCompletion, type ChatCompletionChunk } from '../chat-types.js';
import { chatToResponse } from './chat-to-response.js';
import { ChatChunksToResponseEvents } from './chunks-to-response-events.js';
import { ENCRYPTED_REASONING_PURPOSE, encryptedReasoning, responseAsIncluded } from './encrypted-reasoning.js';
import { includesEncrypted, responseEchoOf, responsesToChat } from './responses-to-chat.js';
import type { ResponsesReasoningItem } from './wire-types.js';

const masterKey = randomBytes(32);
const OWNER = JSON.stringify(['app', 'app-a']);
const sealed = encryptedReasoning(sealerFor(masterKey, ENCRYPTED_REASONING_PURPOSE), OWNER);
const THINKING: AnthropicBlock = { type: 'thinking', thinking: 'I should call get_weather.', signature: 'c2lnbmVk' };
const REDACTED: AnthropicBlock = { type: 'redacted_thinking', data: 'cmVkYWN0ZWQ=' };
const TOOL_USE: AnthropicBlock = { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } };
const echo = responseEchoOf(responsesToChat({ model: 'smart', input: 'Hi' }));

/** A Claude answer that thought, then called get_weather. */
function claudeCompletion(): ChatCompletion {
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: null, reasoning_content: 'I should call get_weather.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] };
  message[ANTHROPIC_BLOCKS] = [THINKING, REDACTED, TOOL_USE];
  return { id: 'msg_1', object: 'chat.completion', created: 1_700_000_000, model: 'claude', choices: [{ index: 0, message, finish_reason: 'tool_calls' }] };
}

describe("reasoning items' encrypted_content", () => {
  it('seals the thinking blocks alone, signatures included, and opens them again', () => {
    const encrypted = sealed.seal([THINKING, { type: 'text', text: 'Let me look.' }, REDACTED, TOOL_USE])!;
    expect(encrypted).toMatch(/^kg2\./);
    expect(encrypted).not.toContain('get_weather');
    expect(sealed.open(encrypted)).toEqual([THINKING, REDACTED]);
  });

  it('seals nothing for an answer without thinking blocks', () => {
    expect(sealed.seal([{ type: 'text', text: 'Hello' }])).toBeUndefined();
    expect(sealed.seal(undefined)).toBeUndefined();
  });

  it("opens nothing tampered, sealed for another purpose or under another master key, nor OpenAI's own", () => {
    const encrypted = sealed.seal([THINKING])!;
    const tampered = `${encrypted.slice(0, -2)}${encrypted.at(-2) === 'A' ? 'B' : 'A'}${encrypted.at(-1)}`;
    expect(sealed.open(tampered)).toBeUndefined();
    expect(encryptedReasoning(sealerFor(masterKey, 'another purpose'), OWNER).open(encrypted)).toBeUndefined();
    expect(encryptedReasoning(sealerFor(randomBytes(32), ENCRYPTED_REASONING_PURPOSE), OWNER).open(encrypted)).toBeUndefined();
    expect(sealed.open('gAAAAABpF7Yz-openai-fernet==')).toBeUndefined();
    expect(sealed.open(null)).toBeUndefined();
  });

  it("opens nothing sealed for another owner: another app's, or an open route's", () => {
    const sealer = sealerFor(masterKey, ENCRYPTED_REASONING_PURPOSE);
    const encrypted = sealed.seal([THINKING])!;
    expect(encryptedReasoning(sealer, JSON.stringify(['app', 'app-b'])).open(encrypted)).toBeUndefined();
    expect(encryptedReasoning(sealer, JSON.stringify(['route', 'open-ai'])).open(encrypted)).toBeUndefined();
    expect(encryptedReasoning(sealer, OWNER).open(encrypted)).toEqual([THINKING]);
  });
});

describe('a Claude answer as a Response', () => {
  it("gives its reasoning item Claude's thinking blocks sealed as encrypted_content", () => {
    const response = chatToResponse(claudeCompletion(), 'smart', echo, 'resp_1', sealed);
    expect(response.output.map((item) => item.type)).toEqual(['reasoning', 'function_call']);
    const reasoning = response.output[0] as ResponsesReasoningItem;
    expect(reasoning.summary).toEqual([{ type: 'summary_text', text: 'I should call get_weather.' }]);
    expect(sealed.open(reasoning.encrypted_content)).toEqual([THINKING, REDACTED]);
  });

  it('gives a reasoning item with an empty summary to thinking that shows no text (redacted, or display omitted)', () => {
    const completion = claudeCompletion();
    const message = completion.choices[0]!.message;
    delete message.reasoning_content;
    message[ANTHROPIC_BLOCKS] = [REDACTED, TOOL_USE];
    const reasoning = chatToResponse(completion, 'smart', echo, 'resp_1', sealed).output[0] as ResponsesReasoningItem;
    expect(reasoning.summary).toEqual([]);
    expect(sealed.open(reasoning.encrypted_content)).toEqual([REDACTED]);
  });

  it("gives another provider's reasoning no encrypted_content", () => {
    const completion = claudeCompletion();
    delete completion.choices[0]!.message[ANTHROPIC_BLOCKS];
    expect(chatToResponse(completion, 'deep', echo, 'resp_1', sealed).output[0]).not.toHaveProperty('encrypted_content');
  });

  it('shows a client encrypted_content only when it included it', () => {
    const response = chatToResponse(claudeCompletion(), 'smart', echo, 'resp_1', sealed);
    expect(responseAsIncluded(response, true)).toBe(response);
    expect(responseAsIncluded(response, false).output[0]).not.toHaveProperty('encrypted_content');
    expect(response.output[0]).toHaveProperty('encrypted_content');
    expect(includesEncrypted(responsesToChat({ model: 'smart', input: 'Hi', include: ['reasoning.encrypted_content'] }))).toBe(true);
    expect(includesEncrypted(responsesToChat({ model: 'smart', input: 'Hi', include: ['message.output_text.logprobs'] }))).toBe(false);
  });
});

describe('a streamed Claude answer as Response events', () => {
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: 'tool_calls' | null = null): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'claude', choices: [{ index: 0, delta, finish_reason: finish }] });
  const chunks = [
    chunk({ [THINKING_DELTA]: { block: { type: 'thinking', thinking: '' } } }),
    chunk({ reasoning_content: 'I should call ', [THINKING_DELTA]: { thinking: 'I should call ' } }),
    chunk({ reasoning_content: 'get_weather.', [THINKING_DELTA]: { thinking: 'get_weather.' } }),
    chunk({ [THINKING_DELTA]: { signature: 'c2lnbmVk' } }),
    chunk({ [THINKING_DELTA]: { block: REDACTED } }),
    chunk({ tool_calls: [{ index: 0, id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }),
    chunk({}, 'tool_calls'),
  ];
  const doneItems = (raw: string[]) => raw.flatMap((text) => {
    const data = JSON.parse(text.split('\ndata: ')[1]!) as { type: string; item?: ResponsesReasoningItem; response?: { output: ResponsesReasoningItem[] } };
    return data.type === 'response.output_item.done' && data.item?.type === 'reasoning' ? [data.item] : data.type === 'response.completed' ? [data.response!.output[0]!] : [];
  });

  it.each([true, false])('seals the streamed thinking blocks into the reasoning item, shown in its done and final events when included (%s), kept in the Response for the store always', (included) => {
    const events = new ChatChunksToResponseEvents('smart', echo, { sealed, included });
    const raw = chunks.flatMap((c) => events.push(c));
    const finished = events.finish()!;
    const shown = doneItems([...raw, ...finished.events, events.terminal(finished.response)]);
    expect(shown).toHaveLength(2);
    for (const item of shown) {
      if (included) expect(sealed.open(item.encrypted_content)).toEqual([THINKING, REDACTED]);
      else expect(item).not.toHaveProperty('encrypted_content');
    }
    expect(sealed.open((finished.response.output[0] as ResponsesReasoningItem).encrypted_content)).toEqual([THINKING, REDACTED]);
  });
});

describe('reasoning items sent back', () => {
  const question = { role: 'user', content: 'What is the weather in Paris?' };
  const call = { type: 'function_call', call_id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Paris"}' };
  const output = { type: 'function_call_output', call_id: 'toolu_1', output: '{"celsius":21}' };

  it("give their turn Claude's blocks back: the thinking where the reasoning item was, then text and tool_use", () => {
    const reasoning = { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: sealed.seal([THINKING, REDACTED]) };
    const chat = responsesToChat({ model: 'smart', input: [question, reasoning, { role: 'assistant', content: 'Let me look.' }, call, output] }, undefined, sealed);
    expect(chat.messages[1]![ANTHROPIC_BLOCKS]).toEqual([THINKING, REDACTED, { type: 'text', text: 'Let me look.' }, TOOL_USE]);
    expect(chat.messages[1]).toMatchObject({ role: 'assistant', content: 'Let me look.', tool_calls: [{ id: 'toolu_1' }] });
  });

  it('are read as before when their encrypted_content does not open: tampered, or not Keygate’s', () => {
    const encrypted = sealed.seal([THINKING])!;
    for (const other of [`${encrypted.slice(0, 10)}${encrypted.slice(11)}`, 'gAAAAABpF7Yz-openai-fernet==']) {
      const reasoning = { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Hmm.' }], encrypted_content: other };
      const message = responsesToChat({ model: 'smart', input: [question, reasoning, call, output] }, undefined, sealed).messages[1]!;
      expect(ANTHROPIC_BLOCKS in message).toBe(false);
      expect(message).toEqual({ role: 'assistant', content: null, reasoning_content: 'Hmm.', tool_calls: [expect.objectContaining({ id: 'toolu_1' })] });
    }
  });
});
