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

/** The tokens of a PDF given as a `data:` URL: its pages (pdfPages) times PAGE_TOKENS. */
export function documentTokens(dataUrl: string): number {
  const comma = dataUrl.indexOf(',');
  if (comma < 0) return PAGE_TOKENS;
  return pdfPages(Buffer.from(dataUrl.slice(comma + 1), 'base64')) * PAGE_TOKENS;
}

/**
 * A PDF's pages, from its page objects (`/Type /Page`, not `/Pages`); where none can be seen (a PDF 1.5 file may
 * keep its objects in compressed streams), from its size. At least one.
 */
export function pdfPages(bytes: Buffer): number {
  const pages = bytes.toString('latin1').match(/\/Type\s*\/Page(?![A-Za-z])/g)?.length ?? 0;
  return Math.max(1, pages > 0 ? pages : Math.ceil(bytes.length / BYTES_PER_UNSEEN_PAGE));
}
