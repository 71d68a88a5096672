import type { ServerResponse } from 'node:http';
import { sendJson as send, sseData, startEmulatorServer, writeEvents, type EmulatorHandle, type RecordedRequest } from './emulator-http.js';
import { encodedVector, isTokenInput, tokenInputsAsText } from './emulated-model.js';
import { sampleOf } from './schema-sample.js';

/**
 * An Azure OpenAI resource on 127.0.0.1: POST /openai/deployments/{deployment}/chat/completions and /embeddings,
 * each requiring ?api-version= and an `api-key` header. Streams open with Azure's prompt-filter chunk, then OpenAI's
 * chunks one write at a time, a usage chunk when stream_options.include_usage asks, and [DONE].
 *
 * Answers: a tool message last → "It is 21 degrees in Paris."; tools given (tool_choice not none) → a call of the
 * first tool, its arguments filled in from its parameters (sampleOf: {"city":"Paris"} for a weather tool); otherwise "Hello from the Azure emulator." cut to max(_completion)_tokens words.
 * Deployment "missing" → 404 DeploymentNotFound; no messages → 400; `max_tokens` to an o-series deployment ("o1-mini")
 * → 400 unsupported_parameter, as o1 models take only max_completion_tokens. Usage: 13 prompt tokens, one completion token
 * per word.
 */
export interface AzureOpenAIEmulatorOptions {
  apiKey?: string;
}

/** normal; rate-limited (429 with Azure's message and retry-after: 2); unavailable (500). */
export type AzureOpenAIEmulatorMode = 'normal' | 'rate-limited' | 'unavailable';

export type { RecordedRequest };

export interface AzureOpenAIEmulator extends EmulatorHandle {
  /** The only key accepted in `api-key`. */
  apiKey: string;
  setMode(mode: AzureOpenAIEmulatorMode): void;
}

interface ChatBody {
  messages?: Array<{ role?: string }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  tools?: Array<{ function?: { name?: string; parameters?: Record<string, unknown> } }>;
  tool_choice?: unknown;
}

const PROMPT_FILTER = [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: 'safe' }, sexual: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' } } }];

export async function startAzureOpenAIEmulator(options: AzureOpenAIEmulatorOptions = {}): Promise<AzureOpenAIEmulator> {
  const apiKey = options.apiKey ?? 'azure-emulator-key';
  let mode: AzureOpenAIEmulatorMode = 'normal';

  const server = await startEmulatorServer(({ req, res, body }) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const route = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(url.pathname);
    if (req.method !== 'POST' || !route || !url.searchParams.get('api-version')) return send(res, 404, { error: { code: '404', message: 'Resource not found' } });
    if (req.headers['api-key'] !== apiKey) {
      return send(res, 401, { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.' } });
    }
    if (mode === 'rate-limited') {
      const message = `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${url.searchParams.get('api-version')} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 2 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`;
      return send(res, 429, { error: { code: '429', message } }, { 'retry-after': '2' });
    }
    if (mode === 'unavailable') return send(res, 500, { error: { code: 'InternalServerError', message: 'The server had an error while processing your request. Sorry about that!' } });
    if (decodeURIComponent(route[1] ?? '') === 'missing') return send(res, 404, { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } });
    if (route[2] === 'embeddings') return embed(res, body as { input?: unknown } | undefined);
    return chat(res, body as ChatBody | undefined, decodeURIComponent(route[1] ?? ''));
  });

  async function chat(res: ServerResponse, body: ChatBody | undefined, deployment: string) {
    if (!body || !Array.isArray(body.messages) || body.messages.length === 0) {
      return send(res, 400, { error: { message: "[] is too short - 'messages'", type: 'invalid_request_error', param: 'messages', code: null } });
    }
    if (/^o\d/.test(deployment) && body.max_tokens !== undefined) {
      return send(res, 400, { error: { message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", type: 'invalid_request_error', param: 'max_tokens', code: 'unsupported_parameter' } });
    }
    const tool = body.tool_choice === 'none' ? undefined : body.tools?.[0]?.function;
    let text = 'Hello from the Azure emulator.';
    let finish = 'stop';
    let call: { id: string; type: 'function'; function: { name: string; arguments: string } } | undefined;
    if (body.messages[body.messages.length - 1]?.role === 'tool') text = 'It is 21 degrees in Paris.';
    else if (tool?.name) {
      text = '';
      call = { id: 'call_azure0001', type: 'function', function: { name: tool.name, arguments: JSON.stringify(sampleOf(tool.parameters)) } };
      finish = 'tool_calls';
    }
    const words = text.split(/(?= )/).filter(Boolean);
    const limit = body.max_completion_tokens ?? body.max_tokens;
    if (limit !== undefined && words.length > limit) {
      words.splice(limit);
      text = words.join('');
      finish = 'length';
    }
    const completionTokens = words.length + (call ? 7 : 0);
    const usage = { prompt_tokens: 13, completion_tokens: completionTokens, total_tokens: 13 + completionTokens };
    const head = { id: 'chatcmpl-azure0001', created: 1735787045, model: `${deployment}-2024-08-06`, system_fingerprint: 'fp_emulator' };

    if (!body.stream) {
      return send(res, 200, {
        ...head,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: call ? null : text, refusal: null, ...(call ? { tool_calls: [call] } : {}) }, finish_reason: finish, logprobs: null, content_filter_results: {} }],
        usage,
        prompt_filter_results: PROMPT_FILTER,
      });
    }
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }] });
    const events: unknown[] = [{ id: '', object: '', created: 0, model: '', choices: [], prompt_filter_results: PROMPT_FILTER }, chunk({ role: 'assistant', content: '', refusal: null })];
    for (const word of words) events.push(chunk({ content: word }));
    if (call) {
      events.push(chunk({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }));
      for (const piece of [call.function.arguments.slice(0, 6), call.function.arguments.slice(6)]) events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    }
    events.push(chunk({}, finish));
    if (body.stream_options?.include_usage) events.push({ ...head, object: 'chat.completion.chunk', choices: [], usage });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    await writeEvents(res, [...events, '[DONE]'].map((event) => sseData(event)));
  }

  function embed(res: ServerResponse, body: { input?: unknown; encoding_format?: unknown } | undefined) {
    // Azure takes what OpenAI takes: texts, or token ids (embedded here as the text of their ids).
    const input = body?.input;
    const inputs = typeof input === 'string' ? [input] : isTokenInput(input) ? tokenInputsAsText(input) : Array.isArray(input) && input.every((text) => typeof text === 'string') ? (input as string[]) : [];
    if (inputs.length === 0) return send(res, 400, { error: { message: "'input' is a required property", type: 'invalid_request_error', param: null, code: null } });
    const tokens = inputs.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
    const data = inputs.map((text, index) => ({ object: 'embedding', index, embedding: encodedVector([text.length / 10, 0.5, -0.25], body?.encoding_format) }));
    send(res, 200, { object: 'list', data, model: 'text-embedding-3-small', usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  return {
    ...server,
    apiKey,
    setMode: (next: AzureOpenAIEmulatorMode) => {
      mode = next;
    },
  };
}
