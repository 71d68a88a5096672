import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEventStreamMessage } from '../src/ai/providers/bedrock/index.js';
import { AiGateway } from './ai-fixtures.js';
import { startScriptedProvider, type ScriptedProvider } from './scripted-provider.js';

const sse = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const namedSse = (data: { type: string; [member: string]: unknown }) => `event: ${data.type}\n${sse(data)}`;
const frame = (type: string, payload: object) => encodeEventStreamMessage({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify(payload)));
/** An OpenAI chat chunk (https://platform.openai.com/docs/api-reference/chat-streaming), as OpenAI and Mistral stream them. */
const chunk = (delta: object, finish: string | null = null) => sse({ id: 'chatcmpl-cut', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] });

/**
 * Each provider type's stream as it starts, its opening and first words in its own wire format, up to where the
 * connection closes, cleanly, before the event that ends its answer: OpenAI-format hosts' finish_reason and
 * `[DONE]`, Bedrock's messageStop, Cohere's message-end, Ollama's `done` line, Anthropic's message_delta and
 * message_stop, Gemini's finishReason.
 */
const CUT: Record<string, { contentType: string; start: Array<string | Buffer> }> = {
  openai: { contentType: 'text/event-stream', start: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' })] },
  mistral: { contentType: 'text/event-stream', start: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' })] },
  bedrock: { contentType: 'application/vnd.amazon.eventstream', start: [frame('messageStart', { role: 'assistant' }), frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hello' } })] },
  cohere: { contentType: 'text/event-stream', start: [namedSse({ type: 'message-start', id: 'c1', delta: { message: { role: 'assistant' } } }), namedSse({ type: 'content-delta', index: 0, delta: { message: { content: { text: 'Hello' } } } })] },
  ollama: { contentType: 'application/x-ndjson', start: [`${JSON.stringify({ model: 'm', message: { role: 'assistant', content: 'Hello' }, done: false })}\n`] },
  anthropic: {
    contentType: 'text/event-stream',
    start: [
      namedSse({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } }),
      namedSse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      namedSse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
    ],
  },
  gemini: { contentType: 'text/event-stream', start: [sse({ candidates: [{ content: { role: 'model', parts: [{ text: 'Hello' }] }, index: 0 }], usageMetadata: { promptTokenCount: 3, totalTokenCount: 3 }, responseId: 'r1' })] },
};

/** Writes each piece in its own write, then ends the answer: the connection closes cleanly, without an error. */
async function writeThenEnd(res: ServerResponse, contentType: string, pieces: Array<string | Buffer>): Promise<void> {
  res.writeHead(200, { 'content-type': contentType });
  for (const piece of pieces) {
    res.write(piece);
    await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

/** The `data:` lines of an OpenAI-format stream, parsed (`[DONE]` as it is). */
const dataOf = (text: string) => text.split('\n\n').filter((block) => block.startsWith('data: ')).map((block) => block.slice('data: '.length)).map((data) => (data === '[DONE]' ? data : (JSON.parse(data) as Record<string, unknown>)));

describe('a provider stream that ends before its last event', () => {
  let gateway: AiGateway;
  let provider: ScriptedProvider;
  let apiKey: string;
  const app = 'cut-stream-app';

  beforeAll(async () => {
    provider = await startScriptedProvider((_req, res) => res.end());
    gateway = await AiGateway.start();
    const baseUrl = provider.url;
    await gateway.configure({
      providers: Object.keys(CUT).map((type) => ({ name: type, type, baseUrl, ...(type === 'bedrock' ? { region: 'us-east-1' } : {}) })),
      aliases: [{ name: 'steady', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], fallbacks: [{ provider: 'cohere', model: 'command-a-03-2025' }] }],
      circuitBreaker: { failures: 0 },
    });
    for (const type of Object.keys(CUT)) await gateway.addProviderKey(type, type === 'bedrock' ? 'AKIDSCRIPTED:scripted/secret' : `${type}-key`);
    apiKey = await gateway.createApp({ name: app, team: 'cut-stream-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    provider?.stop();
  });

  it.each(Object.keys(CUT))('ends a %s stream cut off cleanly with an error event after its words, not [DONE]', async (type) => {
    provider.script = (_req, res) => void writeThenEnd(res, CUT[type]!.contentType, CUT[type]!.start);
    const response = await gateway.chat(apiKey, { model: `${type}/m`, stream: true, messages: [{ role: 'user', content: 'go' }] });
    expect(response.status).toBe(200);
    const data = dataOf(response.text);
    expect(data.map((d) => (d === '[DONE]' ? d : ((d.choices as Array<{ delta: { content?: string } }> | undefined)?.[0]?.delta.content ?? '')))).toContain('Hello');
    expect(data).not.toContain('[DONE]');
    expect(data.at(-1)).toMatchObject({ error: { message: 'the provider stream failed: the provider stream ended before the answer did', type: 'api_error', code: 'provider_stream_incomplete' } });
  });

  it('records a stream cut off cleanly as failed, not as an answer', async () => {
    provider.script = (_req, res) => void writeThenEnd(res, CUT.bedrock!.contentType, CUT.bedrock!.start);
    const before = (await gateway.usage({ app, groupBy: 'status' })).find((row) => row.status === 502)?.calls ?? 0;
    await gateway.chat(apiKey, { model: 'bedrock/m', stream: true, messages: [{ role: 'user', content: 'go' }] });
    const after = (await gateway.usage({ app, groupBy: 'status' })).find((row) => row.status === 502)?.calls ?? 0;
    expect(after).toBe(before + 1);
  });

  it("ends an Anthropic-format client's stream cut off cleanly with an error event, not stop_reason end_turn", async () => {
    provider.script = (_req, res) => void writeThenEnd(res, CUT.bedrock!.contentType, CUT.bedrock!.start);
    const response = await gateway.call('POST', '/v1/messages', apiKey, { model: 'bedrock/m', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'go' }] });
    const events = response.text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toMatch(/^event: error\n/);
    expect(response.text).not.toContain('end_turn');
    expect(response.text).not.toContain('message_stop');
  });

  it("answers 502 provider_stream_incomplete when a stream that holds its head until content (Bedrock's) ends before saying anything", async () => {
    provider.script = (_req, res) => void writeThenEnd(res, CUT.bedrock!.contentType, [frame('messageStart', { role: 'assistant' })]);
    const response = await gateway.chat<{ error: { code: string } }>(apiKey, { model: 'bedrock/m', stream: true, messages: [{ role: 'user', content: 'go' }] });
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('provider_stream_incomplete');
  });

  it('falls back to the next target from a stream that ended before saying anything', async () => {
    const done = { type: 'message-end', delta: { finish_reason: 'COMPLETE', usage: { billed_units: { input_tokens: 3, output_tokens: 1 } } } };
    provider.script = (req, res) => {
      if (req.url?.startsWith('/v2/chat')) void writeThenEnd(res, CUT.cohere!.contentType, [...CUT.cohere!.start, namedSse(done)]);
      else void writeThenEnd(res, CUT.openai!.contentType, [chunk({ role: 'assistant', content: '' })]);
    };
    const response = await gateway.chat(apiKey, { model: 'steady', stream: true, messages: [{ role: 'user', content: 'go' }] });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-keygate-provider')).toBe('cohere');
    expect(dataOf(response.text).at(-1)).toBe('[DONE]');
  });

  it('takes an OpenAI-format stream that ends with a finish reason and a usage chunk but no [DONE], as some hosts end, as whole', async () => {
    const usage = { id: 'chatcmpl-cut', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } };
    provider.script = (_req, res) => void writeThenEnd(res, CUT.openai!.contentType, [...CUT.openai!.start, chunk({}, 'stop'), sse(usage)]);
    const response = await gateway.chat(apiKey, { model: 'openai/m', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] });
    const data = dataOf(response.text);
    expect(data.at(-2)).toMatchObject({ usage: { completion_tokens: 1 } });
    expect(data.at(-1)).toBe('[DONE]');
  });

  it('ends a stream of two choices asked for with an error event when the host closes once the first has finished and the second never began', async () => {
    provider.script = (_req, res) => void writeThenEnd(res, CUT.openai!.contentType, [...CUT.openai!.start, chunk({}, 'stop')]);
    const response = await gateway.chat(apiKey, { model: 'openai/m', stream: true, n: 2, messages: [{ role: 'user', content: 'go' }] });
    const data = dataOf(response.text);
    expect(data).not.toContain('[DONE]');
    expect(data.at(-1)).toMatchObject({ error: { code: 'provider_stream_incomplete' } });
  });
});
