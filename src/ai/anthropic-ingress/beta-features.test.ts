import { describe, expect, it } from 'vitest';
import { ANTHROPIC_BETA, type ChatRequest } from '../chat-types.js';
import { AnthropicRequestError } from './anthropic-error.js';
import { withBetaFeatures } from './beta-features.js';

const request = (): ChatRequest => ({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }] });

describe('withBetaFeatures', () => {
  it('reads the comma-separated features of one header or several, each once, in order', () => {
    expect(withBetaFeatures(request(), 'fine-grained-tool-streaming-2025-05-14, interleaved-thinking-2025-05-14')[ANTHROPIC_BETA]).toEqual(['fine-grained-tool-streaming-2025-05-14', 'interleaved-thinking-2025-05-14']);
    expect(withBetaFeatures(request(), ['a-1,b-2', 'a-1', ' c-3 ,'])[ANTHROPIC_BETA]).toEqual(['a-1', 'b-2', 'c-3']);
  });

  it('marks nothing when the client asks for no feature', () => {
    expect(ANTHROPIC_BETA in withBetaFeatures(request(), undefined)).toBe(false);
    expect(ANTHROPIC_BETA in withBetaFeatures(request(), ' , ')).toBe(false);
  });

  it.each([
    ['a name with a space', 'a b'],
    ['a name with a quote', 'x"y'],
    ['a name longer than any feature', 'x'.repeat(101)],
    ['more than 32 features', Array.from({ length: 33 }, (_, i) => `f-${i}`).join(',')],
    ['a million tokens of context, which Anthropic bills at rates the catalog has not', 'interleaved-thinking-2025-05-14,context-1m-2025-08-07'],
    ['answers past the listed output limit, by which holds are sized', 'output-128k-2025-02-19'],
  ])('refuses %s with a 400 naming the header', (_what, header) => {
    expect(() => withBetaFeatures(request(), header)).toThrow(AnthropicRequestError);
    expect(() => withBetaFeatures(request(), header)).toThrow(/^anthropic-beta: /);
  });
});
