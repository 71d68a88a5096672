import type { ServerResponse } from 'node:http';
import { sendJson as send, startEmulatorServer, sseEvent, writeEvents, type EmulatorHandle, type RecordedRequest } from './emulator-http.js';
import { sampleOf } from './schema-sample.js';
import { textOfContent, toolsCalledFor } from './emulated-model.js';

/**
 * Cohere's v2 API on 127.0.0.1: POST /v2/chat (JSON, or SSE `event:`/`data:` pairs written one at a time) and
 * POST /v2/embed, behind a Bearer key.
 *
 * Answers: a tool message last → "It is 21 degrees in Paris."; tools given (tool_choice not NONE) → a tool plan and
 * a call of each tool the last user message names (in the order of `tools`), else of the first, each with its own id
 * (`<tool name>_emu<n>`, n counting the calls from 1, as Cohere prefixes its ids with the tool's name), its arguments
 * filled in from its parameters (sampleOf: {"city":"Paris"} for a weather tool); otherwise "Hello from the Cohere
 * emulator." cut before the first of `stop_sequences` it holds (STOP_SEQUENCE), and to max_tokens words
 * (MAX_TOKENS). A user text containing "fail" ends with finish_reason ERROR. Both frequency_penalty and
 * presence_penalty in one request are a 400, as Cohere refuses them. Usage: 14 input tokens (9 billed), one
 * output token per word and 6 per call; a user text containing "again" is a prompt Cohere has seen, 8 of whose
 * tokens hit its cache (`usage.cached_tokens`). Embeddings: three floats per text, one billed token per word.
 *
 * A reasoning model (one named `…-reasoning-…`, or Command A+) thinks first: a `thinking` content item
 * (COHERE_THOUGHT) before the text, one output token a word; streamed, its own content block (index 0) whose
 * `content-delta`s carry `thinking`, the text's block after it. The request's `thinking`
 * (https://docs.cohere.com/docs/reasoning) steers it: `{"type": "disabled"}` answers without thinking, a
 * `token_budget` cuts the thinking to that many words; a `thinking` of another shape (a type other than enabled or
 * disabled, a budget that is no positive integer, another member) is a 400.
 *
 * Streamed (https://docs.cohere.com/reference/chat-stream, https://docs.cohere.com/docs/tool-use-streaming): the
 * tool plan as `tool-plan-delta`s, then for each call in turn `tool-call-start` (its `index`, id and name, empty
 * arguments), two `tool-call-delta`s carrying its arguments in two pieces (none for a tool without parameters) and
 * `tool-call-end`, then `message-end`.
 */
export interface CohereEmulatorOptions {
  apiKey?: string;
}

/** normal; rate-limited (429, retry-after: 2); unavailable (503). */
export type CohereEmulatorMode = 'normal' | 'rate-limited' | 'unavailable';

export type { RecordedRequest };

export interface CohereEmulator extends EmulatorHandle {
  /** The only Bearer key accepted. */
  apiKey: string;
  setMode(mode: CohereEmulatorMode): void;
}

interface CohereChatBody {
  model?: string;
  stream?: boolean;
  max_tokens?: number;
  stop_sequences?: string[];
  k?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  messages?: Array<{ role?: string; content?: unknown; tool_call_id?: string; tool_calls?: Array<{ id?: string }> }>;
  tools?: Array<{ function?: { name?: string; parameters?: Record<string, unknown> } }>;
  tool_choice?: string;
  thinking?: { type?: unknown; token_budget?: unknown };
}

/** The models that think before they answer. */
const REASONING_MODELS = /-reasoning-|^command-a-plus/;
/** What a reasoning model thinks. */
/** What the emulator's model says before it calls a tool: its `tool_plan`. */
export const COHERE_TOOL_PLAN = 'I will check the weather.';
export const COHERE_THOUGHT = 'The user says hello, so I say hello back.';

export async function startCohereEmulator(options: CohereEmulatorOptions = {}): Promise<CohereEmulator> {
  const apiKey = options.apiKey ?? 'cohere-emulator-key';
  let mode: CohereEmulatorMode = 'normal';

  const server = await startEmulatorServer(({ req, res, body }) => {
    if (req.headers.authorization !== `Bearer ${apiKey}`) return send(res, 401, { message: 'invalid api token' });
    if (mode === 'rate-limited') return send(res, 429, { message: 'You are using a Trial key, which is limited to 10 API calls / minute. Please try again later.' }, { 'retry-after': '2' });
    if (mode === 'unavailable') return send(res, 503, { message: 'service unavailable, please try again later' });
    if (req.method === 'POST' && req.url === '/v2/chat') return chat(res, body as CohereChatBody | undefined);
    if (req.method === 'POST' && req.url === '/v2/embed') return embed(res, body as { model?: string; texts?: unknown; input_type?: string; embedding_types?: string[]; output_dimension?: number } | undefined);
    send(res, 404, { message: `no such endpoint: ${req.url}` });
  });

  async function chat(res: ServerResponse, body: CohereChatBody | undefined) {
    const invalid = validate(body);
    if (invalid || !body) return send(res, 400, { message: invalid ?? 'invalid request: body is not JSON' });
    const messages = body.messages ?? [];
    const lastMessage = messages[messages.length - 1];
    const offered = body.tool_choice === 'NONE' ? [] : (body.tools ?? []).flatMap((tool) => (tool.function?.name ? [tool.function] : []));
    const userText = textOfContent(messages.filter((message) => message.role === 'user').at(-1)?.content);
    let text = 'Hello from the Cohere emulator.';
    let finish = 'COMPLETE';
    let calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
    let plan = '';
    if (lastMessage?.role === 'tool') text = 'It is 21 degrees in Paris.';
    else if (offered.length > 0) {
      text = '';
      plan = COHERE_TOOL_PLAN;
      calls = toolsCalledFor(offered, userText, (tool) => String(tool.name)).map((tool, i) => ({ id: `${tool.name}_emu${i + 1}`, type: 'function', function: { name: String(tool.name), arguments: JSON.stringify(sampleOf(tool.parameters)) } }));
      finish = 'TOOL_CALL';
    } else if (/fail/.test(JSON.stringify(lastMessage?.content ?? ''))) finish = 'ERROR';
    // Cohere says that a stop sequence ended the answer, not which one.
    const stopAt = Math.min(...(body.stop_sequences ?? []).map((sequence) => text.indexOf(sequence)).filter((at) => at !== -1));
    if (finish === 'COMPLETE' && stopAt !== Infinity) {
      text = text.slice(0, stopAt);
      finish = 'STOP_SEQUENCE';
    }
    const words = text.split(/(?= )/).filter(Boolean);
    if (body.max_tokens !== undefined && words.length > body.max_tokens) {
      words.splice(body.max_tokens);
      text = words.join('');
      finish = 'MAX_TOKENS';
    }
    const thinks = REASONING_MODELS.test(String(body.model)) && body.thinking?.type !== 'disabled';
    const thought = thinks ? COHERE_THOUGHT.split(/(?= )/).slice(0, typeof body.thinking?.token_budget === 'number' ? body.thinking.token_budget : undefined) : [];
    const outputTokens = thought.length + words.length + 6 * calls.length;
    const cached = /again/.test(userText);
    const usage = { billed_units: { input_tokens: 9, output_tokens: outputTokens }, tokens: { input_tokens: 14, output_tokens: outputTokens }, ...(cached ? { cached_tokens: 8 } : {}) };
    const id = 'cohere-emulator-0001';

    if (!body.stream) {
      return send(res, 200, {
        id,
        finish_reason: finish,
        message: { role: 'assistant', content: [...(thought.length > 0 ? [{ type: 'thinking', thinking: thought.join('') }] : []), ...(text ? [{ type: 'text', text }] : [])], ...(calls.length > 0 ? { tool_plan: plan, tool_calls: calls } : {}) },
        usage,
      });
    }
    const events: Array<Record<string, unknown>> = [{ type: 'message-start', id, delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } }];
    if (thought.length > 0) {
      events.push({ type: 'content-start', index: 0, delta: { message: { content: { type: 'thinking', thinking: '' } } } });
      for (const word of thought) events.push({ type: 'content-delta', index: 0, delta: { message: { content: { thinking: word } } } });
      events.push({ type: 'content-end', index: 0 });
    }
    if (text) {
      const index = thought.length > 0 ? 1 : 0;
      events.push({ type: 'content-start', index, delta: { message: { content: { type: 'text', text: '' } } } });
      for (const word of words) events.push({ type: 'content-delta', index, delta: { message: { content: { text: word } } } });
      events.push({ type: 'content-end', index });
    }
    if (calls.length > 0) {
      for (const piece of plan.split(/(?= )/)) events.push({ type: 'tool-plan-delta', delta: { message: { tool_plan: piece } } });
      // With several calls, Cohere repeats start, deltas and end for each, one call after the other.
      calls.forEach((call, index) => {
        events.push({ type: 'tool-call-start', index, delta: { message: { tool_calls: { id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } } } } });
        if (call.function.arguments !== '{}') for (const piece of [call.function.arguments.slice(0, 7), call.function.arguments.slice(7)]) events.push({ type: 'tool-call-delta', index, delta: { message: { tool_calls: { function: { arguments: piece } } } } });
        events.push({ type: 'tool-call-end', index });
      });
    }
    events.push({ type: 'message-end', delta: { finish_reason: finish, ...(finish === 'ERROR' ? { error: 'the model failed to generate' } : {}), usage } });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    await writeEvents(res, events.map((event) => sseEvent(String(event.type), event)));
  }

  function embed(res: ServerResponse, body: { model?: string; texts?: unknown; input_type?: string; embedding_types?: string[]; output_dimension?: number } | undefined) {
    if (!body?.model || !Array.isArray(body.texts) || !body.input_type) return send(res, 400, { message: 'invalid request: valid input_type must be provided with the provided model' });
    // "output_dimension … is only available for embed-v4 and newer models" (https://docs.cohere.com/reference/embed).
    if (body.output_dimension !== undefined && /-v[1-3](?:\.|$)/.test(body.model)) return send(res, 400, { message: `invalid request: output_dimension is not supported for model ${body.model}` });
    const texts = body.texts as string[];
    if (texts.length > 96) return send(res, 400, { message: `invalid request: total number of texts must be at most 96 - received ${texts.length}` });
    send(res, 200, {
      id: 'cohere-embed-0001',
      embeddings: { float: texts.map((text) => [text.length / 10, 0.5, -0.25]) },
      texts,
      meta: { api_version: { version: '2' }, billed_units: { input_tokens: texts.reduce((n, t) => n + t.split(/\s+/).filter(Boolean).length, 0) } },
    });
  }

  return {
    ...server,
    apiKey,
    setMode: (next: CohereEmulatorMode) => {
      mode = next;
    },
  };
}

/** A message's text: Cohere takes content as a string or as a list of content blocks. */
function validate(body: CohereChatBody | undefined): string | undefined {
  if (!body?.model) return 'invalid request: a model parameter is required for this endpoint.';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'invalid request: messages must not be empty.';
  if ((body.stop_sequences?.length ?? 0) > 5) return 'invalid request: stop_sequences must contain at most 5 sequences.';
  if (body.k !== undefined && !(Number.isInteger(body.k) && body.k >= 0 && body.k <= 500)) return 'invalid request: k must be an integer between 0 and 500.';
  // Cohere's own words (https://docs.cohere.com/reference/errors), whatever the two values.
  if (body.frequency_penalty !== undefined && body.presence_penalty !== undefined) return 'invalid request: cannot specify both frequency_penalty and presence_penalty.';
  if (body.thinking !== undefined) {
    if (typeof body.thinking !== 'object' || body.thinking === null) return 'invalid request: thinking must be an object.';
    const { type, token_budget: budget, ...others } = body.thinking;
    if (type !== 'enabled' && type !== 'disabled') return 'invalid request: thinking.type must be one of enabled, disabled.';
    if (budget !== undefined && !(Number.isInteger(budget) && (budget as number) > 0)) return 'invalid request: thinking.token_budget must be a positive integer.';
    if (Object.keys(others).length > 0) return `invalid request: unknown field thinking.${Object.keys(others)[0]}.`;
  }
  const callIds = new Set(body.messages.flatMap((m) => (m.tool_calls ?? []).map((c) => c.id)));
  for (const m of body.messages) {
    if (!['system', 'user', 'assistant', 'tool'].includes(m.role ?? '')) return `invalid request: unknown role ${m.role}`;
    if (m.role === 'tool' && !callIds.has(m.tool_call_id)) return `invalid request: tool_call_id ${m.tool_call_id} does not match any tool call`;
  }
  return undefined;
}
