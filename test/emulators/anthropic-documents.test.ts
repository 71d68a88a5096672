import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicEmulator, type AnthropicEmulator } from './anthropic.js';
import { SAMPLE_PDF_BASE64 } from './sample-pdf.js';

let emulator: AnthropicEmulator;
const send = (messages: unknown[], extra: Record<string, unknown> = {}) =>
  fetch(`${emulator.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test-anthropic-key', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 256, messages, ...extra }),
  });
const pdf = (extra: Record<string, unknown> = {}) => ({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: SAMPLE_PDF_BASE64 }, ...extra });
const asking = (...blocks: unknown[]) => [{ role: 'user', content: [...blocks, { type: 'text', text: 'Summarise it' }] }];
const refusal = async (response: Response) => ({ status: response.status, body: (await response.json()) as { error: { type: string; message: string } } });

beforeAll(async () => {
  emulator = await startAnthropicEmulator();
});
afterAll(() => emulator.stop());

describe('the Anthropic emulator with documents', () => {
  it('answers a PDF and a text document with the number of documents it read', async () => {
    const text = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'The grass is green.' }, title: 'Notes', context: 'From the user', citations: { enabled: false } };
    const response = await send(asking(pdf({ title: 'Report', cache_control: { type: 'ephemeral' } }), text));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { content: Array<{ text: string }> }).content[0]!.text).toBe('Echo: Summarise it [documents: 2]');
  });

  it('answers documents that ask for citations with a block citing each: a text one by characters, a PDF by pages', async () => {
    const text = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'The grass is green. The sky is blue.' }, title: 'Notes', citations: { enabled: true } };
    const response = await send(asking(text, pdf({ citations: { enabled: true } })));
    expect(((await response.json()) as { content: unknown[] }).content).toEqual([
      { type: 'text', text: 'Echo: Summarise it ' },
      { type: 'text', text: 'The grass is green.', citations: [{ type: 'char_location', cited_text: 'The grass is green.', document_index: 0, document_title: 'Notes', start_char_index: 0, end_char_index: 19 }] },
      { type: 'text', text: '(page 1)', citations: [{ type: 'page_location', cited_text: '(page 1)', document_index: 1, document_title: null, start_page_number: 1, end_page_number: 2 }] },
    ]);
  });

  it('answers as before when the last user turn has no documents', async () => {
    const response = await send([...asking(pdf()), { role: 'assistant', content: 'Done.' }, { role: 'user', content: 'Thanks' }]);
    expect(((await response.json()) as { content: Array<{ text: string }> }).content[0]!.text).toBe('Echo: Thanks');
  });

  it('refuses a base64 document that is not application/pdf, naming the block', async () => {
    const { status, body } = await refusal(await send(asking({ type: 'document', source: { type: 'base64', media_type: 'image/png', data: SAMPLE_PDF_BASE64 } })));
    expect(status).toBe(400);
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^messages\.0\.content\.0\.source\.base64\.media_type: /);
  });

  it('refuses base64 data that is empty or not base64', async () => {
    for (const data of ['', 'not base64!']) {
      const { status, body } = await refusal(await send(asking({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data } })));
      expect(status).toBe(400);
      expect(body.error.message).toMatch(/^messages\.0\.content\.0\.source\.base64\.data: /);
    }
  });

  it('refuses base64 data that does not decode to a PDF', async () => {
    const data = Buffer.from('Just some text').toString('base64');
    const { status, body } = await refusal(await send(asking({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data } })));
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/^messages\.0\.content\.0\.source\.base64\.data: The PDF specified was not valid/);
  });

  it('refuses a text document that is not text/plain or is empty', async () => {
    for (const source of [{ type: 'text', media_type: 'text/html', data: '<p>Hi</p>' }, { type: 'text', media_type: 'text/plain', data: '' }]) {
      const { status, body } = await refusal(await send(asking({ type: 'document', source })));
      expect(status).toBe(400);
      expect(body.error.message).toMatch(/^messages\.0\.content\.0\.source\.text\./);
    }
  });

  it('refuses a document in an assistant turn', async () => {
    const { status, body } = await refusal(await send([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: [pdf()] }, { role: 'user', content: 'Go on' }]));
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/^messages\.1\.content\.0: /);
  });

  it('refuses a title that is not a string', async () => {
    const { status, body } = await refusal(await send(asking(pdf({ title: 7 }))));
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/^messages\.0\.content\.0\.title: /);
  });
});
