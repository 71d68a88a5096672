import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicEmulator, type AnthropicEmulator } from '../../../../test/emulators/anthropic.js';
import { callChatStream, failureOf } from '../../../../test/provider-calls.js';
import type { ChatRequest } from '../../chat-types.js';
import { callChat } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { AnthropicProvider } from './index.js';
import { streamedFailure } from './messages-error.js';

const KEY = 'test-anthropic-key';
let emulator: AnthropicEmulator;
const ctx = (secret = KEY): CallContext => ({
  provider: { name: 'claude', type: 'anthropic', baseUrl: emulator.url },
  credential: { id: 'key-1', secret },
  model: 'claude-sonnet-4-5',
  stream: false,
  now: 1_700_000_000_000,
});
const request: ChatRequest = { model: 'claude', messages: [{ role: 'user', content: 'Hi' }] };

beforeAll(async () => {
  emulator = await startAnthropicEmulator({ apiKey: KEY, retryAfterSeconds: 7 });
});
afterAll(() => emulator.stop());
beforeEach(() => emulator.setMode('normal'));

describe('an Anthropic failure', () => {
  it('reports a wrong key as an invalid credential, so the next key is tried', async () => {
    const failure = await failureOf(callChat(AnthropicProvider, request, ctx('sk-ant-wrong-key')));
    expect(failure).toMatchObject({ status: 401, type: 'authentication_error', code: 'authentication_error', message: 'invalid x-api-key', credentialProblem: 'invalid', retryable: true });
  });

  it('never carries the API key in its message', async () => {
    const failure = await failureOf(callChat(AnthropicProvider, request, ctx('sk-ant-wrong-key')));
    expect(JSON.stringify(failure)).not.toContain('sk-ant-wrong-key');
  });

  it('reports a 429 as a retryable rate limit with retry-after in milliseconds', async () => {
    emulator.setMode('rate-limited');
    const failure = await failureOf(callChat(AnthropicProvider, request, ctx()));
    expect(failure).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limit_error', retryAfterMs: 7000, retryable: true });
    expect(failure.credentialProblem).toBeUndefined();
  });

  it('reports a 529 overloaded as a retryable api_error', async () => {
    emulator.setMode('overloaded');
    const failure = await failureOf(callChat(AnthropicProvider, request, ctx()));
    expect(failure).toMatchObject({ status: 529, type: 'api_error', code: 'overloaded_error', message: 'Overloaded', retryable: true });
  });

  it('reports a 500 as a retryable api_error', async () => {
    emulator.setMode('server-error');
    const failure = await failureOf(callChat(AnthropicProvider, request, ctx()));
    expect(failure).toMatchObject({ status: 500, type: 'api_error', code: 'api_error', retryable: true });
  });

  it('fails a stream before its first chunk when Anthropic refuses it', async () => {
    emulator.setMode('rate-limited');
    const failure = await failureOf(callChatStream(AnthropicProvider, request, { ...ctx(), stream: true }));
    expect(failure).toMatchObject({ status: 429, retryAfterMs: 7000 });
  });

  it('reports a 400 as the caller’s mistake, not retryable, with Anthropic’s message and error type', async () => {
    const failure = await failureOf(callChat(AnthropicProvider, { ...request, messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'toolu_x', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'user', content: 'Go on' }] }, ctx()));
    expect(failure).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'invalid_request_error', retryable: false });
    expect(failure.message).toMatch(/tool_use.*ids were found without .*tool_result/);
  });

  it('reports an unknown model as a 404 that is not retryable', async () => {
    const failure = await failureOf(callChat(AnthropicProvider, request, { ...ctx(), model: 'no-such-model' }));
    expect(failure).toMatchObject({ status: 404, code: 'not_found_error', retryable: false });
  });

  it('sets a key aside as out of quota on a billing error', () => {
    const failure = AnthropicProvider.parseError(400, JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API.' } }), {});
    expect(failure).toMatchObject({ credentialProblem: 'quota', retryable: true });
  });

  it('keeps a generic message when the body is not Anthropic’s JSON', () => {
    const failure = AnthropicProvider.parseError(502, '<html>Bad gateway</html>', {});
    expect(failure).toMatchObject({ status: 502, message: 'Anthropic answered 502', retryable: true });
  });
});

describe("an error event in Anthropic's stream", () => {
  it.each(['constructor', '__proto__', 'toString'])('reads a type named like a member every object has (%s) as an unknown one: a retryable 500', (type) => {
    expect(streamedFailure({ type: type as 'api_error', message: 'boom' })).toMatchObject({ status: 500, message: 'boom', retryable: true });
  });
});
