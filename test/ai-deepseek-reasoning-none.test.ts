import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway } from './ai-fixtures.js';
import { reasoningFor, startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

/**
 * OpenAI's `reasoning_effort: "none"` (a Chat Completions client's, or a Responses API client's `reasoning.effort`)
 * asked of DeepSeek: sent as DeepSeek's documented switch, `thinking: {type: "disabled"}`, its effort values holding
 * no `none` (https://api-docs.deepseek.com/guides/thinking_mode).
 */
describe('reasoning_effort "none" to DeepSeek', () => {
  let gateway: AiGateway;
  /** DeepSeek's thinking mode: it thinks unless switched off, and refuses a `thinking` of another shape. */
  let deepseek: OpenAIEmulator;
  /** Another OpenAI-compatible host: it refuses `thinking`, as OpenAI refuses a member it does not define. */
  let other: OpenAIEmulator;
  let client: OpenAI;
  const hello = [{ role: 'user' as const, content: 'Hello there' }];

  beforeAll(async () => {
    deepseek = await startOpenAIEmulator({ reasoningContent: true });
    other = await startOpenAIEmulator();
    gateway = await AiGateway.start();
    await gateway.configure({
      providers: [
        { name: 'deepseek', type: 'openai-compatible', baseUrl: deepseek.url, catalog: 'deepseek' },
        { name: 'vllm', type: 'openai-compatible', baseUrl: other.url },
      ],
    });
    await gateway.addProviderKey('deepseek', 'test-openai-key');
    await gateway.addProviderKey('vllm', 'test-openai-key');
    client = gateway.openai(await gateway.createApp({ name: 'none-app', team: 'none-team' }));
  });
  afterAll(async () => {
    await gateway?.stop();
    await deepseek?.stop();
    await other?.stop();
  });

  it.each([false, true])('turns thinking off for a chat completions client, the effort left out, and is answered without reasoning (streamed: %s)', async (streamed) => {
    const ask = { model: 'deepseek/deepseek-v4-flash', reasoning_effort: 'none' as const, messages: hello };
    let reasoning = '';
    if (streamed) {
      for await (const chunk of await client.chat.completions.create({ ...ask, stream: true })) reasoning += (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '';
    } else {
      const completion = await client.chat.completions.create(ask);
      expect(completion.choices[0]!.message.content).toBe('Echo: Hello there');
      reasoning = (completion.choices[0]!.message as { reasoning_content?: string }).reasoning_content ?? '';
    }
    expect(deepseek.lastRequest()!.body.thinking).toEqual({ type: 'disabled' });
    expect(deepseek.lastRequest()!.body).not.toHaveProperty('reasoning_effort');
    expect(reasoning).toBe('');
  });

  it('turns thinking off for a Responses API client’s reasoning.effort "none": no reasoning item', async () => {
    const response = await client.responses.create({ model: 'deepseek/deepseek-v4-flash', reasoning: { effort: 'none' }, input: 'Hello there', store: false });
    expect(deepseek.lastRequest()!.body.thinking).toEqual({ type: 'disabled' });
    expect(deepseek.lastRequest()!.body).not.toHaveProperty('reasoning_effort');
    expect(response.output.map((item) => item.type)).toEqual(['message']);
    expect(response.reasoning).toMatchObject({ effort: 'none' });
  });

  it('leaves every other effort to DeepSeek, which thinks', async () => {
    const completion = await client.chat.completions.create({ model: 'deepseek/deepseek-v4-flash', reasoning_effort: 'low', messages: hello });
    expect(deepseek.lastRequest()!.body).toMatchObject({ reasoning_effort: 'low' });
    expect(deepseek.lastRequest()!.body).not.toHaveProperty('thinking');
    expect((completion.choices[0]!.message as { reasoning_content?: string }).reasoning_content).toBe(reasoningFor('Hello there'));
  });

  it('sends no switch to deepseek-reasoner, whose thinking DeepSeek does not say the switch turns off, nor to another host', async () => {
    await client.chat.completions.create({ model: 'deepseek/deepseek-reasoner', reasoning_effort: 'none', messages: hello });
    expect(deepseek.lastRequest()!.body).not.toHaveProperty('thinking');
    expect(deepseek.lastRequest()!.body).toMatchObject({ reasoning_effort: 'none' });
    const completion = await client.chat.completions.create({ model: 'vllm/qwen3-8b', reasoning_effort: 'none', messages: hello });
    expect(completion.choices[0]!.message.content).toBe('Echo: Hello there');
    expect(other.lastRequest()!.body).not.toHaveProperty('thinking');
    expect(other.lastRequest()!.body).toMatchObject({ reasoning_effort: 'none' });
  });
});
