import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, PROVIDER_SECRETS } from './ai-fixtures.js';
import { startAnthropicEmulator, type AnthropicEmulator } from './emulators/anthropic.js';

/** Longer than what the emulated context window leaves after it: the answer ("Echo: …") outgrows the window. */
const LONG = 'Please repeat this sentence back to me, word for word, without changing it.';

describe('an answer the context window ended', () => {
  let gateway: AiGateway;
  let emulator: AnthropicEmulator;
  let claude: Anthropic;
  let openai: OpenAI;

  beforeAll(async () => {
    emulator = await startAnthropicEmulator({ contextWindow: 60 });
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'anthropic', type: 'anthropic', baseUrl: emulator.url }], cache: { ttl: '10m' } });
    await gateway.addProviderKey('anthropic', PROVIDER_SECRETS.anthropic);
    const apiKey = await gateway.createApp({ name: 'window-app', team: 'window-team' });
    claude = new Anthropic({ baseURL: gateway.proxyUrl, apiKey, maxRetries: 0 });
    openai = new OpenAI({ baseURL: `${gateway.proxyUrl}/v1`, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulator?.stop();
  });

  const ask = { model: 'anthropic/claude-sonnet-4-6', max_tokens: 1000, messages: [{ role: 'user' as const, content: LONG }] };

  it('reaches an Anthropic client as model_context_window_exceeded, not max_tokens, which it did not reach', async () => {
    const message = await claude.messages.create(ask);
    expect(message.stop_reason).toBe('model_context_window_exceeded');
    expect(message.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^Echo: /) });
  });

  it('reaches an Anthropic client streaming as model_context_window_exceeded', async () => {
    const message = await claude.messages.stream(ask).finalMessage();
    expect(message.stop_reason).toBe('model_context_window_exceeded');
  });

  it('reaches an Anthropic client from the cache as model_context_window_exceeded', async () => {
    const asked = { ...ask, messages: [{ role: 'user' as const, content: `${LONG} Once more.` }] };
    const first = await claude.messages.create(asked).withResponse();
    const again = await claude.messages.create(asked).withResponse();
    expect(again.response.headers.get('x-keygate-cache')).toBe('hit');
    expect([first.data.stop_reason, again.data.stop_reason]).toEqual(['model_context_window_exceeded', 'model_context_window_exceeded']);
  });

  it("reaches an OpenAI client as the finish reason length, OpenAI's only word for a cut answer", async () => {
    const completion = await openai.chat.completions.create(ask);
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });
});
