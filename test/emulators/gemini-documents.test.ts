import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGeminiEmulator, type GeminiEmulator } from './gemini.js';
import { SAMPLE_PDF_BASE64 } from './sample-pdf.js';

let emulator: GeminiEmulator;
const generate = (parts: unknown[], method: 'generateContent' | 'streamGenerateContent?alt=sse' = 'generateContent') =>
  fetch(`${emulator.url}/v1beta/models/gemini-2.5-flash:${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'test-gemini-key' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [...parts, { text: 'Summarise it' }] }] }),
  });
const answerOf = async (response: Response) => ((await response.json()) as { candidates: Array<{ content: { parts: Array<{ text: string }> } }> }).candidates[0]!.content.parts[0]!.text;
const refusal = async (response: Response) => ({ status: response.status, error: ((await response.json()) as { error: { status: string; message: string } }).error });
const pdf = { inlineData: { mimeType: 'application/pdf', data: SAMPLE_PDF_BASE64 } };

beforeAll(async () => {
  emulator = await startGeminiEmulator();
});
afterAll(() => emulator.stop());

describe('the Gemini emulator with documents', () => {
  it('answers a PDF and a plain-text part with the number of documents it read', async () => {
    const notes = { inlineData: { mimeType: 'text/plain', data: Buffer.from('Green grass').toString('base64') } };
    const response = await generate([pdf, notes]);
    expect(response.status).toBe(200);
    expect(await answerOf(response)).toBe('Echo: Summarise it [documents: 2]');
  });

  it('does not count an image as a document', async () => {
    expect(await answerOf(await generate([{ inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }]))).toBe('Echo: Summarise it');
  });

  it('takes a PDF in streamGenerateContent too', async () => {
    const response = await generate([pdf], 'streamGenerateContent?alt=sse');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('[documents: ');
  });

  it('takes URL-safe base64 without padding, as proto3 JSON bytes may be', async () => {
    const data = SAMPLE_PDF_BASE64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect((await generate([{ inlineData: { mimeType: 'application/pdf', data } }])).status).toBe(200);
  });

  it('refuses a MIME type Gemini does not take inline', async () => {
    const { status, error } = await refusal(await generate([{ inlineData: { mimeType: 'application/zip', data: SAMPLE_PDF_BASE64 } }]));
    expect(status).toBe(400);
    expect(error.status).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('contents[0].parts[0].inline_data.mime_type');
  });

  it('refuses data that is empty or not base64', async () => {
    for (const data of ['', 'not base64!']) {
      const { status, error } = await refusal(await generate([{ inlineData: { mimeType: 'application/pdf', data } }]));
      expect(status).toBe(400);
      expect(error.message).toContain("'contents[0].parts[0].inline_data.data' (TYPE_BYTES)");
    }
  });

  it('refuses PDF data that does not decode to a PDF', async () => {
    const { status, error } = await refusal(await generate([{ inlineData: { mimeType: 'application/pdf', data: Buffer.from('Just text').toString('base64') } }]));
    expect(status).toBe(400);
    expect(error.message).toContain('contents[0].parts[0].inline_data');
  });
});
