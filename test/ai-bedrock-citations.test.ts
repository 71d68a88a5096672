import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiGateway } from './ai-fixtures.js';
import { startBedrockEmulator, type BedrockEmulator } from './emulators/bedrock.js';
import { SAMPLE_PDF_BASE64 } from './emulators/sample-pdf.js';

const CLAUDE = 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0';

/** Claude on Bedrock citing documents for an Anthropic-format client: Converse's citations as Anthropic's. */
describe('citations from Claude on Bedrock', () => {
  let gateway: AiGateway;
  let bedrock: BedrockEmulator;
  let claude: Anthropic;

  beforeAll(async () => {
    bedrock = await startBedrockEmulator();
    gateway = await AiGateway.start();
    await gateway.configure({ providers: [{ name: 'bedrock', type: 'bedrock', baseUrl: bedrock.url, region: bedrock.region }] });
    await gateway.addProviderKey('bedrock', bedrock.credential);
    claude = new Anthropic({ baseURL: gateway.proxyUrl, apiKey: await gateway.createApp({ name: 'cite-app', team: 'cite-team' }), maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await bedrock?.stop();
  });

  const facts = { type: 'document' as const, source: { type: 'text' as const, media_type: 'text/plain' as const, data: 'The grass is green. The sky is blue.' }, title: 'Facts', citations: { enabled: true } };
  const report = { type: 'document' as const, source: { type: 'base64' as const, media_type: 'application/pdf' as const, data: SAMPLE_PDF_BASE64 }, title: 'Report', citations: { enabled: true } };
  const ask = { model: CLAUDE, max_tokens: 200, messages: [{ role: 'user' as const, content: [facts, report, { type: 'text' as const, text: 'What colour?' }] }] };
  const CITED = [
    { type: 'text', text: 'The grass is green.', citations: [{ type: 'char_location', cited_text: 'The grass is green.', document_index: 0, document_title: 'Facts', start_char_index: 0, end_char_index: 19 }] },
    { type: 'text', text: '(page 1)', citations: [{ type: 'page_location', cited_text: '(page 1)', document_index: 1, document_title: 'Report', start_page_number: 1, end_page_number: 1 }] },
  ];

  it('sends the documents with citations on, a plain-text one as text, and answers with the cited blocks in Anthropic’s form', async () => {
    const message = await claude.messages.create(ask);
    const sent = bedrock.lastRequest()?.body as { messages: Array<{ content: unknown[] }> };
    expect(sent.messages[0]?.content.slice(0, 2)).toEqual([
      { document: { format: 'txt', name: 'Facts', source: { text: facts.source.data }, citations: { enabled: true } } },
      { document: { format: 'pdf', name: 'Report', source: { bytes: SAMPLE_PDF_BASE64 } , citations: { enabled: true } } },
    ]);
    expect(message.content.slice(1)).toEqual(CITED);
  });

  it('streams the cited blocks, each citation a citations_delta before its text', async () => {
    const stream = claude.messages.stream(ask);
    const citations: unknown[] = [];
    stream.on('citation', (citation) => citations.push(citation));
    const message = await stream.finalMessage();
    expect(message.content.slice(1)).toEqual(CITED);
    expect(citations).toEqual(CITED.map((block) => block.citations[0]));
  });

  it("tells each citation the client's title, not the name Converse was sent, and none for an untitled document, whole and streamed", async () => {
    const renamed = { ...facts, title: 'Facts_2024 (v2).txt' };
    const untitled = { type: 'document' as const, source: report.source, citations: { enabled: true } };
    const titled = { ...ask, messages: [{ role: 'user' as const, content: [renamed, untitled, { type: 'text' as const, text: 'What colour?' }] }] };
    const message = await claude.messages.create(titled);
    const names = (bedrock.lastRequest()?.body as { messages: Array<{ content: Array<{ document?: { name: string } }> }> }).messages[0]!.content.slice(0, 2).map((block) => block.document?.name);
    expect(names).toEqual(['Facts-2024 (v2)', 'document']);
    const titles = (blocks: readonly unknown[]) => blocks.flatMap((block) => ((block as { citations?: Array<{ document_title: unknown }> }).citations ?? []).map((citation) => citation.document_title));
    expect(titles(message.content)).toEqual(['Facts_2024 (v2).txt', null]);
    const streamed = await claude.messages.stream(titled).finalMessage();
    expect(titles(streamed.content)).toEqual(['Facts_2024 (v2).txt', null]);
  });

  it.each(['bedrock/meta.llama3-70b-instruct-v1:0', 'bedrock/anthropic.claude-3-haiku-20240307-v1:0'])('refuses citations on %s, which writes none, naming where they were asked for', async (model) => {
    const error = await claude.messages.create({ ...ask, model }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(JSON.stringify((error as InstanceType<typeof Anthropic.BadRequestError>).error)).toContain('citations');
  });

  it("sends a document's context as its own to a model that cites, and as text before it to one that does not", async () => {
    const withContext = { ...report, citations: { enabled: false }, context: 'From finance' };
    const sentFor = async (model: string) => {
      await claude.messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: [withContext, { type: 'text', text: 'Sum it up.' }] }] });
      return (bedrock.lastRequest()?.body as { messages: Array<{ content: Array<Record<string, unknown>> }> }).messages[0]!.content;
    };
    expect((await sentFor(CLAUDE))[0]).toEqual({ document: { format: 'pdf', name: 'Report', source: { bytes: SAMPLE_PDF_BASE64 }, context: 'From finance' } });
    expect((await sentFor('bedrock/amazon.nova-pro-v1:0')).slice(0, 2)).toEqual([{ text: 'From finance' }, { document: { format: 'pdf', name: 'Report', source: { bytes: SAMPLE_PDF_BASE64 } } }]);
  });
});
