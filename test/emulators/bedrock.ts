import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeEventStreamMessage } from '../../src/ai/providers/bedrock/index.js';
import { sendJson, startEmulatorServer, writeEvents, type EmulatorHandle, type RecordedRequest as EmulatorRequest } from './emulator-http.js';
import { decodesToPdf, documentsNote, isBase64, toolsCalledFor } from './emulated-model.js';
import { REDACTED_THINKING_TRIGGER, adaptiveOnlyRefusal, thinkingFor, thinksOnlyAdaptively } from './anthropic.js';
import { embeddingFor } from './gemini.js';
import { sampleOf } from './schema-sample.js';

/**
 * A Bedrock runtime on 127.0.0.1 speaking the Converse API: POST /model/{modelId}/converse and /converse-stream (in
 * the AWS event-stream framing, one event per write), and InvokeModel (/invoke) for Titan and Cohere embeddings. It verifies each request's SigV4 signature by recomputing it
 * from the request as received, with its own known secret; it does not check clock skew, so tests may sign at a
 * fixed time. A request with `Authorization: Bearer <key>` instead is an Amazon Bedrock API key's
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys-use.html), taken unsigned when it is the emulator's
 * `apiKey`; any other key is refused as callers report Bedrock refusing one: a 403 whose JSON body is
 * `{"Message": "Authentication failed: Please make sure your API Key is valid."}`, with no exception named.
 *
 * Answers: a tool result in the last turn → text; tools given → a short text block then a call of each tool the last
 * user text names, else of the first, its input filled in from the tool's inputSchema (sampleOf: {"city":"Paris"}
 * for a weather tool's; streamed as a contentBlockStart and two toolUse deltas, or none for a tool without parameters,
 * whose call Bedrock streams as a start and a stop alone); structured output asked for (`outputConfig.textFormat`, in the shape the API reference
 * gives it, else a ValidationException) → a JSON text that follows the schema, spread over lines; otherwise "Hello
 * from the Bedrock emulator." (cut before the first of `stopSequences` it holds, stopReason stop_sequence; cut to
 * maxTokens words, stopReason max_tokens; with " [documents: N]" after it when the last turn holds N document blocks).
 * A user text containing "forbidden" → guardrail_intervened. Usage is 12 input tokens, and one output token per word.
 *
 * Documents (API_runtime_DocumentBlock.html): `document` blocks of user turns (their own or in a tool result's
 * content), checked as validateDocuments describes; refused as Converse refuses them, in its words where they are
 * known.
 *
 * When a Claude model is asked for `/stop_sequence` (additionalModelResponseFieldPaths, JSON Pointers), the answer's
 * `additionalModelResponseFields` (the messageStop event's, streamed) holds Claude's `stop_sequence`: the sequence
 * it stopped on, else null. Other models' responses have no such field, and the path is ignored, as Converse does.
 *
 * Prompt caching (https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html), modelled simply but
 * deterministically: `cachePoint` blocks (API_runtime_CachePointBlock.html: only `type: "default"` and a `ttl` of 5m
 * or 1h, alone in their block) are taken in `toolConfig.tools` (Claude models only), `system` and message content
 * (Claude and Amazon Nova models), at most 4 a request, never inside a tool result; anywhere else, or for another
 * model, the call is a ValidationException (worded by the emulator). The prompt is read in the order tools, system,
 * messages; the prefix before a cachePoint counts one token per 4 characters of its JSON (no minimum length). The
 * longest prefix this emulator cached for the same model within its TTL is read (`cacheReadInputTokens`); each
 * later cachePoint writes its prefix's tokens beyond the one before it (`cacheWriteInputTokens`, with
 * `cacheDetails` by TTL, 1h first) and is cached from then on. The 12 input tokens are what follows the last
 * cachePoint, whatever its length. A request without cachePoints has no cache counts.
 *
 * Extended thinking for Claude models (claude-messages-extended-thinking.html), asked in `additionalModelRequestFields`
 * as Anthropic's `thinking` (its members are Anthropic's: `thinking`, `output_config`, `anthropic_beta`, `top_k`; any
 * other, or any member for a model that is not Claude, is refused as the model refuses an extraneous key). With thinking
 * enabled (a `budget_tokens` of at least 1024, below `inferenceConfig.maxTokens`) or adaptive, the answer starts with a
 * `reasoningContent` block whose `reasoningText` is thinkingFor the last user text, signed by this emulator
 * (reasoningSignatureFor), then a `redactedContent` block (REDACTED_REASONING) when that text holds Anthropic's
 * redacted-thinking test string; streamed as `reasoningContent` deltas of `text`, one `signature`, and for the redacted
 * block two `redactedContent` deltas of its bytes. The thinking's words count as output tokens (TokenUsage has no
 * count of its own for them). As Claude does, it refuses beside thinking a temperature other than 1, a topP under
 * 0.95, a top_k, a forced tool (`toolChoice` any or tool), a tool result whose assistant turn does not start with its
 * reasoning block; and, always, a reasoning block whose signature or redacted bytes are not the ones it answered with.
 *
 * Amazon Nova 2 models take `additionalModelRequestFields.reasoningConfig` (the Nova 2 user guide's extended
 * thinking: `type` enabled or disabled, `maxReasoningEffort` low, medium or high, and with high no temperature, topP
 * nor maxTokens, else a ValidationException); enabled, the answer starts with a reasoningText of `[REDACTED]`, as Nova
 * 2 Lite redacts its reasoning, unsigned.
 */
export interface BedrockEmulatorOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  /** When set, requests must carry this x-amz-security-token. */
  sessionToken?: string;
  /** The Amazon Bedrock API key taken as `Authorization: Bearer`; none by default, so that every Bearer token is refused. */
  apiKey?: string;
  region?: string;
}

/**
 * normal; rate-limited (429 ThrottlingException, retry-after: 2); unavailable (503 ServiceUnavailableException);
 * stream-exception (a modelStreamErrorException after the first text delta); stream-throttled (a throttlingException,
 * which ConverseStreamOutput documents as HTTP 429, right after messageStart, before any content);
 * stream-throttled-midway (the same after the first text delta); corrupt-stream (the second frame's payload altered
 * after its CRC was computed).
 */
export type BedrockEmulatorMode = 'normal' | 'rate-limited' | 'unavailable' | 'stream-exception' | 'stream-throttled' | 'stream-throttled-midway' | 'corrupt-stream';

export interface RecordedRequest extends EmulatorRequest {
  /** The body as signed: the SigV4 payload hash is computed over it. */
  rawBody: string;
}

export interface BedrockEmulator extends EmulatorHandle<RecordedRequest> {
  /** Every request received so far, oldest first. */
  requests(): readonly RecordedRequest[];
  region: string;
  /** The credential secret the emulator accepts, in the key pool's format. */
  credential: string;
  setMode(mode: BedrockEmulatorMode): void;
}

/** Converse's request members and inferenceConfig's (API_runtime_Converse.html, API_runtime_InferenceConfiguration.html): others are refused. */
const CONVERSE_MEMBERS = ['messages', 'system', 'inferenceConfig', 'toolConfig', 'guardrailConfig', 'additionalModelRequestFields', 'additionalModelResponseFieldPaths', 'promptVariables', 'requestMetadata', 'performanceConfig', 'outputConfig'];
const INFERENCE_MEMBERS = ['maxTokens', 'stopSequences', 'temperature', 'topP'];

type Block = Record<string, unknown>;

/** A toolUse block the emulated model writes (API_runtime_ToolUseBlock.html). */
interface ToolUse {
  toolUseId: string;
  name: string;
  input: unknown;
}

interface ConverseBody {
  messages?: Array<{ role?: string; content?: Block[] }>;
  system?: Block[];
  inferenceConfig?: { maxTokens?: number; stopSequences?: string[]; temperature?: number; topP?: number };
  toolConfig?: { tools?: Array<{ toolSpec?: { name?: string; inputSchema?: { json?: Record<string, unknown> } }; cachePoint?: unknown }>; toolChoice?: Record<string, unknown> };
  additionalModelRequestFields?: unknown;
  additionalModelResponseFieldPaths?: unknown;
  outputConfig?: { textFormat?: { type?: unknown; structure?: { jsonSchema?: { schema?: unknown; name?: unknown; description?: unknown } } } };
}

/** The signature the emulator gives a reasoningText: only it can make one, and it fits only that text. */
export const reasoningSignatureFor = (text: string): string => createHash('sha256').update(`bedrock-emulator-reasoning\n${text}`).digest('base64');
/** The bytes of the emulator's redacted reasoning, as Converse's JSON carries them: base64. */
export const REDACTED_REASONING = Buffer.from('bedrock emulator redacted reasoning, in two pieces').toString('base64');

const TEXT = 'Hello from the Bedrock emulator.';
const AFTER_TOOL = 'It is 21 degrees in Paris.';

export async function startBedrockEmulator(options: BedrockEmulatorOptions = {}): Promise<BedrockEmulator> {
  const accessKeyId = options.accessKeyId ?? 'AKIDEMULATOR';
  const secretAccessKey = options.secretAccessKey ?? 'emulator/secret+key';
  const region = options.region ?? 'us-east-1';
  let mode: BedrockEmulatorMode = 'normal';
  /** Cached prompt prefixes, by model and prefix, with when they expire. */
  const cached = new Map<string, number>();

  const server = await startEmulatorServer(({ req, res, rawBody, body }) => answer(req, res, rawBody, body as ConverseBody | undefined), {
    record: ({ req, rawBody, body }): RecordedRequest => ({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody, body }),
  });

  async function answer(req: IncomingMessage, res: ServerResponse, rawBody: string, body: ConverseBody | undefined) {
    const route = /^\/model\/([^/]+)\/(converse|converse-stream|invoke)$/.exec((req.url ?? '').split('?')[0] ?? '');
    if (req.method !== 'POST' || !route) return error(res, 404, 'UnknownOperationException', 'The requested operation is not recognized by the service.');
    if (/^Bearer /.test(req.headers.authorization ?? '')) {
      if (!options.apiKey || req.headers.authorization !== `Bearer ${options.apiKey}`) return sendJson(res, 403, { Message: 'Authentication failed: Please make sure your API Key is valid.' });
    } else {
      const authFailure = verifySignature(req, rawBody);
      if (authFailure) return error(res, 403, authFailure.type, authFailure.message);
    }
    if (mode === 'rate-limited') return error(res, 429, 'ThrottlingException', 'Too many requests, please wait before trying again.', { 'retry-after': '2' });
    if (mode === 'unavailable') return error(res, 503, 'ServiceUnavailableException', 'Bedrock is unable to process your request.');
    if (route[2] === 'invoke') return invokeEmbedding(res, decodeURIComponent(route[1]!), body as Record<string, unknown> | undefined);
    const modelId = decodeURIComponent(route[1]!);
    const invalid = validate(body, modelId);
    if (invalid || !body) return error(res, 400, 'ValidationException', invalid ?? 'The request body is not JSON.');

    const reply = replyTo(body, modelId);
    const usage = { ...reply.usage, ...cacheUsage(body, modelId) };
    const fields = reply.fields ? { additionalModelResponseFields: reply.fields } : {};
    if (route[2] === 'converse') {
      const content = [...reply.reasoning, ...(reply.text ? [{ text: reply.text }] : []), ...reply.cited.map((citationsContent) => ({ citationsContent })), ...reply.toolUses.map((toolUse) => ({ toolUse }))];
      return sendJson(res, 200, { output: { message: { role: 'assistant', content } }, stopReason: reply.stopReason, ...fields, usage, metrics: { latencyMs: 1 } }, { 'x-amzn-requestid': 'emulator-request' });
    }

    const frames: Buffer[] = [event('messageStart', { role: 'assistant' })];
    let index = 0;
    for (const block of reply.reasoning) {
      const { reasoningText, redactedContent } = block.reasoningContent;
      if (reasoningText) {
        for (const piece of reasoningText.text.split(/(?= )/)) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { text: piece } } }));
        if (reasoningText.signature) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { signature: reasoningText.signature } } }));
      } else {
        const bytes = Buffer.from(redactedContent!, 'base64');
        for (const piece of [bytes.subarray(0, 10), bytes.subarray(10)]) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { reasoningContent: { redactedContent: piece.toString('base64') } } }));
      }
      frames.push(event('contentBlockStop', { contentBlockIndex: index++ }));
    }
    const words = reply.text.split(/(?= )/);
    if (reply.text) {
      for (const word of words) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { text: word } }));
      frames.push(event('contentBlockStop', { contentBlockIndex: index++ }));
    }
    // A cited block streams its citation, then its text (ContentBlockDelta's `citation`, API_runtime_CitationsDelta.html).
    for (const block of reply.cited) {
      for (const citation of block.citations) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { citation } }));
      for (const { text } of block.content) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { text } }));
      frames.push(event('contentBlockStop', { contentBlockIndex: index++ }));
    }
    for (const toolUse of reply.toolUses) {
      const input = JSON.stringify(toolUse.input);
      frames.push(event('contentBlockStart', { contentBlockIndex: index, start: { toolUse: { toolUseId: toolUse.toolUseId, name: toolUse.name } } }));
      if (input !== '{}') for (const piece of [input.slice(0, 8), input.slice(8)]) frames.push(event('contentBlockDelta', { contentBlockIndex: index, delta: { toolUse: { input: piece } } }));
      frames.push(event('contentBlockStop', { contentBlockIndex: index++ }));
    }
    frames.push(event('messageStop', { stopReason: reply.stopReason, ...fields }));
    frames.push(event('metadata', { usage, metrics: { latencyMs: 1 } }));
    const exception = (type: string, message: string) => encodeEventStreamMessage({ ':exception-type': type, ':content-type': 'application/json', ':message-type': 'exception' }, Buffer.from(JSON.stringify({ message })));
    if (mode === 'stream-exception') frames.splice(2, frames.length, exception('modelStreamErrorException', 'The model stopped answering.'));
    if (mode === 'stream-throttled' || mode === 'stream-throttled-midway') frames.splice(mode === 'stream-throttled' ? 1 : 2, frames.length, exception('throttlingException', 'Too many tokens, please wait before trying again.'));
    if (mode === 'corrupt-stream') {
      const frame = frames[1] as Buffer;
      frame.writeUInt8(frame.readUInt8(frame.length - 6) ^ 0x20, frame.length - 6);
    }
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'emulator-request' });
    await writeEvents(res, frames);
  }

  /** The cache counts of a request, and its prefixes cached from now on (see the model above). */
  function cacheUsage(body: ConverseBody, modelId: string): Record<string, unknown> {
    const points = cachePrefixes(body);
    if (points.length === 0) return {};
    const now = Date.now();
    const key = (prefix: string) => `${modelId}\n${prefix}`;
    let hit = -1;
    points.forEach((point, i) => {
      if ((cached.get(key(point.prefix)) ?? 0) > now) hit = i;
    });
    const read = hit >= 0 ? points[hit]!.tokens : 0;
    const written = { '1h': 0, '5m': 0 };
    points.forEach((point, i) => {
      if (i > hit) written[point.ttl] += Math.max(0, point.tokens - (i > 0 ? points[i - 1]!.tokens : 0));
      cached.set(key(point.prefix), now + (point.ttl === '1h' ? 3_600_000 : 300_000));
    });
    const details = (['1h', '5m'] as const).filter((ttl) => written[ttl] > 0).map((ttl) => ({ ttl, inputTokens: written[ttl] }));
    return { cacheReadInputTokens: read, cacheWriteInputTokens: written['1h'] + written['5m'], ...(details.length > 0 ? { cacheDetails: details } : {}) };
  }

  /**
   * InvokeModel for the embedding models, each in its documented format: Titan Text Embeddings V1 (`inputText` alone,
   * 1,536 floats) and V2 (one `inputText`, `dimensions` 256, 512 or 1024, `inputTextTokenCount` back) and Cohere Embed v3 (1 to 96 `texts` and a required
   * `input_type`, no token counts back). Extraneous keys are refused, as Bedrock refuses them.
   */
  function invokeEmbedding(res: ServerResponse, profile: string, body: Record<string, unknown> | undefined) {
    // A cross-region inference profile names the model after its geography ("us.", "eu.", "apac.", "us-gov."…).
    const model = profile.replace(/^(?:[a-z]{2,4}|us-gov|global)\./, '');
    const malformed = (why: string) => error(res, 400, 'ValidationException', `Malformed input request: ${why}, please reformat your input and try again.`);
    if (!body) return malformed('the body is not JSON');
    const extraneous = (allowed: string[]) => Object.keys(body).find((key) => !allowed.includes(key));
    if (model.startsWith('amazon.titan-embed-text-v1')) {
      const extra = extraneous(['inputText']);
      if (extra) return malformed(`extraneous key [${extra}] is not permitted`);
      if (typeof body.inputText !== 'string' || body.inputText === '') return malformed('#: required key [inputText] not found');
      return sendJson(res, 200, { embedding: embeddingFor(body.inputText, 1536), inputTextTokenCount: body.inputText.split(/\s+/).filter(Boolean).length }, { 'x-amzn-requestid': 'emulator-request' });
    }
    if (model.startsWith('amazon.titan-embed-text-v2')) {
      const extra = extraneous(['inputText', 'dimensions', 'normalize', 'embeddingTypes']);
      if (extra) return malformed(`extraneous key [${extra}] is not permitted`);
      if (typeof body.inputText !== 'string' || body.inputText === '') return malformed('#: required key [inputText] not found');
      const dimensions = body.dimensions ?? 1024;
      if (![256, 512, 1024].includes(dimensions as number)) return malformed('#/dimensions: must be one of 256, 512, 1024');
      const embedding = embeddingFor(body.inputText, dimensions as number);
      return sendJson(res, 200, { embedding, embeddingsByType: { float: embedding }, inputTextTokenCount: body.inputText.split(/\s+/).filter(Boolean).length }, { 'x-amzn-requestid': 'emulator-request' });
    }
    if (model.startsWith('cohere.embed-')) {
      const extra = extraneous(['texts', 'input_type', 'truncate', 'embedding_types', 'images']);
      if (extra) return malformed(`extraneous key [${extra}] is not permitted`);
      const texts = body.texts;
      if (!Array.isArray(texts) || texts.length === 0 || texts.length > 96 || !texts.every((t) => typeof t === 'string')) return malformed('#/texts: expected 1 to 96 strings');
      if (!['search_document', 'search_query', 'classification', 'clustering'].includes(body.input_type as string)) return malformed('#: required key [input_type] not found or not one of search_document, search_query, classification, clustering');
      return sendJson(res, 200, { id: 'emulator-embed', response_type: 'embeddings_floats', texts, embeddings: (texts as string[]).map((text) => embeddingFor(text, 1024)) }, { 'x-amzn-requestid': 'emulator-request' });
    }
    return error(res, 400, 'ValidationException', 'The provided model identifier is invalid.');
  }

  /** SigV4 recomputed from the request as it arrived (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). */
  function verifySignature(req: IncomingMessage, rawBody: string): { type: string; message: string } | undefined {
    const header = req.headers.authorization ?? '';
    const parsed = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(header);
    if (!parsed) return { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
    const [, keyId, day, scopeRegion, service, signedHeaders, signature] = parsed as unknown as [string, string, string, string, string, string, string];
    if (keyId !== accessKeyId) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
    if (options.sessionToken && req.headers['x-amz-security-token'] !== options.sessionToken) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const names = signedHeaders.split(';');
    if (scopeRegion !== region || service !== 'bedrock' || !amzDate.startsWith(day) || !names.includes('host') || !names.includes('x-amz-date')) {
      return { type: 'InvalidSignatureException', message: `Credential should be scoped to a valid region and service, and signed with host and x-amz-date.` };
    }
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    const canonicalUri = path.split('/').map(encode).join('/');
    const canonicalQuery = query
      .split('&')
      .filter(Boolean)
      .map((pair) => pair.split('=').map((part) => encode(decodeURIComponent(part))).join('='))
      .sort()
      .join('&');
    const canonicalHeaders = names.map((name) => `${name}:${String(req.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
    const canonical = ['POST', canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, sha256(rawBody)].join('\n');
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${day}/${scopeRegion}/${service}/aws4_request`, sha256(canonical)].join('\n');
    let key: Buffer = hmac(`AWS4${secretAccessKey}`, day);
    for (const part of [scopeRegion, service, 'aws4_request']) key = hmac(key, part);
    const expected = hmac(key, stringToSign);
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      // AWS appends what it expected, canonical headers (and so any session token) included.
      return {
        type: 'InvalidSignatureException',
        message: `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
      };
    }
    return undefined;
  }

  return {
    ...server,
    region,
    credential: options.sessionToken ? `${accessKeyId}:${secretAccessKey}:${options.sessionToken}` : `${accessKeyId}:${secretAccessKey}`,
    setMode: (next: BedrockEmulatorMode) => {
      mode = next;
    },
  };
}

/** Each cachePoint's prefix (the prompt before it, in the order tools, system, messages), its tokens and its TTL. */
function cachePrefixes(body: ConverseBody): Array<{ prefix: string; tokens: number; ttl: '5m' | '1h' }> {
  const prompt: Array<[string, unknown]> = [
    ...(body.toolConfig?.tools ?? []).map((tool): [string, unknown] => ['tool', tool]),
    ...(body.system ?? []).map((block): [string, unknown] => ['system', block]),
    ...(body.messages ?? []).flatMap((message) => (message.content ?? []).map((block): [string, unknown] => [String(message.role), block])),
  ];
  return prompt.flatMap(([, block], i) => {
    if (!isCachePoint(block)) return [];
    const prefix = JSON.stringify(prompt.slice(0, i).filter(([, before]) => !isCachePoint(before)));
    return [{ prefix, tokens: Math.ceil(prefix.length / 4), ttl: (block as { cachePoint: { ttl?: '5m' | '1h' } }).cachePoint.ttl ?? '5m' }];
  });
}

const isCachePoint = (block: unknown): boolean => typeof block === 'object' && block !== null && 'cachePoint' in block;

/** Where the cachePoints of a request are, and whether each is well formed and allowed there for this model. */
function validateCachePoints(body: ConverseBody, modelId: string): string | undefined {
  // The Claude models of AWS's prompt-caching page: 3.5 Haiku, 3.7 Sonnet, and Claude 4 and later.
  const claude = /(^|[.:/])anthropic\.claude-(?:3-5-haiku|3-7-sonnet|[a-z]+-(?:[4-9]|[1-9]\d))/.test(modelId);
  const nova = /(^|[.:/])amazon\.nova/.test(modelId);
  const places: Array<[string, unknown[]]> = [
    ['toolConfig.tools', body.toolConfig?.tools ?? []],
    ['system', body.system ?? []],
    ...(body.messages ?? []).map((message, i): [string, unknown[]] => [`messages.${i}.content`, message.content ?? []]),
  ];
  let count = 0;
  for (const [place, blocks] of places) {
    for (const block of blocks) {
      const result = typeof block === 'object' && block !== null ? (block as { toolResult?: { content?: unknown[] } }).toolResult : undefined;
      if (result?.content?.some(isCachePoint)) return `${place}: a tool result's content cannot hold a cachePoint.`;
      if (!isCachePoint(block)) continue;
      count++;
      const point = (block as { cachePoint: unknown }).cachePoint as Record<string, unknown>;
      if (Object.keys(block as object).length !== 1) return `${place}: a cachePoint block must hold only the cachePoint member.`;
      if (typeof point !== 'object' || point === null || point.type !== 'default' || Object.keys(point).some((key) => key !== 'type' && key !== 'ttl')) return `1 validation error detected: Value at '${place}.cachePoint.type' failed to satisfy constraint: Member must satisfy enum value set: [default]`;
      if (point.ttl !== undefined && point.ttl !== '5m' && point.ttl !== '1h') return `1 validation error detected: Value at '${place}.cachePoint.ttl' failed to satisfy constraint: Member must satisfy enum value set: [5m, 1h]`;
      if (!claude && !(nova && place !== 'toolConfig.tools')) return `${place}: prompt caching in this field is not supported for model ${modelId}.`;
    }
  }
  return count > 4 ? `A maximum of 4 cachePoint blocks may be provided. Found ${count}.` : undefined;
}

function validate(body: ConverseBody | undefined, modelId: string): string | undefined {
  const extraneous = Object.keys(body ?? {}).find((key) => !CONVERSE_MEMBERS.includes(key)) ?? Object.keys(body?.inferenceConfig ?? {}).find((key) => !INFERENCE_MEMBERS.includes(key));
  if (extraneous) return `Malformed input request: extraneous key [${extraneous}] is not permitted, please reformat your input and try again.`;
  const messages = body?.messages;
  if (!Array.isArray(messages) || messages.length === 0) return 'The model returned the following errors: messages: at least one message is required.';
  if (messages[0]?.role !== 'user') return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  for (let i = 1; i < messages.length; i++) {
    if (messages[i]?.role === messages[i - 1]?.role) return 'A conversation must alternate between user and assistant roles.';
  }
  if ((body?.inferenceConfig?.stopSequences?.length ?? 0) > 4) return '1 validation error detected: Value at \'inferenceConfig.stopSequences\' failed to satisfy constraint: Member must have length less than or equal to 4';
  // Claude refuses a stop sequence only of whitespace, on Bedrock as on Anthropic's API (continuedev/continue#1660).
  if (/(^|[.:/])anthropic\./.test(modelId) && (body?.inferenceConfig?.stopSequences ?? []).some((sequence) => sequence.trim() === '')) return 'The model returned the following errors: stop_sequences: each stop sequence must contain non-whitespace';
  const usesTools = messages.some((m) => (m.content ?? []).some((block) => 'toolUse' in block || 'toolResult' in block));
  if (usesTools && !body?.toolConfig) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  for (const m of messages) for (const block of m.content ?? []) if ('text' in block && String(block.text).trim() === '') return 'The text field in the ContentBlock object is blank.';
  const documents = validateDocuments(body!);
  if (documents) return documents;
  const paths = body?.additionalModelResponseFieldPaths;
  if (paths !== undefined && (!Array.isArray(paths) || paths.some((path) => typeof path !== 'string' || !path.startsWith('/')))) return 'additionalModelResponseFieldPaths: each path must be a JSON Pointer.';
  const cachePoints = validateCachePoints(body!, modelId);
  if (cachePoints) return cachePoints;
  const thinking = validateThinking(body!, modelId);
  if (thinking) return thinking;
  if (body?.outputConfig !== undefined) return outputSchemaOf(body).error;
  return undefined;
}

/** DocumentBlock's `format`s (API_runtime_DocumentBlock.html). */
const DOCUMENT_FORMATS = ['pdf', 'csv', 'doc', 'docx', 'xls', 'xlsx', 'html', 'txt', 'md'];
/**
 * DocumentBlock's `name`: 1 to 200 alphanumerics, hyphens, parentheses, square brackets and whitespace, never two
 * whitespace characters in a row. Whitespace is the ASCII space alone: Bedrock refuses tabs and the ideographic space
 * (aws-samples/generative-ai-use-cases#1677).
 */
const DOCUMENT_NAME = /^(?!.* {2})[A-Za-z0-9 ()[\]-]{1,200}$/;
/** The members of DocumentSource, a union of which a document gives exactly one (API_runtime_DocumentSource.html). */
const DOCUMENT_SOURCES = ['bytes', 's3Location', 'text', 'content'];

/**
 * The documents of a request, where a message's content or a tool result's may hold them, as Converse checks them:
 * in a user turn, a `name` and `format` as DOCUMENT_NAME and DOCUMENT_FORMATS say, one source, `bytes` that are
 * base64 (of a PDF's bytes, `%PDF-…`, for format pdf); a message with a document has a text block too. At most 5
 * documents a request, their names all different:
 * refused in Bedrock's words, as quoted in aws-samples/generative-ai-use-cases#1685 and maximhq/bifrost#7003.
 */
function validateDocuments(body: ConverseBody): string | undefined {
  const documents = (body.messages ?? []).flatMap((message, i) =>
    (message.content ?? []).flatMap((block, j) => {
      const at = `messages.${i}.content.${j}`;
      const inResult = ((block.toolResult as { content?: Block[] } | undefined)?.content ?? []).flatMap((inner, k) => ('document' in inner ? [{ at: `${at}.toolResult.content.${k}.document`, document: inner.document }] : []));
      return [...('document' in block ? [{ at: `${at}.document`, document: block.document }] : []), ...inResult].map((found) => ({ ...found, role: message.role }));
    }),
  );
  if (documents.length > 5) return "You can't include more than 5 documents in a request.";
  const names = new Set<string>();
  for (const { at, document, role } of documents) {
    if (role !== 'user') return `${at}: a document may only be in a user message.`;
    const { name, format, source } = (document ?? {}) as { name?: unknown; format?: unknown; source?: Record<string, unknown> };
    if (typeof name !== 'string' || !DOCUMENT_NAME.test(name)) return 'The document file name can only contain alphanumeric characters, whitespace characters, hyphens, parentheses, and square brackets. The name can\'t contain more than one consecutive whitespace character. Check that the file name conforms to these restrictions and retry your request.';
    if (names.has(name)) return "Messages can't contain duplicate document names. Rename the document and retry your request.";
    names.add(name);
    // `format` is optional (API_runtime_DocumentBlock.html: "Required: No").
    if (format !== undefined && !DOCUMENT_FORMATS.includes(format as string)) return `1 validation error detected: Value '${String(format)}' at '${at}.format' failed to satisfy constraint: Member must satisfy enum value set: [${DOCUMENT_FORMATS.join(', ')}]`;
    const members = Object.keys(source ?? {}).filter((key) => DOCUMENT_SOURCES.includes(key));
    if (members.length !== 1) return `${at}.source: exactly one of ${DOCUMENT_SOURCES.join(', ')} must be set.`;
    if (members[0] !== 'bytes') continue;
    if (source!.bytes === '') return `1 validation error detected: Value at '${at}.source.bytes' failed to satisfy constraint: Member must have length greater than or equal to 1`;
    if (!isBase64(source!.bytes)) return `${at}.source.bytes: the document's bytes must be base64.`;
    if (format === 'pdf' && !decodesToPdf(source!.bytes)) return `${at}.source.bytes: the document is not a valid pdf file.`;
  }
  // Message.content: "If you include a ContentBlock with a document field in the array, you must also include a
  // ContentBlock with a text field" (API_runtime_Message.html). Worded by the emulator.
  const bare = (body.messages ?? []).findIndex((message) => (message.content ?? []).some((block) => 'document' in block) && !(message.content ?? []).some((block) => 'text' in block));
  if (bare >= 0) return `messages.${bare}.content: a message with a document must also have a text block.`;
  return undefined;
}

const CLAUDE_FIELDS = ['thinking', 'output_config', 'anthropic_beta', 'top_k'];

const isNova2 = (modelId: string): boolean => /(^|[.:/])amazon\.nova-2-/.test(modelId);

/** Whether the request asks a Nova 2 model to reason: `reasoningConfig` enabled. */
function novaReasoningOn(body: ConverseBody, modelId: string): boolean {
  return isNova2(modelId) && (body.additionalModelRequestFields as { reasoningConfig?: { type?: unknown } } | undefined)?.reasoningConfig?.type === 'enabled';
}

/** Whether the request asks a Claude model to think: `thinking` enabled or adaptive. */
function thinkingOn(body: ConverseBody, modelId: string): boolean {
  const fields = body.additionalModelRequestFields as { thinking?: { type?: unknown } } | undefined;
  return /(^|[.:/])anthropic\./.test(modelId) && (fields?.thinking?.type === 'enabled' || fields?.thinking?.type === 'adaptive');
}

/**
 * A Claude model's thinking as Bedrock passes Anthropic's refusals on (as ValidationExceptions), and the reasoning
 * blocks of the history (API_runtime_ReasoningContentBlock.html: a union of `reasoningText`, whose `text` is required,
 * and `redactedContent`), which must come back as the emulator answered them.
 */
function validateThinking(body: ConverseBody, modelId: string): string | undefined {
  const fields = body.additionalModelRequestFields;
  const claude = /(^|[.:/])anthropic\./.test(modelId);
  if (fields !== undefined) {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return 'The format of the value at additionalModelRequestFields is invalid. Provide a json object for the field and try again.';
    const allowed = claude ? CLAUDE_FIELDS : isNova2(modelId) ? ['reasoningConfig'] : [];
    const extraneous = Object.keys(fields).find((key) => !allowed.includes(key));
    if (extraneous) return `Malformed input request: #: extraneous key [${extraneous}] is not permitted, please reformat your input and try again.`;
    const reasoning = (fields as { reasoningConfig?: Record<string, unknown> }).reasoningConfig;
    if (reasoning !== undefined) {
      if (reasoning.type !== 'enabled' && reasoning.type !== 'disabled') return 'reasoningConfig.type must be one of enabled, disabled.';
      if (reasoning.type === 'enabled' && !['low', 'medium', 'high'].includes(reasoning.maxReasoningEffort as string)) return 'reasoningConfig.maxReasoningEffort must be one of low, medium, high.';
      const config = body.inferenceConfig ?? {};
      if (reasoning.maxReasoningEffort === 'high' && (config.temperature !== undefined || config.topP !== undefined || config.maxTokens !== undefined)) return 'temperature, topP and maxTokens must not be set when maxReasoningEffort is high.';
    }
    const thinking = (fields as { thinking?: Record<string, unknown> }).thinking;
    if (thinking !== undefined) {
      if ((thinking.type === 'enabled' || thinking.type === 'disabled') && thinksOnlyAdaptively(modelId)) return adaptiveOnlyRefusal(thinking.type);
      if (thinking.type === 'enabled') {
        const budget = thinking.budget_tokens;
        if (!Number.isInteger(budget) || (budget as number) < 1024) return 'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024';
        if (body.inferenceConfig?.maxTokens === undefined || (budget as number) >= body.inferenceConfig.maxTokens) return '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size';
      } else if (thinking.type !== 'disabled' && thinking.type !== 'adaptive') return "thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'";
    }
  }
  if (thinkingOn(body, modelId)) {
    const { temperature, topP } = body.inferenceConfig ?? {};
    if (temperature !== undefined && temperature !== 1) return '`temperature` may only be set to 1 when thinking is enabled.';
    if (topP !== undefined && topP < 0.95) return '`top_p` must be at least 0.95 when thinking is enabled.';
    if ((fields as Record<string, unknown>).top_k !== undefined) return '`top_k` may not be set when thinking is enabled.';
    const choice = body.toolConfig?.toolChoice ?? {};
    if ('any' in choice || 'tool' in choice) return 'Thinking may not be enabled when tool_choice forces tool use.';
  }
  const messages = body.messages ?? [];
  for (const [i, message] of messages.entries()) {
    for (const [j, block] of (message.content ?? []).entries()) {
      if (!('reasoningContent' in block)) continue;
      const reasoning = block.reasoningContent as { reasoningText?: { text?: unknown; signature?: unknown }; redactedContent?: unknown };
      if (message.role !== 'assistant') return `messages.${i}.content.${j}: reasoning content may only be in an assistant message.`;
      if ((reasoning.reasoningText === undefined) === (reasoning.redactedContent === undefined)) return `messages.${i}.content.${j}.reasoningContent: exactly one of reasoningText and redactedContent must be set.`;
      if (reasoning.reasoningText && (typeof reasoning.reasoningText.text !== 'string' || reasoning.reasoningText.signature !== reasoningSignatureFor(reasoning.reasoningText.text))) return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
      if (reasoning.redactedContent !== undefined && reasoning.redactedContent !== REDACTED_REASONING) return `messages.${i}.content.${j}: Invalid \`data\` in \`redacted_thinking\` block`;
    }
  }
  // With thinking on, a tool-use loop is one assistant turn, which must start with its reasoning, sent back unchanged.
  const last = messages.at(-1);
  const assistant = messages.length - 2;
  if (thinkingOn(body, modelId) && (last?.content ?? []).some((block) => 'toolResult' in block) && messages[assistant]?.role === 'assistant' && !('reasoningContent' in (messages[assistant]!.content?.[0] ?? {}))) {
    return `messages.${assistant}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${Object.keys(messages[assistant]!.content?.[0] ?? {})[0] ?? 'nothing'}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`.`;
  }
  return undefined;
}

/**
 * The schema of a structured-output request: `outputConfig.textFormat` is an OutputFormat of type `json_schema`
 * whose `structure.jsonSchema.schema` is the JSON schema as a string
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputFormat.html).
 */
function outputSchemaOf(body: ConverseBody): { schema?: Record<string, unknown>; error?: string } {
  const format = body.outputConfig?.textFormat;
  if (!format) return {};
  if (format.type !== 'json_schema') return { error: `1 validation error detected: Value '${String(format.type)}' at 'outputConfig.textFormat.type' failed to satisfy constraint: Member must satisfy enum value set: [json_schema]` };
  const definition = format.structure?.jsonSchema;
  if (typeof definition?.schema !== 'string') return { error: 'outputConfig.textFormat.structure.jsonSchema.schema: the JSON schema must be given as a string.' };
  try {
    const schema: unknown = JSON.parse(definition.schema);
    if (schema !== null && typeof schema === 'object' && !Array.isArray(schema)) return { schema: schema as Record<string, unknown> };
  } catch {
    // reported below
  }
  return { error: 'The provided JSON schema is not valid.' };
}

function replyTo(body: ConverseBody, modelId: string) {
  const lastTurn = body.messages?.[body.messages.length - 1]?.content ?? [];
  const userText = lastTurn.map((block) => (typeof block.text === 'string' ? block.text : '')).join(' ');
  const hasToolResult = lastTurn.some((block) => 'toolResult' in block);
  const specs = (body.toolConfig?.tools ?? []).flatMap((t) => (t.toolSpec ? [t.toolSpec] : []));
  const schema = outputSchemaOf(body).schema;
  let text = `${TEXT}${documentsNote(lastTurn.filter((block) => 'document' in block).length)}`;
  let stopReason = 'end_turn';
  let toolUses: ToolUse[] = [];
  if (hasToolResult) text = AFTER_TOOL;
  else if (specs.length > 0) {
    text = 'Let me check.';
    toolUses = toolsCalledFor(specs, userText, (spec) => String(spec.name)).map((spec, i) => ({ toolUseId: `tooluse_emulator0${i + 1}`, name: String(spec.name), input: sampleOf(spec.inputSchema?.json) }));
    stopReason = 'tool_use';
  } else if (schema) text = JSON.stringify(sampleOf(schema), null, 1);
  else if (/forbidden/.test(userText)) {
    text = '';
    stopReason = 'guardrail_intervened';
  }
  // Converse says that a stop sequence ended the answer, not which one; Claude's response does, when asked.
  const stops = (body.inferenceConfig?.stopSequences ?? []).map((sequence) => ({ sequence, at: text.indexOf(sequence) })).filter(({ at }) => at !== -1);
  const stop = stops.sort((a, b) => a.at - b.at)[0];
  if (stopReason === 'end_turn' && stop) {
    text = text.slice(0, stop.at);
    stopReason = 'stop_sequence';
  }
  const askedStop = Array.isArray(body.additionalModelResponseFieldPaths) && body.additionalModelResponseFieldPaths.includes('/stop_sequence');
  const fields = askedStop && /(^|[.:/])anthropic\./.test(modelId) ? { stop_sequence: stopReason === 'stop_sequence' ? stop!.sequence : null } : undefined;
  const maxTokens = body.inferenceConfig?.maxTokens;
  const words = text.split(/(?= )/).filter(Boolean);
  if (maxTokens !== undefined && words.length > maxTokens) {
    text = words.slice(0, maxTokens).join('');
    stopReason = 'max_tokens';
  }
  const reasoning: Array<{ reasoningContent: { reasoningText?: { text: string; signature?: string }; redactedContent?: string } }> = [];
  if (thinkingOn(body, modelId)) {
    const thought = thinkingFor(userText);
    reasoning.push({ reasoningContent: { reasoningText: { text: thought, signature: reasoningSignatureFor(thought) } } });
    if (userText.includes(REDACTED_THINKING_TRIGGER)) reasoning.push({ reasoningContent: { redactedContent: REDACTED_REASONING } });
  } else if (novaReasoningOn(body, modelId)) reasoning.push({ reasoningContent: { reasoningText: { text: '[REDACTED]' } } });
  const thinkingTokens = reasoning.reduce((sum, block) => sum + (block.reasoningContent.reasoningText?.text.split(/(?= )/).length ?? 1), 0);
  const cited = toolUses.length === 0 && !hasToolResult ? citedBlocks(body, modelId) : [];
  const outputTokens = text.split(/(?= )/).filter(Boolean).length + 5 * toolUses.length + thinkingTokens + cited.length;
  return { text, toolUses, reasoning, cited, stopReason, fields, usage: { inputTokens: 12, outputTokens, totalTokens: 12 + outputTokens } };
}

interface CitedBlock {
  content: Array<{ text: string }>;
  citations: Array<{ title: string; sourceContent: Array<{ text: string }>; location: Record<string, { documentIndex: number; start: number; end: number }> }>;
}

/**
 * For a Claude model, a CitationsContentBlock (API_runtime_CitationsContentBlock.html) for each document of the last
 * turn that asks for citations (`citations: {enabled: true}`): a text document's first sentence, cited by its
 * characters (`documentChar`), a PDF's first page by its pages (`documentPage`), with the document's index among
 * the request's documents and its name as the title.
 */
function citedBlocks(body: ConverseBody, modelId: string): CitedBlock[] {
  if (!/(^|[.:/])anthropic\./.test(modelId)) return [];
  const documents = (body.messages ?? []).flatMap((message) => (message.content ?? []).flatMap((block) => ('document' in block ? [block.document as { name: string; source: { text?: string }; citations?: { enabled?: boolean } }] : [])));
  const last = body.messages?.at(-1)?.content ?? [];
  return last.flatMap((block): CitedBlock[] => {
    const document = (block as { document?: (typeof documents)[number] }).document;
    if (!document?.citations?.enabled) return [];
    const documentIndex = documents.indexOf(document);
    const sentence = typeof document.source.text === 'string' ? (/^[^.]*\.?/.exec(document.source.text)?.[0] ?? '') : undefined;
    const cited = sentence ?? '(page 1)';
    const location: CitedBlock['citations'][number]['location'] = sentence !== undefined ? { documentChar: { documentIndex, start: 0, end: sentence.length } } : { documentPage: { documentIndex, start: 1, end: 1 } };
    return [{ content: [{ text: cited }], citations: [{ title: document.name, sourceContent: [{ text: cited }], location }] }];
  });
}

function event(type: string, payload: Record<string, unknown>): Buffer {
  // Bedrock pads each event with a "p" member so that payload sizes do not reveal the text.
  return encodeEventStreamMessage({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify({ ...payload, p: 'abcdefghij' })));
}

function error(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}) {
  sendJson(res, status, { message }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, ...headers });
}

function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
