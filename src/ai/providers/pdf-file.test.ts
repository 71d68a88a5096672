import { describe, expect, it } from 'vitest';
import { ProviderCallError } from '../provider-call.js';
import { pdfOf } from './pdf-file.js';

const BYTES = Buffer.from('%PDF-1.4\n%%EOF').toString('base64');

describe("a file part's PDF", () => {
  it('is its base64 bytes and its name', () => {
    expect(pdfOf({ type: 'file', file: { file_data: `data:application/pdf;base64,${BYTES}`, filename: 'a.pdf' } }, 'messages[0].content[0]', 'Gemini')).toEqual({ data: BYTES, filename: 'a.pdf' });
  });

  it('is read whatever the case of its media type, which is case-insensitive', () => {
    expect(pdfOf({ type: 'file', file: { file_data: `data:application/PDF;base64,${BYTES}`, filename: 'a.pdf' } }, 'messages[0].content[0]', 'Gemini').data).toBe(BYTES);
  });

  it.each([
    ["an id in OpenAI's storage", { file_id: 'file-abc' }, 'messages[0].content[0].file.file_id'],
    ['a file that is no PDF', { file_data: `data:text/csv;base64,${BYTES}` }, 'messages[0].content[0].file.file_data'],
  ])('is refused for %s as a 400 an alias moves on from, naming the field', (_what, file, param) => {
    let failure: unknown;
    try {
      pdfOf({ type: 'file', file }, 'messages[0].content[0]', 'Gemini');
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ProviderCallError);
    expect((failure as ProviderCallError).failure).toMatchObject({ status: 400, param, retryable: true });
  });
});
