import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, configureThreeProviders, startProviderEmulators, type OpenAIErrorBody, type ProviderEmulators } from './ai-fixtures.js';

/** A 1×1 PNG, as a client sends an image inline. */
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const WEATHER_SCHEMA = { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } }, required: ['city', 'celsius'], additionalProperties: false };

type Body = Record<string, unknown>;

/**
 * JSON mode, JSON schema output and images in messages, as the official openai client sends them, through the
 * proxy to providers that take each in their own form: Anthropic (a forced tool, a system instruction, base64
 * image blocks) and Gemini (responseMimeType with responseSchema, inlineData).
 */
describe('structured output and images through the gateway', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let client: OpenAI;
  let apiKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators);
    apiKey = await gateway.createApp({ name: 'structured-app', team: 'structured-team' });
    client = gateway.openai(apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  const lastBody = (provider: 'anthropic' | 'gemini') => emulators[provider].lastRequest()!.body as Body;

  it.each([
    ['anthropic/claude-haiku-4-5-20251001', 'anthropic'],
    ['gemini/gemini-2.5-flash', 'gemini'],
  ] as const)('answers %s with JSON that follows the json_schema asked for', async (model, provider) => {
    const completion = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'The weather in Paris, as JSON.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: WEATHER_SCHEMA } },
    });
    const message = completion.choices[0]!.message;
    expect(message.tool_calls ?? []).toEqual([]);
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(JSON.parse(message.content!)).toEqual({ city: expect.any(String), celsius: expect.any(Number) });
    const sent = lastBody(provider);
    if (provider === 'anthropic') {
      expect(sent.tools).toEqual([expect.objectContaining({ name: 'keygate_json_response', input_schema: WEATHER_SCHEMA })]);
      expect(sent.tool_choice).toEqual({ type: 'tool', name: 'keygate_json_response' });
    } else {
      expect(sent.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseSchema: expect.objectContaining({ type: 'OBJECT' }) });
    }
  });

  it.each([
    ['anthropic/claude-haiku-4-5-20251001', 'anthropic'],
    ['gemini/gemini-2.5-flash', 'gemini'],
  ] as const)('asks %s for a JSON object in JSON mode', async (model, provider) => {
    const completion = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello, as JSON.' }], response_format: { type: 'json_object' } });
    expect(completion.choices[0]!.message.content).toBeTruthy();
    const sent = lastBody(provider);
    if (provider === 'anthropic') expect(JSON.stringify(sent.system)).toContain('Respond with a single valid JSON object');
    else expect(sent.generationConfig).toMatchObject({ responseMimeType: 'application/json' });
  });

  it.each([
    ['anthropic/claude-haiku-4-5-20251001', 'anthropic'],
    ['gemini/gemini-2.5-flash', 'gemini'],
  ] as const)('passes an image given as a data URL on to %s in its own form', async (model, provider) => {
    const completion = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PIXEL}` } }] }],
    });
    expect(completion.choices[0]!.message.content).toBeTruthy();
    const sent = JSON.stringify(lastBody(provider));
    if (provider === 'anthropic') expect(sent).toContain(JSON.stringify({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PIXEL } }));
    else expect(sent).toContain(JSON.stringify({ inlineData: { mimeType: 'image/png', data: PIXEL } }));
  });

  it('refuses a json_schema nested 120 levels deep for Gemini with 400 schema_too_complex naming it, without calling Gemini', async () => {
    // More than the Gemini conversion takes (100), within what the gateway takes of any request: two levels of JSON
    // each, 244 in all, of MAX_NESTING_DEPTH's 256 (one deeper is refused as the body is read, nesting_too_deep).
    const levels = 120;
    const schema = `${'{"type":"object","properties":{"a":'.repeat(levels)}{"type":"string"}${'}}'.repeat(levels)}`;
    const body = `{"model":"gemini/gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"deep","schema":${schema}}}}`;
    const before = emulators.gemini.requests().length;
    const answer = await gateway.call<OpenAIErrorBody>('POST', '/v1/chat/completions', apiKey, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'schema_too_complex', param: 'response_format.json_schema.schema' });
    expect(emulators.gemini.requests().length).toBe(before);
  });
});
