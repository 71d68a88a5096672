import { describe, expect, it } from 'vitest';
import { AiError } from '../openai-error.js';
import { anthropicError, toAnthropicError } from './anthropic-error.js';

describe('Anthropic error bodies', () => {
  it('are { type: "error", error: { type, message } }', () => {
    expect(anthropicError(429, 'rate_limit_error', 'slow down')).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
  });

  it('take the type for the status when the given type is not one of Anthropic’s', () => {
    expect(anthropicError(429, 'insufficient_quota', 'budget spent').error.type).toBe('rate_limit_error');
  });
});

describe('a gateway error in Anthropic’s terms', () => {
  it.each([
    [400, 'invalid_request_error', 'invalid_request_error'],
    [401, 'invalid_request_error', 'authentication_error'],
    [402, 'insufficient_quota', 'billing_error'],
    [403, 'invalid_request_error', 'permission_error'],
    [404, 'invalid_request_error', 'not_found_error'],
    [405, 'invalid_request_error', 'invalid_request_error'],
    [413, 'invalid_request_error', 'request_too_large'],
    [429, 'insufficient_quota', 'rate_limit_error'],
    [500, 'api_error', 'api_error'],
    [502, 'api_error', 'api_error'],
    [503, 'api_error', 'overloaded_error'],
    [504, 'api_error', 'timeout_error'],
  ])('keeps status %i and, from OpenAI type %s, has type %s', (status, type, anthropicType) => {
    expect(toAnthropicError({ status, type, code: null, message: 'm' })).toEqual({ status, body: { type: 'error', error: { type: anthropicType, message: 'm' } } });
  });

  it("answers a provider out of quota with Anthropic's 402 billing_error, not a 429 its clients take for a rate limit", () => {
    const error = new AiError(429, 'insufficient_quota', 'insufficient_quota', 'the provider is out of quota or credit: …', null, { 'x-should-retry': 'false' }, 'out_of_quota');
    expect(toAnthropicError(error)).toEqual({ status: 402, body: { type: 'error', error: { type: 'billing_error', message: 'the provider is out of quota or credit: …' } } });
  });

  it("answers a provider overloaded for now with Anthropic's 529 overloaded_error, where the chat endpoint answers 503", () => {
    const error = new AiError(503, 'api_error', 'overloaded_error', 'the provider is overloaded or unavailable: Overloaded', null, { 'retry-after': '3' }, 'overloaded');
    expect(toAnthropicError(error)).toEqual({ status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'the provider is overloaded or unavailable: Overloaded' } } });
  });

  it('types a 503 told not to retry as api_error, and one with a Retry-After as overloaded_error', () => {
    const noKeys = new AiError(503, 'api_error', 'no_provider_available', 'no provider with a usable API key serves this model; an administrator must add keys', null, { 'x-should-retry': 'false' });
    const outOfQuota = new AiError(503, 'api_error', 'no_provider_available', 'every API key that serves this model is out of quota', null, { 'retry-after': '30' });
    expect(toAnthropicError(noKeys).body.error.type).toBe('api_error');
    expect(toAnthropicError(outOfQuota).body.error.type).toBe('overloaded_error');
  });

  it('takes an AiError as it is', () => {
    const error = new AiError(404, 'invalid_request_error', 'model_not_found', 'The model `claude-9` does not exist or you do not have access to it.', 'model');
    expect(toAnthropicError(error).body.error).toEqual({ type: 'not_found_error', message: 'The model `claude-9` does not exist or you do not have access to it.' });
  });
});
