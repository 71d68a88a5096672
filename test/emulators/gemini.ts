import type { ServerResponse } from 'node:http';
import { sendJson, sseData, startEmulatorServer, writeEvent, type EmulatorHandle, type LooseRecordedRequest } from './emulator-http.js';
import { toolsCalledFor } from './emulated-model.js';

/**
 * A local stand-in for Google's Gemini API (https://ai.google.dev/api) on 127.0.0.1, for tests of the Gemini
 * adapter: generateContent, streamGenerateContent (`alt=sse`, one write per event) and batchEmbedContents. It
 * refuses what the real API refuses where a translation could go wrong: unknown fields anywhere (the request,
 * `generationConfig`, Schema objects in `responseSchema` and function parameters), formats Gemini does not take,
 * OBJECT parameters without properties, roles other than user and model, empty parts. It answers
 * deterministically:
 *
 * - With function declarations (and mode not NONE), it calls functions: the allowed ones, else each one the
 *   last user turn names, else the first; arguments are filled in from the schema. The first call carries a
 *   thought signature (thoughtSignatureFor its name and the model), as Gemini 3's do; a Gemini 3 model refuses, as Gemini 3
 *   refuses (https://ai.google.dev/gemini-api/docs/thought-signatures), a function call of the current turn (since
 *   the last user text) whose step's first call comes back without its signature, or with one it did not give
 *   (another model's; Google's `skip_thought_signature_validator` passes).
 * - With functionResponse parts in the last turn, it answers "The tool answered: <response JSON>".
 * - With `responseMimeType: application/json`, it answers a JSON value built from `responseSchema`.
 * - Otherwise "Echo: <last user text>", cut at a stop sequence (finishReason STOP) or `maxOutputTokens`
 *   (MAX_TOKENS). `candidateCount` gives that many candidates (non-streaming).
 * - Thinking (https://ai.google.dev/gemini-api/docs/thinking): with a `thinkingConfig` that does not turn it off
 *   (`thinkingBudget: 0`), the answer is thought about first: `thoughtsTokenCount` in the usage, and with
 *   `includeThoughts` a thought summary part (`thought: true`) before the answer, streamed in its own event. A
 *   config with both `thinkingBudget` and `thinkingLevel` is refused, as Gemini refuses it, and so is a 2.5 model's
 *   budget outside the range Google documents for it (Pro 128 to 32,768, Flash up to 24,576, Flash-Lite 512 to 24,576).
 * - Usage: prompt tokens are `promptTokensFor(body)` (characters / 4), candidate tokens likewise.
 * - Embeddings: a vector (8 values, or `outputDimensionality`) computed from the text; more than 100 requests in
 *   one batchEmbedContents call are refused, as Gemini refuses them.
 */
export type GeminiEmulatorMode = 'normal' | 'rate-limited' | 'server-error' | 'unavailable' | 'safety' | 'blocked-prompt';

export interface GeminiEmulatorOptions {
  /** The only key accepted in `x-goog-api-key` (or `?key=`). Default `test-gemini-key`. */
  apiKey?: string;
  /** RetryInfo's `retryDelay` in 'rate-limited' mode, in seconds. Default 7. */
  retryAfterSeconds?: number;
  /** Reported as `cachedContentTokenCount` (part of the prompt tokens). Default none. */
  cachedContentTokenCount?: number;
  /** Refuse Google's stand-in signature too, as corrupted: a Gemini (or a proxy before it) that takes only its own. Default false. */
  refusesStandIn?: boolean;
}

export type RecordedRequest = LooseRecordedRequest;

export interface GeminiEmulator extends EmulatorHandle<RecordedRequest> {
  /** Every request received so far, oldest first. */
  requests(): readonly RecordedRequest[];
  /**
   * 'rate-limited' → 429 RESOURCE_EXHAUSTED with RetryInfo, 'server-error' → 500, 'unavailable' → 503, 'safety' → a
   * SAFETY finish, 'blocked-prompt' → promptFeedback.blockReason. With `after`, the mode starts once that many more
   * requests were answered in the mode of now (a later part of a request sent in parts fails, say).
   */
  setMode(mode: GeminiEmulatorMode, after?: number): void;
}

type Json = Record<string, unknown>;
interface Part {
  text?: string;
  thought?: boolean;
  functionCall?: { name: string; args?: Json };
  thoughtSignature?: string;
  functionResponse?: { name: string; response: Json };
  inlineData?: Json;
  fileData?: Json;
}
interface Content {
  role?: string;
  parts: Part[];
}

export const countTokens = (text: string): number => Math.ceil(text.length / 4);

/** The prompt tokens the emulator reports for a generateContent body. */
export function promptTokensFor(body: { systemInstruction?: unknown; contents?: unknown }): number {
  return countTokens(JSON.stringify({ systemInstruction: body.systemInstruction ?? null, contents: body.contents }));
}

/**
 * The emulator's LogprobsResult (https://ai.google.dev/api/generate-content#LogprobsResult) for a text: a token a word
 * (with the space after it), the n-th at log probability -0.1 × n, and `top` candidates a step, the chosen token
 * first, then `alt1`, `alt2`… each 1 lower.
 */
export function logprobsFor(text: string, top: number): Json {
  const tokens = text.match(/\S+\s*|\s+/g) ?? [];
  const chosen = tokens.map((token, i) => ({ token, tokenId: i, logProbability: -0.1 * (i + 1) }));
  return {
    chosenCandidates: chosen,
    ...(top > 0 ? { topCandidates: chosen.map((step) => ({ candidates: [step, ...Array.from({ length: top - 1 }, (_, k) => ({ token: `alt${k + 1}`, tokenId: 1000 + k, logProbability: step.logProbability - (k + 1) }))] })) } : {}),
    logProbabilitySum: chosen.reduce((sum, step) => sum + step.logProbability, 0),
  };
}

/**
 * The embedding the emulator answers for a text: at the model's own size (8 here), of length 1, as Gemini's full-size
 * embeddings are; shortened by `outputDimensionality`, not normalized, as Gemini's are not
 * (https://ai.google.dev/gemini-api/docs/embeddings, "Ensuring quality for smaller dimensions").
 */
export function embeddingFor(text: string, dimensions?: number): number[] {
  const seed = [...text].reduce((sum, c) => sum + (c.codePointAt(0) ?? 0), 0);
  const values = Array.from({ length: dimensions ?? 8 }, (_, i) => ((seed * (i + 1)) % 997) / 997);
  if (dimensions !== undefined) return values;
  const length = Math.hypot(...values);
  return length === 0 ? values : values.map((value) => value / length);
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly googleStatus: string,
    message: string,
    readonly details: Json[] = [],
  ) {
    super(message);
  }
}

const invalid = (message: string) => new RequestError(400, 'INVALID_ARGUMENT', message);
const unknownField = (name: string, at: string) => invalid(`Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`);

/** The most requests one batchEmbedContents call takes. */
const MAX_EMBED_REQUESTS = 100;

const REQUEST_FIELDS = ['contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig', 'safetySettings', 'cachedContent'];
const GENERATION_FIELDS = ['maxOutputTokens', 'temperature', 'topP', 'topK', 'stopSequences', 'candidateCount', 'seed', 'presencePenalty', 'frequencyPenalty', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'thinkingConfig', 'responseModalities', 'responseLogprobs', 'logprobs'];
const SCHEMA_FIELDS = ['type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering', 'default', 'items', 'minimum', 'maximum'];
const TYPES = ['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL'];
const FORMATS: Record<string, string[]> = { STRING: ['enum', 'date-time'], INTEGER: ['int32', 'int64'], NUMBER: ['float', 'double'] };
const PART_FIELDS = ['text', 'thought', 'thoughtSignature', 'inlineData', 'fileData', 'functionCall', 'functionResponse'];

function checkSchema(schema: Json, at: string, parameters: boolean): void {
  for (const key of Object.keys(schema)) if (!SCHEMA_FIELDS.includes(key)) throw unknownField(key, at);
  const type = typeof schema.type === 'string' ? schema.type.toUpperCase() : undefined;
  if (schema.type !== undefined && (!type || !TYPES.includes(type))) throw invalid(`Invalid value at '${at}.type': ${JSON.stringify(schema.type)}`);
  if (schema.format !== undefined && !(type && FORMATS[type]?.includes(String(schema.format)))) throw invalid(`${at}.format: only ${JSON.stringify(FORMATS[type ?? ''] ?? [])} are supported for ${type} type`);
  if (schema.enum !== undefined && (type !== 'STRING' || !Array.isArray(schema.enum) || !schema.enum.every((v) => typeof v === 'string'))) throw invalid(`${at}.enum: only allowed for STRING type`);
  const properties = (schema.properties ?? undefined) as Record<string, Json> | undefined;
  if (parameters && type === 'OBJECT' && (!properties || Object.keys(properties).length === 0)) throw invalid(`${at}.properties: should be non-empty for OBJECT type`);
  for (const [name, value] of Object.entries(properties ?? {})) checkSchema(value, `${at}.properties[${name}].value`, false);
  for (const name of (schema.required ?? []) as string[]) if (!properties || !(name in properties)) throw invalid(`${at}.required[${name}]: property is not defined`);
  if (schema.items) checkSchema(schema.items as Json, `${at}.items`, false);
  for (const [i, alternative] of ((schema.anyOf ?? []) as Json[]).entries()) checkSchema(alternative, `${at}.any_of[${i}]`, false);
}

/** The thought signature `model` gives a call of `name` (base64, as Gemini's are): another model's does not pass. */
export const thoughtSignatureFor = (name: string, model: string): string => Buffer.from(`thought of ${model} before calling ${name}`).toString('base64');

/** The value Google documents for a call whose signature is not at hand. */
const SKIP_SIGNATURE = 'skip_thought_signature_validator';

/**
 * Gemini 3's check of the current turn (the contents since the last user text): each model step's first function
 * call must come back with the signature it was given, or Google's stand-in.
 */
function checkSignatures(contents: Content[], model: string, refusesStandIn = false): void {
  if (!/^gemini-3/.test(model)) return;
  const turnStart = contents.findLastIndex((content) => content.role === 'user' && content.parts.some((part) => typeof part.text === 'string'));
  for (const content of contents.slice(turnStart + 1)) {
    const at = content.parts.findIndex((part) => part.functionCall);
    if (content.role !== 'model' || at === -1) continue;
    const part = content.parts[at]!;
    const name = String(part.functionCall!.name);
    if (part.thoughtSignature === undefined) {
      throw invalid(`Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${name}\` , position ${at + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`);
    }
    if ((refusesStandIn || part.thoughtSignature !== SKIP_SIGNATURE) && part.thoughtSignature !== thoughtSignatureFor(name, model)) throw invalid('Corrupted thought signature.');
  }
}

function validate(body: Json, model: string, refusesStandIn = false): void {
  if (model === 'no-such-model') throw new RequestError(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for generateContent.`);
  for (const key of Object.keys(body)) if (!REQUEST_FIELDS.includes(key)) throw unknownField(key, '');
  const contents = body.contents as Content[] | undefined;
  if (!Array.isArray(contents) || contents.length === 0) throw invalid('* GenerateContentRequest.contents: contents is not specified');
  contents.forEach((content, i) => {
    if (content.role !== 'user' && content.role !== 'model') throw invalid(`Please use a valid role: user, model. (contents[${i}])`);
    if (!Array.isArray(content.parts) || content.parts.length === 0) throw invalid(`* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`);
    content.parts.forEach((part, j) => {
      for (const key of Object.keys(part)) if (!PART_FIELDS.includes(key)) throw unknownField(key, `contents[${i}].parts[${j}]`);
      if (part.functionResponse && (typeof part.functionResponse.name !== 'string' || typeof part.functionResponse.response !== 'object')) throw invalid(`* GenerateContentRequest.contents[${i}].parts[${j}].function_response.name: Name cannot be empty.`);
      if (part.functionCall && content.role !== 'model') throw invalid(`contents[${i}].parts[${j}]: a function call must come from the model`);
    });
  });
  checkSignatures(contents, model, refusesStandIn);
  const config = (body.generationConfig ?? {}) as Json;
  for (const key of Object.keys(config)) if (!GENERATION_FIELDS.includes(key)) throw unknownField(key, 'generation_config');
  if (Array.isArray(config.stopSequences) && config.stopSequences.length > 5) throw invalid('generation_config.stop_sequences: at most 5 are allowed');
  if (config.responseSchema) checkSchema(config.responseSchema as Json, 'generation_config.response_schema', false);
  const thinking = (config.thinkingConfig ?? {}) as Json;
  for (const key of Object.keys(thinking)) if (!['includeThoughts', 'thinkingBudget', 'thinkingLevel'].includes(key)) throw unknownField(key, 'generation_config.thinking_config');
  if (thinking.thinkingBudget !== undefined && thinking.thinkingLevel !== undefined) throw invalid('generation_config.thinking_config: thinking_budget and thinking_level cannot both be set');
  if (thinking.thinkingLevel !== undefined && !['minimal', 'low', 'medium', 'high'].includes(String(thinking.thinkingLevel))) throw invalid(`Invalid value at 'generation_config.thinking_config.thinking_level' (${String(thinking.thinkingLevel)})`);
  // Pro models have no minimal level, and Gemini 3 Pro only low and high (https://ai.google.dev/gemini-api/docs/thinking).
  const proLevels = /^gemini-3-pro/.test(model) ? ['low', 'high'] : /^gemini-3\.\d+-pro/.test(model) ? ['low', 'medium', 'high'] : undefined;
  if (thinking.thinkingLevel !== undefined && proLevels && !proLevels.includes(String(thinking.thinkingLevel))) throw invalid(`Thinking level ${String(thinking.thinkingLevel)} is not supported for this model.`);
  // Gemini 2.5 Pro thinks whatever it is told: its budget runs 128 to 32,768 (https://ai.google.dev/gemini-api/docs/thinking).
  if (/^gemini-2\.5-pro/.test(model) && thinking.thinkingBudget !== undefined && thinking.thinkingBudget !== -1 && ((thinking.thinkingBudget as number) < 128 || (thinking.thinkingBudget as number) > 32_768)) throw invalid("Thinking can't be disabled for this model: thinking_budget must be from 128 to 32768");
  // 2.5 Flash-Lite thinks with 512 to 24,576 tokens, 2.5 Flash with up to 24,576; 0 stops either, -1 is dynamic.
  const budget = thinking.thinkingBudget as number | undefined;
  const [least, most] = /^gemini-2\.5-flash-lite/.test(model) ? [512, 24_576] : /^gemini-2\.5-flash/.test(model) ? [1, 24_576] : [0, Infinity];
  if (budget !== undefined && budget !== 0 && budget !== -1 && (budget < least || budget > most)) throw invalid(`The thinking budget ${budget} is invalid. Please choose a value between ${least} and ${most}.`);
  for (const [t, tool] of ((body.tools ?? []) as Json[]).entries()) {
    for (const [d, declaration] of ((tool.functionDeclarations ?? []) as Json[]).entries()) {
      for (const key of Object.keys(declaration)) if (!['name', 'description', 'parameters', 'parametersJsonSchema', 'response'].includes(key)) throw unknownField(key, `tools[${t}].function_declarations[${d}]`);
      if (typeof declaration.name !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$/.test(declaration.name)) throw invalid(`* GenerateContentRequest.tools[${t}].function_declarations[${d}].name: Invalid function name.`);
      if (declaration.parameters) checkSchema(declaration.parameters as Json, `tools[${t}].function_declarations[${d}].parameters`, true);
    }
  }
  const mode = ((body.toolConfig as Json | undefined)?.functionCallingConfig as Json | undefined)?.mode;
  if (mode !== undefined && !['AUTO', 'ANY', 'NONE', 'VALIDATED'].includes(String(mode))) throw invalid(`Invalid value at 'tool_config.function_calling_config.mode' (${String(mode)})`);
}

/** A value that satisfies a Gemini Schema, the same every time. */
function sample(schema: Json | undefined): unknown {
  if (!schema) return null;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (String(schema.type ?? '').toUpperCase()) {
    case 'OBJECT':
      return Object.fromEntries(Object.entries((schema.properties ?? {}) as Record<string, Json>).map(([key, value]) => [key, sample(value)]));
    case 'ARRAY':
      return [sample(schema.items as Json | undefined)];
    case 'STRING':
      return 'Paris';
    case 'INTEGER':
    case 'NUMBER':
      return 21;
    case 'BOOLEAN':
      return true;
    default:
      return null;
  }
}

const textOf = (content: Content) => content.parts.flatMap((p) => (typeof p.text === 'string' && !p.thought ? [p.text] : [])).join(' ');

interface Answer {
  parts: Part[];
  finishReason: string;
}

/** The thought summary the emulator returns with `includeThoughts`. */
export const THOUGHT_SUMMARY = '**Reading the request**\n\nThe user wants an answer; I will give it plainly.';
/** The thinking tokens the emulator reports when thinking is on. */
export const THOUGHTS_TOKEN_COUNT = 37;

function answer(body: Json, model: string): Answer {
  const contents = body.contents as Content[];
  const last = contents.at(-1) as Content;
  const responses = last.parts.filter((p) => p.functionResponse);
  const declarations = ((body.tools ?? []) as Json[]).flatMap((t) => (t.functionDeclarations ?? []) as Json[]);
  const calling = ((body.toolConfig as Json | undefined)?.functionCallingConfig ?? {}) as Json;
  const config = (body.generationConfig ?? {}) as Json;
  if (responses.length === 0 && declarations.length > 0 && calling.mode !== 'NONE') {
    const allowed = (calling.allowedFunctionNames ?? []) as string[];
    const userText = textOf(last);
    const pool = allowed.length > 0 ? declarations.filter((d) => allowed.includes(String(d.name))) : declarations;
    const chosen = toolsCalledFor(pool, userText, (d) => String(d.name));
    return {
      parts: chosen.map((d, i) => ({ functionCall: { name: String(d.name), args: (sample((d.parameters as Json | undefined) ?? { type: 'OBJECT' }) ?? {}) as Json }, ...(i === 0 ? { thoughtSignature: thoughtSignatureFor(String(d.name), model) } : {}) })),
      finishReason: 'STOP',
    };
  }
  let text: string;
  if (responses.length > 0) text = `The tool answered: ${responses.map((p) => JSON.stringify(p.functionResponse?.response)).join(' ')}`;
  else if (config.responseMimeType === 'application/json') text = JSON.stringify(config.responseSchema ? sample(config.responseSchema as Json) : { echo: textOf(last) });
  else text = `Echo: ${textOf(last)}`;
  let finishReason = 'STOP';
  for (const sequence of (config.stopSequences ?? []) as string[]) {
    const at = text.indexOf(sequence);
    if (at !== -1) {
      text = text.slice(0, at);
      break;
    }
  }
  const budget = config.maxOutputTokens as number | undefined;
  if (budget !== undefined && countTokens(text) > budget) {
    text = text.slice(0, budget * 4);
    finishReason = 'MAX_TOKENS';
  }
  return { parts: [{ text }], finishReason };
}

const outputTokensOf = (parts: Part[]) => countTokens(parts.map((p) => p.text ?? JSON.stringify(p.functionCall)).join(''));

const GOOGLE_JSON = { 'content-type': 'application/json; charset=UTF-8' };

/** Google's error bodies come pretty-printed. */
function sendError(res: ServerResponse, error: RequestError): void {
  res.writeHead(error.status, GOOGLE_JSON);
  res.end(JSON.stringify({ error: { code: error.status, message: error.message, status: error.googleStatus, ...(error.details.length > 0 ? { details: error.details } : {}) } }, null, 2));
}

/** Starts the emulator on 127.0.0.1 on a free port. */
export async function startGeminiEmulator(options: GeminiEmulatorOptions = {}): Promise<GeminiEmulator> {
  const apiKey = options.apiKey ?? 'test-gemini-key';
  let mode: GeminiEmulatorMode = 'normal';
  /** A mode set to start later (setMode's `after`), and how many requests are left before it does. */
  let next: { mode: GeminiEmulatorMode; after: number } | undefined;
  let responses = 0;

  /** `stream` is how a streamGenerateContent call is answered: SSE with alt=sse, else one JSON array of the events. */
  const generate = async (res: ServerResponse, body: Json, model: string, stream: 'sse' | 'array' | undefined): Promise<void> => {
    validate(body, model, options.refusesStandIn === true);
    const promptTokenCount = promptTokensFor(body);
    const cached = options.cachedContentTokenCount ? { cachedContentTokenCount: options.cachedContentTokenCount } : {};
    const meta = { modelVersion: model, responseId: `resp_emulator_${++responses}` };
    if (mode === 'blocked-prompt') {
      const blocked = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount, totalTokenCount: promptTokenCount }, ...meta };
      if (stream !== 'sse') return sendJson(res, 200, stream === 'array' ? [blocked] : blocked);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return void res.end(sseData(blocked, '\r\n'));
    }
    const reply: Answer = mode === 'safety' ? { parts: [], finishReason: 'SAFETY' } : answer(body, model);
    const count = stream === 'sse' ? 1 : Number(((body.generationConfig ?? {}) as Json).candidateCount ?? 1);
    const candidatesTokenCount = outputTokensOf(reply.parts) * count;
    const thinking = ((body.generationConfig ?? {}) as Json).thinkingConfig as Json | undefined;
    const thoughtsTokenCount = thinking && thinking.thinkingBudget !== 0 && mode !== 'safety' ? THOUGHTS_TOKEN_COUNT * count : 0;
    const thought: Part[] = thoughtsTokenCount > 0 && thinking?.includeThoughts === true ? [{ text: THOUGHT_SUMMARY, thought: true }] : [];
    // Thinking tokens are apart from the candidates', and in the total (https://ai.google.dev/gemini-api/docs/thinking#pricing).
    const usageMetadata = { promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount + thoughtsTokenCount, ...(thoughtsTokenCount > 0 ? { thoughtsTokenCount } : {}), ...cached };
    // With responseLogprobs, each candidate carries the log probabilities of its text's tokens (logprobsFor).
    const config = (body.generationConfig ?? {}) as Json;
    const logprobsOf = (parts: Part[]) => (config.responseLogprobs === true ? { logprobsResult: logprobsFor(parts.filter((part) => !part.thought).map((part) => part.text ?? '').join(''), Number(config.logprobs ?? 0)) } : {});
    const candidate = (index: number, parts: Part[], finishReason?: string) => ({ ...(parts.length > 0 ? { content: { role: 'model', parts } } : {}), ...(finishReason ? { finishReason } : {}), ...logprobsOf(parts), index });
    if (stream !== 'sse') {
      const whole = { candidates: Array.from({ length: count }, (_, i) => candidate(i, [...thought, ...reply.parts], reply.finishReason)), usageMetadata, ...meta };
      return sendJson(res, 200, stream === 'array' ? [whole] : whole, GOOGLE_JSON);
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (event: Json) => writeEvent(res, sseData(event, '\r\n'));
    // Text comes a few words at a time; function calls come whole, in one event.
    const text = reply.parts.length === 1 && typeof reply.parts[0]?.text === 'string' ? reply.parts[0].text : undefined;
    const answerPieces: Part[][] = text !== undefined ? (text.match(/\S+\s*|\s+/g) ?? ['']).map((piece) => [{ text: piece }]) : [reply.parts];
    const pieces = thought.length > 0 ? [thought, ...answerPieces] : answerPieces;
    for (const [i, parts] of pieces.entries()) {
      const final = i === pieces.length - 1;
      await send({ candidates: [candidate(0, parts, final ? reply.finishReason : undefined)], usageMetadata: final ? usageMetadata : { promptTokenCount, totalTokenCount: promptTokenCount }, ...meta });
    }
    res.end();
  };

  const embed = (res: ServerResponse, body: Json, model: string): void => {
    const requests = body.requests as Array<{ model?: string; content?: Content; outputDimensionality?: number }> | undefined;
    if (!Array.isArray(requests) || requests.length === 0) throw invalid('* BatchEmbedContentsRequest.requests: requests is not specified');
    // Gemini's own refusal past 100 (quoted in weaviate/weaviate#11277; the reference page states no limit).
    if (requests.length > MAX_EMBED_REQUESTS) throw invalid(`* BatchEmbedContentsRequest.requests: at most ${MAX_EMBED_REQUESTS} requests can be in one batch`);
    const values = requests.map((request, i) => {
      if (request.model !== `models/${model}`) throw invalid(`* BatchEmbedContentsRequest.requests[${i}].model: the model must match the batch request's model models/${model}`);
      const text = request.content?.parts?.[0]?.text;
      if (typeof text !== 'string') throw invalid(`* BatchEmbedContentsRequest.requests[${i}].content: text is required`);
      return { values: embeddingFor(text, request.outputDimensionality) };
    });
    sendJson(res, 200, { embeddings: values }, GOOGLE_JSON);
  };

  const server = await startEmulatorServer<RecordedRequest>(
    ({ req, res, body }) => {
      if (next && next.after-- === 0) {
        mode = next.mode;
        next = undefined;
      }
      const url = new URL(req.url ?? '/', 'http://emulator');
      const route = /^\/(v1|v1beta|v1alpha)\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/.exec(url.pathname);
      if (req.method !== 'POST' || !route) throw new RequestError(404, 'NOT_FOUND', 'The requested URL was not found on this server.');
      const key = req.headers['x-goog-api-key'] ?? url.searchParams.get('key');
      if (!key) throw new RequestError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
      if (key !== apiKey) {
        throw new RequestError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
        ]);
      }
      if (mode === 'rate-limited') {
        throw new RequestError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.', [
          { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }] },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${options.retryAfterSeconds ?? 7}s` },
        ]);
      }
      if (mode === 'server-error') throw new RequestError(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting');
      if (mode === 'unavailable') throw new RequestError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      if (typeof body !== 'object' || body === null) throw invalid('Invalid JSON payload received.');
      const [, , model, method] = route as unknown as [string, string, string, string];
      if (method === 'batchEmbedContents') return embed(res, body as Json, model);
      return generate(res, body as Json, model, method !== 'streamGenerateContent' ? undefined : url.searchParams.get('alt') === 'sse' ? 'sse' : 'array');
    },
    {
      onError: (error, res) => {
        if (error instanceof RequestError && !res.headersSent) sendError(res, error);
        else res.destroy();
      },
    },
  );
  return {
    ...server,
    setMode: (later, after = 0) => {
      next = after > 0 ? { mode: later, after } : undefined;
      if (after === 0) mode = later;
    },
  };
}
