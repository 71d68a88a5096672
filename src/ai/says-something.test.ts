import { describe, expect, it } from 'vitest';
import { TEXT_BLOCK, THINKING_DELTA, type ChatCompletionChunk } from './chat-types.js';
import { saysSomething } from './provider-call.js';

const chunk = (delta: ChatCompletionChunk['choices'][number]['delta']): ChatCompletionChunk => ({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: null }] });

describe('whether a chunk says something', () => {
  it("says nothing for OpenAI's opening role chunk or a text block that only starts", () => {
    expect(saysSomething(chunk({ role: 'assistant', content: '', refusal: null }))).toBe(false);
    expect(saysSomething(chunk({ [TEXT_BLOCK]: { block: { type: 'text', text: '' } } }))).toBe(false);
  });

  it('says something for words, a citation or a thinking block starting', () => {
    expect(saysSomething(chunk({ content: 'Hi' }))).toBe(true);
    expect(saysSomething(chunk({ [TEXT_BLOCK]: { citation: { type: 'char_location', cited_text: 'x' } } }))).toBe(true);
    expect(saysSomething(chunk({ [THINKING_DELTA]: { block: { type: 'thinking', thinking: '', signature: '' } } }))).toBe(true);
  });
});
