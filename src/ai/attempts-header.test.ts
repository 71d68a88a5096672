import { describe, expect, it } from 'vitest';
import { AiError } from './openai-error.js';
import { ATTEMPTS_HEADER, withAttempt, withAttempts } from './attempts-header.js';

describe('the x-keygate-attempts header', () => {
  it('lists each target tried as a string with its status, in order (RFC 8941 list)', () => {
    const list = withAttempt(withAttempt(undefined, 'openai', 'gpt-4o-mini', 500), 'anthropic', 'claude-haiku-4-5', 200);
    expect(list).toBe('"openai/gpt-4o-mini";status=500, "anthropic/claude-haiku-4-5";status=200');
  });

  it('escapes quotes and backslashes, and percent-encodes what is not printable ASCII, in a model name', () => {
    expect(withAttempt(undefined, 'local', 'my"model\\é', 404)).toBe('"local/my\\"model\\\\%C3%A9";status=404');
  });

  it("adds the list to a call's error, keeping its other headers, and leaves an error without one as it is", () => {
    const error = new AiError(429, 'rate_limit_error', 'rate_limit_exceeded', 'slow down', null, { 'retry-after': '9' });
    expect(withAttempts(error, '"a/m";status=500').headers).toEqual({ 'retry-after': '9', [ATTEMPTS_HEADER]: '"a/m";status=500' });
    expect(withAttempts(error, undefined)).toBe(error);
  });
});
