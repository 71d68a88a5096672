import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway, SMART_AND_FAST, configureThreeProviders, startProviderEmulators, type ProviderEmulators } from './ai-fixtures.js';
import { PAGE_TOKENS } from '../src/ai/document-tokens.js';
import { SAMPLE_PDF_BASE64 } from './emulators/sample-pdf.js';

/** A model name as a client writes it, and the provider it must reach. */
const MODELS: Array<[model: string, provider: string]> = [
  ['smart', 'anthropic'],
  ['fast', 'gemini'],
  ['openai/gpt-4o-mini', 'openai'],
];

const PDF_URL = `data:application/pdf;base64,${SAMPLE_PDF_BASE64}`;

describe('PDF documents in a prompt', () => {
  let gateway: AiGateway;
  let emulators: ProviderEmulators;
  let openai: OpenAI;
  let claude: Anthropic;

  beforeAll(async () => {
    emulators = await startProviderEmulators();
    gateway = await AiGateway.start();
    await configureThreeProviders(gateway, emulators, { aliases: [...SMART_AND_FAST, { name: 'mistral-first', targets: [{ provider: 'mistral', model: 'mistral-small-latest' }], fallbacks: [{ provider: 'anthropic', model: 'claude-sonnet-4-6' }] }, { name: 'gemini-first', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }], fallbacks: [{ provider: 'anthropic', model: 'claude-sonnet-4-6' }] }], providers: [{ name: 'mistral', type: 'mistral', baseUrl: emulators.openai.url }] });
    await gateway.addProviderKey('mistral', 'test-mistral-key');
    const apiKey = await gateway.createApp({ name: 'docs-app', team: 'docs-team' });
    openai = new OpenAI({ baseURL: `${gateway.proxyUrl}/v1`, apiKey, maxRetries: 0 });
    claude = new Anthropic({ baseURL: gateway.proxyUrl, apiKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await emulators?.stop();
  });

  it.each(MODELS)("reach %s (%s) from the openai client's file part, and the model reads them", async (model, provider) => {
    const { data, response } = await openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: PDF_URL, filename: 'report.pdf' } }, { type: 'text', text: 'Sum it up.' }] }] })
      .withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe(provider);
    expect(data.choices[0]?.message.content).toBe('Echo: Sum it up. [documents: 1]');
  });

  it("reach Anthropic as a document block, titled by the file's name", async () => {
    await openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: PDF_URL, filename: 'report.pdf' } }, { type: 'text', text: 'Sum it up.' }] }] });
    const sent = emulators.anthropic.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[0]?.content[0]).toEqual({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: SAMPLE_PDF_BASE64 }, title: 'report.pdf' });
  });

  it('reach Gemini as inline data', async () => {
    await openai.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: PDF_URL, filename: 'report.pdf' } }, { type: 'text', text: 'Sum it up.' }] }] });
    const sent = emulators.gemini.lastRequest()?.body as { contents: Array<{ parts: unknown[] }> };
    expect(sent.contents[0]?.parts[0]).toEqual({ inlineData: { mimeType: 'application/pdf', data: SAMPLE_PDF_BASE64 } });
  });

  it.each(MODELS)("reach %s (%s) from the Anthropic client's document block, and the model reads them", async (model) => {
    const message = await claude.messages.create({
      model,
      max_tokens: 200,
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: SAMPLE_PDF_BASE64 } }, { type: 'text', text: 'Sum it up.' }] }],
    });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'Echo: Sum it up. [documents: 1]' })]);
  });

  it('reach Anthropic from the Anthropic client as they came: without a title when given none, with the one given', async () => {
    const document = { type: 'document' as const, source: { type: 'base64' as const, media_type: 'application/pdf' as const, data: SAMPLE_PDF_BASE64 } };
    await claude.messages.create({ model: 'smart', max_tokens: 200, messages: [{ role: 'user', content: [document, { ...document, title: 'Annex' }, { type: 'text', text: 'Compare them.' }] }] });
    const sent = emulators.anthropic.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[0]?.content.slice(0, 2)).toEqual([document, { ...document, title: 'Annex' }]);
  });

  const fetchTool = { name: 'fetch_report', description: 'Fetches a report', input_schema: { type: 'object' as const, properties: { name: { type: 'string' } } } };
  const image = { type: 'image' as const, source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'iVBORw0KGgo=' } };
  const pdf = { type: 'document' as const, source: { type: 'base64' as const, media_type: 'application/pdf' as const, data: SAMPLE_PDF_BASE64 } };
  const loop = (results: Array<{ id: string; content: Anthropic.ToolResultBlockParam['content'] }>): Anthropic.MessageParam[] => [
    { role: 'user', content: 'Fetch both reports.' },
    { role: 'assistant', content: results.map(({ id }) => ({ type: 'tool_use' as const, id, name: 'fetch_report', input: { name: id } })) },
    { role: 'user', content: [...results.map(({ id, content }) => ({ type: 'tool_result' as const, tool_use_id: id, content })), { type: 'text' as const, text: 'Compare them.' }] },
  ];

  it('in a tool result reach Anthropic inside that result, beside its images, so Claude knows which call returned which', async () => {
    await claude.messages.create({ model: 'smart', max_tokens: 200, tools: [fetchTool], messages: loop([{ id: 'toolu_a', content: [{ type: 'text', text: 'Report A' }, pdf] }, { id: 'toolu_b', content: [image] }]) });
    const sent = emulators.anthropic.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[2]?.content).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_a', content: [{ type: 'text', text: 'Report A' }, { type: 'document', source: pdf.source }] },
      { type: 'tool_result', tool_use_id: 'toolu_b', content: [image] },
      { type: 'text', text: 'Compare them.' },
    ]);
  });

  it('in a tool result reach a provider whose results hold text only in a user message after the results, and are read', async () => {
    const message = await claude.messages.create({ model: 'fast', max_tokens: 200, tools: [fetchTool], messages: loop([{ id: 'toolu_a', content: [{ type: 'text', text: 'Report A' }, pdf] }]) });
    const sent = emulators.gemini.lastRequest()?.body as { contents: Array<{ role: string; parts: Array<Record<string, unknown>> }> };
    expect(sent.contents.at(-1)?.parts.map((part) => Object.keys(part)[0])).toEqual(['functionResponse', 'inlineData', 'text']);
    expect(message.content).toEqual([expect.objectContaining({ type: 'text' })]);
  });

  const facts = { type: 'document' as const, source: { type: 'text' as const, media_type: 'text/plain' as const, data: 'The grass is green. The sky is blue.' }, title: 'Facts', citations: { enabled: true } };
  const citedPdf = { ...pdf, title: 'Report', citations: { enabled: true } };
  const askCited = { max_tokens: 200, messages: [{ role: 'user' as const, content: [facts, citedPdf, { type: 'text' as const, text: 'What colour?' }] }] };
  const CITED_ANSWER = [
    { type: 'text', text: 'Echo: What colour? ' },
    { type: 'text', text: 'The grass is green.', citations: [{ type: 'char_location', cited_text: 'The grass is green.', document_index: 0, document_title: 'Facts', start_char_index: 0, end_char_index: 19 }] },
    { type: 'text', text: '(page 1)', citations: [{ type: 'page_location', cited_text: '(page 1)', document_index: 1, document_title: 'Report', start_page_number: 1, end_page_number: 2 }] },
  ];

  it('that ask for citations reach Anthropic as documents with citations on, and the answer keeps its cited blocks', async () => {
    const message = await claude.messages.create({ model: 'smart', ...askCited });
    const sent = emulators.anthropic.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[0]?.content.slice(0, 2)).toEqual([
      { type: 'document', source: facts.source, title: 'Facts', citations: { enabled: true } },
      { type: 'document', source: pdf.source, title: 'Report', citations: { enabled: true } },
    ]);
    expect(message.content).toEqual(CITED_ANSWER);
  });

  it('that ask for citations are answered streamed in cited blocks, each citation a citations_delta', async () => {
    const stream = claude.messages.stream({ model: 'smart', ...askCited });
    const citations: unknown[] = [];
    stream.on('citation', (citation) => citations.push(citation));
    const message = await stream.finalMessage();
    expect(message.content).toEqual(CITED_ANSWER);
    expect(citations).toEqual([CITED_ANSWER[1]!.citations![0], CITED_ANSWER[2]!.citations![0]]);
  });

  it.each(['fast', 'openai/gpt-4o-mini'])('that ask for citations are refused by %s, which writes none, naming where', async (model) => {
    const error = await claude.messages.create({ model, ...askCited }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(JSON.stringify((error as InstanceType<typeof Anthropic.BadRequestError>).error)).toContain('citations');
  });

  it('that ask for citations move an alias on to its Anthropic target', async () => {
    const { data, response } = await claude.messages.create({ model: 'gemini-first', ...askCited }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe('anthropic');
    expect(data.content).toEqual(CITED_ANSWER);
  });

  it("reach Anthropic with their context as the document's own, and another provider with it as text before them", async () => {
    const withContext = { ...pdf, title: 'Q3', context: 'Uploaded by finance' };
    await claude.messages.create({ model: 'smart', max_tokens: 200, messages: [{ role: 'user', content: [withContext, { type: 'text', text: 'Sum it up.' }] }] });
    const sent = emulators.anthropic.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[0]?.content).toEqual([{ type: 'document', source: pdf.source, title: 'Q3', context: 'Uploaded by finance' }, { type: 'text', text: 'Sum it up.' }]);
    const message = await claude.messages.create({ model: 'fast', max_tokens: 200, messages: [{ role: 'user', content: [withContext, { type: 'text', text: 'Sum it up.' }] }] });
    expect(message.content).toEqual([expect.objectContaining({ text: 'Echo: Uploaded by finance Sum it up. [documents: 1]' })]);
  });

  it('reach an OpenAI-format provider named, when their title is empty, as one without a title', async () => {
    const message = await claude.messages.create({ model: 'openai/gpt-4o-mini', max_tokens: 200, messages: [{ role: 'user', content: [{ ...pdf, title: '' }, { type: 'text', text: 'Sum it up.' }] }] });
    expect(message.content).toEqual([expect.objectContaining({ text: 'Echo: Sum it up. [documents: 1]' })]);
    const sent = emulators.openai.lastRequest()?.body as { messages: Array<{ content: Array<{ file?: unknown }> }> };
    expect(sent.messages[0]?.content[0]?.file).toEqual({ file_data: PDF_URL, filename: 'document.pdf' });
  });

  it('that ask for citations in plain text count as their text, not as pages', async () => {
    const long = 'The grass is green. '.repeat(2_000);
    const count = async (citations: boolean) => (await claude.messages.countTokens({ model: 'smart', messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: long }, citations: { enabled: citations } }, { type: 'text', text: 'Hi' }] }] })).input_tokens;
    const [plain, cited] = [await count(false), await count(true)];
    expect(Math.abs(cited - plain)).toBeLessThan(20);
  });

  it("count in the prompt's tokens a page at a time, as count_tokens answers before any call", async () => {
    const text = await claude.messages.countTokens({ model: 'smart', messages: [{ role: 'user', content: 'Hi' }] });
    const document = await claude.messages.countTokens({ model: 'smart', messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: SAMPLE_PDF_BASE64 } }, { type: 'text', text: 'Hi' }] }] });
    expect(document.input_tokens - text.input_tokens).toBe(PAGE_TOKENS);
  });

  it('are refused by a provider that takes none, and an alias moves on to the next target', async () => {
    const { data, response } = await openai.chat.completions.create({ model: 'mistral-first', messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: PDF_URL, filename: 'report.pdf' } }, { type: 'text', text: 'Sum it up.' }] }] }).withResponse();
    expect(response.headers.get('x-keygate-provider')).toBe('anthropic');
    expect(data.choices[0]?.message.content).toBe('Echo: Sum it up. [documents: 1]');
  });

  it("are refused by name when they are not a PDF's bytes, before any provider is called", async () => {
    const before = emulators.openai.requests().length;
    const error = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'file', file: { file_data: 'https://example.com/report.pdf', filename: 'report.pdf' } }] }] }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages[0].content[0].file.file_data');
    expect(emulators.openai.requests().length).toBe(before);
  });
});
