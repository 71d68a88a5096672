import type { ServerResponse } from 'node:http';
import { sendJson as send, startEmulatorServer, sseData, writeEvents, type EmulatorHandle, type RecordedRequest } from './emulator-http.js';
import { sampleOf } from './schema-sample.js';
import { encodedVector, textOfContent, toolsCalledFor } from './emulated-model.js';

/**
 * Mistral's API on 127.0.0.1: POST /v1/chat/completions (JSON, or SSE chunks written one at a time, usage on the
 * last chunk beside the finish reason, then [DONE]) and POST /v1/embeddings, behind a Bearer key. Strict as Mistral
 * is: a member it does not document is a 422 "Extra inputs are not permitted", and a tool call id that is not nine
 * characters of a-z, A-Z, 0-9 a 400.
 *
 * Answers: a tool message last → "It is 21 degrees in Paris."; tools given (tool_choice not none) → a call of each
 * tool the last user message names (in the order of `tools`), else of the first, as Mistral's function calling
 * documents several calls (https://docs.mistral.ai/capabilities/function_calling/): one `tool_calls` array, each
 * call with its own nine-character id (toolCallIdOf) and its `index` but no `type` (optional in Mistral's API, and
 * left out of its answers), its arguments filled in from its parameters (sampleOf) and written as Mistral writes
 * them, with a space after each colon and comma (`{"city": "Paris"}`);
 * otherwise "Hello from the Mistral emulator." cut to max_tokens words. Streamed, the calls come whole, all in one
 * chunk's `tool_calls` array, as Mistral's API sends them. With `reasoning_effort: "high"` the answer thinks first
 * (https://docs.mistral.ai/capabilities/reasoning/adjustable): its content is a list, a `thinking` chunk
 * (`{"type": "thinking", "thinking": [{"type": "text", "text": THOUGHT}]}`) then a `text` one; streamed, the thought
 * comes word by word in such lists, then the answer as strings. `reasoning_effort` other than `none` and `high` is a
 * 400, as Mistral refuses it. Usage: 11 prompt tokens, one completion token per word (of the thought too) and 8 per call.
 */
export interface MistralEmulatorOptions {
  apiKey?: string;
}

/** normal; rate-limited (429, retry-after: 2); unavailable (503). */
/**
 * 'generation-error': the answer's finish_reason is `error` (one of Mistral's documented values: stop, length,
 * model_length, error, tool_calls), after the answer's first words.
 */
export type MistralEmulatorMode = 'normal' | 'rate-limited' | 'unavailable' | 'generation-error';

export type { RecordedRequest };

export interface MistralEmulator extends EmulatorHandle {
  /** The only Bearer key accepted. */
  apiKey: string;
  setMode(mode: MistralEmulatorMode): void;
}

type Json = Record<string, unknown>;

const CHAT_MEMBERS = ['model', 'messages', 'temperature', 'top_p', 'max_tokens', 'stream', 'stop', 'random_seed', 'response_format', 'tools', 'tool_choice', 'presence_penalty', 'frequency_penalty', 'n', 'parallel_tool_calls', 'prediction', 'safe_prompt', 'prompt_mode', 'reasoning_effort'];
/** What the emulator thinks with `reasoning_effort: "high"`. */
export const MISTRAL_THOUGHT = 'The user greets me, so I greet back.';
const MESSAGE_MEMBERS: Record<string, string[]> = { system: ['role', 'content'], user: ['role', 'content'], assistant: ['role', 'content', 'tool_calls', 'prefix'], tool: ['role', 'content', 'tool_call_id', 'name'] };
const TOOL_CHOICES = ['auto', 'none', 'any', 'required'];

export async function startMistralEmulator(options: MistralEmulatorOptions = {}): Promise<MistralEmulator> {
  const apiKey = options.apiKey ?? 'mistral-emulator-key';
  let mode: MistralEmulatorMode = 'normal';

  const server = await startEmulatorServer(({ req, res, body }) => {
    if (req.headers.authorization !== `Bearer ${apiKey}`) return send(res, 401, { message: 'Unauthorized', request_id: 'emulator' });
    if (mode === 'rate-limited') return send(res, 429, { message: 'Requests rate limit exceeded' }, { 'retry-after': '2' });
    if (mode === 'unavailable') return send(res, 503, { object: 'error', message: 'Service unavailable.', type: 'service_unavailable', param: null, code: '1000' });
    if (req.method === 'POST' && req.url === '/v1/chat/completions') return chat(res, body as Json | undefined);
    if (req.method === 'POST' && req.url === '/v1/embeddings') return embed(res, body as Json | undefined);
    send(res, 404, { detail: 'Not Found' });
  });

  async function chat(res: ServerResponse, body: Json | undefined) {
    const extra = extraMembers(body);
    if (extra.length > 0) {
      return send(res, 422, { object: 'error', message: { detail: extra.map((loc) => ({ type: 'extra_forbidden', loc, msg: 'Extra inputs are not permitted', input: null })) }, type: 'invalid_request_error', param: null, code: null });
    }
    const messages = (body?.messages ?? []) as Array<{ role?: string; content?: unknown; tool_call_id?: string; tool_calls?: Array<{ id?: string }> }>;
    if (messages.length === 0) return send(res, 400, { object: 'error', message: 'Messages list must not be empty.', type: 'invalid_request_error', param: null, code: '3051' });
    for (const id of messages.flatMap((m) => [m.tool_call_id, ...(m.tool_calls ?? []).map((c) => c.id)]).filter((id) => id !== undefined)) {
      if (!/^[a-zA-Z0-9]{9}$/.test(id ?? '')) return send(res, 400, { object: 'error', message: `Tool call id was ${id} but must be a-z, A-Z, 0-9, with a length of 9.`, type: 'invalid_function_call', param: null, code: '3280' });
    }
    // The orders Mistral refuses (reported in its 400s): a user message right after a tool's result, and a last
    // assistant message that is not a prefix.
    const afterTool = messages.findIndex((message, i) => (message.role === 'user' || message.role === 'system') && messages[i - 1]?.role === 'tool');
    if (afterTool > 0) return send(res, 400, { object: 'error', message: `Unexpected role '${messages[afterTool]!.role}' after role 'tool'`, type: 'invalid_request_message_order', param: null, code: '3230' });
    const last = messages[messages.length - 1] as { role?: string; prefix?: boolean };
    if ((last.role === 'assistant' && last.prefix !== true) || last.role === 'system') {
      return send(res, 400, { object: 'error', message: `Expected last role User or Tool (or Assistant with prefix True) for serving but got ${last.role}`, type: 'invalid_request_message_order', param: null, code: '3230' });
    }
    if (typeof body?.tool_choice === 'string' && !TOOL_CHOICES.includes(body.tool_choice)) return send(res, 400, { object: 'error', message: `invalid tool_choice ${body.tool_choice}`, type: 'invalid_request_error', param: null, code: null });
    const effort = body?.reasoning_effort;
    if (effort !== undefined && effort !== 'none' && effort !== 'high') {
      return send(res, 400, { object: 'error', message: `reasoning_effort='${String(effort)}' is not supported for this model. Must be one of (<ReasoningEffort.none: 'none'>, <ReasoningEffort.high: 'high'>)`, type: 'invalid_request_invalid_args', param: null, code: '3051' });
    }
    const thought = effort === 'high' ? MISTRAL_THOUGHT.split(/(?= )/) : [];

    const tools = body?.tools as Array<{ function?: { name?: string; parameters?: Json } }> | undefined;
    const offered = body?.tool_choice === 'none' ? [] : (tools ?? []).flatMap((tool) => (tool.function?.name ? [tool.function] : []));
    const userText = textOfContent(messages.filter((message) => message.role === 'user').at(-1)?.content);
    let text = 'Hello from the Mistral emulator.';
    let finish = 'stop';
    let calls: Array<{ id: string; function: { name: string; arguments: string }; index: number }> = [];
    if (messages[messages.length - 1]?.role === 'tool') text = 'It is 21 degrees in Paris.';
    else if (offered.length > 0) {
      text = '';
      calls = toolsCalledFor(offered, userText, (tool) => String(tool.name)).map((tool, index) => ({ id: toolCallIdOf(index), function: { name: String(tool.name), arguments: spacedJson(sampleOf(tool.parameters)) }, index }));
      finish = 'tool_calls';
    }
    const words = text.split(/(?= )/).filter(Boolean);
    const limit = body?.max_tokens as number | undefined;
    if (limit !== undefined && words.length > limit) {
      words.splice(limit);
      text = words.join('');
      finish = 'length';
    }
    if (mode === 'generation-error') {
      words.splice(2);
      text = words.join('');
      finish = 'error';
    }
    const completionTokens = thought.length + words.length + 8 * calls.length;
    const usage = { prompt_tokens: 11, completion_tokens: completionTokens, total_tokens: 11 + completionTokens };
    const head = { id: 'cmpl-mistral0001', created: 1735787045, model: String(body?.model) };

    if (!body?.stream) {
      const content = thought.length > 0 ? [thinkingChunk(thought.join('')), { type: 'text', text }] : text;
      return send(res, 200, { ...head, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content, tool_calls: calls.length > 0 ? calls : null, prefix: false }, finish_reason: finish }], usage });
    }
    // Mistral streams its tool calls whole, all in one chunk, and puts usage on the last chunk.
    const chunk = (delta: Json, finishReason: string | null = null, extraFields: Json = {}) => ({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }], ...extraFields });
    const events: unknown[] = [chunk({ role: 'assistant', content: '' })];
    for (const word of thought) events.push(chunk({ content: [thinkingChunk(word)] }));
    for (const word of words) events.push(chunk({ content: word }));
    if (calls.length > 0) events.push(chunk({ tool_calls: calls }));
    events.push(chunk({ content: '' }, finish, { usage }));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    await writeEvents(res, [...events, '[DONE]'].map((event) => sseData(event)));
  }

  function embed(res: ServerResponse, body: Json | undefined) {
    const extra = Object.keys(body ?? {}).filter((name) => !['model', 'input', 'output_dimension', 'output_dtype', 'encoding_format'].includes(name));
    if (extra.length > 0) return send(res, 422, { object: 'error', message: { detail: extra.map((name) => ({ type: 'extra_forbidden', loc: ['body', name], msg: 'Extra inputs are not permitted' })) }, type: 'invalid_request_error', param: null, code: null });
    const input = body?.input;
    // Mistral takes a text or texts (https://docs.mistral.ai/api/#tag/embeddings): anything else fails its validation.
    if (!(typeof input === 'string' || (Array.isArray(input) && input.every((text) => typeof text === 'string')))) {
      return send(res, 422, { object: 'error', message: { detail: [{ type: 'string_type', loc: ['body', 'input'], msg: 'Input should be a valid string' }] }, type: 'invalid_request_error', param: null, code: null });
    }
    const inputs = typeof input === 'string' ? [input] : (input as string[]);
    const tokens = inputs.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0);
    const data = inputs.map((text, index) => ({ object: 'embedding', index, embedding: encodedVector([text.length / 10, 0.5, -0.25], body?.encoding_format) }));
    send(res, 200, { id: 'embd-mistral0001', object: 'list', data, model: String(body?.model), usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  return {
    ...server,
    apiKey,
    setMode: (next: MistralEmulatorMode) => {
      mode = next;
    },
  };
}

/** The nine characters (a-z, A-Z, 0-9) Mistral gives a call: the first call's as Mistral's docs show one, then numbered. */
function toolCallIdOf(index: number): string {
  return index === 0 ? 'D681PevKs' : `D681Pe${index.toString(36).padStart(3, '0')}`;
}

/** A thinking chunk of Mistral's content (ThinkChunk): its thinking, a list of text chunks. */
function thinkingChunk(text: string): Json {
  return { type: 'thinking', thinking: [{ type: 'text', text }] };
}

/** A message's text: Mistral takes content as a string or as a list of chunks. */
/** JSON as Python's json.dumps writes it by default, as Mistral's arguments come: `{"a": 1, "b": [2, 3]}`. */
function spacedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(spacedJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([key, member]) => `${JSON.stringify(key)}: ${spacedJson(member)}`).join(', ')}}`;
  return JSON.stringify(value);
}

/** The locations (pydantic's `loc`) of members Mistral does not document, at the top and in each message. */
function extraMembers(body: Json | undefined): unknown[][] {
  if (!body) return [['body']];
  const extra: unknown[][] = Object.keys(body).filter((name) => !CHAT_MEMBERS.includes(name)).map((name) => ['body', name]);
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  messages.forEach((message, i) => {
    const allowed = MESSAGE_MEMBERS[String(message.role)] ?? ['role', 'content'];
    for (const name of Object.keys(message)) if (!allowed.includes(name)) extra.push(['body', 'messages', i, String(message.role), name]);
  });
  return extra;
}
