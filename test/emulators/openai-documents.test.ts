import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpenAIEmulator, type OpenAIEmulator } from './openai.js';
import { SAMPLE_PDF_BASE64 } from './sample-pdf.js';

let emulator: OpenAIEmulator;
const chat = (messages: unknown[]) =>
  fetch(`${emulator.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test-openai-key' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
  });
const pdf = (file: Record<string, unknown> = { filename: 'report.pdf', file_data: `data:application/pdf;base64,${SAMPLE_PDF_BASE64}` }) => ({ type: 'file', file });
const asking = (...parts: unknown[]) => [{ role: 'user', content: [{ type: 'text', text: 'Summarise it' }, ...parts] }];
const answerOf = async (response: Response) => ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
const refusal = async (response: Response) => ({ status: response.status, error: ((await response.json()) as { error: { type: string; param: string; message: string } }).error });

beforeAll(async () => {
  emulator = await startOpenAIEmulator();
});
afterAll(() => emulator.stop());

describe('the OpenAI emulator with PDF files', () => {
  it('answers file parts, as data or as an uploaded file, with the number it read', async () => {
    const response = await chat(asking(pdf(), pdf({ file_id: 'file-abc123' })));
    expect(response.status).toBe(200);
    expect(await answerOf(response)).toBe('Echo: Summarise it [documents: 2]');
  });

  it('answers as before when the last message has no files', async () => {
    expect(await answerOf(await chat([...asking(pdf()), { role: 'assistant', content: 'Done.' }, { role: 'user', content: 'Thanks' }]))).toBe('Echo: Thanks');
  });

  it('refuses a file part with neither file_data nor file_id, or with both', async () => {
    for (const file of [{ filename: 'report.pdf' }, { filename: 'report.pdf', file_data: `data:application/pdf;base64,${SAMPLE_PDF_BASE64}`, file_id: 'file-abc123' }]) {
      const { status, error } = await refusal(await chat(asking(pdf(file))));
      expect(status).toBe(400);
      expect(error.type).toBe('invalid_request_error');
      expect(error.param).toMatch(/^messages\[0\]\.content\[1\]\.file/);
    }
  });

  it('refuses file_data that is not a PDF as a base64 data URL', async () => {
    for (const file_data of [SAMPLE_PDF_BASE64, `data:image/png;base64,${SAMPLE_PDF_BASE64}`, 'data:application/pdf;base64,not base64!', `data:application/pdf;base64,${Buffer.from('Just text').toString('base64')}`]) {
      const { status, error } = await refusal(await chat(asking(pdf({ filename: 'report.pdf', file_data }))));
      expect(status).toBe(400);
      expect(error.param).toBe('messages[0].content[1].file.file_data');
    }
  });

  it('refuses file_data without a filename, saying file_id is missing as OpenAI does', async () => {
    const { status, error } = await refusal(await chat(asking(pdf({ file_data: `data:application/pdf;base64,${SAMPLE_PDF_BASE64}` }))));
    expect(status).toBe(400);
    expect(error.message).toBe("Missing required parameter: 'messages[0].content[1].file.file_id'.");
  });

  it('refuses a file_id that does not start with file-', async () => {
    const { status, error } = await refusal(await chat(asking(pdf({ file_id: 'abc123' }))));
    expect(status).toBe(400);
    expect(error.param).toBe('messages[0].content[1].file.file_id');
  });

  it('refuses a file part in a message that is not the user’s', async () => {
    const { status, error } = await refusal(await chat([{ role: 'system', content: [pdf()] }, { role: 'user', content: 'Hi' }]));
    expect(status).toBe(400);
    expect(error.param).toBe('messages[0].content[0].type');
  });
});
