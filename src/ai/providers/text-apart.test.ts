import { describe, expect, it } from 'vitest';
import { textWrittenApart } from './text-apart.js';

describe('text written apart', () => {
  it.each([
    ['two text blocks', ['text', 'text'], true],
    ['text after a tool call', ['text', 'tool', 'text'], true],
    ['text after a tool call alone', ['tool', 'text'], true],
    ['one text block before tool calls', ['other', 'text', 'tool', 'tool'], false],
    ['thinking around one text block', ['other', 'text', 'other'], false],
    ['no text', ['tool'], false],
  ] as const)('answers, for %s, %s', (_what, kinds, apart) => {
    expect(textWrittenApart(kinds)).toBe(apart);
  });
});
