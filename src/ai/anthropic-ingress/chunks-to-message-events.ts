import { randomUUID } from 'node:crypto';
import { PROMPT_USAGE, TEXT_BLOCK, THINKING_DELTA, type AnthropicBlock, type ChatCompletionChunk, type ThinkingDelta, type FinishReason, type StopSequence, type Usage } from '../chat-types.js';
import type { ThinkingAsked } from '../providers/client-thinking.js';
import { anthropicError } from './anthropic-error.js';
import { anthropicStopFor, anthropicUsageFor, failedChoice, messageIdFor } from './chat-to-messages.js';
import { keygateSignature, type HiddenReasoning } from './keygate-thinking.js';
import type { AnthropicErrorType } from './wire-types.js';

export interface MessageEventsOptions {
  /**
   * Prompt tokens known before the answer (the gateway's estimate), for `message_start` when the first chunk does
   * not count them (PROMPT_USAGE, or a usage); 0 when absent.
   */
  inputTokens?: number;
  /** The message id; by default the first chunk's id, given the `msg_` prefix. */
  id?: string;
  /** The request's stop sequences: one alone is the one a provider that does not say which stopped on. */
  stops?: readonly string[];
  /**
   * What the client asked of thinking (thinkingAsked): when on, another provider's reasoning is streamed as thinking
   * blocks signed as Keygate's; with `omitted`, without their text, which the signature carries instead.
   */
  thinking?: ThinkingAsked;
  /**
   * When the client did not ask for thinking, the reasoning to hand back all the same (HiddenReasoning), streamed as
   * for `display: "omitted"`; with `tool-calls`, held until the answer's first tool call, before which it goes.
   */
  hiddenReasoning?: HiddenReasoning;
}

/** A tool call that waits for the open call's arguments to be whole, with its arguments so far. */
type WaitingCall = { tool: number; id: string; name: string; arguments: string };

/** Whether a tool call's arguments so far are a whole JSON text: no fragment of the call can follow. */
function wholeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** One Server-Sent Event as Anthropic writes them: the event name repeats the data's `type`. */
function sse(data: { type: string; [field: string]: unknown }): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * OpenAI chat chunks, from any provider, as the events of a streamed Message
 * (https://docs.anthropic.com/en/docs/build-with-claude/streaming): `message_start`, then each content block as
 * `content_block_start`, its deltas (`text_delta`, or `input_json_delta` for a tool's arguments) and
 * `content_block_stop`, then `message_delta` with the stop reason and usage, and `message_stop`; a refusal's
 * fragments (`refusal`) are text, and its stop reason `refusal` (anthropicStopFor). Blocks are
 * numbered from 0 across thinking, text and tool calls and never overlap: one is stopped before the next starts.
 * An Anthropic provider's text blocks (TEXT_BLOCK) start where Anthropic started them, with their citations as
 * `citations_delta`s. An Anthropic provider's thinking (THINKING_DELTA) is streamed as Anthropic streamed it: each thinking or
 * redacted_thinking block's start as it came, `thinking_delta`s and `signature_delta`. Other providers' reasoning
 * (`reasoning_content`), when the client asked for thinking (`options.thinking`), is a thinking block streamed the
 * same way (a start with empty `thinking` and `signature`, `thinking_delta`s, then a `signature_delta` with
 * Keygate's signature, see keygate-thinking.ts, just before its stop); or, asked for no thinking, when
 * `options.hiddenReasoning` says, as an omitted one (no `thinking_delta`s), which for `tool-calls` is held until a
 * tool call starts, and goes just before it; otherwise it is left out.
 *
 * OpenAI sends each tool call's argument fragments before the next call's first, so the block of an earlier call
 * is stopped when a later one starts, once its arguments are whole JSON. A host may interleave the calls' fragments
 * (0, 1, 0, 1): a call that starts while the open call's arguments are not yet whole waits, its fragments kept,
 * until they are (or until something else ends the open block), and then goes as a block of its own, its arguments
 * so far in one delta, and stays open for its next ones. No fragment is left out. For the same reason text that
 * comes while the open call's arguments are not yet whole waits with such calls, in the order it came, and goes as a
 * text block when its turn comes; and reasoning that comes while a tool call's block is open waits for that block's
 * end, and goes in a thinking block of its own after it.
 *
 * @example
 * const events = new ChatChunksToMessageEvents('claude-sonnet-4-5', { inputTokens: estimate });
 * stream.pipe({
 *   chunk: (chunk) => events.push(chunk).map((e) => res.write(e)).every(Boolean),
 *   end: (error) => {
 *     for (const e of error ? events.fail('the provider stream failed') : events.end(stream.usage())) res.write(e);
 *   },
 * });
 */
export class ChatChunksToMessageEvents {
  readonly #model: string;
  readonly #options: MessageEventsOptions;
  #started = false;
  #ended = false;
  #failed = false;
  #nextIndex = 0;
  /**
   * The open block: its index, and for a tool call the OpenAI tool call index, or whether it is a thinking block,
   * and whether Keygate wrote it (from another provider's reasoning).
   */
  #open: { index: number; tool?: number; thinking?: true; keygate?: true } | undefined;
  /**
   * How another provider's reasoning is streamed: with its text, omitted (its signature carrying it), held for a tool
   * call (then omitted), or not at all.
   */
  readonly #reasoningAs: 'shown' | 'omitted' | 'held' | undefined;
  /** The reasoning of the open Keygate thinking block whose text is omitted, for its signature. */
  #hidden = '';
  /**
   * Reasoning held back: until a tool call (`hiddenReasoning: "tool-calls"`), or, streamed otherwise, while a tool
   * call's block is open, which a thinking block would stop for good, cutting off its later argument fragments.
   */
  #held = '';
  /** OpenAI tool call index → content block index. */
  readonly #tools = new Map<number, number>();
  /** The arguments so far of the tool call whose block is open, to tell when they are whole. */
  #openArguments = '';
  /**
   * What came while the open call's arguments were not whole, in order: tool calls that started, with their arguments
   * so far, and text, which would otherwise stop the open call's block and cut off its later fragments.
   */
  readonly #waiting: Array<WaitingCall | { text: string } | { reasoning: string }> = [];
  #finishReason: FinishReason | null = null;
  /** Whether the answer is a refusal (a `refusal` delta): its stop reason is `refusal` (anthropicStopFor). */
  #refused = false;
  /** The finishing choice, whose stop sequence the `message_delta` reports. */
  #stopped: StopSequence = {};
  #usage: Usage | undefined;

  /** `model` is the one the client asked for, reported back as it was asked (an alias stays an alias). */
  constructor(model: string, options: MessageEventsOptions = {}) {
    this.#model = model;
    this.#options = options;
    const { thinking, hiddenReasoning } = options;
    if (thinking?.on) this.#reasoningAs = thinking.omitted ? 'omitted' : 'shown';
    else this.#reasoningAs = hiddenReasoning === 'turn' ? 'omitted' : hiddenReasoning === 'tool-calls' ? 'held' : undefined;
  }

  /** The events one chunk makes, each a complete `event: …\ndata: …\n\n` string; the first chunk also starts the message. */
  push(chunk: ChatCompletionChunk): string[] {
    if (this.#ended) return [];
    const events = this.#start(chunk);
    if (chunk.usage) this.#usage = chunk.usage;
    // Anthropic answers with one message: further choices (n > 1) have nowhere to go.
    for (const choice of chunk.choices.filter((c) => c.index === 0)) {
      const { content, refusal, tool_calls: toolCalls, [THINKING_DELTA]: thinking, [TEXT_BLOCK]: textBlock, reasoning_content: reasoning } = choice.delta;
      if (thinking) events.push(...this.#thinking(thinking));
      else if (reasoning && this.#reasoningAs) events.push(...this.#reasoningOrHeld(reasoning));
      if (refusal) this.#refused = true;
      if (textBlock?.block && !this.#mustWait()) events.push(...this.#startText(textBlock.block));
      const text = (content ?? '') + (refusal ?? '');
      if (text !== '') events.push(...this.#textOrWaiting(text));
      if (textBlock?.citation) events.push(...this.#citation(textBlock.citation));
      for (const call of toolCalls ?? []) {
        const fragment = call.function?.arguments ?? '';
        const waiting = this.#waiting.find((entry): entry is WaitingCall => 'tool' in entry && entry.tool === call.index);
        if (waiting) {
          waiting.arguments += fragment;
          continue;
        }
        let index = this.#tools.get(call.index);
        if (index === undefined) {
          const id = call.id ?? `toolu_${randomUUID().replaceAll('-', '')}`;
          // The open call may have more to come: this one waits (see the class's comment).
          if (this.#mustWait()) {
            this.#waiting.push({ tool: call.index, id, name: call.function?.name ?? '', arguments: fragment });
            continue;
          }
          events.push(...this.#releaseHeld(), ...this.#startTool(call.index, id, call.function?.name ?? ''));
          index = this.#open!.index;
        }
        if (fragment !== '' && this.#open?.index === index) {
          events.push(sse({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: fragment } }));
          this.#openArguments += fragment;
          if (this.#waiting.length > 0) events.push(...this.#startWaiting(false));
        }
      }
      // A choice that failed mid-stream (OpenRouter's `finish_reason: "error"`) ends the stream with an error event.
      if (failedChoice(choice.finish_reason)) return [...events, ...this.fail('the provider stream failed')];
      if (choice.finish_reason) {
        this.#finishReason = choice.finish_reason;
        this.#stopped = choice;
        events.push(...this.#startWaiting(true), ...this.#stopBlock());
      }
    }
    return events;
  }

  /**
   * The closing events, once the provider's stream has ended: any open block's stop, `message_delta` with the stop
   * reason and the usage (`usage` if given, else the provider's usage chunk), and `message_stop`.
   */
  end(usage?: Usage): string[] {
    if (this.#ended) return [];
    // Reasoning that came after the tool calls began still goes back, in a block of its own.
    const events = [...this.#start(undefined), ...this.#startWaiting(true), ...(this.#tools.size > 0 ? this.#releaseHeld() : []), ...this.#stopBlock()];
    this.#ended = true;
    const final = usage ?? this.#usage;
    const counted = final ? anthropicUsageFor(final) : { output_tokens: 0 };
    events.push(sse({ type: 'message_delta', delta: anthropicStopFor(this.#finishReason, this.#tools.size > 0, this.#stopped, this.#options.stops, this.#refused), usage: counted }));
    events.push(sse({ type: 'message_stop' }));
    return events;
  }

  /** Whether the stream ended with an error event (`fail`, or a choice that failed). */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * An `error` event, for a stream that failed after its 200 head was sent; nothing follows it. Anthropic's error
   * has a type and no code: `_code` (what the other formats' events carry) is not told.
   */
  fail(message: string, type: AnthropicErrorType = 'api_error', _code?: string): string[] {
    if (this.#ended) return [];
    this.#ended = true;
    this.#failed = true;
    return [sse({ ...anthropicError(500, type, message) })];
  }

  #start(chunk: ChatCompletionChunk | undefined): string[] {
    if (this.#started) return [];
    this.#started = true;
    const counted = chunk?.usage ?? chunk?.[PROMPT_USAGE];
    const usage = counted ? anthropicUsageFor(counted) : { input_tokens: this.#options.inputTokens ?? 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    const message = { id: this.#options.id ?? messageIdFor(chunk?.id), type: 'message', role: 'assistant', model: this.#model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 } };
    return [sse({ type: 'message_start', message })];
  }

  /** A thinking block's start, a thinking delta or a signature delta; the last two go to the open thinking block. */
  #thinking({ block, thinking, signature }: ThinkingDelta): string[] {
    if (block) return [...this.#startWaiting(true), ...this.#startBlock(block, undefined, true)];
    const index = this.#open?.thinking ? this.#open.index : undefined;
    if (index === undefined) return [];
    if (thinking !== undefined) return [sse({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking } })];
    if (signature !== undefined) return [sse({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature } })];
    return [];
  }

  /** Another provider's reasoning as it comes: streamed (#reasoning), or held back (#held) where it cannot go yet. */
  #reasoningOrHeld(text: string): string[] {
    // Behind text or calls that wait for the open call's arguments, it keeps its place after them.
    if (this.#reasoningAs !== 'held' && this.#waiting.length > 0) {
      const last = this.#waiting.at(-1);
      if (last && 'reasoning' in last) last.reasoning += text;
      else this.#waiting.push({ reasoning: text });
      return [];
    }
    if (this.#reasoningAs === 'held' || this.#open?.tool !== undefined) {
      this.#held += text;
      return [];
    }
    // What was held while a tool call's block was open goes first, in its order.
    const all = this.#held + text;
    this.#held = '';
    return this.#reasoning(all);
  }

  /** Another provider's reasoning, into the open Keygate thinking block or a new one; kept for the signature when its text is omitted. */
  #reasoning(text: string): string[] {
    const events = this.#open?.keygate ? [] : this.#startBlock({ type: 'thinking', thinking: '', signature: '' }, undefined, true, true);
    if (this.#reasoningAs !== 'shown') this.#hidden += text;
    else events.push(sse({ type: 'content_block_delta', index: this.#open!.index, delta: { type: 'thinking_delta', thinking: text } }));
    return events;
  }

  /** The held reasoning, if any, as a Keygate thinking block of its own, left open (its signature goes at its stop). */
  #releaseHeld(): string[] {
    if (this.#held === '') return [];
    const held = this.#held;
    this.#held = '';
    return [...this.#stopBlock(), ...this.#reasoning(held)];
  }

  /** Whether what comes now must wait: the open call's arguments are not whole yet, or something already waits. */
  #mustWait(): boolean {
    return this.#open?.tool !== undefined && (this.#waiting.length > 0 || !wholeJson(this.#openArguments));
  }

  /** Text as it comes, or kept in its place among what waits (#waiting) when the open call's arguments are not whole. */
  #textOrWaiting(text: string): string[] {
    if (!this.#mustWait()) return this.#text(text);
    const last = this.#waiting.at(-1);
    if (last && 'text' in last) last.text += text;
    else this.#waiting.push({ text });
    return [];
  }

  /** Text into the open text block, or a new one after the open block's stop. */
  #text(text: string): string[] {
    const events: string[] = [];
    // Reasoning held for a tool call waits for one; reasoning held while one's block was open goes before the text.
    if (!this.#open || this.#open.tool !== undefined || this.#open.thinking) events.push(...(this.#reasoningAs === 'held' ? [] : this.#releaseHeld()), ...this.#startBlock({ type: 'text', text: '' }));
    events.push(sse({ type: 'content_block_delta', index: this.#open!.index, delta: { type: 'text_delta', text } }));
    return events;
  }

  /** An Anthropic provider's text block starting (TEXT_BLOCK), where Anthropic started one: after what was held, as #text. */
  #startText(block: AnthropicBlock): string[] {
    return [...(this.#reasoningAs === 'held' ? [] : this.#releaseHeld()), ...this.#startBlock(block)];
  }

  /** An Anthropic provider's citation (TEXT_BLOCK), to the open text block, as its `citations_delta`. */
  #citation(citation: Record<string, unknown>): string[] {
    if (!this.#open || this.#open.tool !== undefined || this.#open.thinking) return [];
    return [sse({ type: 'content_block_delta', index: this.#open.index, delta: { type: 'citations_delta', citation } })];
  }

  /** A tool call's block, open for its argument fragments. */
  #startTool(tool: number, id: string, name: string): string[] {
    const events = this.#startBlock({ type: 'tool_use', id, name, input: {} }, tool);
    this.#tools.set(tool, this.#open!.index);
    this.#openArguments = '';
    return events;
  }

  /**
   * What waited, in order: text as a text block, reasoning as thinking, each call a block with its arguments so far in one delta, the last
   * left open for what follows: all of it (`all`, something else ends the open block), or while no open call's
   * arguments are still to come.
   */
  #startWaiting(all: boolean): string[] {
    const events: string[] = [];
    for (let next = this.#waiting[0]; next; next = this.#waiting[0]) {
      if (!all && this.#open?.tool !== undefined && !wholeJson(this.#openArguments)) break;
      this.#waiting.shift();
      if ('text' in next) {
        events.push(...this.#text(next.text));
        continue;
      }
      if ('reasoning' in next) {
        events.push(...this.#releaseHeld(), ...this.#reasoning(next.reasoning));
        continue;
      }
      events.push(...this.#startTool(next.tool, next.id, next.name));
      if (next.arguments === '') continue;
      events.push(sse({ type: 'content_block_delta', index: this.#open!.index, delta: { type: 'input_json_delta', partial_json: next.arguments } }));
      this.#openArguments = next.arguments;
    }
    return events;
  }

  #startBlock(block: AnthropicBlock, tool?: number, thinking?: true, keygate?: true): string[] {
    const events = this.#stopBlock();
    const index = this.#nextIndex++;
    this.#open = tool !== undefined ? { index, tool } : thinking ? { index, thinking, ...(keygate ? { keygate } : {}) } : { index };
    events.push(sse({ type: 'content_block_start', index, content_block: block }));
    return events;
  }

  /** The open block's stop; a Keygate thinking block's signature first, as Anthropic sends its own last. */
  #stopBlock(): string[] {
    if (!this.#open) return [];
    const { index, keygate } = this.#open;
    this.#open = undefined;
    const events: string[] = [];
    if (keygate) {
      events.push(sse({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: keygateSignature(this.#hidden) } }));
      this.#hidden = '';
    }
    events.push(sse({ type: 'content_block_stop', index }));
    return events;
  }
}
