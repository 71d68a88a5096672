import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ModelCatalog } from '../src/ai/catalog/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, PROVIDER_SECRETS, configureThreeProviders, startProviderEmulators, type OpenAIErrorBody, type ProviderEmulators, SMART_AND_FAST } from './ai-fixtures.js';
import { startGeminiEmulator, type GeminiEmulator } from './emulators/gemini.js';
import { startOpenAIEmulator, type OpenAIEmulator } from './emulators/openai.js';

const HELLO = [{ role: 'user', content: 'Hello there' }];
/** An assistant message calling one tool, `call_1`. */
const CALLED = { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] };
/** The key of a host that echoes the credential it was sent in its error messages. */
const ECHOED_SECRET = 'sk-echoed-by-the-host-0123456789';

/**
 * An OpenAI-compatible host whose errors quote the Authorization header it received, as some self-hosted proxies
 * do: the status comes from the model name (`status-429`, `status-400`, `status-500`).
 */
async function startEchoingHost(): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const model = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: string }).model);
      const status = Number(/^status-(\d{3})$/.exec(model)?.[1] ?? 500);
      const body = JSON.stringify({ error: { message: `request with ${String(req.headers.authorization)} refused (${status})`, type: status === 429 ? 'requests' : 'invalid_request_error', param: null, code: status === 429 ? 'rate_limit_exceeded' : null } });
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '30' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('errors of the unified API', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let echoing: Server;
  let apiKey: string;
  let pickyKey: string;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    echoing = await startEchoingHost();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, {
      providers: [{ name: 'echoing', type: 'openai-compatible', baseUrl: `http://127.0.0.1:${(echoing.address() as AddressInfo).port}` }],
      aliases: [
        ...SMART_AND_FAST,
        { name: 'mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
    await gateway.addProviderKey('echoing', ECHOED_SECRET);
    apiKey = await gateway.createApp({ name: 'errors-app', team: 'errors-team' });
    pickyKey = await gateway.createApp({ name: 'picky', team: 'errors-team', models: ['fast', 'openai/gpt-4o-mini'] });
  });
  afterEach(() => {
    emulators.openai.setMode('normal');
    emulators.anthropic.setMode('normal');
    emulators.gemini.setMode('normal');
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
    echoing?.closeAllConnections();
    await new Promise((resolve) => echoing?.close(resolve));
  });

  it.each([
    ['no messages', { model: 'mini' }, 'messages'],
    ['no model', { messages: HELLO }, 'model'],
    ['a message without a known role', { model: 'mini', messages: [{ role: 'robot', content: 'hi' }] }, 'messages[0].role'],
    ['a temperature above 2', { model: 'mini', temperature: 3, messages: HELLO }, 'temperature'],
    ['a stream flag that is not a boolean', { model: 'mini', stream: 'yes', messages: HELLO }, 'stream'],
    ['a max_tokens of 0', { model: 'mini', max_tokens: 0, messages: HELLO }, 'max_tokens'],
    ['a message that is not an object', { model: 'mini', messages: ['hi'] }, 'messages[0].role'],
    ['content that is a number', { model: 'mini', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    ['a content part that is null', { model: 'mini', messages: [{ role: 'user', content: [null] }] }, 'messages[0].content[0].type'],
    ['a text part without text', { model: 'mini', messages: [{ role: 'user', content: [{ type: 'text' }] }] }, 'messages[0].content[0].text'],
    ['a text part whose text is a number', { model: 'mini', messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] }, 'messages[0].content[0].text'],
    ['an image part without a url', { model: 'mini', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }, 'messages[0].content[0].image_url.url'],
    ['tool calls that are not an array', { model: 'mini', messages: [...HELLO, { role: 'assistant', tool_calls: 'x' }] }, `messages[${HELLO.length}].tool_calls`],
    ['a tool call without a function', { model: 'mini', messages: [...HELLO, { role: 'assistant', tool_calls: [{}] }] }, `messages[${HELLO.length}].tool_calls[0].function`],
    ['a tool call whose arguments are an object', { model: 'mini', messages: [...HELLO, { role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: {} } }] }] }, `messages[${HELLO.length}].tool_calls[0].function`],
    ['a response format of an unknown type', { model: 'smart', messages: HELLO, response_format: { type: 'xml' } }, 'response_format.type'],
    ['a json_schema response format without its schema object', { model: 'smart', messages: HELLO, response_format: { type: 'json_schema' } }, 'response_format.json_schema'],
    ['a json_schema response format without a name', { model: 'fast', messages: HELLO, response_format: { type: 'json_schema', json_schema: { schema: { type: 'object' } } } }, 'response_format.json_schema.name'],
    ['an allowed_tools choice of no tools', { model: 'mini', messages: HELLO, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } } }, 'tool_choice.allowed_tools.tools'],
    ['an allowed_tools choice of an unknown mode', { model: 'mini', messages: HELLO, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'any', tools: [{ type: 'function', function: { name: 'f' } }] } } }, 'tool_choice.allowed_tools.mode'],
    ['an allowed_tools choice of a nameless function', { model: 'mini', messages: HELLO, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: {} }] } } }, 'tool_choice.allowed_tools.tools[0].function.name'],
    ['a json_schema response format whose schema is text', { model: 'fast', messages: HELLO, response_format: { type: 'json_schema', json_schema: { name: 'x', schema: '{}' } } }, 'response_format.json_schema.schema'],
    ['a stop that is a number', { model: 'smart', messages: HELLO, stop: 5 }, 'stop'],
    ['logprobs that is not a boolean', { model: 'mini', messages: HELLO, logprobs: 'yes' }, 'logprobs'],
    ['top_logprobs above 20', { model: 'mini', messages: HELLO, logprobs: true, top_logprobs: 21 }, 'top_logprobs'],
    ['top_logprobs that is not an integer', { model: 'mini', messages: HELLO, logprobs: true, top_logprobs: 2.5 }, 'top_logprobs'],
    ['top_logprobs without logprobs: true', { model: 'mini', messages: HELLO, logprobs: false, top_logprobs: 3 }, 'top_logprobs'],
    ['a stop list holding something other than text', { model: 'smart', messages: HELLO, stop: ['END', 7] }, 'stop'],
    ['a top_p above 1', { model: 'smart', top_p: 1.5, messages: HELLO }, 'top_p'],
    ['a top_p below 0', { model: 'fast', top_p: -0.5, messages: HELLO }, 'top_p'],
    ['a top_p that is text', { model: 'mini', top_p: 'x', messages: HELLO }, 'top_p'],
    ['a frequency_penalty above 2', { model: 'fast', frequency_penalty: 3, messages: HELLO }, 'frequency_penalty'],
    ['a presence_penalty below -2', { model: 'mini', presence_penalty: -3, messages: HELLO }, 'presence_penalty'],
    ['a presence_penalty that is text', { model: 'fast', presence_penalty: '1', messages: HELLO }, 'presence_penalty'],
    ['a seed that is text', { model: 'fast', seed: 'abc', messages: HELLO }, 'seed'],
    ['a seed that is not a whole number', { model: 'mini', seed: 4.2, messages: HELLO }, 'seed'],
    ['a logit bias that is not an object', { model: 'fast', logit_bias: 5, messages: HELLO }, 'logit_bias'],
    ['a logit bias beyond 100', { model: 'mini', logit_bias: { '1234': 101 }, messages: HELLO }, 'logit_bias'],
    ['a refusal part whose refusal is not text', { model: 'smart', messages: [...HELLO, { role: 'assistant', content: [{ type: 'refusal' }] }, { role: 'user', content: 'Why?' }] }, `messages[${HELLO.length}].content[0].refusal`],
    ['a tool choice of a word OpenAI does not define, to Anthropic', { model: 'smart', messages: HELLO, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'sometimes' }, 'tool_choice'],
    ['a tool choice of Anthropic\'s word "any", to Gemini', { model: 'fast', messages: HELLO, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 'any' }, 'tool_choice'],
    ['a tool choice that is a number', { model: 'mini', messages: HELLO, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: 42 }, 'tool_choice'],
    ['a function tool choice that names no function', { model: 'smart', messages: HELLO, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function' } }, 'tool_choice.function'],
    ['a tool choice of a function the tools do not declare, to Anthropic', { model: 'smart', messages: HELLO, tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'g' } } }, 'tool_choice'],
    ['a tool choice of a function the tools declare only as a custom tool, to OpenAI', { model: 'mini', messages: HELLO, tools: [{ type: 'custom', custom: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'f' } } }, 'tool_choice'],
    ['a tool choice of a custom tool the tools do not declare, to Gemini', { model: 'fast', messages: HELLO, tools: [{ type: 'custom', custom: { name: 'f' } }], tool_choice: { type: 'custom', custom: { name: 'g' } } }, 'tool_choice'],
    ['the deprecated function_call naming a function the functions do not declare', { model: 'smart', messages: HELLO, functions: [{ name: 'f' }], function_call: { name: 'g' } }, 'function_call'],
    ['the deprecated function_call beside tools that are not functions', { model: 'smart', messages: HELLO, tools: [{ type: 'custom', custom: { name: 'grep' } }, null], function_call: { name: 'grep' } }, 'function_call'],
    ['a tool message no assistant tool call came before, to Gemini', { model: 'fast', messages: [...HELLO, { role: 'tool', tool_call_id: 'call_1', content: 'sunny' }] }, `messages[${HELLO.length}].role`],
    ['a tool message answering a call the assistant did not make, to OpenAI', { model: 'mini', messages: [...HELLO, CALLED, { role: 'tool', tool_call_id: 'call_2', content: 'sunny' }] }, `messages[${HELLO.length + 1}].role`],
    ['an assistant tool call a user message follows unanswered, to Anthropic', { model: 'smart', messages: [...HELLO, CALLED, { role: 'user', content: 'Never mind.' }] }, `messages[${HELLO.length}].role`],
    ['an assistant tool call left unanswered at the end, to OpenAI', { model: 'mini', messages: [...HELLO, CALLED] }, `messages[${HELLO.length}].role`],
    ['a function tool without its function', { model: 'smart', messages: HELLO, tools: [{ type: 'function' }] }, 'tools[0].function'],
    ['a tool that is not an object', { model: 'fast', messages: HELLO, tools: ['get_weather'] }, 'tools[0]'],
    ['a function tool without a name', { model: 'mini', messages: HELLO, tools: [{ type: 'function', function: { parameters: { type: 'object' } } }] }, 'tools[0].function.name'],
  ])('refuses a request with %s with 400 in OpenAI\'s shape, naming the parameter', async (_what, body, param) => {
    const calls = emulators.openai.requests().length;
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, body);
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', param });
    expect(result.body.error.message).toEqual(expect.any(String));
    expect(emulators.openai.requests().length).toBe(calls);
  });

  it.each([
    ['a function whose parameters are text', { tools: [{ type: 'function', function: { name: 'f', parameters: 'abc' } }] }, 'tools[0].function.parameters', 'invalid_type'],
    ['a function whose parameters are an array', { tools: [{ type: 'function', function: { name: 'f', parameters: [] } }] }, 'tools[0].function.parameters', 'invalid_type'],
    ['tool_choice "required" without tools', { tool_choice: 'required' }, 'tool_choice', null],
    ['an empty list of tools', { tools: [] }, 'tools', 'empty_array'],
    ['an empty list of tools, beside tool_choice', { tools: [], tool_choice: 'auto' }, 'tools', 'empty_array'],
    ['the deprecated functions, empty', { functions: [] }, 'functions', 'empty_array'],
    ['parallel_tool_calls without tools', { parallel_tool_calls: false }, 'parallel_tool_calls', null],
    ['the deprecated function_call without functions', { function_call: 'auto' }, 'function_call', null],
    ['stream_options without stream', { stream_options: { include_usage: true } }, 'stream_options', null],
    ['stream_options beside stream: false', { stream: false, stream_options: { include_usage: true } }, 'stream_options', null],
    ['stream_options that are not an object', { stream: true, stream_options: 'include_usage' }, 'stream_options', 'invalid_type'],
    ['an include_usage that is not a boolean', { stream: true, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage', 'invalid_type'],
    ['n above 128', { n: 200 }, 'n', 'integer_above_max_value'],
    ['more than 4 stop sequences', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', 'array_above_max_length'],
  ])('refuses %s as OpenAI does, whatever the provider, before calling one', async (_what, extra, param, code) => {
    const openai = emulators.openai.requests().length;
    const gemini = emulators.gemini.requests().length;
    const anthropic = emulators.anthropic.lastRequest();
    for (const model of ['mini', 'smart', 'fast']) {
      const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model, messages: HELLO, ...extra });
      expect({ model, status: refused.status, error: refused.body.error }).toMatchObject({ model, status: 400, error: { type: 'invalid_request_error', param, code } });
    }
    // The Anthropic emulator keeps only its last request: the same one after is no call.
    expect([emulators.openai.requests().length, emulators.gemini.requests().length]).toEqual([openai, gemini]);
    expect(emulators.anthropic.lastRequest()).toBe(anthropic);
  });

  it.each([
    ['a tool of a kind no adapter translates', { tools: [{ type: 'web_search' }] }, 'tools[0]'],
    ['an allowed_tools choice of a built-in tool', { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'web_search' }] } } }, 'tool_choice.allowed_tools.tools[0]'],
    ['a call of another kind in the history', { messages: [...HELLO, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'custom', custom: { name: 'grep', input: 'foo' } }, { id: 'c2', type: 'web_search', function: { name: 'grep', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'bar' }, { role: 'tool', tool_call_id: 'c2', content: 'baz' }] }, `messages[${HELLO.length}].tool_calls[1]`],
  ])('refuses %s with 400 unsupported_parameter on a provider that translates tools, and passes it to OpenAI', async (_what, extra, param) => {
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'smart', messages: HELLO, ...extra });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param });
    expect((await gateway.chat(apiKey, { model: 'mini', messages: HELLO, ...extra })).status).toBe(200);
  });

  it.each([
    ['n: 2 to Anthropic', 'smart', { n: 2 }, 'n'],
    ['an image URL Anthropic cannot take', 'smart', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://example.invalid/cat.png' } }] }] }, 'messages[0].content[0].image_url.url'],
    ['tool arguments that are not JSON, to Gemini', 'fast', { messages: [...HELLO, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }] }, `messages[${HELLO.length}].tool_calls[0].function.arguments`],
  ])("names the parameter an adapter refuses in the error's param: %s", async (_what, model, extra, param) => {
    const refused = await gateway.chat<OpenAIErrorBody>(apiKey, { model, messages: HELLO, ...extra });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param });
  });

  it('refuses log probabilities a provider cannot give, naming the parameter, and passes them to OpenAI', async () => {
    for (const model of ['smart']) {
      const logprobs = await gateway.chat<OpenAIErrorBody>(apiKey, { model, messages: HELLO, logprobs: true });
      expect(logprobs.status).toBe(400);
      expect(logprobs.body.error).toMatchObject({ type: 'invalid_request_error', code: 'unsupported_parameter', param: 'logprobs' });
      const top = await gateway.chat<OpenAIErrorBody>(apiKey, { model, messages: HELLO, logprobs: true, top_logprobs: 2 });
      expect(top.body.error).toMatchObject({ code: 'unsupported_parameter', param: 'logprobs' });
      // Asking for none is no ask.
      expect((await gateway.chat(apiKey, { model, messages: HELLO, logprobs: false, top_logprobs: 0 })).status).toBe(200);
    }
    const openai = await gateway.chat(apiKey, { model: 'mini', messages: HELLO, logprobs: true, top_logprobs: 2 });
    expect(openai.status).toBe(200);
    expect(emulators.openai.requests().at(-1)!.body).toMatchObject({ logprobs: true, top_logprobs: 2 });
  });

  it.each(['mini', 'smart', 'fast'])('refuses max_tokens beside max_completion_tokens as OpenAI does, to %s, rather than each provider keeping one', async (model) => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model, messages: HELLO, max_tokens: 5, max_completion_tokens: 50 });
    expect(result.status).toBe(400);
    expect(result.body.error).toEqual({ type: 'invalid_request_error', code: 'invalid_parameter_combination', param: 'max_tokens', message: "Setting 'max_tokens' and 'max_completion_tokens' at the same time is not supported." });
  });

  it('takes null for an optional parameter as not given, as OpenAI does', async () => {
    const result = await gateway.chat(apiKey, { model: 'mini', messages: HELLO, temperature: null, max_tokens: null, max_completion_tokens: null, n: null, stream: null, stop: null, tools: null });
    expect(result.status).toBe(200);
    const sent = emulators.openai.requests().at(-1)!.body as Record<string, unknown>;
    for (const key of ['temperature', 'max_tokens', 'max_completion_tokens', 'n', 'stop', 'tools']) expect(sent).not.toHaveProperty(key);
  });

  it("takes back an assistant message as the API gave it, with tool_calls: null", async () => {
    const messages = [...HELLO, { role: 'assistant', content: 'Hello!', refusal: null, tool_calls: null }, { role: 'user', content: 'And again.' }];
    expect((await gateway.chat(apiKey, { model: 'mini', messages })).status).toBe(200);
  });

  it.each([
    ['/v1/chat/completions', 'https://platform.openai.com/docs/api-reference/chat/create'],
    ['/v1/embeddings', 'https://platform.openai.com/docs/api-reference/embeddings/create'],
    ['/v1/responses', 'https://platform.openai.com/docs/api-reference/responses/create'],
  ])('refuses a body to %s that is not JSON with 400 invalid_json, pointing to that operation\'s reference', async (path, reference) => {
    const result = await gateway.call<OpenAIErrorBody>('POST', path, apiKey, '{"model": "mini",');
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
    expect(result.body.error.message).toBe(`the request body is not a JSON object; see ${reference}`);
  });

  it.each([
    ['/v1/messages', 'https://docs.anthropic.com/en/api/messages'],
    ['/v1/messages/count_tokens', 'https://docs.anthropic.com/en/api/messages-count-tokens'],
  ])('refuses a body to %s that is not JSON in Anthropic\'s shape, pointing to its reference', async (path, reference) => {
    const result = await gateway.call<{ type: string; error: { type: string; message: string } }>('POST', path, apiKey, '{"model": "mini",');
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: `the request body is not a JSON object; see ${reference}` } });
  });

  it('throws the official client\'s BadRequestError, with the parameter, for a malformed request', async () => {
    const error = await gateway.openai(apiKey).chat.completions.create({ model: 'mini', messages: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, param: 'messages', type: 'invalid_request_error' });
  });

  it.each(['no-such-model', 'nobody/gpt-4o-mini'])('answers 404 model_not_found for the unknown model %s', async (model) => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model, messages: HELLO });
    expect(result.status).toBe(404);
    expect(result.body.error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
    expect(result.body.error.message).toContain(model);
  });

  it.each(['smart', 'anthropic/claude-sonnet-4-6', 'gemini/gemini-2.5-flash', 'openai/gpt-4o'])('answers 404 model_not_found for %s, which the app may not use', async (model) => {
    const calls = emulators.openai.requests().length;
    const result = await gateway.chat<OpenAIErrorBody>(pickyKey, { model, messages: HELLO });
    expect(result.status).toBe(404);
    expect(result.body.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect(emulators.openai.requests().length).toBe(calls);
  });

  it('serves the models the app may use: its aliases, its provider/model names, and aliases whose every target it may use', async () => {
    for (const model of ['fast', 'openai/gpt-4o-mini', 'mini']) expect((await gateway.chat(pickyKey, { model, messages: HELLO })).status).toBe(200);
  });

  it('lists in GET /v1/models only the models and aliases the calling app may use', async () => {
    const picky = await gateway.openai(pickyKey).models.list();
    expect(picky.data.map((m) => m.id)).toEqual(['fast', 'mini', 'openai/gpt-4o-mini']);
    // An app free to call any model sees the aliases and every current catalog model of the configured providers.
    const open = (await gateway.openai(apiKey).models.list()).data.map((m) => m.id);
    const catalog = ModelCatalog.shipped();
    const current = ['openai', 'anthropic', 'gemini'].flatMap((provider) => catalog.list({ provider, includeDeprecated: false }).map((m) => `${provider}/${m.id}`));
    expect(current.length).toBeGreaterThan(30);
    expect(open).toEqual(['fast', 'mini', 'smart', ...current].sort());
    expect(open).toContain('anthropic/claude-haiku-4-5-20251001');
    const deprecated = catalog.list({ provider: 'openai' }).filter((m) => m.deprecated);
    expect(deprecated.length).toBeGreaterThan(0);
    for (const model of deprecated) expect(open).not.toContain(`openai/${model.id}`);
  });

  it('lists no name of an app\'s list that resolves to nothing, which it would answer 404', async () => {
    const listed = (await gateway.openai(await gateway.createApp({ name: 'hopeful', team: 'errors-team', models: ['fast', 'no-such-alias'] })).models.list()).data.map((m) => m.id);
    expect(listed).toContain('fast');
    expect(listed).not.toContain('no-such-alias');
  });

  it('answers GET /v1/models/{model} for a model the app may use, and 404 model_not_found for one it may not', async () => {
    const client = gateway.openai(pickyKey);
    expect(await client.models.retrieve('mini')).toMatchObject({ id: 'mini', object: 'model', owned_by: 'keygate' });
    expect(await client.models.retrieve('openai/gpt-4o-mini')).toMatchObject({ id: 'openai/gpt-4o-mini', object: 'model' });
    const error = await client.models.retrieve('smart').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
  });

  it('answers GET /v1/models/{model} for a catalog model named by its bare id, which the list shows as provider/model, as a call takes it', async () => {
    const client = gateway.openai(apiKey);
    expect((await gateway.chat(apiKey, { model: 'gpt-4o-mini', messages: HELLO })).status).toBe(200);
    expect(await client.models.retrieve('gpt-4o-mini')).toMatchObject({ id: 'gpt-4o-mini', object: 'model', owned_by: 'keygate' });
    for (const unknown of ['no-such-model', 'openai/no-such-model']) expect(await client.models.retrieve(unknown).catch((e: unknown) => e)).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('refuses a caller without a valid API key with 401 invalid_api_key in OpenAI\'s shape', async () => {
    const result = await gateway.chat<OpenAIErrorBody>('kg_key_not-a-real-key', { model: 'mini', messages: HELLO });
    expect(result.status).toBe(401);
    expect(result.body.error).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
    const error = await gateway.openai('kg_key_not-a-real-key').models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it.each([
    ['openai', 'openai/gpt-4o-mini', '20'],
    ['anthropic', 'smart', '7'],
    ['gemini', 'fast', '7'],
  ] as const)('passes a 429 from %s on as 429 rate_limit_error with its Retry-After', async (provider, model, retryAfter) => {
    emulators[provider].setMode('rate-limited');
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model, messages: HELLO });
    expect(result.status).toBe(429);
    expect(result.body.error.type).toBe('rate_limit_error');
    expect(result.headers.get('retry-after')).toBe(retryAfter);
  });

  it('throws the official client\'s RateLimitError for a provider\'s 429', async () => {
    emulators.openai.setMode('rate-limited');
    const error = await gateway.openai(apiKey).chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    // The provider's words, but not the operator's OpenAI organization they name.
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).message).toContain('Rate limit reached for requests in organization org-[redacted] on requests per min');
    expect(JSON.stringify((error as InstanceType<typeof OpenAI.RateLimitError>).error)).not.toContain('org-EmuLat0r');
  });

  it.each([
    ['status-429', 429],
    ['status-400', 400],
    ['status-500', 502],
  ])('keeps the meaning of a provider error (%s → %i) but not the provider key it quotes', async (model, status) => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: `echoing/${model}`, messages: HELLO });
    expect(result.status).toBe(status);
    expect(result.body.error.message).toMatch(/refused/);
    expect(result.text).not.toContain(ECHOED_SECRET);
    for (const [, value] of result.headers) expect(value).not.toContain(ECHOED_SECRET);
    if (status === 429) expect(result.headers.get('retry-after')).toBe('30');
  });

  it('ends a stream that fails midway with an error event, which the official client raises', async () => {
    emulators.anthropic.setMode('stream-error');
    const stream = await gateway.openai(apiKey).chat.completions.create({ model: 'smart', stream: true, messages: [{ role: 'user', content: 'Hello there' }] });
    const received: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(received.join('')).toBe('Echo: ');
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ type: 'api_error', code: 'provider_stream_error', message: 'the provider stream failed: Overloaded' });
  });

  it('answers 404 unknown_url for an operation the unified API does not have', async () => {
    const result = await gateway.call<OpenAIErrorBody>('POST', '/v1/completions', apiKey, { model: 'mini', prompt: 'hi' });
    expect(result.status).toBe(404);
    expect(result.body.error.code).toBe('unknown_url');
  });
});

describe("the AI route's own rate limit", () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, { aliases: [{ name: 'mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }] }, { limits: [{ per: 'app', requests: 1, window: '1m' }] });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  /** A new app that has spent its one call of the window. */
  async function spentApp(name: string): Promise<string> {
    const key = await gateway.createApp({ name, team: 'limited-team' });
    expect((await gateway.chat(key, { model: 'mini', messages: HELLO })).status).toBe(200);
    return key;
  }

  it('refuses a chat call past it with OpenAI\'s 429 rate_limit_exceeded, keeping Retry-After and the RateLimit headers', async () => {
    const key = await spentApp('limited-openai');
    const refused = await gateway.chat<OpenAIErrorBody>(key, { model: 'mini', messages: HELLO });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    const error = await gateway.openai(key).chat.completions.create({ model: 'mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ code: 'rate_limit_exceeded' });
  });

  it('refuses a messages call past it with Anthropic\'s 429 rate_limit_error, keeping Retry-After', async () => {
    const key = await spentApp('limited-anthropic');
    const refused = await gateway.call<{ type: string; error: { type: string } }>('POST', '/v1/messages', key, { model: 'mini', max_tokens: 16, messages: HELLO });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('a provider whose keys are out of quota', () => {
  /** One provider a test, each with one key out of quota: a key is set aside once refused, and the next call finds none. */
  const BROKE = ['chat', 'responses', 'messages', 'messages-stream'] as const;
  const keyOf = (name: (typeof BROKE)[number]) => `sk-broke-${name}-000000000000000000000`;
  let gateway: AiGateway;
  let metered: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    metered = await startOpenAIEmulator({ exhaustedKeys: BROKE.map(keyOf) });
    gateway = await AiGateway.start();
    await gateway.configure({ providers: BROKE.map((name) => ({ name: `broke-${name}`, type: 'openai', baseUrl: metered.url })) });
    for (const name of BROKE) await gateway.addProviderKey(`broke-${name}`, keyOf(name));
    apiKey = await gateway.createApp({ name: 'broke-app', team: 'broke-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await metered?.stop();
  });

  // An SDK that retried would meet the next call's 503 (no usable key left): the error raised is the first answer's.
  it('refuses a chat call with 429 insufficient_quota and x-should-retry: false, which the openai SDK does not retry', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.proxyUrl}/v1`, apiKey, maxRetries: 2 });
    const error = await openai.chat.completions.create({ model: 'broke-chat/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'insufficient_quota' });
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-should-retry')).toBe('false');
  });

  it('refuses a Responses call the same way', async () => {
    const refused = await gateway.call<OpenAIErrorBody>('POST', '/v1/responses', apiKey, { model: 'broke-responses/gpt-4o-mini', input: 'hi' });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(refused.headers.get('x-should-retry')).toBe('false');
  });

  it.each([
    ['not streamed', 'messages', false],
    ['streamed', 'messages-stream', true],
  ] as const)("refuses a messages call (%s) with Anthropic's 402 billing_error and x-should-retry: false, which @anthropic-ai/sdk does not retry", async (_case, name, stream) => {
    const client = new Anthropic({ baseURL: gateway.proxyUrl, apiKey, maxRetries: 2 });
    const ask = { model: `broke-${name}/gpt-4o-mini`, max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] };
    const error = await (stream ? client.messages.stream(ask).finalMessage() : client.messages.create(ask)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ status: 402, error: { type: 'error', error: { type: 'billing_error', message: expect.stringContaining('exceeded your current quota') } } });
    expect((error as InstanceType<typeof Anthropic.APIError>).headers?.get('x-should-retry')).toBe('false');
  });
});

describe('a Gemini key whose Prepay credit is spent, beside one that is rate limited', () => {
  let gateway: AiGateway;
  let spent: GeminiEmulator;
  let limited: GeminiEmulator;
  let apiKey: string;

  beforeAll(async () => {
    spent = await startGeminiEmulator();
    spent.setMode('prepay-depleted');
    // A delay past the gateway's own wait, so that the limit is answered rather than waited out.
    limited = await startGeminiEmulator({ retryAfterSeconds: 120 });
    limited.setMode('rate-limited');
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'spent', type: 'gemini', baseUrl: spent.url }, { name: 'limited', type: 'gemini', baseUrl: limited.url }] });
    await gateway.addProviderKey('spent', 'test-gemini-key');
    await gateway.addProviderKey('limited', 'test-gemini-key');
    apiKey = await gateway.createApp({ name: 'prepay-app', team: 'prepay-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await spent?.stop();
    await limited?.stop();
  });

  it('refuses the call with 429 insufficient_quota and x-should-retry: false, and calls Gemini no more with the key set aside', async () => {
    const openai = new OpenAI({ baseURL: `${gateway.proxyUrl}/v1`, apiKey, maxRetries: 2 });
    const error = await openai.chat.completions.create({ model: 'spent/gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'insufficient_quota' });
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('x-should-retry')).toBe('false');
    expect(spent.requests()).toHaveLength(1);
    const again = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'spent/gemini-2.5-flash', messages: HELLO });
    expect(again.status).toBe(503);
    expect(again.body.error.message).toMatch(/out of quota/);
    expect(spent.requests()).toHaveLength(1);
  });

  it('answers a per-minute limit as a rate limit to retry after its delay, keeping the key', async () => {
    const first = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'limited/gemini-2.5-flash', messages: HELLO });
    expect(first.status).toBe(429);
    expect(first.body.error).toMatchObject({ type: 'rate_limit_error', code: 'resource_exhausted' });
    expect(first.headers.get('retry-after')).toBe('120');
    expect(first.headers.get('x-should-retry')).toBeNull();
  });
});

describe("a provider's rate limit that says when it resets only in OpenAI's x-ratelimit-reset-* headers", () => {
  let gateway: AiGateway;
  let host: OpenAIEmulator;
  let apiKey: string;

  beforeAll(async () => {
    host = await startOpenAIEmulator({ resetHeadersOnly: true, retryAfterSeconds: 20 });
    host.setMode('rate-limited');
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'resets', type: 'openai', baseUrl: host.url }] });
    await gateway.addProviderKey('resets', PROVIDER_SECRETS.openai);
    apiKey = await gateway.createApp({ name: 'resets-app', team: 'errors-team' });
  });
  afterAll(async () => {
    await gateway?.stop();
    await host?.stop();
  });

  it('tells the client to come back when the spent limit resets (its requests, in 20 s), as a Retry-After', async () => {
    const result = await gateway.chat<OpenAIErrorBody>(apiKey, { model: 'resets/gpt-4o-mini', messages: HELLO });
    expect(result.status).toBe(429);
    expect(result.body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(result.headers.get('retry-after')).toBe('20');
  });
});
