import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../chat-types.js';
import { SOURCE_TEXT, type CallContext, type SourcedRequest } from '../provider.js';
import { OpenAIProvider } from './index.js';

const ctx = (overrides: Partial<CallContext> = {}): CallContext => ({
  provider: { name: 'up', type: 'openai', baseUrl: 'http://127.0.0.1:1' },
  credential: { id: 'k1', secret: 'sk-test' },
  model: 'gpt-4o-mini',
  stream: false,
  now: 0,
  ...overrides,
});

/** A request as the AI handler hands it over: parsed, with the client's text attached. */
function sourced(text: string): SourcedRequest {
  const request = JSON.parse(text) as ChatRequest;
  Object.defineProperty(request, SOURCE_TEXT, { value: text });
  return request;
}

const bodyOf = (request: ChatRequest, context = ctx()) => OpenAIProvider.chatCall(request, context).body!;

describe("the OpenAI-style adapter's request body", () => {
  it('is the client\'s own text when the rewrite would change nothing', () => {
    const text = '{ "model": "gpt-4o-mini",  "messages": [{"role":"user","content":"Say hello."}], "max_tokens": 16 }';
    expect(bodyOf(sourced(text))).toBe(text);
  });

  it("is rewritten with the provider's model id when an alias or fallback picked another model", () => {
    const body = JSON.parse(bodyOf(sourced('{"model":"chat-default","messages":[{"role":"user","content":"Hi"}]}'), ctx({ model: 'gpt-4o' })));
    expect(body).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hi' }], stream: false });
  });

  it('is rewritten when "model" occurs twice, so that the provider serves the model the gateway checked', () => {
    const body = bodyOf(sourced('{"model":"gpt-4o","model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}'));
    expect(body.match(/"model"/g)).toHaveLength(1);
    expect(JSON.parse(body)).toMatchObject({ model: 'gpt-4o-mini' });
  });

  it('is rewritten when a key could be "model" spelled with a \\u escape', () => {
    const text = '{"mod\\u0065l":"gpt-4o","model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}';
    expect(JSON.parse(text)).toMatchObject({ model: 'gpt-4o-mini' });
    const body = bodyOf(sourced(text));
    expect(body).not.toContain('\\u');
    expect(JSON.parse(body)).toMatchObject({ model: 'gpt-4o-mini' });
  });

  it('is rewritten without stream_options on a call that does not stream', () => {
    const body = JSON.parse(bodyOf(sourced('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream_options":{"include_usage":true}}')));
    expect(body).not.toHaveProperty('stream_options');
    expect(body.stream).toBe(false);
  });

  it('asks for usage on a stream, whatever the client sent', () => {
    const body = JSON.parse(bodyOf(sourced('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}'), ctx({ stream: true })));
    expect(body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('is serialized from the request when there is no client text (a request translated from another format)', () => {
    expect(JSON.parse(bodyOf({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }))).toEqual({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: false });
  });
});
