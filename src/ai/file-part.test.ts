import { describe, expect, it } from 'vitest';
import { validateFilePart } from './file-part.js';

const PDF = `data:application/pdf;base64,${Buffer.from('%PDF-1.4\n%%EOF').toString('base64')}`;

describe('a file part', () => {
  it.each([
    ['its bytes with a name', { file_data: PDF, filename: 'a.pdf' }],
    ["an id in OpenAI's storage", { file_id: 'file-abc123' }],
  ])('is taken with %s', (_what, file) => {
    expect(() => validateFilePart({ type: 'file', file }, 'messages[0].content[1]')).not.toThrow();
  });

  it.each([
    ['without a file', undefined, 'messages[0].content[1].file'],
    ['whose file is a string', 'a.pdf', 'messages[0].content[1].file'],
    ['with neither bytes nor an id', { filename: 'a.pdf' }, 'messages[0].content[1].file'],
    ['with both bytes and an id', { file_data: PDF, file_id: 'file-abc' }, 'messages[0].content[1].file'],
    ['whose bytes are not a data: URL', { file_data: 'https://example.com/a.pdf' }, 'messages[0].content[1].file.file_data'],
    ['whose bytes are not base64', { file_data: 'data:application/pdf;base64,%PDF-1.4' }, 'messages[0].content[1].file.file_data'],
    ['whose data: URL is not base64', { file_data: 'data:application/pdf,%PDF-1.4' }, 'messages[0].content[1].file.file_data'],
    ['whose id is empty', { file_id: '' }, 'messages[0].content[1].file.file_id'],
    ['whose name is a number', { file_data: PDF, filename: 7 }, 'messages[0].content[1].file.filename'],
    ['whose bytes come without a name, which OpenAI requires', { file_data: PDF }, 'messages[0].content[1].file.filename'],
  ])('is refused %s, naming the field', (_what, file, param) => {
    expect(() => validateFilePart({ type: 'file', file }, 'messages[0].content[1]')).toThrow(expect.objectContaining({ status: 400, type: 'invalid_request_error', param }));
  });

  it('takes a member given as null as not given', () => {
    const part = { type: 'file', file: { file_data: PDF, file_id: null, filename: 'a.pdf' } };
    validateFilePart(part, 'messages[0].content[0]');
    expect(part.file).toEqual({ file_data: PDF, filename: 'a.pdf' });
  });

  it.each(['system', 'assistant', 'tool'])('is refused in a %s message, where OpenAI takes none and the adapters would keep only the text', (role) => {
    expect(() => validateFilePart({ type: 'file', file: { file_data: PDF, filename: 'a.pdf' } }, 'messages[0].content[0]', role)).toThrow(expect.objectContaining({ status: 400, param: 'messages[0].content[0].type', code: 'invalid_value' }));
  });
});
