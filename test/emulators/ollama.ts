import type { ServerResponse } from 'node:http';
import { sendJson as send, startEmulatorServer, ndjsonLine, writeEvents, type EmulatorHandle, type RecordedRequest } from './emulator-http.js';
import { sampleOf } from './schema-sample.js';
import { textOfContent, toolsCalledFor } from './emulated-model.js';

/**
 * Ollama's native API on 127.0.0.1: POST /api/chat (one JSON object, or NDJSON lines written one at a time) and
 * POST /api/embed, behind a Bearer key as an authenticating proxy would put it.
 *
 * Answers: a tool message last → "It is 21 degrees in Paris."; tools given → a call of each tool the last user
 * message names (in the order of `tools`), else of the first, in `message.tool_calls`, each `{function: {name,
 * arguments}}` with its arguments filled in from its parameters (sampleOf: {"city":"Paris"} for a weather tool) as
 * an object and no call id, as Ollama documents it (https://github.com/ollama/ollama/blob/main/docs/api.md#chat-request-with-tools);
 * otherwise "Hello from the Ollama emulator." cut to options.num_predict words (done_reason "length"). Streamed, each
 * call comes whole on a line of its own, as a newer Ollama sends a call as soon as it has parsed it. Model "missing"
 * → 404. Thinking (https://docs.ollama.com/capabilities/thinking): a thinking model (THINKING_MODELS: `qwen3`,
 * `deepseek-r1`, `gpt-oss`…) thinks unless `think` is false, in `message.thinking` (OLLAMA_THOUGHT, streamed word by
 * word on lines of their own before the answer's); GPT-OSS takes only a level and ignores `think: false`; another
 * model refuses `think` on with a 400. Usage: 10 prompt tokens, one eval token per word (of the thought too) and 4
 * per call. Embeddings: three floats per input, one prompt token per word.
 */
export interface OllamaEmulatorOptions {
  apiKey?: string;
}

/** normal; rate-limited (429, retry-after: 2); unavailable (503 "server busy"); stream-error (an error line mid-stream). */
export type OllamaEmulatorMode = 'normal' | 'rate-limited' | 'unavailable' | 'stream-error';

export type { RecordedRequest };

export interface OllamaEmulator extends EmulatorHandle {
  /** The only Bearer key accepted. */
  apiKey: string;
  setMode(mode: OllamaEmulatorMode): void;
}

interface OllamaChatBody {
  model?: string;
  stream?: boolean;
  messages?: Array<{ role?: string; content?: unknown; images?: unknown[]; tool_calls?: Array<{ function?: { arguments?: unknown } }> }>;
  tools?: Array<{ function?: { name?: string; parameters?: Record<string, unknown> } }>;
  options?: { num_predict?: number };
  think?: boolean | string;
}

/** The models the emulator thinks with, by the start of their name; GPT-OSS's one of them. */
const THINKING_MODELS = /^(?:qwen3|deepseek-r1|deepseek-v3\.1|gpt-oss)/;
const GPT_OSS = /^gpt-oss/;
/** What a thinking model thinks. */
export const OLLAMA_THOUGHT = 'Count the words, then answer.';

export async function startOllamaEmulator(options: OllamaEmulatorOptions = {}): Promise<OllamaEmulator> {
  const apiKey = options.apiKey ?? 'ollama-emulator-key';
  let mode: OllamaEmulatorMode = 'normal';

  const server = await startEmulatorServer(({ req, res, body }) => {
    if (req.headers.authorization !== `Bearer ${apiKey}`) return send(res, 401, { error: 'unauthorized' });
    if (mode === 'rate-limited') return send(res, 429, { error: 'too many requests' }, { 'retry-after': '2' });
    if (mode === 'unavailable') return send(res, 503, { error: 'server busy, please try again.  maximum pending requests exceeded' });
    if (req.method === 'POST' && req.url === '/api/chat') return chat(res, body as OllamaChatBody | undefined);
    if (req.method === 'POST' && req.url === '/api/embed') return embed(res, body as { model?: string; input?: unknown } | undefined);
    send(res, 404, { error: '404 page not found' });
  });

  async function chat(res: ServerResponse, body: OllamaChatBody | undefined) {
    const invalid = validate(body);
    if (invalid || !body) return send(res, 400, { error: invalid ?? 'invalid JSON' });
    if (body.model === 'missing') return send(res, 404, { error: `model "missing" not found, try pulling it first` });
    const model = String(body.model);
    const thinks = THINKING_MODELS.test(model);
    // Ollama refuses thinking asked of a model without it; a level is thinking asked, and GPT-OSS takes nothing else.
    if (!thinks && body.think !== undefined && body.think !== false) return send(res, 400, { error: `${JSON.stringify(model)} does not support thinking` });
    const thought = thinks && (body.think !== false || GPT_OSS.test(model)) ? OLLAMA_THOUGHT.split(/(?= )/) : [];
    const messages = body.messages ?? [];
    const offered = (body.tools ?? []).flatMap((tool) => (tool.function?.name ? [tool.function] : []));
    const userText = textOfContent(messages.filter((message) => message.role === 'user').at(-1)?.content);
    let text = 'Hello from the Ollama emulator.';
    let doneReason = 'stop';
    let toolCalls: Array<{ function: { name: string; arguments: Record<string, unknown> } }> = [];
    if (messages[messages.length - 1]?.role === 'tool') text = 'It is 21 degrees in Paris.';
    else if (offered.length > 0) {
      text = '';
      toolCalls = toolsCalledFor(offered, userText, (tool) => String(tool.name)).map((tool) => ({ function: { name: String(tool.name), arguments: sampleOf(tool.parameters) as Record<string, unknown> } }));
    }
    const words = text.split(/(?= )/).filter(Boolean);
    const limit = body.options?.num_predict;
    if (limit !== undefined && words.length > limit) {
      words.splice(limit);
      text = words.join('');
      doneReason = 'length';
    }
    const stats = { total_duration: 1000, load_duration: 10, prompt_eval_count: 10, prompt_eval_duration: 100, eval_count: thought.length + words.length + 4 * toolCalls.length, eval_duration: 800 };
    const head = { model: body.model, created_at: '2025-01-02T03:04:05.000000Z' };

    if (body.stream === false) {
      return send(res, 200, { ...head, message: { role: 'assistant', content: text, ...(thought.length ? { thinking: thought.join('') } : {}), ...(toolCalls.length ? { tool_calls: toolCalls } : {}) }, done_reason: doneReason, done: true, ...stats });
    }
    const lines: unknown[] = thought.map((word) => ({ ...head, message: { role: 'assistant', content: '', thinking: word }, done: false }));
    for (const word of words) lines.push({ ...head, message: { role: 'assistant', content: word }, done: false });
    for (const call of toolCalls) lines.push({ ...head, message: { role: 'assistant', content: '', tool_calls: [call] }, done: false });
    lines.push({ ...head, message: { role: 'assistant', content: '' }, done_reason: doneReason, done: true, ...stats });
    if (mode === 'stream-error') lines.splice(1, lines.length, { error: 'an error was encountered while running the model: unexpected EOF' });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    await writeEvents(res, lines.map(ndjsonLine));
  }

  function embed(res: ServerResponse, body: { model?: string; input?: unknown } | undefined) {
    if (!body?.model) return send(res, 400, { error: 'model is required' });
    const inputs = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? (body.input as string[]) : [];
    send(res, 200, { model: body.model, embeddings: inputs.map((text) => [text.length / 10, 0.5, -0.25]), total_duration: 100, load_duration: 10, prompt_eval_count: inputs.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0) });
  }

  return {
    ...server,
    apiKey,
    setMode: (next: OllamaEmulatorMode) => {
      mode = next;
    },
  };
}

function validate(body: OllamaChatBody | undefined): string | undefined {
  if (!body?.model) return 'model is required';
  if (!Array.isArray(body.messages)) return 'messages must be an array';
  for (const m of body.messages) {
    if (!['system', 'user', 'assistant', 'tool'].includes(m.role ?? '')) return `invalid role: ${m.role}`;
    if (typeof m.content !== 'string') return 'json: cannot unmarshal array into Go struct field Message.messages.content of type string';
    for (const image of m.images ?? []) if (typeof image !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(image)) return 'illegal base64 data in images';
    for (const call of m.tool_calls ?? []) if (typeof call.function?.arguments !== 'object') return 'json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments';
  }
  return undefined;
}
