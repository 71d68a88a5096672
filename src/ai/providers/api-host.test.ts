import { describe, expect, it } from 'vitest';
import { apiHostOf } from './api-host.js';

describe('the host a base URL reaches', () => {
  it('is read as the URL parser reads it, whatever the spelling', () => {
    expect(apiHostOf('HTTPS://API.DeepSeek.com.:443/')).toBe('api.deepseek.com');
    expect(apiHostOf('https://user:pw@api.together.xyz/v1')).toBe('api.together.xyz');
  });

  it('is empty for a base URL that is no URL', () => {
    expect(apiHostOf('not a url')).toBe('');
    expect(apiHostOf('')).toBe('');
  });

  it('is the same when asked again, and for each of more base URLs than it remembers', () => {
    const urls = Array.from({ length: 600 }, (_, i) => `https://h${i}.example.com/v1`);
    for (const url of urls) expect(apiHostOf(url)).toBe(new URL(url).hostname);
    for (const url of urls) expect(apiHostOf(url)).toBe(new URL(url).hostname);
    expect(apiHostOf('HTTPS://API.DeepSeek.com.:443/')).toBe('api.deepseek.com');
  });
});
