import type { CatalogModel } from '../../catalog/index.js';
import { ANTHROPIC_BLOCKS, CACHE_CONTROL, CITATIONS, TOOL_ERROR, TOOL_RESULT_OF, UNTITLED, type FilePart, withoutToolErrorPrefix, type CacheControl, type ChatMessage, type ChatRequest, type ContentPart, type ResponseFormat } from '../../chat-types.js';
import type { ProviderCallError } from '../../provider-call.js';
import { nestsTooDeep } from '../../nesting-depth.js';
import { toolArgumentsOf } from '../tool-arguments.js';
import { nothingToSend } from '../nothing-to-send.js';
import { cannotServe } from '../cannot-serve.js';
import { claudeStopSequences, isBlank } from '../anthropic/index.js';
import { imageUrlOf, textOf } from '../content-parts.js';
import { citedTextOf, contextBefore, foldedContext, pdfOf } from '../pdf-file.js';
import { DocumentNames } from './document-names.js';
import { claudeThinkingFields, converseBlocksOfTurn, isClaudeModel, otherModelThinkingFields } from './converse-thinking.js';
import { refuseLogprobs } from '../no-logprobs.js';
import { refusalsAsText } from '../refusal-as-text.js';
import { refuseOpenAIOnlyMembers } from '../no-openai-only-members.js';

/**
 * OpenAI's chat request as a Bedrock Converse request
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html): system and developer
 * messages become `system`, tool results become `toolResult` blocks of a user turn, and consecutive turns of one
 * role merge, since Converse wants user and assistant to alternate. A Claude model's thinking is asked for, and its
 * thinking blocks sent back, as converse-thinking.ts says. `top_k` is left out: `inferenceConfig` has no
 * member for it, only some models a field of their own in `additionalModelRequestFields`.
 */
export type ConverseBlock = Record<string, unknown>;
interface ConverseMessage {
  role: 'user' | 'assistant';
  content: ConverseBlock[];
}

const IMAGE_FORMATS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

/**
 * Where a model takes prompt-caching checkpoints (https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html):
 * Claude models in `system`, `messages` and `toolConfig.tools`, Amazon Nova models in `system` and `messages`. Other
 * models cache nothing: a breakpoint, which changes what is billed and not what is answered, is left out for them
 * rather than have Bedrock refuse the call.
 */
interface CachePlaces {
  prompt: boolean;
  tools: boolean;
}

/**
 * The Claude models Bedrock caches prompts for: Claude 3.5 Haiku, 3.7 Sonnet, and the Claude 4 family and later
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html). Bedrock refuses a cachePoint for the
 * others (Claude 3 Haiku, Sonnet and Opus, 3.5 Sonnet, Claude 2 and Instant), so their breakpoints are left out.
 */
const CACHING_CLAUDE = /(^|[.:/])anthropic\.claude-(?:3-5-haiku|3-7-sonnet|[a-z]+-(?:[4-9]|[1-9]\d))/;

/**
 * OpenAI's chat request as Converse's. Cache breakpoints (CACHE_CONTROL) become `cachePoint` blocks
 * (API_runtime_CachePointBlock.html: type `default`, a `ttl` of 5m or 1h) after what they mark: a system part, a
 * content part or tool call, a message's last block, a tool; inside a tool result, where Converse takes none
 * (API_runtime_ToolResultContentBlock.html), after the result. The request's own breakpoint (Anthropic's automatic
 * caching) goes after the last message.
 */
export function toConverseRequest(asked: ChatRequest, modelId = '', catalogModel?: CatalogModel, documents = new DocumentNames()): Record<string, unknown> {
  refuseLogprobs(asked, 'Bedrock Converse');
  refuseOpenAIOnlyMembers(asked, 'Bedrock Converse');
  const request = refusalsAsText(asked);
  if ((request.n ?? 1) > 1) throw unsupported('n', 'Bedrock Converse returns a single choice');
  if (request.response_format?.type === 'json_object') throw unsupported('response_format', 'Bedrock Converse has no JSON mode without a schema; use json_schema, or describe the JSON in the prompt');

  const claude = isClaudeModel(modelId);
  const nova = /(^|[.:/])amazon\.nova/.test(modelId);
  const cachingClaude = CACHING_CLAUDE.test(modelId);
  const caches: CachePlaces = { prompt: cachingClaude || nova, tools: cachingClaude };
  const system: ConverseBlock[] = [];
  const messages: ConverseMessage[] = [];
  const append = (role: ConverseMessage['role'], content: ConverseBlock[]) => {
    if (content.length === 0) return;
    const last = messages[messages.length - 1];
    if (last?.role === role) last.content.push(...content);
    else messages.push({ role, content });
  };
  for (const [i, message] of request.messages.entries()) {
    if (message.role === 'system' || message.role === 'developer') system.push(...withCachePoint(systemBlocks(message.content, caches), message, caches));
    else if (message.role === 'user') append('user', withCachePoint(userBlocks(message.content, `messages[${i}]`, caches, documents, citesOnBedrock(modelId)), message, caches));
    else if (message.role === 'assistant') append('assistant', withCachePoint(claude && message[ANTHROPIC_BLOCKS] ? converseBlocksOfTurn(message[ANTHROPIC_BLOCKS], (at) => cachePointOf(at, caches)) : assistantBlocks(message, `messages[${i}]`, caches), message, caches));
    else if (message.role === 'tool') append('user', withCachePoint(toolResultBlocks(message, caches, claude || nova), message, caches));
  }
  // OpenAI answers a conversation of instructions alone; Converse refuses one with no messages: the instructions are
  // the user's turn, as near as a model comes to answering them.
  if (messages.length === 0) {
    if (system.length === 0) throw nothingToSend('Bedrock Converse');
    append('user', system.splice(0));
  }
  if (claude || nova) for (const message of messages) if (message.role === 'user') message.content = resultsWithMedia(message.content);
  for (const message of messages) if (message.role === 'user') message.content = withTextBesideDocuments(message.content);
  refuseTooManyDocuments(messages);
  const lastMessage = messages.at(-1);
  if (lastMessage) lastMessage.content = withCachePoint(lastMessage.content, request, caches);

  const body: Record<string, unknown> = { messages };
  if (system.length > 0) body.system = system;
  const inferenceConfig: Record<string, unknown> = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined) inferenceConfig.maxTokens = maxTokens;
  // OpenAI's temperature runs 0–2, Converse's 0–1: the nearest allowed value keeps a fallback from failing.
  if (request.temperature !== undefined) inferenceConfig.temperature = Math.min(1, Math.max(0, request.temperature));
  // Claude models from 4.5 on refuse temperature and top_p together; temperature, the one clients set, is kept.
  if (request.top_p !== undefined && !(claude && request.temperature !== undefined)) inferenceConfig.topP = request.top_p;
  // Claude refuses a sequence only of whitespace (claudeStopSequences); other models are sent the client's.
  const stops = claude ? claudeStopSequences(request.stop) : request.stop === undefined ? undefined : Array.isArray(request.stop) ? request.stop : [request.stop];
  if (stops) inferenceConfig.stopSequences = stops;
  const toolConfig = toolConfigOf(request, caches);
  const thinking = claude ? claudeThinkingFields(request, modelId, inferenceConfig, toolConfig, catalogModel) : otherModelThinkingFields(request, modelId, inferenceConfig, catalogModel);
  if (Object.keys(inferenceConfig).length > 0) body.inferenceConfig = inferenceConfig;
  if (thinking) body.additionalModelRequestFields = thinking;
  // Converse says that a stop sequence ended the answer, not which; Claude's own response says which, and Converse
  // returns it when asked by its JSON Pointer (API_runtime_Converse.html, additionalModelResponseFieldPaths).
  if (claude && stops) body.additionalModelResponseFieldPaths = ['/stop_sequence'];
  const outputConfig = outputConfigOf(request.response_format);
  if (outputConfig) body.outputConfig = outputConfig;
  if (toolConfig) body.toolConfig = toolConfig;
  // Converse refuses toolUse and toolResult blocks without a toolConfig, which a call that offers no tools (none
  // given, or `tool_choice: "none"`, which Converse lacks) has none of: the earlier calls and results then go as
  // text, so the model keeps their content and cannot call a tool.
  else for (const message of messages) message.content = message.content.flatMap(toolBlockAsText);
  return body;
}

/**
 * OpenAI's `json_schema` response format as Converse's structured output: `outputConfig.textFormat`, an OutputFormat
 * of type `json_schema` whose `structure.jsonSchema` holds the schema as a JSON string, with its name and description
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_OutputConfig.html, API_runtime_OutputFormat.html,
 * API_runtime_JsonSchemaDefinition.html). The model's text is then JSON that follows the schema, so the answer needs
 * no translation. Only the models the structured-output guide lists take it; Bedrock refuses it for others (400).
 * The other route, a forced tool, is documented for Claude 3 and Nova models only (a tool choice naming a tool,
 * API_runtime_ToolChoice.html), and would clash with the client's own tools and tool choice.
 */
function outputConfigOf(format: ResponseFormat | undefined): Record<string, unknown> | undefined {
  if (format?.type !== 'json_schema') return undefined;
  const { name, description, schema } = format.json_schema;
  if (!schema) throw unsupported('response_format', 'Bedrock Converse needs json_schema.schema, the schema the JSON must follow');
  return { textFormat: { type: 'json_schema', structure: { jsonSchema: { schema: JSON.stringify(schema), name, ...(description ? { description } : {}) } } } };
}

/** A toolUse or toolResult block as a text block saying the same; any other block as it is. */
function toolBlockAsText(block: ConverseBlock): ConverseBlock[] {
  if ('toolUse' in block) {
    const use = block.toolUse as { toolUseId: string; name: string; input: unknown };
    return [{ text: `[called tool ${use.name} (call ${use.toolUseId}) with ${JSON.stringify(use.input)}]` }];
  }
  if ('toolResult' in block) {
    const result = block.toolResult as { toolUseId: string; content: ConverseBlock[] };
    const said = result.content.filter((c) => 'text' in c || 'json' in c);
    const text = said.map((c) => (c.text as string | undefined) ?? JSON.stringify(c.json)).join('\n');
    // The images and documents a result held (resultsWithMedia) follow its text, as blocks of the turn.
    return [{ text: `[result of call ${result.toolUseId}]\n${text}` }, ...result.content.filter((c) => !said.includes(c))];
  }
  return [block];
}

/**
 * The tools on offer and the model's choice among them; none for `tool_choice: "none"`, which Converse lacks. A
 * strict tool is `strict` in its ToolSpecification (API_runtime_ToolSpecification.html), so that its input follows
 * the schema as the client asked.
 */
function toolConfigOf(request: ChatRequest, caches: CachePlaces): Record<string, unknown> | undefined {
  if (!request.tools?.length) return undefined;
  const tools = request.tools.flatMap((tool) => {
    const { name, description, parameters, strict } = tool.function;
    const spec = { toolSpec: { name, ...(description ? { description } : {}), inputSchema: { json: parameters ?? { type: 'object', properties: {} } }, ...(strict === true ? { strict } : {}) } };
    return caches.tools ? andCachePoint(spec, tool, caches) : [spec];
  });
  const choice = request.tool_choice;
  if (choice === 'none') return undefined;
  if (choice === 'required') return { tools, toolChoice: { any: {} } };
  if (typeof choice === 'object') return { tools, toolChoice: { tool: { name: choice.function.name } } };
  if (choice === 'auto') return { tools, toolChoice: { auto: {} } };
  return { tools };
}

const marked = (at: CacheControl): boolean => CACHE_CONTROL in at;

/** The cachePoint block of `at`'s breakpoint, when it has one and the model caches. */
function cachePointOf(at: CacheControl | undefined, caches: CachePlaces): ConverseBlock | undefined {
  const control = at?.[CACHE_CONTROL];
  if (!control || !caches.prompt) return undefined;
  return { cachePoint: { type: 'default', ...(control.ttl === '5m' || control.ttl === '1h' ? { ttl: control.ttl } : {}) } };
}

/** `block`, then the cachePoint of `at`'s breakpoint if any. */
function andCachePoint(block: ConverseBlock, at: CacheControl | undefined, caches: CachePlaces): ConverseBlock[] {
  const point = cachePointOf(at, caches);
  return point ? [block, point] : [block];
}

/** `blocks`, then the cachePoint of what marked them all, unless they are none or already end in one. */
function withCachePoint(blocks: ConverseBlock[], at: CacheControl, caches: CachePlaces): ConverseBlock[] {
  const point = cachePointOf(at, caches);
  const last = blocks.at(-1);
  if (point && last && !('cachePoint' in last)) blocks.push(point);
  return blocks;
}

/** A system or developer message: one text block, or one a text part when a part has a breakpoint. */
function systemBlocks(content: ChatMessage['content'], caches: CachePlaces): ConverseBlock[] {
  if (Array.isArray(content) && content.some(marked)) return content.flatMap((part) => (part.type === 'text' && !isBlank(part.text) ? andCachePoint({ text: part.text }, part, caches) : []));
  const text = textOf(content);
  return !isBlank(text) ? [{ text }] : [];
}

/**
 * A user's message (text, images and PDFs), blank text left out. One of nothing but whitespace keeps it: left out, the turn before it would
 * become the one the model goes on with (a prefill), where Converse's 400 says what is wrong.
 */
function userBlocks(content: ChatMessage['content'], where: string, caches: CachePlaces, documents: DocumentNames, cites: boolean): ConverseBlock[] {
  if (content === null) return [];
  if (typeof content === 'string') return content !== '' ? [{ text: content }] : [];
  const blocks = content.flatMap((part: ContentPart, i): ConverseBlock[] => {
    // A document's context is its own for a model that cites, which reads it (API_runtime_DocumentBlock.html: "when generating citations"); text before it for another.
    if (part.type === 'text') return !isBlank(part.text) && !(cites && foldedContext(content, i)) ? andCachePoint({ text: part.text }, part, caches) : [];
    const block = part.type === 'file' ? documentBlock(part, `${where}.content[${i}]`, documents, cites, cites ? contextBefore(content, i) : undefined) : imageBlock(imageUrlOf(part, `${where}.content[${i}]`, 'Bedrock'), `${where}.content[${i}]`);
    // A result holds no cachePoint: media with a breakpoint of its own stays where the breakpoint can follow it.
    if (part[TOOL_RESULT_OF] !== undefined && !marked(part)) resultMedia.set(block, part[TOOL_RESULT_OF]);
    return andCachePoint(block, part, caches);
  });
  return blocks.length > 0 ? blocks : content.flatMap((part) => (part.type === 'text' && part.text !== '' ? andCachePoint({ text: part.text }, part, caches) : []));
}

/** Image and document blocks that came in a tool's result (TOOL_RESULT_OF): the call each answers. */
const resultMedia = new WeakMap<ConverseBlock, string>();

/**
 * A user turn's blocks with each image or document that came in a tool's result (resultMedia) inside that
 * `toolResult`, after its text, where Claude and Nova take them (API_runtime_ToolResultContentBlock.html): OpenAI's
 * shape had carried them in a user message after the results, where the model could not tell which call returned
 * which. One whose result is not in the turn stays where it is.
 */
function resultsWithMedia(blocks: ConverseBlock[]): ConverseBlock[] {
  if (!blocks.some((block) => resultMedia.has(block))) return blocks;
  const results = new Map<string, { content: ConverseBlock[] }>();
  for (const block of blocks) {
    const result = block.toolResult as { toolUseId: string; content: ConverseBlock[] } | undefined;
    if (result) results.set(result.toolUseId, result);
  }
  return blocks.filter((block) => {
    const id = resultMedia.get(block);
    const result = id === undefined ? undefined : results.get(id);
    if (!result) return true;
    // A result of no text is sent `{text: ""}` for want of any content: its media are its content now.
    if (result.content.length === 1 && result.content[0]?.text === '') result.content = [];
    result.content.push(block);
    return false;
  });
}

/**
 * Whether a Bedrock model writes citations: Claude's, from Claude 3.5 on (https://docs.anthropic.com/en/docs/build-with-claude/citations
 * names no Claude 3 model, Claude 2 or Instant among those that cite).
 */
const citesOnBedrock = (modelId: string): boolean => isClaudeModel(modelId) && !/claude-(?:instant|v2|3-(?:haiku|sonnet|opus))/.test(modelId);

/** The most documents Converse takes in a request (https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference-call.html). */
const MAX_DOCUMENTS = 5;
/** The largest document Converse takes: 4.5 MB. */
const MAX_DOCUMENT_BYTES = 4.5 * 1024 * 1024;

/**
 * More documents than Converse takes in a request (its own in the turns and those inside tool results), refused as
 * one it cannot serve, so an alias moves on to a provider that takes them, rather than Bedrock's 400 ending the call.
 */
function refuseTooManyDocuments(messages: ConverseMessage[]): void {
  let documents = 0;
  for (const message of messages) {
    for (const block of message.content) {
      if (block.document) documents++;
      const result = block.toolResult as { content?: ConverseBlock[] } | undefined;
      for (const inner of result?.content ?? []) if (inner.document) documents++;
    }
  }
  if (documents > MAX_DOCUMENTS) throw unsupported('messages', `Bedrock Converse takes at most ${MAX_DOCUMENTS} documents a request; this one has ${documents}`);
}

/**
 * A user turn's blocks, with a text block naming its documents when it has documents and no text: Converse refuses
 * a message with a document and no text ("you must also include a ContentBlock with a text field",
 * API_runtime_Message.html), which a PDF sent alone, or one that came in a tool result for a model whose results
 * hold none, would make.
 */
function withTextBesideDocuments(blocks: ConverseBlock[]): ConverseBlock[] {
  const documents = blocks.flatMap((block) => (block.document ? [(block.document as { name: string }).name] : []));
  if (documents.length === 0 || blocks.some((block) => 'text' in block)) return blocks;
  return [...blocks, { text: documents.join(', ') }];
}

/**
 * A file part as Converse's document block, named as Converse allows (DocumentNames): a PDF's bytes, or a plain-text
 * document's text where the client asked for its citations (CITATIONS), which a Claude model writes (`cites`) and
 * which turns them on (API_runtime_CitationsConfig.html); another model refuses them (pdfOf). Its `context` is the
 * text part before it that says it is (contextBefore).
 */
function documentBlock(part: FilePart, where: string, documents: DocumentNames, cites: boolean, context: string | undefined): ConverseBlock {
  const citations = { ...(context !== undefined ? { context } : {}), ...(part[CITATIONS] ? { citations: { enabled: true } } : {}) };
  const text = cites ? citedTextOf(part) : undefined;
  if (text !== undefined) {
    if (Buffer.byteLength(text, 'utf8') > MAX_DOCUMENT_BYTES) throw unsupported(`${where}.file.file_data`, 'Bedrock Converse takes documents of 4.5 MB at most');
    return { document: { format: 'txt', name: documents.nameFor(part.file.filename, titleOf(part)), source: { text }, ...citations } };
  }
  const { data, filename } = pdfOf(part, where, 'this Bedrock model', cites);
  if (Buffer.byteLength(data, 'base64') > MAX_DOCUMENT_BYTES) throw unsupported(`${where}.file.file_data`, 'Bedrock Converse takes documents of 4.5 MB at most');
  return { document: { format: 'pdf', name: documents.nameFor(filename, titleOf(part)), source: { bytes: data }, ...citations } };
}

/** A document's title for the client: its file name, unless the gateway made that up (UNTITLED). */
const titleOf = (part: FilePart): string | null => (part[UNTITLED] ? null : (part.file.filename ?? null));

/** The text as one block (a breakpoint on any of its parts after it), then each tool call with its breakpoint. */
function assistantBlocks(message: ChatMessage, where: string, caches: CachePlaces): ConverseBlock[] {
  const text = textOf(message.content);
  const textMark = Array.isArray(message.content) ? message.content.find(marked) : undefined;
  const toolUses = (message.tool_calls ?? []).flatMap((call, j) => andCachePoint({ toolUse: { toolUseId: call.id, name: call.function.name, input: toolArgumentsOf(call.function.arguments, `${where}.tool_calls[${j}]`) } }, call, caches));
  return [...(!isBlank(text) ? andCachePoint({ text }, textMark, caches) : []), ...toolUses];
}

/**
 * A tool message's result; a breakpoint on one of its parts goes after it, since a result holds no cachePoint. A result
 * an Anthropic-format client marked as an error (TOOL_ERROR) says so with `status: "error"` where the model takes it:
 * "only supported by Amazon Nova and Anthropic Claude 3 and 4 models" (API_runtime_ToolResultBlock.html).
 */
function toolResultBlocks(message: ChatMessage, caches: CachePlaces, takesStatus: boolean): ConverseBlock[] {
  const flagged = takesStatus && message[TOOL_ERROR] === true;
  const text = textOf(message.content);
  const result = { toolResult: { toolUseId: message.tool_call_id ?? '', content: [toolResultContent(flagged ? withoutToolErrorPrefix(text) : text)], ...(flagged ? { status: 'error' } : {}) } };
  return andCachePoint(result, Array.isArray(message.content) ? message.content.find(marked) : undefined, caches);
}

/** A tool's answer that is a JSON object travels as `json` (as text if it nests too deep to be written out again), anything else as `text`. */
function toolResultContent(text: string): ConverseBlock {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && !nestsTooDeep(value)) return { json: value };
  } catch {
    // plain text
  }
  return { text };
}

/** Converse takes images as bytes only: a data: URL is decoded here, a web URL is refused. */
function imageBlock(url: string, where: string): ConverseBlock {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  const format = match ? IMAGE_FORMATS[match[1]?.toLowerCase() ?? ''] : undefined;
  if (!match || !format) throw unsupported(`${where}.image_url.url`, 'Bedrock Converse takes images as data: URLs of PNG, JPEG, GIF or WebP');
  return { image: { format, source: { bytes: match[2] } } };
}

function unsupported(param: string, message: string): ProviderCallError {
  return cannotServe(param, `${param}: ${message}`);
}
