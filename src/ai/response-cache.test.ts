import { describe, expect, it } from 'vitest';
import { CACHE_CONTROL, CACHE_MARKED, type ChatRequest } from './chat-types.js';
import { CACHE_MAX_CHARS, CACHE_MAX_ENTRY_CHARS, ResponseCache } from './response-cache.js';

const request = (breakpoint?: Record<string, unknown>, at: 'part' | 'request' = 'part'): ChatRequest => {
  const part = { type: 'text' as const, text: 'A long document.', ...(breakpoint && at === 'part' ? { [CACHE_CONTROL]: breakpoint } : {}) };
  return { model: 'chat', messages: [{ role: 'user', content: [part] }], ...(breakpoint ? { [CACHE_MARKED]: true as const } : {}), ...(breakpoint && at === 'request' ? { [CACHE_CONTROL]: breakpoint } : {}) };
};
const key = (chat: ChatRequest) => ResponseCache.keyOf('app', 'chat', chat);

describe('ResponseCache.keyOf', () => {
  it('tells a request with a cache breakpoint from the same request without, whose answers report other cache usage', () => {
    expect(key(request({ type: 'ephemeral' }))).not.toBe(key(request()));
  });

  it('tells breakpoints apart by place and by TTL', () => {
    const keys = [request({ type: 'ephemeral' }), request({ type: 'ephemeral' }, 'request'), request({ type: 'ephemeral', ttl: '1h' })].map(key);
    expect(new Set(keys).size).toBe(3);
  });

  it('gives the same request with the same breakpoints the same key', () => {
    expect(key(request({ type: 'ephemeral', ttl: '1h' }))).toBe(key(request({ type: 'ephemeral', ttl: '1h' })));
  });

  it('looks for breakpoints only in a request marked as having some', () => {
    const unmarked = request({ type: 'ephemeral' });
    delete unmarked[CACHE_MARKED];
    expect(key(unmarked)).toBe(key(request()));
  });
});

describe('ResponseCache expiry', () => {
  const answer = { body: '{}', stopped: {} };

  it('serves an answer until the TTL in force passes since it was stored, a shortened TTL included', () => {
    const cache = new ResponseCache(10);
    cache.set('k', answer, 1_000, 600_000);
    expect(cache.get('k', 1_000 + 599_999, 600_000)).toBeDefined();
    expect(cache.get('k', 1_000 + 60_000, 60_000)).toBeUndefined();
  });

  it('brings back no answer a TTL made longer since would still cover: the one it was stored under has passed', () => {
    const cache = new ResponseCache(10);
    cache.set('k', answer, 0, 60_000);
    expect(cache.get('k', 300_000, 600_000)).toBeUndefined();
  });
});

describe('ResponseCache bounds', () => {
  const answer = (chars: number) => ({ body: 'x'.repeat(chars), stopped: {} });

  it('keeps no answer larger than a sixteenth of what a process holds', () => {
    const cache = new ResponseCache(10);
    cache.set('big', answer(CACHE_MAX_ENTRY_CHARS + 1), 0, 600_000);
    cache.set('fits', answer(CACHE_MAX_ENTRY_CHARS), 0, 600_000);
    expect(cache.get('big', 0, 1_000)).toBeUndefined();
    expect(cache.get('fits', 0, 1_000)?.body.length).toBe(CACHE_MAX_ENTRY_CHARS);
  });

  it('drops the oldest answers to stay within the characters a process holds, and counts what leaves by expiry or replacement', () => {
    const cache = new ResponseCache(1_000);
    for (let i = 0; i < 17; i++) cache.set(`k${i}`, answer(CACHE_MAX_ENTRY_CHARS), 0, 600_000);
    expect(cache.chars).toBe(CACHE_MAX_CHARS);
    expect(cache.get('k0', 0, 1_000)).toBeUndefined();
    expect(cache.get('k1', 0, 1_000)).toBeDefined();
    cache.set('k1', answer(10), 0, 600_000);
    expect(cache.chars).toBe(15 * CACHE_MAX_ENTRY_CHARS + 10);
    expect(cache.get('k1', 1_000, 1_000)).toBeUndefined();
    expect(cache.chars).toBe(15 * CACHE_MAX_ENTRY_CHARS);
  });
});
