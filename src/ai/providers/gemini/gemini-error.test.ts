import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGeminiEmulator, type GeminiEmulator } from '../../../../test/emulators/gemini.js';
import { callChatStream, failureOf } from '../../../../test/provider-calls.js';
import type { ChatRequest } from '../../chat-types.js';
import { callChat } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { MAX_RETRY_AFTER_MS } from '../provider.js';
import { googleFailure } from './gemini-error.js';
import { GeminiProvider } from './index.js';

const KEY = 'test-gemini-key';
let emulator: GeminiEmulator;
const ctx = (secret = KEY): CallContext => ({
  provider: { name: 'google', type: 'gemini', baseUrl: emulator.url },
  credential: { id: 'key-1', secret },
  model: 'gemini-2.5-flash',
  stream: false,
  now: 1_700_000_000_000,
});
const request: ChatRequest = { model: 'gemini', messages: [{ role: 'user', content: 'Hi' }] };

beforeAll(async () => {
  emulator = await startGeminiEmulator({ apiKey: KEY, retryAfterSeconds: 12 });
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.setMode('normal'));

describe('a Gemini failure', () => {
  it('reports a key Gemini does not know (400 API_KEY_INVALID) as an invalid credential', async () => {
    const failure = await failureOf(callChat(GeminiProvider, request, ctx('AIza-wrong-key')));
    expect(failure).toMatchObject({ status: 401, type: 'authentication_error', code: 'api_key_invalid', message: 'API key not valid. Please pass a valid API key.', credentialProblem: 'invalid' });
  });

  it('reports a missing key (403 PERMISSION_DENIED) as an invalid credential', async () => {
    const failure = await failureOf(callChat(GeminiProvider, request, ctx('')));
    expect(failure).toMatchObject({ status: 403, code: 'permission_denied', credentialProblem: 'invalid' });
  });

  it('never carries the API key in its message', async () => {
    const failure = await failureOf(callChat(GeminiProvider, request, ctx('AIza-wrong-key')));
    expect(JSON.stringify(failure)).not.toContain('AIza-wrong-key');
  });

  it('reports RESOURCE_EXHAUSTED as a retryable rate limit, after RetryInfo’s delay, without setting the key aside', async () => {
    emulator.setMode('rate-limited');
    const failure = await failureOf(callChat(GeminiProvider, request, ctx()));
    expect(failure).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'resource_exhausted', retryAfterMs: 12_000, retryable: true });
    expect(failure.credentialProblem).toBeUndefined();
  });

  it('sets aside as out of quota a key whose Prepay credit is spent (402 RESOURCE_EXHAUSTED), with no Retry-After of its guessing', async () => {
    emulator.setMode('prepay-depleted');
    const failure = await failureOf(callChat(GeminiProvider, request, ctx()));
    expect(failure).toMatchObject({ status: 402, type: 'insufficient_quota', code: 'insufficient_quota', credentialProblem: 'quota', retryable: true });
    expect(failure.message).toMatch(/^Your prepayment credits are depleted\./);
    expect(failure.retryAfterMs).toBeUndefined();
  });

  it('fails a stream before its first chunk as out of quota when the Prepay credit is spent', async () => {
    emulator.setMode('prepay-depleted');
    expect(await failureOf(callChatStream(GeminiProvider, request, { ...ctx(), stream: true }))).toMatchObject({ status: 402, type: 'insufficient_quota', credentialProblem: 'quota' });
  });

  it('prefers a Retry-After header to RetryInfo', () => {
    const body = JSON.stringify({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'slow down', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' }] } });
    expect(GeminiProvider.parseError(429, body, { 'retry-after': '2' }).retryAfterMs).toBe(2000);
  });

  it('reports a 500 INTERNAL as retryable', async () => {
    emulator.setMode('server-error');
    expect(await failureOf(callChat(GeminiProvider, request, ctx()))).toMatchObject({ status: 500, type: 'api_error', code: 'internal', retryable: true });
  });

  it('reports a 503 UNAVAILABLE as retryable', async () => {
    emulator.setMode('unavailable');
    expect(await failureOf(callChat(GeminiProvider, request, ctx()))).toMatchObject({ status: 503, code: 'unavailable', retryable: true });
  });

  it('fails a stream before its first chunk when Gemini refuses it', async () => {
    emulator.setMode('rate-limited');
    expect(await failureOf(callChatStream(GeminiProvider, request, { ...ctx(), stream: true }))).toMatchObject({ status: 429, retryAfterMs: 12_000 });
  });

  it('reports a 400 INVALID_ARGUMENT as the caller’s mistake, not retryable, with Gemini’s message', async () => {
    const failure = await failureOf(callChat(GeminiProvider, { ...request, stop: ['a', 'b', 'c', 'd', 'e', 'f'] }, ctx()));
    expect(failure).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_argument', retryable: false });
    expect(failure.message).toMatch(/stop_sequences/);
  });

  it('reports an unknown model as a 404 that is not retryable', async () => {
    const failure = await failureOf(callChat(GeminiProvider, request, { ...ctx(), model: 'no-such-model' }));
    expect(failure).toMatchObject({ status: 404, code: 'not_found', retryable: false });
  });

  it('keeps a generic message when the body is not Google’s JSON', () => {
    expect(GeminiProvider.parseError(502, '<html>Bad gateway</html>', {})).toMatchObject({ status: 502, message: 'Gemini answered 502', retryable: true });
  });
});

describe("a Gemini error body's classification", () => {
  it("reads an error whose details are no array of objects as one without details, not as a failure to read it", () => {
    for (const details of ['oops', [null, 7], { reason: 'API_KEY_INVALID' }]) {
      const failure = googleFailure(400, { status: 'INVALID_ARGUMENT', message: 'Bad request.', details } as never, {});
      expect(failure).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_argument', retryable: false });
    }
    // A status that is no text is read as none, not as a failure to read the error.
    expect(googleFailure(400, { status: 503, message: 'Bad request.' } as never, {})).toMatchObject({ status: 400, type: 'invalid_request_error', retryable: false });
    const limited = googleFailure(429, { status: 'RESOURCE_EXHAUSTED', message: 'Slow down.', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '99999999s' }] } as never, {});
    expect(limited.retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
  });

  it('reads the spent-credit words Gemini answered with a 429 before its 402 as out of quota, not a rate limit, RetryInfo or not', () => {
    const details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' }];
    const failure = googleFailure(429, { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Your prepayment credits are depleted. Please go to AI Studio at https://ai.studio/projects to manage your project and billing.', details } as never, {});
    expect(failure).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'insufficient_quota', credentialProblem: 'quota', retryable: true });
    expect(failure.retryAfterMs).toBeUndefined();
  });

  it('keeps a 429 that speaks of the quota and billing, which Gemini says of its per-minute limits too, a rate limit that sets no key aside', () => {
    const message = 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.';
    for (const quotaId of ['GenerateRequestsPerMinutePerProjectPerModel-FreeTier', 'GenerateRequestsPerDayPerProjectPerModel-FreeTier']) {
      const details = [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId }] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '22s' },
      ];
      const failure = googleFailure(429, { code: 429, status: 'RESOURCE_EXHAUSTED', message, details } as never, {});
      expect(failure).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'resource_exhausted', retryAfterMs: 22_000, retryable: true });
      expect(failure.credentialProblem).toBeUndefined();
    }
  });

  it("reads a model without log probabilities as a request another target may answer, not the caller's mistake", () => {
    const failure = googleFailure(400, { status: 'INVALID_ARGUMENT', message: 'Logprobs is not enabled for models/gemini-2.5-flash' } as never, {});
    expect(failure).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'logprobs', retryable: true });
    expect(googleFailure(400, { status: 'INVALID_ARGUMENT', message: 'Invalid value at contents.' } as never, {})).toMatchObject({ retryable: false });
  });

  it("reads a model without penalties as a request another target may answer, as one without log probabilities", () => {
    for (const message of ['Penalty is not enabled for models/gemini-2.5-flash', 'Penalty is not enabled for this model']) {
      expect(googleFailure(400, { status: 'INVALID_ARGUMENT', message } as never, {})).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', retryable: true });
    }
  });

  // https://ai.google.dev/gemini-api/docs/troubleshooting: FAILED_PRECONDITION is the key's project (no billing where the free tier is not offered).
  it("sets aside the key of a project Gemini will not serve (400 FAILED_PRECONDITION), so that another key or target serves the request", () => {
    const failure = googleFailure(400, { status: 'FAILED_PRECONDITION', message: 'Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio.' }, {});
    expect(failure).toMatchObject({ status: 400, code: 'failed_precondition', credentialProblem: 'invalid', retryable: true });
  });

  it('takes a FAILED_PRECONDITION about the request (a file not yet ACTIVE) as the caller\'s 400, setting no key aside', () => {
    const failure = googleFailure(400, { status: 'FAILED_PRECONDITION', message: 'The File abc123 is not in an ACTIVE state and usage is not allowed.' }, {});
    expect(failure).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(failure.credentialProblem).toBeUndefined();
    expect(failure.retryable).toBeFalsy();
  });

  it("sets aside a key refused as a key (none, blocked, leaked), and keeps one denied something else", () => {
    expect(googleFailure(403, { status: 'PERMISSION_DENIED', message: 'Your API key was reported as leaked. Please use another API key.' }, {})).toMatchObject({ status: 403, credentialProblem: 'invalid' });
    const denied = googleFailure(403, { status: 'PERMISSION_DENIED', message: 'You do not have permission to access tuned model tunedModels/other.' }, {});
    expect(denied).toMatchObject({ status: 403, credentialProblem: 'denied', retryable: true });
    // A reason about the key's project: the Gemini API is off for it, whatever the message says.
    for (const reason of ['SERVICE_DISABLED', 'API_KEY_SERVICE_BLOCKED', 'CONSUMER_SUSPENDED', 'BILLING_DISABLED']) {
      const about = { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason };
      expect(googleFailure(403, { status: 'PERMISSION_DENIED', message: 'Generative Language API has not been used in project 1234 before or it is disabled.', details: [about] } as never, {})).toMatchObject({ credentialProblem: 'invalid' });
    }
    // A reason that is not about the key: a message naming an API key (a tuned model's name, say) changes nothing.
    const other = { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT' };
    expect(googleFailure(403, { status: 'PERMISSION_DENIED', message: 'No access to tunedModels/my-api-key-model (API key).', details: [other] } as never, {})).toMatchObject({ credentialProblem: 'denied' });
  });
});
