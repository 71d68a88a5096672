/**
 * A one-page PDF small enough to write out (a catalog, a page tree, one empty 200×200 page), for tests that send a
 * document to a provider or to the gateway: every emulator takes it, as it starts with the `%PDF-` header
 * (ISO 32000-1 §7.5.2) that they check for.
 */
export const SAMPLE_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF',
  'latin1',
);

/** SAMPLE_PDF in base64, as Anthropic, Bedrock, Gemini and OpenAI carry document bytes in JSON. */
export const SAMPLE_PDF_BASE64 = SAMPLE_PDF.toString('base64');
