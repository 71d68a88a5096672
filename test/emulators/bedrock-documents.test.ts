import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSigV4 } from '../../src/ai/providers/bedrock/index.js';
import { startBedrockEmulator, type BedrockEmulator } from './bedrock.js';
import { SAMPLE_PDF_BASE64 } from './sample-pdf.js';

let emulator: BedrockEmulator;
const MODEL = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const send = (messages: unknown[], operation: 'converse' | 'converse-stream' = 'converse') => {
  const url = `${emulator.url}/model/${encodeURIComponent(MODEL)}/${operation}`;
  const body = JSON.stringify({ messages });
  const { headers } = signSigV4({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body }, { credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator/secret+key' }, region: 'us-east-1', service: 'bedrock', now: Date.now() });
  return fetch(url, { method: 'POST', headers, body });
};
const pdf = (name = 'Report', extra: Record<string, unknown> = {}) => ({ document: { format: 'pdf', name, source: { bytes: SAMPLE_PDF_BASE64 }, ...extra } });
const asking = (...blocks: unknown[]) => [{ role: 'user', content: [...blocks, { text: 'Summarise it' }] }];
const refusal = async (response: Response) => ({ status: response.status, type: response.headers.get('x-amzn-errortype') ?? '', message: ((await response.json()) as { message: string }).message });

beforeAll(async () => {
  emulator = await startBedrockEmulator();
});
afterAll(() => emulator.stop());

describe('the Bedrock emulator with documents', () => {
  it('answers documents with the number it read, citations and context included', async () => {
    const notes = { document: { format: 'txt', name: 'Notes (v2) [draft]', source: { bytes: Buffer.from('Green grass').toString('base64') }, context: 'From the user', citations: { enabled: true } } };
    const response = await send(asking(pdf(), notes));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { output: { message: { content: Array<{ text: string }> } } };
    expect(body.output.message.content[0]!.text).toBe('Hello from the Bedrock emulator. [documents: 2]');
  });

  it('answers as before without documents in the last turn', async () => {
    const response = await send([...asking(pdf()), { role: 'assistant', content: [{ text: 'Done.' }] }, { role: 'user', content: [{ text: 'Thanks' }] }]);
    expect(((await response.json()) as { output: { message: { content: Array<{ text: string }> } } }).output.message.content[0]!.text).toBe('Hello from the Bedrock emulator.');
  });

  it('takes documents in converse-stream too', async () => {
    expect((await send(asking(pdf()), 'converse-stream')).status).toBe(200);
  });

  it('refuses a name with a dot, two spaces in a row, or more than 200 characters, in Bedrock’s words', async () => {
    for (const name of ['report.pdf', 'Annual  report', 'a'.repeat(201), '']) {
      const { status, type, message } = await refusal(await send(asking(pdf(name))));
      expect(status).toBe(400);
      expect(type).toMatch(/^ValidationException:/);
      expect(message).toMatch(/^The document file name can only contain alphanumeric characters/);
    }
  });

  it('refuses a format Converse does not know', async () => {
    const { status, message } = await refusal(await send(asking(pdf('Report', { format: 'pptx' }))));
    expect(status).toBe(400);
    expect(message).toContain("at 'messages.0.content.0.document.format'");
  });

  it('refuses source bytes that are empty, not base64, or not a PDF for format pdf', async () => {
    for (const bytes of ['', 'not base64!', Buffer.from('Just text').toString('base64')]) {
      const { status, message } = await refusal(await send(asking(pdf('Report', { source: { bytes } }))));
      expect(status).toBe(400);
      expect(message).toContain('messages.0.content.0.document.source.bytes');
    }
  });

  it('takes 5 documents in one request and refuses a sixth', async () => {
    const six = ['A', 'B', 'C', 'D', 'E', 'F'].map((name) => pdf(name));
    expect((await send(asking(...six.slice(0, 5)))).status).toBe(200);
    const { status, message } = await refusal(await send(asking(...six)));
    expect(status).toBe(400);
    expect(message).toBe("You can't include more than 5 documents in a request.");
  });

  it('refuses two documents of the same name, even in different turns', async () => {
    const { status, message } = await refusal(await send([...asking(pdf()), { role: 'assistant', content: [{ text: 'Done.' }] }, ...asking(pdf())]));
    expect(status).toBe(400);
    expect(message).toBe("Messages can't contain duplicate document names. Rename the document and retry your request.");
  });

  it('refuses a document in an assistant turn', async () => {
    const { status, message } = await refusal(await send([{ role: 'user', content: [{ text: 'Hi' }] }, { role: 'assistant', content: [pdf()] }, { role: 'user', content: [{ text: 'Go on' }] }]));
    expect(status).toBe(400);
    expect(message).toMatch(/^messages\.1\.content\.0\.document: /);
  });
});
