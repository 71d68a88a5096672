import { REASONING_EFFORTS, isReasoningEffort, type ChatMessage, type ChatRequest, type ContentPart, type ReasoningEffort, type ToolChoice } from '../../chat-types.js';
import type { CatalogModel } from '../../catalog/index.js';
import { ProviderCallError } from '../../provider-call.js';
import { nestsTooDeep } from '../../nesting-depth.js';
import { toolArgumentsOf } from '../tool-arguments.js';
import { nothingToSend } from '../nothing-to-send.js';
import { cannotServe } from '../cannot-serve.js';
import { thinkingAsked, type ThinkingAsked } from '../client-thinking.js';
import { imageUrlOf, textOf } from '../content-parts.js';
import { pdfOf } from '../pdf-file.js';
import { refusalsAsText } from '../refusal-as-text.js';
import { refuseOpenAIOnlyMembers } from '../no-openai-only-members.js';
import { hasProperties, toGeminiSchema } from './gemini-schema.js';
import { inGeminiJsonSchemaSubset } from './json-schema-subset.js';
import type { GeminiContent, GeminiGenerateRequest, GeminiGenerationConfig, GeminiPart, GeminiThinkingConfig } from './wire-types.js';
import { logprobsConfig } from './logprobs.js';
import { parseUrl } from '../../../parse-url.js';

/**
 * Gemini 3 refuses a replayed function call without the thought signature it was answered with. Keygate gives it to
 * the client with the call (`extra_content.google.thought_signature`, as Google's OpenAI-compatible API does), and
 * sends back the one a call comes back with. A client that rebuilds its calls (or a call from another provider)
 * brings none: Google documents this value for calls whose signature is not at hand
 * (https://ai.google.dev/gemini-api/docs/thought-signatures); it goes on the first call of each model turn.
 */
export const SIGNATURE_NOT_KEPT = 'skip_thought_signature_validator';

const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic', heif: 'image/heif' };

/** A data URL's media type as Gemini names it: lower case, and JPEG's by its registered name. */
function mediaTypeOf(type: string): string {
  const lower = type.toLowerCase();
  return lower === 'image/jpg' ? 'image/jpeg' : lower;
}

/** A 400 for the request, naming the parameter (OpenAI's `param`) it is about. */
function invalid(code: string, message: string, param: string): ProviderCallError {
  return new ProviderCallError({ status: 400, type: 'invalid_request_error', code, message, param, retryable: false });
}

/** `data:` URLs travel inline, http(s) URLs as file data with the type their extension names (https://ai.google.dev/gemini-api/docs/image-understanding). */
function imagePart(url: string, where: string): GeminiPart {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  // Gemini refuses `image/jpg` (400 Unsupported MIME type), which clients write and OpenAI takes: it is JPEG's.
  if (data) return { inlineData: { mimeType: mediaTypeOf(data[1] as string), data: data[2] as string } };
  const web = /^https?:\/\//i.test(url) ? (parseUrl(url) ?? null) : null;
  if (!web) throw invalid('invalid_image_url', `${where}.image_url.url must be a base64 data: URL or an http(s) URL`, `${where}.image_url.url`);
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(web.pathname)?.[1]?.toLowerCase();
  const mimeType = extension ? IMAGE_TYPES[extension] : undefined;
  return { fileData: { ...(mimeType ? { mimeType } : {}), fileUri: url } };
}

function contentParts(content: ChatMessage['content'], where: string): GeminiPart[] {
  if (content === null) return [];
  const parts: ContentPart[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  return parts.flatMap((part, i): GeminiPart[] => {
    if (part.type === 'text') return part.text === '' ? [] : [{ text: part.text }];
    if (part.type === 'file') return [{ inlineData: { mimeType: 'application/pdf', data: pdfOf(part, `${where}.content[${i}]`, 'Gemini').data } }];
    return [imagePart(imageUrlOf(part, `${where}.content[${i}]`, 'Gemini'), `${where}.content[${i}]`)];
  });
}

/**
 * The function response Gemini wants as an object: a JSON object result as is, anything else under `output`; a
 * result nested too deep to be written out again (nestsTooDeep) as its text, under `output`.
 */
function functionResponse(content: ChatMessage['content']): Record<string, unknown> {
  const text = textOf(content);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (nestsTooDeep(parsed)) return { output: text };
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return { output: parsed };
  } catch {
    return { output: text };
  }
}

/**
 * The function response for the tool message at `at`: named after the call it answers, as Gemini names responses by
 * function, and with that call's id, which Gemini matches it by (FunctionResponse.id,
 * https://ai.google.dev/api/caching#FunctionResponse), so that parallel calls of one function get their own results.
 */
function functionResponseFor(messages: ChatMessage[], at: number): GeminiPart['functionResponse'] {
  const message = messages[at] as ChatMessage;
  const response = functionResponse(message.content);
  for (let i = at - 1; i >= 0; i--) {
    const call = messages[i]?.tool_calls?.find((c) => c.id === message.tool_call_id);
    if (call) return { ...(call.id ? { id: call.id } : {}), name: call.function.name, response };
  }
  if (message.name) return { name: message.name, response };
  throw invalid('unknown_tool_call', `messages[${at}].tool_call_id "${message.tool_call_id ?? ''}" answers no earlier assistant tool call`, `messages[${at}].tool_call_id`);
}

function contentFor(messages: ChatMessage[], i: number, withoutSignatures: boolean): GeminiContent | undefined {
  const message = messages[i] as ChatMessage;
  const where = `messages[${i}]`;
  if (message.role === 'tool') return { role: 'user', parts: [{ functionResponse: functionResponseFor(messages, i) }] };
  if (message.role === 'assistant') {
    const parts = contentParts(message.content, where);
    for (const [j, call] of (message.tool_calls ?? []).entries()) {
      // The call's id (FunctionCall.id), which its response names back.
      const part: GeminiPart = { functionCall: { ...(call.id ? { id: call.id } : {}), name: call.function.name, args: toolArgumentsOf(call.function.arguments, `${where}.tool_calls[${j}]`) } };
      const signature = withoutSignatures ? undefined : call.extra_content?.google?.thought_signature;
      if (typeof signature === 'string' && signature !== '') part.thoughtSignature = signature;
      else if (j === 0) part.thoughtSignature = SIGNATURE_NOT_KEPT;
      parts.push(part);
    }
    return parts.length > 0 ? { role: 'model', parts } : undefined;
  }
  const parts = contentParts(message.content, where);
  return parts.length > 0 ? { role: 'user', parts } : undefined;
}

/** Consecutive contents of one role become one, so the responses to parallel calls share a turn as Gemini expects. */
function mergeTurns(contents: GeminiContent[]): GeminiContent[] {
  const merged: GeminiContent[] = [];
  for (const content of contents) {
    const last = merged.at(-1);
    if (last && last.role === content.role) last.parts.push(...content.parts);
    else merged.push({ role: content.role, parts: [...content.parts] });
  }
  return merged;
}

function toolConfigFor(choice: ToolChoice | undefined): GeminiGenerateRequest['toolConfig'] {
  if (choice === undefined) return undefined;
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
}

/**
 * OpenAI's `reasoning_effort` as Gemini's thinking (https://ai.google.dev/gemini-api/docs/thinking), with the
 * thoughts returned (`includeThoughts`) for `reasoning_content`. Gemini 3 and later take a level, of which
 * `minimal` is the least (they cannot stop thinking) and `high` the most; Gemini 2.5 takes a budget, as Gemini's
 * own OpenAI-compatible endpoint maps it (https://ai.google.dev/gemini-api/docs/openai): 1024 for minimal and low,
 * 8192 for medium, 24576 for high and xhigh, and 0, no thinking, for none (128 for 2.5 Pro, which cannot stop thinking).
 */
export function thinkingConfigFor(effort: ReasoningEffort, model: string): GeminiThinkingConfig {
  const major = geminiMajor(model);
  if (major >= 3) return { includeThoughts: effort !== 'none', thinkingLevel: geminiLevel(effort, model) };
  // Gemini 2.5 Pro cannot stop thinking: its least budget, 128, is the nearest to none it takes.
  if (effort === 'none') return { thinkingBudget: GEMINI_25_PRO.test(model) ? 128 : 0 };
  return { includeThoughts: true, thinkingBudget: GEMINI_THINKING_BUDGETS[effort] };
}
/**
 * The thinking level for Gemini 3 and later: `none` as `minimal`, their least, and `xhigh` as `high`, their most.
 * Pro models take no `minimal`: their least is `low`; Gemini 3 Pro takes only `low` and `high`, so `medium` is `high`.
 */
function geminiLevel(effort: ReasoningEffort, model: string): 'minimal' | 'low' | 'medium' | 'high' {
  const level = effort === 'none' ? 'minimal' : effort === 'xhigh' ? 'high' : effort;
  const pro = /^(?:models\/)?gemini-3(\.\d+)?-pro/.exec(model);
  if (!pro) return level;
  if (level === 'minimal') return 'low';
  return level === 'medium' && pro[1] === undefined ? 'high' : level;
}
const GEMINI_THINKING_BUDGETS = { minimal: 1024, low: 1024, medium: 8192, high: 24_576, xhigh: 24_576 } as const;

/** Gemini 2.5 Pro, which cannot stop thinking. */
const GEMINI_25_PRO = /^(?:models\/)?gemini-2\.5-pro/;

/** The model's generation: 2 for `gemini-2.5-flash`, 3 for `gemini-3.1-pro-preview`; 0 for a name without one. */
const geminiMajor = (model: string): number => Number(/^(?:models\/)?gemini-(\d+)/.exec(model)?.[1] ?? 0);

/**
 * The thinking budgets Gemini 2.5 models take (https://ai.google.dev/gemini-api/docs/thinking#set-budget): 2.5 Pro
 * 128 to 32,768 (it cannot stop thinking), 2.5 Flash-Lite 512 to 24,576, 2.5 Flash (and any other) up to 24,576.
 */
function budgetRange(model: string): [number, number] {
  if (GEMINI_25_PRO.test(model)) return [128, 32_768];
  if (/^(?:models\/)?gemini-2\.5-flash-lite/.test(model)) return [512, 24_576];
  return [1, 24_576];
}

/**
 * An Anthropic-format client's thinking (thinkingAsked) as Gemini's thinking (https://ai.google.dev/gemini-api/docs/thinking),
 * thoughts returned (`includeThoughts`) whenever it is on, for the client's thinking blocks:
 * - disabled as `reasoning_effort: "none"`: budget 0 where Google lets thinking stop (2.5 Flash and Flash-Lite), the
 *   least otherwise (2.5 Pro 128; Gemini 3 its least level);
 * - a budget (`enabled`): on Gemini 2.5 the budget itself, brought into the model's documented range (budgetRange);
 *   on Gemini 3, which takes levels, the level of the effort the budget comes to;
 * - an effort (`output_config.effort`) as that `reasoning_effort`;
 * - adaptive alone as Gemini's dynamic thinking: `thinkingBudget: -1` on 2.5, no level on Gemini 3 (its default, dynamic).
 */
export function clientThinkingConfig(asked: ThinkingAsked, model: string): GeminiThinkingConfig {
  if (!asked.on) return thinkingConfigFor('none', model);
  const major = geminiMajor(model);
  if (asked.budget !== undefined && major < 3) {
    const [least, most] = budgetRange(model);
    return { includeThoughts: true, thinkingBudget: Math.min(most, Math.max(least, asked.budget)) };
  }
  if (asked.effort) return thinkingConfigFor(asked.effort, model);
  return major >= 3 ? { includeThoughts: true } : { includeThoughts: true, thinkingBudget: -1 };
}

function generationConfigFor(request: ChatRequest, model: string, catalogModel: CatalogModel | undefined): GeminiGenerationConfig | undefined {
  const config: GeminiGenerationConfig = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.top_p !== undefined) config.topP = request.top_p;
  if (request.top_k !== undefined && request.top_k > 0) config.topK = request.top_k;
  if (request.stop !== undefined) config.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.n !== undefined) config.candidateCount = request.n;
  if (request.seed !== undefined) config.seed = request.seed;
  if (request.presence_penalty !== undefined) config.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty !== undefined) config.frequencyPenalty = request.frequency_penalty;
  logprobsConfig(request, config);
  const format = request.response_format;
  if (format?.type === 'json_object' || format?.type === 'json_schema') config.responseMimeType = 'application/json';
  const schema = format?.type === 'json_schema' ? format.json_schema.schema : undefined;
  const strict = format?.type === 'json_schema' && format.json_schema.strict === true;
  // A strict schema Gemini enforces as written goes as JSON Schema (https://ai.google.dev/api/generate-content#FIELDS.response_json_schema).
  if (schema && strict && inGeminiJsonSchemaSubset(schema)) config.responseJsonSchema = schema;
  // Any other keyword (pattern, const…) Gemini would take there and not enforce: the Schema path holds it or refuses it by name.
  else if (schema) config.responseSchema = toGeminiSchema(schema, strict, 'response_format.json_schema.schema');
  if (request.reasoning_effort !== undefined) {
    const effort = request.reasoning_effort;
    if (!isReasoningEffort(effort)) throw cannotServe('reasoning_effort', `reasoning_effort "${effort}" has no thinking level for Gemini; use one of ${REASONING_EFFORTS.join(', ')}`, 'unsupported_value');
    // A model the catalog says does not think (Gemini 2.0) refuses a thinkingConfig: the effort asks for nothing there.
    if (!catalogModel || catalogModel.capabilities.includes('reasoning')) config.thinkingConfig = thinkingConfigFor(effort, model);
  } else {
    // An Anthropic-format client's thinking, by the same rule: never for a model that does not think.
    const asked = thinkingAsked(request);
    if (asked && (!catalogModel || catalogModel.capabilities.includes('reasoning'))) config.thinkingConfig = clientThinkingConfig(asked, model);
  }
  return Object.keys(config).length > 0 ? config : undefined;
}

/**
 * An OpenAI chat request as a Gemini generateContent request (https://ai.google.dev/api/generate-content):
 * system and developer messages become `systemInstruction`, the turns `contents` with roles user and model,
 * assistant tool calls `functionCall` parts, tool messages `functionResponse` parts, and sampling and JSON
 * settings `generationConfig`, `reasoning_effort` (or an Anthropic-format client's thinking) its `thinkingConfig`
 * for `model` (the provider's id). `withoutSignatures` sends the stand-in for every call's thought signature.
 */
export function toGeminiRequest(asked: ChatRequest, model = '', catalogModel?: CatalogModel, withoutSignatures = false): GeminiGenerateRequest {
  refuseOpenAIOnlyMembers(asked, 'Gemini');
  const request = refusalsAsText(asked);
  const system: string[] = [];
  const contents: GeminiContent[] = [];
  request.messages.forEach((message, i) => {
    if (message.role === 'system' || message.role === 'developer') {
      const text = textOf(message.content);
      if (text !== '') system.push(text);
      return;
    }
    const content = contentFor(request.messages, i, withoutSignatures);
    if (content) contents.push(content);
  });
  // OpenAI answers a conversation of instructions alone; Gemini refuses one with no contents: the instructions are
  // the user's turn, as near as Gemini comes to answering them.
  if (contents.length === 0) {
    if (system.length === 0) throw nothingToSend('Gemini');
    contents.push({ role: 'user', parts: system.splice(0).map((text) => ({ text })) });
  }

  const body: GeminiGenerateRequest = { contents: mergeTurns(contents) };
  if (system.length > 0) body.systemInstruction = { parts: system.map((text) => ({ text })) };
  if (request.tools && request.tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: request.tools.map((tool, i) => {
          const named = { name: tool.function.name, ...(tool.function.description ? { description: tool.function.description } : {}) };
          const asked = tool.function.parameters;
          const strict = tool.function.strict === true;
          // As for response_format: a strict tool's parameters Gemini enforces as written go as they are (https://ai.google.dev/api/caching#FunctionDeclaration).
          if (asked && strict && asked.type === 'object' && hasProperties(asked) && inGeminiJsonSchemaSubset(asked)) return { ...named, parametersJsonSchema: asked };
          const parameters = asked ? toGeminiSchema(asked, strict, `tools[${i}].function.parameters`) : undefined;
          return { ...named, ...(parameters && hasProperties(parameters) ? { parameters } : {}) };
        }),
      },
    ];
    const toolConfig = toolConfigFor(request.tool_choice);
    if (toolConfig) body.toolConfig = toolConfig;
  }
  const generationConfig = generationConfigFor(request, model, catalogModel);
  if (generationConfig) body.generationConfig = generationConfig;
  return body;
}
