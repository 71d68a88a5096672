import { THINKING_DELTA, type AnthropicBlock, type ChatCompletionChunk, type ChunkToolCallDelta, type FinishReason, type ThinkingDelta, type Usage } from '../chat-types.js';
import { failedChoice } from '../anthropic-ingress/index.js';
import { itemId, responseObject, responseStatusFor, responseUsageFor } from './chat-to-response.js';
import { outputAsIncluded, responseAsIncluded, type EncryptedReasoning } from './encrypted-reasoning.js';
import type { ResponseEcho, ResponseObject, ResponseStatus, ResponsesCustomToolCall, ResponsesFunctionCall, ResponsesOutputItem, ResponsesOutputMessage, ResponsesOutputRefusal, ResponsesOutputText, ResponsesReasoningItem } from './wire-types.js';

export interface ResponseEventsOptions {
  /** The Response's id; by default a new `resp_` id. */
  id?: string;
  /** The Response's `created_at`, in seconds; by default now. */
  createdAt?: number;
  /** Seals Claude's streamed thinking blocks (THINKING_DELTA) into their reasoning item's `encrypted_content`. */
  sealed?: EncryptedReasoning;
  /** Whether the client asked for `encrypted_content` (`include`): the events show it then; the Response kept has it always. */
  included?: boolean;
}

/** A tool call's item: a function's, or a custom tool's. */
type ResponsesToolCallItem = ResponsesFunctionCall | ResponsesCustomToolCall;

/** The open text or reasoning item: text, refusals and reasoning go there until another item starts. */
type OpenItem = { kind: 'message'; index: number; item: ResponsesOutputMessage; part: number | undefined } | { kind: 'reasoning'; index: number; item: ResponsesReasoningItem; blocks: AnthropicBlock[] };

/**
 * OpenAI chat chunks, from any provider, as the events of a streamed Response
 * (https://platform.openai.com/docs/api-reference/responses-streaming), each `event: <type>\ndata: <json>\n\n` with
 * its `sequence_number`: `response.created` and `response.in_progress`; then each output item as
 * `response.output_item.added`, its events and `response.output_item.done`; then `response.completed`, or
 * `response.incomplete` for an answer cut at `max_output_tokens`, with the whole Response and its usage. A message's
 * text is an `output_text` part (`response.content_part.added`, `response.output_text.delta`s,
 * `response.output_text.done`, `response.content_part.done`), a refusal a `refusal` part; a tool call a
 * `function_call` item with `response.function_call_arguments.delta`s and `.done`, a custom tool's call a
 * `custom_tool_call` item with `response.custom_tool_call_input.delta`s and `.done` (the SDK's
 * `ResponseCustomToolCallInputDeltaEvent` and `…DoneEvent`); the provider's reasoning
 * (`reasoning_content`) a `reasoning` item whose summary part streams as `response.reasoning_summary_text.delta`s.
 * Claude's thinking blocks streamed in a reasoning item (THINKING_DELTA: each block's start, thinking and signature)
 * are sealed, with `sealed`, into its `encrypted_content` when the item is done; the client's events show it only
 * when it `included` it, the final Response (`finish`, for the store) always.
 *
 * A text or reasoning item ends when another item starts; tool call items end with the choice, so that a
 * provider that sends a call's arguments after another call has started (which OpenAI never does) loses nothing.
 * A provider failure after the head is an `error` event, then `response.failed`.
 *
 * @example
 * const events = new ChatChunksToResponseEvents(request.model, responseEchoOf(request));
 * stream.pipe({
 *   chunk: (chunk) => events.push(chunk).map((e) => res.write(e)).every(Boolean),
 *   end: (error) => {
 *     for (const e of error ? events.fail('the provider stream failed') : events.end(stream.usage())) res.write(e);
 *   },
 * });
 */
export class ChatChunksToResponseEvents {
  readonly #model: string;
  readonly #echo: ResponseEcho;
  readonly #id: string;
  readonly #createdAt: number;
  #sequence = 0;
  #started = false;
  #ended = false;
  #failed = false;
  readonly #output: ResponsesOutputItem[] = [];
  #open: OpenItem | undefined;
  /** Chat tool call index → the output index of its function_call or custom_tool_call item. */
  readonly #calls = new Map<number, number>();
  /** The output indexes of tool call items not yet done. */
  readonly #openCalls: number[] = [];
  #finishReason: FinishReason | null = null;
  #usage: Usage | undefined;
  readonly #sealed: EncryptedReasoning | undefined;
  readonly #included: boolean;

  /** `model` is the one the client asked for, reported back as it was asked (an alias stays an alias). */
  constructor(model: string, echo: ResponseEcho, options: ResponseEventsOptions = {}) {
    this.#model = model;
    this.#echo = echo;
    this.#id = options.id ?? itemId('resp');
    this.#createdAt = options.createdAt ?? Math.floor(Date.now() / 1000);
    this.#sealed = options.sealed;
    this.#included = options.included === true;
  }

  /** The events one chunk makes; the first chunk also starts the Response. */
  push(chunk: ChatCompletionChunk): string[] {
    if (this.#ended) return [];
    const events = this.#start();
    if (chunk.usage) this.#usage = chunk.usage;
    // A Response answers with one output: further choices (n > 1) have nowhere to go.
    for (const choice of chunk.choices.filter((c) => c.index === 0)) {
      const { content, refusal, tool_calls: toolCalls, reasoning_content: reasoning, [THINKING_DELTA]: thinking } = choice.delta;
      if (thinking && this.#sealed) events.push(...this.#thinking(thinking));
      if (reasoning) events.push(...this.#reasoning(reasoning));
      if (content) events.push(...this.#text('output_text', content));
      if (refusal) events.push(...this.#text('refusal', refusal));
      for (const call of toolCalls ?? []) events.push(...this.#call(call));
      // A choice that failed mid-stream (OpenRouter's `finish_reason: "error"`) ends the stream as failed.
      if (failedChoice(choice.finish_reason)) return [...events, ...this.fail('the provider stream failed')];
      if (choice.finish_reason) {
        this.#finishReason = choice.finish_reason;
        events.push(...this.#closeAll(responseStatusFor(choice.finish_reason).status));
      }
    }
    return events;
  }

  /**
   * The closing events, once the provider's stream has ended: every open item's done, then `response.completed`
   * (or `response.incomplete`) with the whole Response, its usage `usage` if given, else the provider's usage chunk.
   */
  end(usage?: Usage): string[] {
    const finished = this.finish(usage);
    return finished ? [...finished.events, this.terminal(finished.response)] : [];
  }

  /**
   * `end` in two steps, for a caller that keeps the Response before the client may see it whole: the events that
   * close every open item, with the final Response (undefined once the stream has ended)…
   */
  finish(usage?: Usage): { events: string[]; response: ResponseObject } | undefined {
    if (this.#ended) return undefined;
    const { status, incomplete_details: incompleteDetails } = responseStatusFor(this.#finishReason);
    const events = [...this.#start(), ...this.#closeAll(status)];
    this.#ended = true;
    return { events, response: this.#response(status, responseUsageFor(usage ?? this.#usage), { incompleteDetails }) };
  }

  /** …then the terminal event with that Response, as kept (as the client included it): `response.completed`, or `response.incomplete`. */
  terminal(response: ResponseObject): string {
    return this.#event(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: responseAsIncluded(response, this.#included) });
  }

  /** Whether the stream ended as failed (`fail`, or a choice that failed). */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * For a stream that failed after its 200 head was sent: an `error` event (Keygate's code, as a chat completion
   * stream says it), then `response.failed` with the Response as far as it got, its open items incomplete, and
   * `store: false`: it is not kept.
   */
  fail(message: string, _type?: string, code = 'provider_stream_error'): string[] {
    if (this.#ended) return [];
    const events = this.#start();
    this.#ended = true;
    this.#failed = true;
    for (const item of this.#output) if (item.type !== 'reasoning' && item.status === 'in_progress') item.status = 'incomplete';
    events.push(this.#event('error', { code, message, param: null }));
    // A failed Response is not kept (nothing of it could be continued or retrieved): it says so, whatever was asked.
    const response = { ...this.#response('failed', this.#usage ? responseUsageFor(this.#usage) : null, { error: { code: 'server_error', message } }), store: false };
    events.push(this.#event('response.failed', { response: responseAsIncluded(response, this.#included) }));
    return events;
  }

  #response(status: ResponseStatus, usage: ResponseObject['usage'], more: { error?: ResponseObject['error']; incompleteDetails?: ResponseObject['incomplete_details'] } = {}): ResponseObject {
    return responseObject({ id: this.#id, createdAt: this.#createdAt, model: this.#model, status, output: this.#output, usage, ...more }, this.#echo);
  }

  /** One Server-Sent Event as OpenAI writes them: the event name repeats the data's `type`, and every event is numbered. */
  #event(type: string, fields: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.#sequence++, ...fields })}\n\n`;
  }

  #start(): string[] {
    if (this.#started) return [];
    this.#started = true;
    const response = this.#response('in_progress', null);
    return [this.#event('response.created', { response }), this.#event('response.in_progress', { response })];
  }

  #addItem(item: ResponsesOutputItem): { index: number; event: string } {
    const index = this.#output.push(item) - 1;
    return { index, event: this.#event('response.output_item.added', { output_index: index, item }) };
  }

  /** The open reasoning item, or a new one (its `response.output_item.added` into `events`). */
  #openReasoning(events: string[]): Extract<OpenItem, { kind: 'reasoning' }> {
    if (this.#open?.kind === 'reasoning') return this.#open;
    events.push(...this.#closeOpen('completed'));
    const item: ResponsesReasoningItem = { type: 'reasoning', id: itemId('rs'), summary: [] };
    const { index, event } = this.#addItem(item);
    events.push(event);
    return (this.#open = { kind: 'reasoning', index, item, blocks: [] });
  }

  /** Reasoning text into the open reasoning item's one summary part, opening the item and the part as needed. */
  #reasoning(delta: string): string[] {
    const events: string[] = [];
    const { index, item } = this.#openReasoning(events);
    if (item.summary.length === 0) {
      item.summary.push({ type: 'summary_text', text: '' });
      events.push(this.#event('response.reasoning_summary_part.added', { item_id: item.id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: '' } }));
    }
    item.summary[0]!.text += delta;
    events.push(this.#event('response.reasoning_summary_text.delta', { item_id: item.id, output_index: index, summary_index: 0, delta }));
    return events;
  }

  /** Claude's thinking, kept in the open reasoning item to seal: a block's start (a redacted one whole), its text, its signature. */
  #thinking({ block, thinking, signature }: ThinkingDelta): string[] {
    const events: string[] = [];
    const { blocks } = this.#openReasoning(events);
    if (block) blocks.push({ ...block });
    const last = blocks.at(-1);
    if (last?.type === 'thinking') {
      if (thinking !== undefined) last.thinking = `${typeof last.thinking === 'string' ? last.thinking : ''}${thinking}`;
      if (signature !== undefined) last.signature = `${typeof last.signature === 'string' ? last.signature : ''}${signature}`;
    }
    return events;
  }

  /** Text or a refusal into the open message's part of that kind, opening the message and the part as needed. */
  #text(kind: 'output_text' | 'refusal', delta: string): string[] {
    const events: string[] = [];
    if (this.#open?.kind !== 'message') {
      events.push(...this.#closeOpen('completed'));
      const item: ResponsesOutputMessage = { type: 'message', id: itemId('msg'), status: 'in_progress', role: 'assistant', content: [] };
      const { index, event } = this.#addItem(item);
      this.#open = { kind: 'message', index, item, part: undefined };
      events.push(event);
    }
    const open = this.#open as Extract<OpenItem, { kind: 'message' }>;
    const { index, item } = open;
    if (open.part === undefined || item.content[open.part]!.type !== kind) {
      events.push(...this.#closePart(open));
      const part: ResponsesOutputText | ResponsesOutputRefusal = kind === 'output_text' ? { type: 'output_text', text: '', annotations: [] } : { type: 'refusal', refusal: '' };
      open.part = item.content.push(part) - 1;
      events.push(this.#event('response.content_part.added', { item_id: item.id, output_index: index, content_index: open.part, part }));
    }
    const at = { item_id: item.id, output_index: index, content_index: open.part };
    const part = item.content[open.part]!;
    if (part.type === 'output_text') {
      part.text += delta;
      events.push(this.#event('response.output_text.delta', { ...at, delta, logprobs: [] }));
    } else {
      part.refusal += delta;
      events.push(this.#event('response.refusal.delta', { ...at, delta }));
    }
    return events;
  }

  /**
   * A tool call's first delta adds its item: a `custom_tool_call` when it says `type: "custom"` (or carries `custom`),
   * a `function_call` otherwise; later fragments (arguments, or a custom call's input) go to the item of their call.
   */
  #call(delta: ChunkToolCallDelta): string[] {
    const events: string[] = [];
    let index = this.#calls.get(delta.index);
    if (index === undefined) {
      events.push(...this.#closeOpen('completed'));
      const callId = delta.id ?? itemId('call');
      const item: ResponsesToolCallItem =
        delta.type === 'custom' || delta.custom !== undefined
          ? { type: 'custom_tool_call', id: itemId('ctc'), call_id: callId, name: delta.custom?.name ?? '', input: '', status: 'in_progress' }
          : { type: 'function_call', id: itemId('fc'), call_id: callId, name: delta.function?.name ?? '', arguments: '', status: 'in_progress', ...(delta.extra_content ? { extra_content: delta.extra_content } : {}) };
      const added = this.#addItem(item);
      index = added.index;
      this.#calls.set(delta.index, index);
      this.#openCalls.push(index);
      events.push(added.event);
    }
    const item = this.#output[index] as ResponsesToolCallItem;
    if (item.status !== 'in_progress') return events;
    // A Gemini call's thought signature, which comes with the call, is the item's to give back (chatToResponse).
    if (delta.extra_content && item.type === 'function_call') item.extra_content = delta.extra_content;
    const at = { item_id: item.id, output_index: index };
    if (item.type === 'custom_tool_call') {
      // The item added says the input so far (none): its first fragment may come with it, and streams as the rest.
      const fragment = delta.custom?.input;
      if (fragment) {
        item.input += fragment;
        events.push(this.#event('response.custom_tool_call_input.delta', { ...at, delta: fragment }));
      }
    } else {
      const fragment = delta.function?.arguments;
      if (fragment) {
        item.arguments += fragment;
        events.push(this.#event('response.function_call_arguments.delta', { ...at, delta: fragment }));
      }
    }
    return events;
  }

  #closePart(open: Extract<OpenItem, { kind: 'message' }>): string[] {
    if (open.part === undefined) return [];
    const { index, item } = open;
    const part = item.content[open.part]!;
    const at = { item_id: item.id, output_index: index, content_index: open.part };
    open.part = undefined;
    const done = part.type === 'output_text' ? this.#event('response.output_text.done', { ...at, text: part.text, logprobs: [] }) : this.#event('response.refusal.done', { ...at, refusal: part.refusal });
    return [done, this.#event('response.content_part.done', { ...at, part })];
  }

  /** The open text or reasoning item's done events; a message ends `status` (incomplete when the answer was cut). */
  #closeOpen(status: ResponseStatus): string[] {
    const open = this.#open;
    if (!open) return [];
    this.#open = undefined;
    if (open.kind === 'reasoning') {
      const { index, item } = open;
      const encrypted = this.#sealed?.seal(open.blocks);
      if (encrypted !== undefined) item.encrypted_content = encrypted;
      const summary = item.summary[0];
      const at = { item_id: item.id, output_index: index, summary_index: 0 };
      const parts = summary ? [this.#event('response.reasoning_summary_text.done', { ...at, text: summary.text }), this.#event('response.reasoning_summary_part.done', { ...at, part: summary })] : [];
      return [...parts, this.#event('response.output_item.done', { output_index: index, item: outputAsIncluded([item], this.#included)[0] })];
    }
    const events = this.#closePart(open);
    open.item.status = status === 'incomplete' ? 'incomplete' : 'completed';
    events.push(this.#event('response.output_item.done', { output_index: open.index, item: open.item }));
    return events;
  }

  /** Every open item's done events: the text or reasoning item's, then each function call's, in the order they started. */
  #closeAll(status: ResponseStatus): string[] {
    const events = this.#closeOpen(status);
    for (const index of this.#openCalls.splice(0)) {
      const item = this.#output[index] as ResponsesToolCallItem;
      // The call an answer cut at max_output_tokens ends with was cut with it (its arguments may not be whole JSON);
      // one followed by text was whole.
      item.status = status === 'incomplete' && index === this.#output.length - 1 ? 'incomplete' : 'completed';
      const at = { item_id: item.id, output_index: index };
      if (item.type === 'custom_tool_call') events.push(this.#event('response.custom_tool_call_input.done', { ...at, input: item.input }));
      else events.push(this.#event('response.function_call_arguments.done', { ...at, name: item.name, arguments: item.arguments }));
      events.push(this.#event('response.output_item.done', { output_index: index, item }));
    }
    return events;
  }
}
