import { describe, expect, it } from 'vitest';
import { CACHE_CONTROL } from './chat-types.js';
import { takeCacheControl } from './openai-cache-control.js';
import { AiError } from './openai-error.js';

describe('takeCacheControl', () => {
  it('moves an ephemeral breakpoint, with its TTL, from the member to CACHE_CONTROL', () => {
    const part: Record<string, unknown> = { type: 'text', text: 'Long context', cache_control: { type: 'ephemeral', ttl: '1h' } };
    expect(takeCacheControl(part, 'messages[0].content[0]')).toBe(true);
    expect(part).toEqual({ type: 'text', text: 'Long context', [CACHE_CONTROL]: { type: 'ephemeral', ttl: '1h' } });
    expect(JSON.stringify(part)).toBe('{"type":"text","text":"Long context"}');
  });

  it('leaves a target without one as it is, and takes null as none', () => {
    const plain: Record<string, unknown> = { role: 'user', content: 'Hi' };
    expect(takeCacheControl(plain, 'messages[0]')).toBe(false);
    expect(plain).toEqual({ role: 'user', content: 'Hi' });
    const nulled: Record<string, unknown> = { role: 'user', content: 'Hi', cache_control: null };
    expect(takeCacheControl(nulled, 'messages[0]')).toBe(false);
    expect(nulled).toEqual({ role: 'user', content: 'Hi' });
    expect(CACHE_CONTROL in nulled).toBe(false);
  });

  it("names the request's own breakpoint (Anthropic's automatic caching) by the member alone", () => {
    expect(() => takeCacheControl({ model: 'm', cache_control: { type: 'persistent' } }, '')).toThrow(expect.objectContaining({ param: 'cache_control', message: expect.stringMatching(/^'cache_control' must be/) }));
  });

  it.each([
    ['a string', 'ephemeral'],
    ['another type', { type: 'persistent' }],
    ['another TTL', { type: 'ephemeral', ttl: '24h' }],
    ['a member Anthropic does not define', { type: 'ephemeral', scope: 'global' }],
  ])("refuses %s with OpenAI's 400 naming the member", (_what, control) => {
    const error = (() => {
      try {
        takeCacheControl({ type: 'function', cache_control: control }, 'tools[2]');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AiError);
    expect(error).toMatchObject({ status: 400, type: 'invalid_request_error', param: 'tools[2].cache_control' });
  });
});
