import { describe, expect, it } from 'vitest';
import { refuseBeyondChatBounds } from './chat-bounds.js';

describe("OpenAI's bounds on n and stop", () => {
  it('refuses n above 128 with 400 integer_above_max_value, naming n', () => {
    expect(() => refuseBeyondChatBounds({ n: 129 })).toThrow(expect.objectContaining({ status: 400, type: 'invalid_request_error', code: 'integer_above_max_value', param: 'n' }));
  });

  it('refuses more than 4 stop sequences with 400 array_above_max_length, naming stop', () => {
    expect(() => refuseBeyondChatBounds({ stop: ['a', 'b', 'c', 'd', 'e'] })).toThrow(expect.objectContaining({ status: 400, type: 'invalid_request_error', code: 'array_above_max_length', param: 'stop' }));
  });

  it('takes n of 128 and 4 stop sequences, the most OpenAI takes', () => {
    expect(() => refuseBeyondChatBounds({ n: 128, stop: ['a', 'b', 'c', 'd'] })).not.toThrow();
  });

  it('takes a stop that is one string, whatever its length', () => {
    expect(() => refuseBeyondChatBounds({ stop: 'a, b, c, d, e' })).not.toThrow();
  });
});
