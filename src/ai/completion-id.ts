import { randomUUID } from 'node:crypto';

/**
 * A completion id of its own, in OpenAI's form (`chatcmpl-…`): for an answer served again from the response cache,
 * since an id names one completion (https://platform.openai.com/docs/api-reference/chat/object, "A unique identifier
 * for the chat completion"; Anthropic's Message `id`, "Unique object identifier"). The Anthropic ingress makes it a
 * `msg_…` id (messageIdFor).
 */
export const newCompletionId = (): string => `chatcmpl-${randomUUID().replaceAll('-', '')}`;

/** Where a JSON text's top-level `id` string is: from its opening quote to just past its closing one. */
export interface IdSpan {
  start: number;
  end: number;
}

const isSpace = (char: string | undefined): boolean => char === ' ' || char === '\n' || char === '\r' || char === '\t';

function spaceAfter(json: string, at: number): number {
  while (isSpace(json[at])) at++;
  return at;
}

/** Just past the end of the string whose opening quote is at `at` (the text's length for one never closed). */
function stringEnd(json: string, at: number): number {
  for (let i = at + 1; i < json.length; i++) {
    if (json[i] === '\\') i++;
    else if (json[i] === '"') return i + 1;
  }
  return json.length;
}

/** Just past the end of the value that starts at `at`: a string, an object or array (strings inside skipped whole), or a literal. */
function valueEnd(json: string, at: number): number {
  const first = json[at];
  if (first === '"') return stringEnd(json, at);
  if (first !== '{' && first !== '[') {
    let i = at;
    while (i < json.length && json[i] !== ',' && json[i] !== '}' && json[i] !== ']' && !isSpace(json[i])) i++;
    return i;
  }
  let depth = 0;
  for (let i = at; i < json.length; i++) {
    const char = json[i];
    if (char === '"') i = stringEnd(json, i) - 1;
    else if (char === '{' || char === '[') depth++;
    else if ((char === '}' || char === ']') && --depth === 0) return i + 1;
  }
  return json.length;
}

/**
 * Where the `id` member of a JSON object's text is, found by reading its members up to it (OpenAI's completions, and
 * the adapters', have it first), so that a cached answer's text can be sent with another id without being parsed and
 * written again. Undefined when the object has no `id` string, or the text is no JSON object.
 *
 * @example idSpanOf('{"id":"chatcmpl-1","object":"chat.completion"}') // { start: 6, end: 18 }
 */
export function idSpanOf(json: string): IdSpan | undefined {
  let at = spaceAfter(json, 0);
  if (json[at] !== '{') return undefined;
  at = spaceAfter(json, at + 1);
  while (json[at] === '"') {
    const nameEnd = stringEnd(json, at);
    const isId = json.slice(at, nameEnd) === '"id"';
    at = spaceAfter(json, nameEnd);
    if (json[at] !== ':') return undefined;
    at = spaceAfter(json, at + 1);
    const end = valueEnd(json, at);
    if (isId) return json[at] === '"' ? { start: at, end } : undefined;
    at = spaceAfter(json, end);
    if (json[at] !== ',') return undefined;
    at = spaceAfter(json, at + 1);
  }
  return undefined;
}

/** The JSON text with `id` in place of the string at `span` (idSpanOf). */
export const withIdAt = (json: string, span: IdSpan, id: string): string => `${json.slice(0, span.start)}${JSON.stringify(id)}${json.slice(span.end)}`;
