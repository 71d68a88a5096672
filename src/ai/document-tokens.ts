/**
 * What a PDF in a prompt counts for, in tokens, before any provider has said: PAGE_TOKENS a page. Anthropic counts
 * each page's text, "typically 1,500–3,000 tokens", and the page again as an image
 * (https://docs.anthropic.com/en/docs/build-with-claude/pdf-support); OpenAI its text and an image of each page;
 * Gemini 258 tokens a page. An estimate for holds, token limits and count_tokens, as imageTokens is for images; the
 * least a prompt can cost counts documents as nothing, as it does images.
 */
export const PAGE_TOKENS = 3_000;

/** Pages read from a PDF whose page objects are compressed out of sight (object streams): one per 50 KB, at least one. */
const BYTES_PER_UNSEEN_PAGE = 50_000;

/**
 * The tokens of a document given as a `data:` URL: a PDF's pages (pdfPages) times PAGE_TOKENS; a plain-text one's
 * text at about four bytes a token, as the rest of the prompt is counted before the call (an Anthropic-format
 * document that asked for citations stays a file of its text).
 */
export function documentTokens(dataUrl: string): number {
  const comma = dataUrl.indexOf(',');
  if (comma < 0) return PAGE_TOKENS;
  if (dataUrl.slice(0, comma).toLowerCase().startsWith('data:text/plain')) return Math.ceil(Buffer.byteLength(dataUrl.slice(comma + 1), 'base64') / 4);
  return pdfPages(Buffer.from(dataUrl.slice(comma + 1), 'base64')) * PAGE_TOKENS;
}

/**
 * A PDF's pages, from its page objects (`/Type /Page`, not `/Pages`). Where none can be seen (a PDF 1.5 file may keep
 * its objects in compressed streams): from its linearization dictionary's page count (`/N`; the dictionary is the
 * file's first object, never compressed: ISO 32000-1 Annex F), else from its size. At least one.
 */
export function pdfPages(bytes: Buffer): number {
  const text = bytes.toString('latin1');
  const pages = text.match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0;
  if (pages > 0) return pages;
  const linearized = /<<[^<>]*\/Linearized[^<>]*>>/.exec(text.slice(0, 2048))?.[0];
  const counted = linearized ? Number(/\/N\s+(\d+)/.exec(linearized)?.[1] ?? 0) : 0;
  return Math.max(1, counted > 0 ? counted : Math.ceil(bytes.length / BYTES_PER_UNSEEN_PAGE));
}
