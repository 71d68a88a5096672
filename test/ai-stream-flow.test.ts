import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import net from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AiGateway } from './ai-fixtures.js';
import { startScriptedProvider, type ScriptedProvider } from './scripted-provider.js';

const SSE_HEAD = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** A chunk as OpenAI's API streams it (https://platform.openai.com/docs/api-reference/chat-streaming). */
function chunkJson(content: string, extra = ''): string {
  return `{"id":"chatcmpl-flow","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]${extra}}`;
}

/** The chunk that ends choice 0 with `reason`, its delta empty. */
const finishJson = (reason: string): string => chunkJson('').replace('"delta":{"content":""},"finish_reason":null', `"delta":{},"finish_reason":"${reason}"`);

/** Waits until `read()` has stopped changing for a few polls in a row, and returns its value then. */
async function settled(read: () => number): Promise<number> {
  let last = -1;
  let steady = 0;
  while (steady < 5) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = read();
    steady = now === last ? steady + 1 : 0;
    last = now;
  }
  return last;
}

describe('a streamed completion between the provider and the client', () => {
  let gateway: AiGateway;
  let provider: ScriptedProvider;
  let apiKey: string;

  beforeAll(async () => {
    provider = await startScriptedProvider(() => undefined);
    gateway = await AiGateway.start();
    const baseUrl = provider.url;
    await gateway.configure({ providers: [{ name: 'scripted', type: 'openai', baseUrl }, { name: 'scripted-mistral', type: 'mistral', baseUrl }] });
    await gateway.addProviderKey('scripted', 'scripted-provider-key');
    await gateway.addProviderKey('scripted-mistral', 'scripted-mistral-key');
    apiKey = await gateway.createApp({ name: 'flow-app', team: 'flow-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    provider?.stop();
  });

  /**
   * Runs `run` under the suite's providers with `more`: providers of other types on the scripted host, AI settings
   * (`timeout`, `sendTimeout`); then the config as before.
   */
  async function withConfig(more: { providers?: Array<{ name: string; type: string }>; settings?: Record<string, string> }, run: () => Promise<void>): Promise<void> {
    const baseUrl = provider.url;
    const suite = [{ name: 'scripted', type: 'openai', baseUrl }, { name: 'scripted-mistral', type: 'mistral', baseUrl }];
    await gateway.configure({ providers: [...suite, ...(more.providers ?? []).map((p) => ({ ...p, baseUrl }))], ...more.settings });
    try {
      await run();
    } finally {
      await gateway.configure({ providers: suite });
    }
  }

  /** Runs `run` with a provider of Anthropic's type on the scripted host too (scripted-claude). */
  async function withScriptedClaude(run: () => Promise<void>): Promise<void> {
    await withConfig({ providers: [{ name: 'scripted-claude', type: 'anthropic' }] }, async () => {
      await gateway.addProviderKey('scripted-claude', 'scripted-claude-key');
      await run();
    });
  }

  /** A raw request for a stream of scripted/gpt-4o-mini, over its own connection. */
  function openStream(body: Record<string, unknown> = {}): net.Socket {
    const url = new URL(gateway.proxyUrl);
    const json = JSON.stringify({ model: 'scripted/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }], ...body });
    const socket = net.connect(Number(url.port), url.hostname);
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${apiKey}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(json)}\r\nconnection: close\r\n\r\n${json}`,
    );
    return socket;
  }

  it("sends the provider's events on byte for byte, fields it does not know included", async () => {
    // Extra fields, an escape and spacing that a re-serialization would write differently ("\u00e9" → "é").
    const events = [chunkJson('caf_', ', "service_tier": "default", "obfuscation": "x1"').replace('caf_', 'caf\\u00e9'), chunkJson(' au lait')];
    provider.script = (_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.end(events.map((e) => `data: ${e}\n\n`).join('') + 'data: [DONE]\n\n');
    };
    const response = await gateway.call('POST', '/v1/chat/completions', apiKey, { model: 'scripted/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] });
    expect(response.status).toBe(200);
    const data = response.text.split('\n\n').filter((block) => block.startsWith('data: ')).map((block) => block.slice('data: '.length));
    expect(data).toEqual([...events, '[DONE]']);
  });

  it("translates the events of a provider in OpenAI's format with differences of its own, never passing them through", async () => {
    // Mistral's stream (https://docs.mistral.ai/api/#tag/chat): content as a list of parts, its own finish reason,
    // the usage on the last chunk.
    provider.script = (_req, res) => {
      res.writeHead(200, SSE_HEAD);
      const first = '{"id":"m1","object":"chat.completion.chunk","created":1,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"role":"assistant","content":[{"type":"text","text":"Bonjour"}]},"finish_reason":null}]}';
      const last = '{"id":"m1","object":"chat.completion.chunk","created":1,"model":"mistral-small-latest","choices":[{"index":0,"delta":{"content":""},"finish_reason":"model_length"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}';
      res.end(`data: ${first}\n\ndata: ${last}\n\ndata: [DONE]\n\n`);
    };
    const response = await gateway.call('POST', '/v1/chat/completions', apiKey, { model: 'scripted-mistral/mistral-small-latest', stream: true, messages: [{ role: 'user', content: 'go' }] });
    const chunks = response.text
      .split('\n\n')
      .filter((block) => block.startsWith('data: {'))
      .map((block) => JSON.parse(block.slice('data: '.length)) as { choices: Array<{ delta: { content?: unknown }; finish_reason: string | null }>; usage?: unknown });
    expect(chunks.map((c) => c.choices[0]?.delta.content)).toEqual(['Bonjour', '']);
    expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, 'length']);
    expect(chunks.filter((c) => c.usage !== undefined)).toEqual([]);
  });

  it('leaves out the usage the gateway asked for when the client did not, and sends it when the client did', async () => {
    const usage = ',"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}';
    provider.script = (_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.end(`data: ${chunkJson('hi', usage)}\n\ndata: [DONE]\n\n`);
    };
    const without = await gateway.call('POST', '/v1/chat/completions', apiKey, { model: 'scripted/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] });
    expect(without.text).toContain('"content":"hi"');
    expect(without.text).not.toContain('"usage"');
    const withUsage = await gateway.call('POST', '/v1/chat/completions', apiKey, { model: 'scripted/gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] });
    expect(withUsage.text).toContain(`data: ${chunkJson('hi', usage)}\n\n`);
  });

  it('stops reading the provider while the client reads nothing, and delivers every event once it does', async () => {
    const EVENTS = 1000;
    const piece = 'x'.repeat(64 * 1024);
    let written = 0;
    provider.script = (_req, res) => {
      res.writeHead(200, SSE_HEAD);
      const next = () => {
        while (written < EVENTS) {
          written += 1;
          if (!res.write(`data: ${chunkJson(piece)}\n\n`)) return void res.once('drain', next);
        }
        res.end('data: [DONE]\n\n');
      };
      next();
    };
    const socket = openStream();
    socket.pause();
    // About 64 MB in all: with nobody reading, the provider gets only as far as the buffers on the way hold.
    const stalledAt = await settled(() => written);
    expect(stalledAt).toBeLessThan(EVENTS / 2);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      // Keep only the tail: the end of the stream is what is checked.
      received = (received + text).slice(-200);
    });
    socket.resume();
    await once(socket, 'end');
    expect(written).toBe(EVENTS);
    // The last chunk of the chunked body, then the cost trailer.
    expect(received).toMatch(/data: \[DONE\]\n\n\r\n0\r\nx-keygate-cost-usd: [\d.]+\r\n\r\n$/);
  });

  it("closes the client's connection and the provider's when the client takes nothing for ai.sendTimeout, and records the call as left", async () => {
    await withConfig({ settings: { sendTimeout: '1s' } }, async () => {
      let closedOnce!: (closed: Promise<boolean>) => void;
      const providerClosed = new Promise<Promise<boolean>>((resolve) => (closedOnce = resolve));
      provider.script = (_req, res) => {
        res.writeHead(200, SSE_HEAD);
        // A provider that keeps generating for as long as it is read: only the gateway letting go ends it.
        const piece = `data: ${chunkJson('y'.repeat(64 * 1024))}\n\n`;
        const next = () => {
          while (res.write(piece));
          res.once('drain', next);
        };
        next();
        closedOnce(once(res, 'close').then(() => !res.writableFinished));
      };
      const socket = openStream();
      // The client keeps its connection open and reads nothing.
      socket.pause();
      socket.on('error', () => undefined);
      expect(await (await providerClosed)).toBe(true);
      // What the client had been sent is there to read, and then the connection's end: not the stream's.
      let tail = '';
      socket.setEncoding('utf8');
      socket.on('data', (text: string) => (tail = (tail + text).slice(-100)));
      socket.resume();
      await once(socket, 'close');
      expect(tail).not.toContain('[DONE]');
      const left = await vi.waitFor(async () => {
        const row = (await gateway.usage({ app: 'flow-app', groupBy: 'status' })).find((r) => r.status === 499);
        expect(row).toBeDefined();
        return row!;
      });
      expect(left.calls).toBe(1);
    });
  });

  it("answers 502 provider_bad_response for an Anthropic stream whose first event after message_start cannot be read, before the model said anything", async () => {
    await withScriptedClaude(async () => {
      provider.script = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // Anthropic's first event (https://docs.anthropic.com/en/api/messages-streaming), then one that is no JSON.
        const start = { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } };
        res.end(`event: message_start\ndata: ${JSON.stringify(start)}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_de\n\n`);
      };
      const result = await gateway.call<{ error: { code: string } }>('POST', '/v1/chat/completions', apiKey, { model: 'scripted-claude/claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'go' }] });
      expect(result.status).toBe(502);
      expect(result.body.error.code).toBe('provider_bad_response');
    });
  });

  it('sends the words that came in the same read as an error event before that error, and then no more', async () => {
    provider.script = (_req, res) => {
      res.writeHead(200, SSE_HEAD);
      // One write: the opening, the model's first words and OpenAI's error event.
      res.end(`data: ${chunkJson('')}\n\ndata: ${chunkJson('Hello')}\n\ndata: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}\n\n`);
    };
    const response = await gateway.call('POST', '/v1/chat/completions', apiKey, { model: 'scripted/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] });
    expect(response.status).toBe(200);
    const data = response.text.split('\n\n').filter((block) => block.startsWith('data: ')).map((block) => JSON.parse(block.slice('data: '.length)) as { choices?: Array<{ delta: { content?: string } }>; error?: { message: string } });
    expect(data.map((d) => d.choices?.[0]?.delta.content ?? null)).toEqual(['', 'Hello', null]);
    expect(data.at(-1)!.error).toMatchObject({ message: 'the provider stream failed: The server had an error while processing your request.' });
  });

  it('gives an Anthropic-format client every argument fragment of tool calls the provider interleaves', async () => {
    const call = (toolCall: object) => `data: {"id":"chatcmpl-flow","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"tool_calls":[${JSON.stringify(toolCall)}]},"finish_reason":null}]}\n\n`;
    provider.script = (_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.end(
        call({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }) +
          call({ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"zone":' } }) +
          call({ index: 0, function: { arguments: '"Paris"}' } }) +
          call({ index: 1, function: { arguments: '"CET"}' } }) +
          'data: {"id":"chatcmpl-flow","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n',
      );
    };
    const client = new Anthropic({ baseURL: gateway.proxyUrl, apiKey, maxRetries: 0 });
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const } }, { name: 'get_time', input_schema: { type: 'object' as const } }];
    const message = await client.messages.stream({ model: 'scripted/gpt-4o-mini', max_tokens: 64, tools, messages: [{ role: 'user', content: 'go' }] }).finalMessage();
    expect(message.content.map((block) => (block.type === 'tool_use' ? [block.name, block.input] : block.type))).toEqual([
      ['get_weather', { city: 'Paris' }],
      ['get_time', { zone: 'CET' }],
    ]);
  });

  it("gives an Anthropic-format client a tool call's every argument fragment, and the text the provider sent between them", async () => {
    const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'chatcmpl-flow', object: 'chat.completion.chunk', created: 1700000000, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    provider.script = (_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.end(
        chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }] }) +
          chunk({ content: 'Checking the weather.' }) +
          chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }) +
          chunk({}, 'tool_calls') +
          'data: [DONE]\n\n',
      );
    };
    const client = new Anthropic({ baseURL: gateway.proxyUrl, apiKey, maxRetries: 0 });
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const } }];
    const message = await client.messages.stream({ model: 'scripted/gpt-4o-mini', max_tokens: 64, tools, messages: [{ role: 'user', content: 'Weather in Paris?' }] }).finalMessage();
    expect(message.content.map((block) => (block.type === 'tool_use' ? [block.name, block.input] : block.type === 'text' ? block.text : block.type))).toEqual([['get_weather', { city: 'Paris' }], 'Checking the weather.']);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('tells the client a stream that went quiet for longer than ai.timeout after its words timed out', async () => {
    await withConfig({ settings: { timeout: '300ms' } }, async () => {
      provider.script = (_req, res) => {
        res.writeHead(200, SSE_HEAD);
        // The first words, then nothing: only the gateway's timeout ends this response.
        res.write(`data: ${chunkJson('Hello')}\n\n`);
      };
      const response = await gateway.call('POST', '/v1/chat/completions', apiKey, { model: 'scripted/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] });
      const last = response.text.split('\n\n').filter((block) => block.startsWith('data: ')).at(-1)!;
      expect(JSON.parse(last.slice('data: '.length))).toMatchObject({ error: { message: 'the provider stream failed: the provider sent nothing for longer than the timeout (ai.timeout)', code: 'provider_timeout' } });
    });
  });

  it('ends a stream whose host reset the connection after the finish and the usage, before [DONE], as whole: no error, recorded 200 at the usage told', async () => {
    const finish = finishJson('stop');
    const usage = '{"id":"chatcmpl-flow","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}';
    provider.script = (req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.write(`data: ${chunkJson('All done.')}\n\ndata: ${finish}\n\ndata: ${usage}\n\n`);
      setTimeout(() => req.socket.destroy(), 20);
    };
    const client = gateway.openai(await gateway.createApp({ name: 'reset-after-finish-app', team: 'flow-team' }));
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model: 'scripted/gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'go' }] })) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('All done.');
    const [row] = await vi.waitFor(async () => {
      const rows = await gateway.usage({ app: 'reset-after-finish-app', groupBy: 'status' });
      expect(rows).toHaveLength(1);
      return rows;
    });
    expect(row).toMatchObject({ status: 200, calls: 1, inputTokens: 9, outputTokens: 3, estimatedCalls: 0 });
  });

  it("ends a stream whose host told a failed generation and then reset the connection with that failure, not the reset", async () => {
    const failed = finishJson('insufficient_system_resource');
    provider.script = (req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.write(`data: ${chunkJson('Partial')}\n\ndata: ${failed}\n\n`);
      setTimeout(() => req.socket.destroy(), 20);
    };
    const response = await gateway.call('POST', '/v1/chat/completions', apiKey, { model: 'scripted/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] });
    const last = response.text.split('\n\n').filter((block) => block.startsWith('data: ')).at(-1)!;
    expect(JSON.parse(last.slice('data: '.length))).toMatchObject({ error: { message: expect.stringContaining("DeepSeek's inference was interrupted for lack of resources") } });
  });

  it('ends a stream whose host went quiet after the finish for longer than ai.timeout as whole, with [DONE] and no error', async () => {
    await withConfig({ settings: { timeout: '300ms' } }, async () => {
      provider.script = (_req, res) => {
        res.writeHead(200, SSE_HEAD);
        // The answer and its finish, then nothing: no [DONE], and the connection left open.
        res.write(`data: ${chunkJson('All done.')}\n\ndata: ${finishJson('stop')}\n\n`);
      };
      const response = await gateway.call('POST', '/v1/chat/completions', apiKey, { model: 'scripted/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] });
      const data = response.text.split('\n\n').filter((block) => block.startsWith('data: ')).map((block) => block.slice('data: '.length));
      expect(data.at(-1)).toBe('[DONE]');
      expect(response.text).not.toContain('"error"');
    });
  });

  it("ends an Anthropic stream whose host reset the connection after message_delta, before message_stop, as whole: Claude's counts, no error", async () => {
    await withScriptedClaude(async () => {
      const event = (data: { type: string }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
      provider.script = (req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // Anthropic's events (https://docs.anthropic.com/en/api/messages-streaming) up to message_delta, then a reset.
        res.write(
          event({ type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 40, output_tokens: 1 } } } as never) +
            event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } as never) +
            event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'All done.' } } as never) +
            event({ type: 'content_block_stop', index: 0 } as never) +
            event({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } } as never),
        );
        setTimeout(() => req.socket.destroy(), 20);
      };
      const client = gateway.openai(await gateway.createApp({ name: 'claude-reset-after-finish-app', team: 'flow-team' }));
      let text = '';
      for await (const chunk of await client.chat.completions.create({ model: 'scripted-claude/claude-haiku-4-5', stream: true, messages: [{ role: 'user', content: 'go' }] })) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('All done.');
      const [row] = await vi.waitFor(async () => {
        const rows = await gateway.usage({ app: 'claude-reset-after-finish-app', groupBy: 'status' });
        expect(rows).toHaveLength(1);
        return rows;
    });
    expect(row).toMatchObject({ status: 200, inputTokens: 40, outputTokens: 4 });
    });
  });

  it("closes the provider's connection when the client goes away mid-stream", async () => {
    let providerClosed!: Promise<boolean>;
    provider.script = (_req, res) => {
      res.writeHead(200, SSE_HEAD);
      res.write(`data: ${chunkJson('first')}\n\n`);
      // The rest never comes on its own: only the gateway closing the connection ends this response.
      providerClosed = once(res, 'close').then(() => !res.writableFinished);
    };
    const socket = openStream();
    socket.setEncoding('utf8');
    let seen = '';
    await new Promise<void>((resolve) => {
      socket.on('data', (text: string) => {
        seen += text;
        if (seen.includes('"content":"first"')) resolve();
      });
    });
    socket.destroy();
    expect(await providerClosed).toBe(true);
  });

  it("closes the provider's connection when the client left before the provider answered, without waiting for its head", async () => {
    let held!: ServerResponse;
    const asked = new Promise<void>((resolve) => {
      provider.script = (_req, res) => {
        held = res;
        resolve();
      };
    });
    const socket = openStream();
    await asked;
    const providerClosed = once(held, 'close').then(() => !held.writableFinished);
    socket.destroy();
    // The provider never answers: only the gateway closing the connection ends this response.
    expect(await providerClosed).toBe(true);
  });
});
