import { CITATIONS, DOCUMENT_CONTEXT, type ChatRequest, type ContentPart, type FilePart } from '../chat-types.js';
import { cannotServe } from './cannot-serve.js';

/** A PDF from a file part: its bytes in base64 and the name it was given, if any. */
export interface PdfFile {
  data: string;
  filename?: string;
}

const PDF_DATA_URL = 'data:application/pdf;base64,';

/**
 * A file part's PDF, for a provider that takes PDFs in its own blocks (Anthropic's and Bedrock's documents, Gemini's
 * inline data). What it cannot read is one it has no counterpart for (cannotServe, so an alias moves on): a `file_id`,
 * which names a file in OpenAI's own storage, a file that is not a PDF, and a document that asked for citations
 * (CITATIONS) unless the provider writes them (`takesCitations`: Anthropic). `where` is the part's path.
 */
export function pdfOf(part: FilePart, where: string, provider: string, takesCitations = false): PdfFile {
  if (part[CITATIONS] && !takesCitations) throw citationsRefused(where, provider);
  const { file_data: data, file_id: id, filename } = part.file;
  if (id !== undefined) throw cannotServe(`${where}.file.file_id`, `${where}.file.file_id names a file in OpenAI's storage, which ${provider} cannot read: send the file's bytes as file_data`);
  // Media types are case-insensitive (RFC 2045): `data:application/PDF;base64,` is a PDF too.
  if (data === undefined || data.slice(0, PDF_DATA_URL.length).toLowerCase() !== PDF_DATA_URL) throw cannotServe(`${where}.file.file_data`, `${where}.file.file_data is not a PDF (data:application/pdf;base64,…), the only file ${provider} takes here`);
  return { data: data.slice(PDF_DATA_URL.length), ...(filename !== undefined ? { filename } : {}) };
}

/** A document that asked for citations, which only Claude writes: refused (cannotServe), so an alias moves on to a target that cites. */
const citationsRefused = (where: string, provider: string) => cannotServe(where, `${where} asks for citations, which ${provider} does not write: only Claude cites documents through this gateway (on Anthropic, and on Bedrock from Claude 3.5 on)`);

/**
 * A request holding a document that asked for citations (CITATIONS), refused for a provider that does not write
 * them: one check of the request, for the adapters that send file parts on as they are (the OpenAI-format ones).
 */
export function refuseCitations(request: ChatRequest, provider: string): void {
  if (request[CITATIONS]) throw citationsRefused('messages', provider);
}

const TEXT_DATA_URL = 'data:text/plain;base64,';

/**
 * The text of a plain-text document that asked for citations (CITATIONS: the Anthropic ingress keeps such a document
 * a file part, `data:text/plain`, for the adapters whose providers cite, which send it as a text document);
 * undefined for any other part.
 */
export function citedTextOf(part: FilePart): string | undefined {
  const data = part.file.file_data;
  return part[CITATIONS] && data?.startsWith(TEXT_DATA_URL) ? Buffer.from(data.slice(TEXT_DATA_URL.length), 'base64').toString('utf8') : undefined;
}

/**
 * The `context` of the document at `parts[i]`: the text part right before it marked as its context (DOCUMENT_CONTEXT),
 * for the adapters whose documents have a `context` of their own (Anthropic's, Bedrock's), which leave that part
 * out (foldedContext).
 */
export function contextBefore(parts: readonly ContentPart[], i: number): string | undefined {
  const before = parts[i - 1];
  return parts[i]?.type === 'file' && before?.type === 'text' && before[DOCUMENT_CONTEXT] ? before.text : undefined;
}

/** Whether `parts[i]` is a document's context that contextBefore puts in the document. */
export const foldedContext = (parts: readonly ContentPart[], i: number): boolean => contextBefore(parts, i + 1) !== undefined;
