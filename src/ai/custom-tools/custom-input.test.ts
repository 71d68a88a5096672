import { describe, expect, it } from 'vitest';
import { CustomInputDecoder, customInputOf } from './custom-input.js';

/** What a decoder returns for arguments that arrive in `fragments`: each push's text, then the end's. */
function decode(fragments: string[]): string[] {
  const decoder = new CustomInputDecoder();
  return [...fragments.map((fragment) => decoder.push(fragment)), decoder.end()];
}

describe("a custom call's input from the arguments of the function it was sent as", () => {
  it('is the string input of the arguments object', () => {
    expect(customInputOf('{"input":"*** Begin Patch\\n*** End Patch"}')).toBe('*** Begin Patch\n*** End Patch');
  });

  it('is the raw arguments text when they are not an object with a string input', () => {
    expect(customInputOf('{"patch":"x"}')).toBe('{"patch":"x"}');
    expect(customInputOf('{"input":42}')).toBe('{"input":42}');
    expect(customInputOf('not json')).toBe('not json');
  });

  it('is what the string holds of arguments that open as the object but are not JSON, as the same call streamed gives', () => {
    // Cut short at the answer's token limit, followed by other text, or with an escape JSON does not define.
    for (const args of ['{"input":"half a th', '{"input":"a\\nb"} and more', '{"input":"a\\uZZZZb"}']) {
      expect(customInputOf(args)).toBe(decode([args]).join(''));
    }
    expect(customInputOf('{"input":"half a th')).toBe('half a th');
  });
});

describe('a custom call input decoded as its arguments stream', () => {
  it('streams the text as each fragment completes it, across a split opening and split escapes', () => {
    const parts = decode(['{"inp', 'ut": "line one\\', 'nline \\"two\\u00', 'e9\\"', '"}']);
    expect(parts).toEqual(['', 'line one', '\nline "two', 'é"', '', '']);
    expect(parts.join('')).toBe('line one\nline "twoé"');
  });

  it('never splits a character written as a surrogate pair', () => {
    const parts = decode(['{"input":"a\\ud83d', '\\ude00b"}']);
    expect(parts).toEqual(['a', '😀b', '']);
  });

  it('holds arguments that do not open with input until they are whole, then gives the input at once', () => {
    expect(decode(['{"mode":1,', '"input":"x"}'])).toEqual(['', '', 'x']);
  });

  it('gives arguments without a string input as their raw text, at the end', () => {
    expect(decode(['{"patch":', '"x"}'])).toEqual(['', '', '{"patch":"x"}']);
  });

  it('keeps what was decoded of a string cut short', () => {
    expect(decode(['{"input":"half a th'])).toEqual(['half a th', '']);
  });
});
