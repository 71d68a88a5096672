import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateTokens, loadTokenizer, quickTokenCount } from './token-estimate.js';

describe('estimateTokens with the tokenizer loaded', () => {
  beforeAll(() => loadTokenizer());

  it('counts ordinary text exactly as the o200k_base tokenizer does', () => {
    const text = 'The quick brown fox jumps over the lazy dog. Keygate counts what the provider did not report.';
    expect(estimateTokens(text)).toBe(countTokens(text));
  });

  it('counts a long run without spaces by the quick rule, which a client cannot make the gateway spend seconds on', () => {
    const run = 'x'.repeat(200_000);
    expect(estimateTokens(`hello ${run} world`)).toBe(quickTokenCount(run) + countTokens('hello   world'));
  });

  it('tokenizes the first 256 KiB of a long text and counts the rest at the same rate', () => {
    const sentence = 'Every call is accounted for, token by token and cent by cent. ';
    const quarter = sentence.repeat(Math.ceil((256 * 1024) / sentence.length)).slice(0, 256 * 1024);
    const exact = estimateTokens(quarter);
    expect(exact).toBe(countTokens(quarter));
    expect(estimateTokens(quarter + quarter + quarter)).toBe(Math.ceil((exact * 3 * quarter.length) / quarter.length));
  });
});
