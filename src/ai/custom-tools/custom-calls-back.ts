import type { ChatCompletion, ChatCompletionChunk, ChunkToolCallDelta, ClientCompletion, CustomToolCall, ToolCall } from '../chat-types.js';
import { CustomInputDecoder, customInputOf } from './custom-input.js';

/** A function call the provider made to a custom tool sent as a function, as that custom tool's call. */
const customCall = (call: ToolCall): CustomToolCall => ({ id: call.id, type: 'custom', custom: { name: call.function.name, input: customInputOf(call.function.arguments) } });

/**
 * A completion from a provider that was sent custom tools as functions (customToolsAsFunctions), with each call
 * of one of `customNames` as that custom tool's call (`{id, type: "custom", custom: {name, input}}`, OpenAI's shape);
 * the completion itself when it has none.
 *
 * @example customCallsBack(completion, new Set(['apply_patch'])).choices[0].message.tool_calls[0].custom.input
 */
export function customCallsBack(completion: ChatCompletion, customNames: ReadonlySet<string>): ClientCompletion {
  const custom = (call: ToolCall) => customNames.has(call.function?.name);
  if (customNames.size === 0 || !completion.choices?.some((choice) => choice?.message?.tool_calls?.some(custom))) return completion;
  return {
    ...completion,
    choices: completion.choices.map((choice) => {
      const calls = choice.message?.tool_calls;
      if (!calls?.some(custom)) return choice;
      return { ...choice, message: { ...choice.message, tool_calls: calls.map((call) => (custom(call) ? customCall(call) : call)) } };
    }),
  };
}

/** A streamed tool call of a custom tool: its decoder, keyed by choice and tool call index. */
type Calls = Map<string, CustomInputDecoder>;

/**
 * Turns a stream's function calls to custom tools (customToolsAsFunctions) back into custom calls, chunk by chunk:
 * the call's first delta says `type: "custom"` and `custom: {name, input}`, each later one `custom: {input}` with the
 * text its arguments' fragment decodes to (CustomInputDecoder), so that the input streams as OpenAI streams it.
 * Arguments that do not open with `{"input": "` are held until the choice finishes, and their input (or, if they
 * hold none, their raw text) goes out whole in the finishing chunk. Chunks without such a call pass as they are.
 */
export class CustomCallChunks {
  readonly #names: ReadonlySet<string>;
  readonly #calls: Calls = new Map();
  /** The last chunk seen, whose id and model a flushing chunk repeats. */
  #last: ChatCompletionChunk | undefined;

  constructor(customNames: ReadonlySet<string>) {
    this.#names = customNames;
  }

  /** The chunks as the client is to see them. */
  push(chunks: ChatCompletionChunk[]): ChatCompletionChunk[] {
    const out = chunks.map((chunk) => this.#chunk(chunk));
    this.#last = out.at(-1) ?? this.#last;
    return out;
  }

  /**
   * The stream is over (`last` its last chunks): a choice that never said it finished (a stream cut short) has its
   * held-back input flushed in one more chunk, so that no call's text is lost.
   */
  end(last: ChatCompletionChunk[]): ChatCompletionChunk[] {
    const out = this.push(last);
    const head = this.#last;
    if (!head || this.#calls.size === 0) return out;
    const choices = [...new Set([...this.#calls.keys()].map((key) => Number(key.slice(0, key.indexOf(':')))))];
    const flushed = choices.map((index) => ({ index, delta: { tool_calls: this.#flush(index) }, finish_reason: null })).filter((choice) => choice.delta.tool_calls.length > 0);
    // Nothing was held back: no chunk, rather than one with no choices that an OpenAI client would be sent for nothing.
    if (flushed.length === 0) return out;
    return [...out, { id: head.id, object: head.object, created: head.created, model: head.model, choices: flushed }];
  }

  #chunk(chunk: ChatCompletionChunk): ChatCompletionChunk {
    const touched = chunk.choices.some((choice) => choice.delta.tool_calls?.some((call) => this.#isCustom(choice.index, call)) || (choice.finish_reason && this.#pending(choice.index)));
    if (!touched) return chunk;
    // A new chunk, not the provider's: a translated chunk must not keep the provider's own text for it (SOURCE_TEXT).
    return {
      ...chunk,
      choices: chunk.choices.map((choice) => {
        const calls = (choice.delta.tool_calls ?? []).flatMap((call) => this.#delta(choice.index, call));
        if (choice.finish_reason) calls.push(...this.#flush(choice.index));
        const { tool_calls: _calls, ...delta } = choice.delta;
        return { ...choice, delta: calls.length > 0 ? { ...delta, tool_calls: calls } : delta };
      }),
    };
  }

  /** Whether a delta belongs to a custom tool's call: its first names the tool, later ones only its index. */
  #isCustom(choice: number, call: ChunkToolCallDelta): boolean {
    return this.#calls.has(`${choice}:${call.index}`) || (call.function?.name !== undefined && this.#names.has(call.function.name));
  }

  #pending(choice: number): boolean {
    for (const key of this.#calls.keys()) if (key.startsWith(`${choice}:`)) return true;
    return false;
  }

  /** A custom call's delta in OpenAI's shape; nothing when its fragment decodes to no text yet. */
  #delta(choice: number, call: ChunkToolCallDelta): ChunkToolCallDelta[] {
    if (!this.#isCustom(choice, call)) return [call];
    const key = `${choice}:${call.index}`;
    let decoder = this.#calls.get(key);
    const first = decoder === undefined;
    if (!decoder) this.#calls.set(key, (decoder = new CustomInputDecoder()));
    const input = decoder.push(call.function?.arguments ?? '');
    if (first) return [{ index: call.index, ...(call.id !== undefined ? { id: call.id } : {}), type: 'custom', custom: { name: call.function!.name!, input } }];
    return input === '' ? [] : [{ index: call.index, custom: { input } }];
  }

  /** The choice finished: its custom calls' arguments are whole, and what they held back goes out. */
  #flush(choice: number): ChunkToolCallDelta[] {
    const out: ChunkToolCallDelta[] = [];
    for (const [key, decoder] of this.#calls) {
      if (!key.startsWith(`${choice}:`)) continue;
      this.#calls.delete(key);
      const input = decoder.end();
      if (input !== '') out.push({ index: Number(key.slice(key.indexOf(':') + 1)), custom: { input } });
    }
    return out;
  }
}
