import { isJsonObject } from '../json-object.js';

/**
 * A custom tool's call, as a provider that knows only function tools made it: a call of the function the tool was
 * sent as, whose arguments are `{"input": "…"}` (customToolsAsFunctions). Its free text is that string. Arguments
 * that are not JSON but open as that object (cut short at the answer's token limit, or with text after it) give
 * what their string holds, as the same call streamed does (CustomInputDecoder); any others (a model that went its
 * own way) are passed on as they are, rather than failing an answer the provider already made.
 *
 * @example customInputOf('{"input":"*** Begin Patch"}') // '*** Begin Patch'
 */
export function customInputOf(args: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    if (!OPENING.test(args)) return args;
    const decoder = new CustomInputDecoder();
    return decoder.push(args) + decoder.end();
  }
  return isJsonObject(parsed) && typeof parsed.input === 'string' ? parsed.input : args;
}

/** `{`, then `"input"`, then `:`, then the string's opening quote, JSON's white space between. */
const OPENING = /^\s*\{\s*"input"\s*:\s*"/;

/** Whether `text` may still grow into OPENING: every character so far matches it. */
const mayOpen = (text: string): boolean => /^\s*(?:\{\s*(?:"(?:i(?:n(?:p(?:u(?:t(?:"\s*(?::\s*)?)?)?)?)?)?)?)?)?$/.test(text);

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Decodes a custom call's `input` as its arguments arrive in fragments (`{"inp`, `ut":"*** Beg`, `in\\nPatch"}`), so
 * that a client sees the text stream as it would from OpenAI: each `push` returns the text decoded so far that it
 * had not returned. When the arguments do not open with `{"input": "` (another member first, or none), nothing can
 * be told until they are whole: `end` returns the input then (customInputOf). A high surrogate is held until its
 * pair comes, so no fragment splits a character.
 */
export class CustomInputDecoder {
  #raw = '';
  /** Where the string's undecoded text starts in #raw; undefined until the opening is read, -1 once it cannot be. */
  #at: number | undefined;
  #closed = false;
  #held = '';

  /** The new text of the input these arguments add. */
  push(fragment: string): string {
    this.#raw += fragment;
    if (this.#at === undefined) {
      const opening = OPENING.exec(this.#raw);
      if (opening) this.#at = opening[0].length;
      else if (!mayOpen(this.#raw)) this.#at = -1;
    }
    if (this.#at === undefined || this.#at < 0 || this.#closed) return '';
    return this.#send(this.#decode());
  }

  /** The arguments are whole: what is left of the input (all of it, if it could not be streamed). */
  end(): string {
    if (this.#at === undefined || this.#at < 0) return this.#send(customInputOf(this.#raw));
    // A string cut short (the answer hit its token limit) keeps what was decoded; a lone held surrogate goes as it is.
    const rest = this.#held;
    this.#held = '';
    return this.#send(rest, true);
  }

  /** The string's characters from #at on, as far as they are whole: an escape split across fragments waits. */
  #decode(): string {
    let out = '';
    let i = this.#at!;
    const raw = this.#raw;
    while (i < raw.length) {
      const c = raw[i]!;
      if (c === '"') {
        this.#closed = true;
        i += 1;
        break;
      }
      if (c !== '\\') {
        out += c;
        i += 1;
        continue;
      }
      const next = raw[i + 1];
      if (next === undefined) break;
      if (next === 'u') {
        const hex = raw.slice(i + 2, i + 6);
        if (hex.length < 4) break;
        out += /^[0-9a-fA-F]{4}$/.test(hex) ? String.fromCharCode(parseInt(hex, 16)) : `\\u${hex}`;
        i += 6;
        continue;
      }
      out += ESCAPES[next] ?? next;
      i += 2;
    }
    this.#at = i;
    return out;
  }

  #send(text: string, last = false): string {
    let out = this.#held + text;
    this.#held = '';
    const code = out.charCodeAt(out.length - 1);
    if (!last && !this.#closed && code >= 0xd800 && code <= 0xdbff) {
      this.#held = out.slice(-1);
      out = out.slice(0, -1);
    }
    return out;
  }
}
