import type { DocumentNames } from './document-names.js';

/** A citation as Converse writes one (API_runtime_Citation.html, API_runtime_CitationLocation.html). */
export interface ConverseCitation {
  title?: string;
  sourceContent?: Array<{ text?: string }>;
  location?: Record<string, { documentIndex?: number; start?: number; end?: number } | undefined>;
}

/** A block of text with its citations (API_runtime_CitationsContentBlock.html), which Converse answers with for cited documents. */
export interface ConverseCitationsContent {
  content?: Array<{ text?: string }>;
  citations?: ConverseCitation[];
}

/** A cited block's text, its generated pieces joined. */
export const citedTextOfBlock = (block: ConverseCitationsContent): string => (block.content ?? []).map((piece) => piece.text ?? '').join('');

/**
 * A Converse citation as Anthropic's (https://docs.anthropic.com/en/docs/build-with-claude/citations), which it is
 * beneath on Bedrock: a `documentChar` location a `char_location`, a `documentPage` a `page_location`, a
 * `documentChunk` a `content_block_location`, with the cited text and the document's index and title (the client's,
 * which the name Converse was sent stands for: `documents`, the request's). Undefined for
 * a location Anthropic has no counterpart for (a web page's).
 */
export function anthropicCitationOf(citation: ConverseCitation, documents?: DocumentNames): Record<string, unknown> | undefined {
  const location = citation.location ?? {};
  const { documentChar: chars, documentPage: pages, documentChunk: chunks } = location;
  const title = documents?.titleOf(citation.title, (chars ?? pages ?? chunks)?.documentIndex);
  const at = { cited_text: (citation.sourceContent ?? []).map((piece) => piece.text ?? '').join(''), document_title: title !== undefined ? title : (citation.title ?? null) };
  if (chars) return { type: 'char_location', ...at, document_index: chars.documentIndex ?? 0, start_char_index: chars.start ?? 0, end_char_index: chars.end ?? 0 };
  if (pages) return { type: 'page_location', ...at, document_index: pages.documentIndex ?? 0, start_page_number: pages.start ?? 1, end_page_number: pages.end ?? 1 };
  if (chunks) return { type: 'content_block_location', ...at, document_index: chunks.documentIndex ?? 0, start_block_index: chunks.start ?? 0, end_block_index: chunks.end ?? 0 };
  return undefined;
}
