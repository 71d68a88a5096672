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

describe('quickTokenCount, the rule the checks before a call use', () => {
  // The same sentence in scripts whose characters take one to four bytes of UTF-8, and code.
  const samples: Record<string, string> = {
    English: 'The quick brown fox jumps over the lazy dog. Keygate counts what the provider did not report, token by token.',
    Chinese: '敏捷的棕色狐狸跳过了懒狗。网关会统计提供商没有报告的每一个令牌，一分一毫都不放过。我们希望每一次调用都被准确地记录下来。',
    Japanese: '素早い茶色の狐がのろまな犬を飛び越えた。ゲートウェイはプロバイダーが報告しなかったトークンを一つ残らず数えます。',
    Korean: '빠른 갈색 여우가 게으른 개를 뛰어넘었다. 게이트웨이는 제공자가 보고하지 않은 모든 토큰을 셉니다.',
    Russian: 'Быстрая коричневая лиса перепрыгивает через ленивую собаку. Шлюз считает каждый токен, о котором не сообщил провайдер.',
    Arabic: 'الثعلب البني السريع يقفز فوق الكلب الكسول. تحسب البوابة كل رمز لم يبلغ عنه المزود.',
    Hindi: 'तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूद गई। गेटवे हर उस टोकन को गिनता है जिसकी सूचना प्रदाता ने नहीं दी।',
    emoji: '😀🎉🚀🔥👍'.repeat(10),
    code: 'function add(a, b) {\n  return a + b;\n}\nconsole.log(add(1, 2));',
  };

  it.each(Object.entries(samples))('stays within 0.6–1.8× of the tokenizer for %s', (_script, text) => {
    const ratio = quickTokenCount(text) / countTokens(text);
    expect(ratio).toBeGreaterThanOrEqual(0.6);
    expect(ratio).toBeLessThanOrEqual(1.8);
  });

  it('counts a Chinese prompt near its real size, not at a third of it as four characters a token would', () => {
    const prompt = samples.Chinese!.repeat(20);
    expect(quickTokenCount(prompt)).toBeGreaterThan(countTokens(prompt) * 0.8);
    expect(quickTokenCount(prompt)).toBeGreaterThan(Math.ceil(prompt.length / 4) * 2);
  });
});
