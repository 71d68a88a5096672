import { describe, expect, it } from 'vitest';
import { parseUrl } from './parse-url.js';

describe('parseUrl', () => {
  it('parses a URL a parser takes', () => {
    expect(parseUrl('https://api.example.com:8443/v1?x=1')?.origin).toBe('https://api.example.com:8443');
  });

  it.each(['http://127.0.0.1:99999', 'https://exa mple.com', 'http://[::1', ''])('answers undefined for %j, without throwing', (text) => {
    expect(parseUrl(text)).toBeUndefined();
  });

  it('does without URL.parse, which Node lacks before 20.18', () => {
    const parse = (URL as unknown as { parse?: unknown }).parse;
    (URL as unknown as { parse?: unknown }).parse = undefined;
    try {
      expect(parseUrl('https://example.com/')?.host).toBe('example.com');
    } finally {
      (URL as unknown as { parse?: unknown }).parse = parse;
    }
  });
});
