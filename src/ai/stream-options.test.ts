import { describe, expect, it } from 'vitest';
import { validateStreamOptions } from './stream-options.js';

describe('stream_options', () => {
  it.each([['without stream', {}], ['beside stream: false', { stream: false }]])('are refused %s with 400, naming stream_options, as OpenAI refuses them', (_what, body) => {
    expect(() => validateStreamOptions({ ...body, stream_options: { include_usage: true } })).toThrow(expect.objectContaining({ status: 400, type: 'invalid_request_error', param: 'stream_options' }));
  });

  it('are taken beside stream: true', () => {
    expect(() => validateStreamOptions({ stream: true, stream_options: { include_usage: true } })).not.toThrow();
  });

  it.each([['a string', 'usage'], ['an array', [true]], ['a boolean', true]])('are refused as %s with 400 invalid_type, for an object', (_what, options) => {
    expect(() => validateStreamOptions({ stream: true, stream_options: options })).toThrow(expect.objectContaining({ status: 400, param: 'stream_options', code: 'invalid_type' }));
  });

  it('refuse an include_usage that is not a boolean, naming it', () => {
    expect(() => validateStreamOptions({ stream: true, stream_options: { include_usage: 'true' } })).toThrow(expect.objectContaining({ status: 400, param: 'stream_options.include_usage', code: 'invalid_type' }));
  });
});
