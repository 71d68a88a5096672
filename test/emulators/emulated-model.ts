/**
 * What every emulated model does alike, whatever its provider's wire format: which tools it calls, and the text it
 * reads from OpenAI-shaped content.
 */

/** The tools an emulated model calls: each one the user's last text names, in the order given, else the first. */
export function toolsCalledFor<T>(tools: readonly T[], userText: string, nameOf: (tool: T) => string): T[] {
  const named = tools.filter((tool) => userText.includes(nameOf(tool)));
  return named.length > 0 ? named : tools.slice(0, 1);
}

/** The text of OpenAI-shaped message content (Mistral's and Cohere's too): a string, or its text parts joined by spaces. */
export function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.flatMap((part: { type?: unknown; text?: unknown } | null) => (part?.type === 'text' && typeof part.text === 'string' ? [part.text] : [])).join(' ');
}

/** A vector as an embeddings API in OpenAI's format answers it: floats, or with `encoding_format: "base64"` their little-endian float32 bytes. */
export function encodedVector(values: readonly number[], format: unknown): number[] | string {
  return format === 'base64' ? Buffer.from(Float32Array.from(values).buffer).toString('base64') : [...values];
}

/** Whether `input` is token ids as OpenAI's embeddings API takes them: an array of integers, or of such arrays. */
export function isTokenInput(input: unknown): input is number[] | number[][] {
  return Array.isArray(input) && input.length > 0 && (input.every((id) => Number.isInteger(id)) || input.every((item) => Array.isArray(item) && item.length > 0 && item.every((id) => Number.isInteger(id))));
}

/** The inputs of a token-id `input`, each as the text the emulators embed in its place: its ids joined by spaces. */
export function tokenInputsAsText(input: number[] | number[][]): string[] {
  return typeof input[0] === 'number' ? [input.join(' ')] : (input as number[][]).map((ids) => ids.join(' '));
}

/** Whether `data` is non-empty standard base64 (RFC 4648 §4) with its padding, as the providers take bytes in JSON. */
export function isBase64(data: unknown): data is string {
  return typeof data === 'string' && data.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(data);
}

/** Whether base64 `data` decodes to a PDF: bytes that start with the `%PDF-` header (ISO 32000-1 §7.5.2). */
export const decodesToPdf = (data: string): boolean => Buffer.from(data, 'base64').subarray(0, 5).toString('latin1') === '%PDF-';

/** What an answer adds to show that the model read the last user turn's documents; nothing without any, so answers without documents stay as they were. */
export const documentsNote = (count: number): string => (count > 0 ? ` [documents: ${count}]` : '');
