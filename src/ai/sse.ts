/**
 * A Server-Sent Events parser (HTML Living Standard §9.2.6) that works on arbitrary byte boundaries: bytes go
 * in as they arrive, complete events come out.
 */
export interface SseEvent {
  event: string | undefined;
  data: string;
}

export class SseParser {
  #buffer = '';
  readonly #decoder = new TextDecoder();

  push(bytes: Uint8Array): SseEvent[] {
    this.#buffer += this.#decoder.decode(bytes, { stream: true });
    const events: SseEvent[] = [];
    for (;;) {
      const match = /\r\n\r\n|\n\n|\r\r/.exec(this.#buffer);
      if (!match) break;
      const block = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const event = parseBlock(block);
      if (event) events.push(event);
    }
    return events;
  }

  /** The last event, if the stream ended without its blank line. */
  end(): SseEvent[] {
    const rest = this.#buffer + this.#decoder.decode();
    this.#buffer = '';
    const event = rest.trim() === '' ? undefined : parseBlock(rest);
    return event ? [event] : [];
  }
}

function parseBlock(block: string): SseEvent | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0 && event === undefined) return undefined;
  return { event, data: data.join('\n') };
}

/** Newline-delimited JSON (Ollama, Bedrock-free streams): complete lines out as bytes come in. */
export class NdjsonParser {
  #buffer = '';
  readonly #decoder = new TextDecoder();

  push(bytes: Uint8Array): unknown[] {
    this.#buffer += this.#decoder.decode(bytes, { stream: true });
    const lines = this.#buffer.split('\n');
    this.#buffer = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
  }

  end(): unknown[] {
    const rest = (this.#buffer + this.#decoder.decode()).trim();
    this.#buffer = '';
    return rest === '' ? [] : [JSON.parse(rest) as unknown];
  }
}
