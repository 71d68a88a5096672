import { describe, expect, it } from 'vitest';
import { PAGE_TOKENS, documentTokens, pdfPages } from './document-tokens.js';

/** A PDF of `pages` page objects, as a PDF 1.4 file writes them out in the open. */
const pdfOf = (pages: number): Buffer => {
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  const objects = Array.from({ length: pages }, (_, i) => `${i + 3} 0 obj<</Type /Page/Parent 2 0 R>>endobj`).join('\n');
  return Buffer.from(`%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[${kids}]/Count ${pages}>>endobj\n${objects}\n%%EOF`, 'latin1');
};

describe("a PDF's pages", () => {
  it.each([1, 3, 12])('are counted from its %i page objects, not its page tree', (pages) => {
    expect(pdfPages(pdfOf(pages))).toBe(pages);
  });

  it('are read from the linearization dictionary of a PDF whose page objects are compressed', () => {
    const linearized = Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\n1 0 obj\n<</Linearized 1/L 5000000/O 3/E 1200/N 7/T 4999000/H [500 200]>>\nendobj\n', 'latin1'), Buffer.alloc(5_000_000)]);
    expect(pdfPages(linearized)).toBe(7);
  });

  it('are one per 50 KB of a PDF whose page objects cannot be seen (compressed), at least one', () => {
    expect(pdfPages(Buffer.from('%PDF-1.7\n'))).toBe(1);
    expect(pdfPages(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(120_000)]))).toBe(3);
  });

  it('count PAGE_TOKENS each, from a data: URL', () => {
    expect(documentTokens(`data:application/pdf;base64,${pdfOf(4).toString('base64')}`)).toBe(4 * PAGE_TOKENS);
  });

  it('count a plain-text document at about four bytes a token, not by pages', () => {
    const text = 'The grass is green. '.repeat(1_000);
    expect(documentTokens(`data:text/plain;base64,${Buffer.from(text).toString('base64')}`)).toBe(Math.ceil(text.length / 4));
  });
});
