import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../chat-types.js';
import { ProviderCallError } from '../provider-call.js';
import { PROVIDER_ADAPTERS, type CallContext } from './index.js';

/** A part OpenAI's API has and these providers' APIs do not: an audio clip, as the chat API takes it. */
const AUDIO = { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } };
const request = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is said here?' }, AUDIO] }] } as unknown as ChatRequest;

function ctx(type: string): CallContext {
  const secret = type === 'bedrock' ? 'AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG' : 'k';
  return { provider: { name: `${type}-test`, type, baseUrl: 'http://127.0.0.1:9', region: 'us-east-1' }, credential: { id: 'k1', secret }, model: 'm', stream: false, now: Date.UTC(2026, 10, 29) };
}

describe('content parts a provider has no counterpart for', () => {
  it.each(['anthropic', 'gemini', 'bedrock', 'cohere', 'ollama'])('%s refuses them with 400 unsupported_parameter, naming the part', (type) => {
    const adapter = PROVIDER_ADAPTERS.get(type)!;
    let error: unknown;
    try {
      adapter.chatCall(request, ctx(type));
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ProviderCallError);
    expect((error as ProviderCallError).failure).toMatchObject({ status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', retryable: true });
    expect((error as ProviderCallError).failure.message).toContain('messages[0].content[1] is a "input_audio" part');
  });

  it.each(['anthropic', 'gemini', 'bedrock', 'cohere', 'ollama'])("%s names the part's path as the error's param", (type) => {
    let error: unknown;
    try {
      PROVIDER_ADAPTERS.get(type)!.chatCall(request, ctx(type));
    } catch (thrown) {
      error = thrown;
    }
    expect((error as ProviderCallError).failure.param).toBe('messages[0].content[1]');
  });

  it.each(['openai', 'openai-compatible', 'mistral'])('%s passes them on as they are', (type) => {
    const call = PROVIDER_ADAPTERS.get(type)!.chatCall(request, ctx(type));
    expect(JSON.parse(String(call.body)).messages[0].content[1]).toEqual(AUDIO);
  });
});

describe('text parts of one message', () => {
  const twoParts = { model: 'm', messages: [{ role: 'system', content: [{ type: 'text', text: 'Answer briefly.' }, { type: 'text', text: 'Answer in French.' }] }, { role: 'user', content: 'Hi' }] } as unknown as ChatRequest;

  it.each(['anthropic', 'gemini', 'bedrock', 'cohere', 'ollama'])('%s gets them one to a line, not run together', (type) => {
    const body = String(PROVIDER_ADAPTERS.get(type)!.chatCall(twoParts, ctx(type)).body);
    expect(body).toContain(JSON.stringify('Answer briefly.\nAnswer in French.'));
  });
});
