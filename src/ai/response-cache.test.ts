import { describe, expect, it } from 'vitest';
import { CACHE_CONTROL, CACHE_MARKED, type ChatRequest } from './chat-types.js';
import { ResponseCache } from './response-cache.js';

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
