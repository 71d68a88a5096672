import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, failureFor, retryAfterMs } from './provider.js';

/**
 * What a provider's failure makes the gateway do with the key it used: a key the provider does not know is set aside
 * (`invalid`), one out of quota or credit too (`quota`); a call refused to the key for what it asked, or rate limited,
 * leaves the key in the pool.
 */

/** OpenAI's per-minute rate limit, in its own words: a link to the billing page, yet no quota spent. */
const OPENAI_RATE_LIMIT =
  'Rate limit reached for default-gpt-4o in organization org-x on requests per min. Limit: 3 / min. Please try again in 20s. Contact us through our help center at help.openai.com if you continue to have issues. Please add a payment method to your account to increase your rate limit. Visit https://platform.openai.com/account/billing to add a payment method.';

describe("a provider's failure", () => {
  it('sets aside a key the provider does not know (401), and keeps one denied a call (403), which another key may serve', () => {
    expect(failureFor(401, 'Incorrect API key provided', {})).toMatchObject({ credentialProblem: 'invalid', retryable: true });
    expect(failureFor(403, 'Your input was flagged by moderation', {})).toMatchObject({ status: 403, type: 'permission_error', code: 'permission_denied', credentialProblem: 'denied', retryable: true });
  });

  it("reads a 429 as out of quota by the provider's code or its words for it, not by a link to a billing page", () => {
    expect(failureFor(429, OPENAI_RATE_LIMIT, {}, null, 'requests')).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(failureFor(429, OPENAI_RATE_LIMIT, {}, null, 'requests').credentialProblem).toBeUndefined();
    expect(failureFor(429, 'You exceeded your current quota, please check your plan and billing details.', {}, null, 'insufficient_quota')).toMatchObject({ credentialProblem: 'quota', type: 'insufficient_quota' });
    expect(failureFor(429, 'You exceeded your current quota, please check your plan and billing details.', {})).toMatchObject({ credentialProblem: 'quota' });
    expect(failureFor(429, 'Slow down', {}, 'insufficient_quota')).toMatchObject({ credentialProblem: 'quota' });
  });

  it('sets aside a key whose account is out of credit (402), and retries a provider timeout (408) as one', () => {
    expect(failureFor(402, 'Insufficient credits', {})).toMatchObject({ status: 402, credentialProblem: 'quota', retryable: true });
    // OpenRouter's words when the account can pay for a smaller call: this call is denied, the key is not out of credit.
    expect(failureFor(402, 'This request requires more credits, or fewer max_tokens. You requested up to 100000 tokens, but can only afford 4000.', {})).toMatchObject({ credentialProblem: 'denied' });
    expect(failureFor(408, 'Request timed out', {})).toMatchObject({ status: 504, code: 'provider_timeout', retryable: true });
  });

  it('takes Retry-After in seconds with decimals, or as an HTTP date, at most a day, and nothing else', () => {
    const now = Date.UTC(2026, 10, 30, 12);
    expect(retryAfterMs({ 'retry-after': '1.5' }, now)).toBe(1500);
    expect(retryAfterMs({ 'retry-after': ' 20 ' }, now)).toBe(20_000);
    expect(retryAfterMs({ 'retry-after': 'Mon, 30 Nov 2026 12:00:30 GMT' }, now)).toBe(30_000);
    expect(retryAfterMs({ 'retry-after': '100000000000000000000' }, now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs({ 'retry-after-ms': '99999999999999' }, now)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs({ 'retry-after': 'Mon, 30 Nov 2099 12:00:00 GMT' }, now)).toBe(MAX_RETRY_AFTER_MS);
    for (const unreadable of ['1e5', '-3', '+7', 'soon']) expect(retryAfterMs({ 'retry-after': unreadable }, now)).toBeUndefined();
  });

  it("waits out a rate limit that says when it resets only in OpenAI's x-ratelimit-reset-* headers, and prefers a Retry-After", () => {
    const reset = { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20s', 'x-ratelimit-reset-tokens': '6m0s' };
    expect(failureFor(429, OPENAI_RATE_LIMIT, reset, 'rate_limit_exceeded', 'requests').retryAfterMs).toBe(20_000);
    expect(failureFor(429, OPENAI_RATE_LIMIT, { ...reset, 'retry-after': '3' }, 'rate_limit_exceeded', 'requests').retryAfterMs).toBe(3_000);
    expect(failureFor(429, OPENAI_RATE_LIMIT, { 'x-ratelimit-reset-tokens': '48h' }, 'rate_limit_exceeded', 'requests').retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
  });

  it("sets a key out of quota aside by its Retry-After only, not by the rate limits' resets", () => {
    const failure = failureFor(429, 'You exceeded your current quota, please check your plan and billing details.', { 'x-ratelimit-reset-requests': '20ms' }, 'insufficient_quota', 'insufficient_quota');
    expect(failure).toMatchObject({ credentialProblem: 'quota' });
    expect(failure.retryAfterMs).toBeUndefined();
  });



});
