import { validateHeaderValue } from 'node:http';
import { describe, expect, it } from 'vitest';
import { headerText } from './header-text.js';

describe('headerText', () => {
  it('keeps printable ASCII as it is', () => {
    expect(headerText('gpt-4o-mini')).toBe('gpt-4o-mini');
    expect(headerText('us.anthropic.claude-opus-4-7-v1:0 %x')).toBe('us.anthropic.claude-opus-4-7-v1:0 %x');
  });

  it.each(['gpt-4o-模型', 'café', 'a\u2028b', 'a\nb', 'a\u0000b', 'lone \ud800 surrogate', '100% 模'])('makes %j a value Node sends, that decodes back to the text', (text) => {
    const value = headerText(text);
    expect(() => validateHeaderValue('x-keygate-model', value)).not.toThrow();
    expect(decodeURIComponent(value)).toBe(text.replace('\ud800', '\ufffd'));
  });
});
