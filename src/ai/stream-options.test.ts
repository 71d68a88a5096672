import { describe, expect, it } from 'vitest';
import { refuseStreamOptionsWithoutStream } from './stream-options.js';

describe('stream_options', () => {
  it.each([['without stream', {}], ['beside stream: false', { stream: false }]])('are refused %s with 400, naming stream_options, as OpenAI refuses them', (_what, body) => {
    expect(() => refuseStreamOptionsWithoutStream({ ...body, stream_options: { include_usage: true } })).toThrow(expect.objectContaining({ status: 400, type: 'invalid_request_error', param: 'stream_options' }));
  });

  it('are taken beside stream: true', () => {
    expect(() => refuseStreamOptionsWithoutStream({ stream: true, stream_options: { include_usage: true } })).not.toThrow();
  });
});
