import { isJsonObject } from './json-object.js';
import { invalidParam as invalid } from './openai-error.js';

/** Bytes in base64, unbroken: what a file's `data:` URL and Anthropic's document sources carry. */
export const isBase64 = (text: string): boolean => /^[A-Za-z0-9+/]+={0,2}$/.test(text);

/** A `data:` URL of base64 bytes, as OpenAI's `file_data` is: `data:<media type>;base64,<bytes>`. */
export function isBase64DataUrl(url: string): boolean {
  const comma = url.indexOf(',');
  return comma > 0 && /^data:[\w.+-]+\/[\w.+-]+;base64$/.test(url.slice(0, comma)) && isBase64(url.slice(comma + 1));
}

/**
 * A `file` content part as OpenAI's Chat Completions take it (https://platform.openai.com/docs/guides/pdf-files):
 * `file` an object with the file's bytes (`file_data`, a base64 `data:` URL) or the id of one in OpenAI's storage
 * (`file_id`), not both, its bytes with their `filename`, in a user message. Checked here for every provider: an adapter
 * that translates a PDF sends its bytes as they are, and a malformed URL would otherwise reach the provider as
 * bytes it cannot read, or as a 400 that names a field the client never sent. Members given as `null` are taken out.
 */
export function validateFilePart(part: Record<string, unknown>, at: string, role = 'user'): void {
  // OpenAI takes files in user messages alone; elsewhere adapters keep a message's text (a tool's, a system prompt's) and the file would be lost.
  if (role !== 'user') throw invalid(`${at}.type`, `Invalid value: 'file'. A ${role} message's content parts cannot be files: send files in user messages.`, 'invalid_value');
  const file = part.file;
  if (!isJsonObject(file)) throw invalid(`${at}.file`, `${at}.file must be an object with file_data (a base64 data: URL) or file_id`);
  // `null` as absent, as elsewhere in a request: the adapters then read absent members only.
  for (const name of ['file_data', 'file_id', 'filename']) if (file[name] === null) delete file[name];
  const { file_data: data, file_id: id, filename } = file;
  if ((data === undefined) === (id === undefined)) throw invalid(`${at}.file`, `${at}.file must have one of file_data and file_id`);
  if (data !== undefined && !(typeof data === 'string' && isBase64DataUrl(data))) throw invalid(`${at}.file.file_data`, `${at}.file.file_data must be a base64 data: URL, data:application/pdf;base64,…`);
  if (id !== undefined && (typeof id !== 'string' || id === '')) throw invalid(`${at}.file.file_id`, `${at}.file.file_id must be a file's id`);
  if (filename !== undefined && typeof filename !== 'string') throw invalid(`${at}.file.filename`, `${at}.file.filename must be a string`);
  // OpenAI refuses a file's bytes without their name; the other providers would be sent the same request.
  if (data !== undefined && (filename === undefined || filename === '')) throw invalid(`${at}.file.filename`, `${at}.file.filename is required with file_data: the file's name, "report.pdf"`, 'missing_required_parameter');
}
