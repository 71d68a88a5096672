import { ANTHROPIC_BLOCKS, CACHE_CONTROL, OUTPUT_CONFIG, REASONING_EFFORTS, THINKING, TOOL_ERROR, TOOL_RESULT_OF, UNTITLED, CITATIONS, isReasoningEffort, type FilePart, type ToolResultMedia, withoutToolErrorPrefix, type CacheControl, type ChatMessage, type ChatRequest, type ContentPart, type ReasoningEffort, type ToolChoice } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { toolArgumentsOf } from '../tool-arguments.js';
import { nothingToSend } from '../nothing-to-send.js';
import { cannotServe } from '../cannot-serve.js';
import type { CatalogModel } from '../../catalog/index.js';
import { imageUrlOf, textOf } from '../content-parts.js';
import { citedTextOf, contextBefore, foldedContext, pdfOf } from '../pdf-file.js';
import { thinksOnlyAdaptively } from './adaptive-only.js';
import { JSON_OBJECT_INSTRUCTION, jsonResponseTool } from './response-format.js';
import type { AnthropicCacheControl, AnthropicContentBlock, AnthropicDocumentBlock, AnthropicImageBlock, AnthropicMessage, AnthropicToolResultBlock, AnthropicMessagesRequest, AnthropicTextBlock, AnthropicToolChoice } from './wire-types.js';
import { refuseLogprobs } from '../no-logprobs.js';
import { refusalsAsText } from '../refusal-as-text.js';
import { refuseOpenAIOnlyMembers } from '../no-openai-only-members.js';

/**
 * Anthropic requires `max_tokens`; OpenAI does not, and a client that names none is bounded by the model alone: the
 * catalog's output limit for the model, or this where the catalog does not know it (4,096 cut long answers short and
 * said the client's limit was reached, a limit it never set).
 */
const DEFAULT_MAX_TOKENS = 4096;

/**
 * OpenAI's `reasoning_effort` as an extended thinking budget (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking):
 * minimal and low 1024 (Anthropic's least), then doubling. `none` asks for no thinking, Anthropic's default.
 */
export const THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = { none: 0, minimal: 1024, low: 1024, medium: 2048, high: 4096, xhigh: 8192 };

/** The efforts every OpenAI reasoning model takes, and the only ones the gateway derives from an Anthropic client's ask. */
export type PortableEffort = 'low' | 'medium' | 'high';

/**
 * The inverse of THINKING_BUDGETS (low 1024, medium 2048, high 4096, xhigh 8192, the
 * budgets OpenAI's efforts become for Claude): a budget is the highest effort whose budget it reaches, below 2048
 * `low`, below 4096 `medium`, from 4096 `high`. Two efforts of that table are never chosen: `xhigh` (8192 and
 * more is `high`), which OpenAI takes only on its models after gpt-5.1-codex-max and refuses on the others, and
 * `minimal`, which o-series models and gpt-5.1 refuse
 * (https://platform.openai.com/docs/api-reference/chat/create#chat-create-reasoning_effort). So the effort a
 * budget comes to is one every reasoning model takes.
 *
 * @example effortForBudget(31_999) // 'high', Claude Code's largest budget
 */
export function effortForBudget(budget: number): PortableEffort {
  if (budget >= THINKING_BUDGETS.high) return 'high';
  return budget >= THINKING_BUDGETS.medium ? 'medium' : 'low';
}

/** A 400 for the request, naming the parameter (OpenAI's `param`) it is about. */
function invalid(code: string, message: string, param: string): ProviderCallError {
  return new ProviderCallError({ status: 400, type: 'invalid_request_error', code, message, param, retryable: false });
}

/** An Anthropic-format client's cache breakpoint on what it marked, sent as it came (see CACHE_CONTROL). */
function cacheControlOf(marked: CacheControl): AnthropicCacheControl {
  const control = marked[CACHE_CONTROL];
  return control ? { cache_control: control } : {};
}

/** `data:` URLs travel inline as base64, http(s) URLs as a URL source (https://docs.anthropic.com/en/docs/build-with-claude/vision). */
function imageBlock(url: string, where: string): AnthropicImageBlock {
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data) return { type: 'image', source: { type: 'base64', media_type: data[1] as string, data: data[2] as string } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid('invalid_image_url', `${where}.image_url.url must be a base64 data: URL or an http(s) URL`, `${where}.image_url.url`);
}

/** A TOOL_ERROR tool message's content without the prefix that says so to providers with no flag (its first text). */
function asSentWithFlag(content: ChatMessage['content']): ChatMessage['content'] {
  if (typeof content === 'string') return withoutToolErrorPrefix(content);
  if (!Array.isArray(content)) return content;
  const first = content.findIndex((part) => part.type === 'text');
  return first === -1 ? content : content.map((part, i) => (i === first && part.type === 'text' ? { ...part, text: withoutToolErrorPrefix(part.text) } : part));
}

/**
 * Whether a text says nothing. Anthropic refuses an empty text block ("text content blocks must be non-empty"), and one
 * only of whitespace unless another of its message says something ("must contain non-whitespace text"); Bedrock's
 * Converse any blank one ("The text field in the ContentBlock object at messages.0.content.0 is blank"). OpenAI takes
 * both (an assistant's "\n\n" before its tool calls), and such blocks are left out.
 */
export const isBlank = (text: string): boolean => text.trim() === '';

/**
 * Text, image and document blocks of a message, blank text left out (isBlank). A user's message of nothing but whitespace
 * (`whole`) keeps it: left out, the turn before it would become the one Claude goes on with (a prefill), where
 * Anthropic's 400 says what is wrong.
 */
function contentBlocks(content: ChatMessage['content'], where: string, whole = false): Array<AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock> {
  if (content === null) return [];
  const parts: ContentPart[] = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
  const blocks = parts.flatMap((part, i): Array<AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock> => {
    if (part.type === 'text') return isBlank(part.text) || foldedContext(parts, i) ? [] : [{ type: 'text', text: part.text, ...cacheControlOf(part) }];
    const block = part.type === 'file' ? documentBlock(part, `${where}.content[${i}]`, contextBefore(parts, i)) : imageBlock(imageUrlOf(part, `${where}.content[${i}]`, 'Anthropic'), `${where}.content[${i}]`);
    return [{ ...block, ...cacheControlOf(part), ...(part[TOOL_RESULT_OF] !== undefined ? { [TOOL_RESULT_OF]: part[TOOL_RESULT_OF] } : {}) }];
  });
  if (blocks.length > 0 || !whole) return blocks;
  return parts.flatMap((part) => (part.type === 'text' && part.text !== '' ? [{ type: 'text' as const, text: part.text, ...cacheControlOf(part) }] : []));
}

/**
 * A file part as Anthropic's document block: a PDF's bytes, or a plain-text document's text where the client asked
 * for its citations (CITATIONS, which also turns them on); its file name as its title unless the gateway made the
 * name up (UNTITLED); its `context` the text part before it that says it is (contextBefore).
 */
function documentBlock(part: FilePart, where: string, context: string | undefined): AnthropicDocumentBlock {
  const cited = part[CITATIONS] === true;
  const text = citedTextOf(part);
  const filename = part.file.filename;
  return {
    type: 'document',
    source: text !== undefined ? { type: 'text', media_type: 'text/plain', data: text } : { type: 'base64', media_type: 'application/pdf', data: pdfOf(part, where, 'Anthropic', true).data },
    ...(filename && !part[UNTITLED] ? { title: filename } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(cited ? { citations: { enabled: true } } : {}),
  };
}

/** `blocks`, the last with the breakpoint of what marked them all (a message), unless it has its own. */
function withMessageCacheControl<T extends object>(blocks: T[], message: ChatMessage): T[] {
  const last = blocks.at(-1) as { cache_control?: unknown } | undefined;
  if (last && CACHE_CONTROL in message && last.cache_control === undefined) Object.assign(last, cacheControlOf(message));
  return blocks;
}

/**
 * A system or developer message as system blocks: one of its text, or, when a part has a cache breakpoint, one a
 * text part, each with its breakpoint; the message's own breakpoint on the last.
 */
function systemBlocks(message: ChatMessage): AnthropicTextBlock[] {
  const { content } = message;
  if (Array.isArray(content) && content.some((part) => CACHE_CONTROL in part)) {
    return withMessageCacheControl(content.flatMap((part) => (part.type === 'text' && !isBlank(part.text) ? [{ type: 'text' as const, text: part.text, ...cacheControlOf(part) }] : [])), message);
  }
  const text = textOf(content);
  return isBlank(text) ? [] : withMessageCacheControl<AnthropicTextBlock>([{ type: 'text', text }], message);
}

function messageFor(message: ChatMessage, i: number): AnthropicMessage | undefined {
  const where = `messages[${i}]`;
  if (message.role === 'tool') {
    if (!message.tool_call_id) throw invalid('missing_tool_call_id', `${where}.tool_call_id is required on a tool message`, `${where}.tool_call_id`);
    // An Anthropic-format client's is_error goes on as it came (TOOL_ERROR), with its text as the client wrote it.
    const blocks = contentBlocks(message[TOOL_ERROR] ? asSentWithFlag(message.content) : message.content, where);
    const failed = message[TOOL_ERROR] ? { is_error: true } : {};
    return { role: 'user', content: [{ type: 'tool_result', tool_use_id: message.tool_call_id, ...(blocks.length > 0 ? { content: blocks } : {}), ...failed, ...cacheControlOf(message) }] };
  }
  if (message.role === 'assistant') {
    // A turn with thinking blocks goes as the Anthropic-format client sent it: Anthropic checks them, signature and place.
    const turn = message[ANTHROPIC_BLOCKS];
    if (turn) return { role: 'assistant', content: turn as AnthropicContentBlock[] };
    const blocks: AnthropicContentBlock[] = contentBlocks(message.content, where);
    for (const [j, call] of (message.tool_calls ?? []).entries()) {
      blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolArgumentsOf(call.function.arguments, `${where}.tool_calls[${j}]`), ...cacheControlOf(call) });
    }
    return blocks.length > 0 ? { role: 'assistant', content: withMessageCacheControl(blocks, message) } : undefined;
  }
  const blocks = contentBlocks(message.content, where, true);
  return blocks.length > 0 ? { role: 'user', content: withMessageCacheControl(blocks, message) } : undefined;
}

/**
 * Consecutive turns of one role become one turn, so tool results answering parallel calls share a user turn; in it,
 * the images and documents that came in a tool's result (TOOL_RESULT_OF) go back into that result (resultsWithMedia).
 */
function mergeTurns(messages: AnthropicMessage[]): AnthropicMessage[] {
  const merged: AnthropicMessage[] = [];
  for (const message of messages) {
    const last = merged.at(-1);
    if (last && last.role === message.role) last.content.push(...message.content);
    else merged.push({ role: message.role, content: [...message.content] });
  }
  for (const turn of merged) if (turn.role === 'user') turn.content = resultsWithMedia(turn.content);
  return merged;
}

type ResultMedia = (AnthropicImageBlock | AnthropicDocumentBlock) & ToolResultMedia;

/**
 * A user turn's blocks with each image or document that came in a tool's result (TOOL_RESULT_OF) inside that
 * `tool_result`, after its text, as Anthropic takes them (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use):
 * OpenAI's shape had carried them in a user message after the results, where Claude could not tell which call
 * returned which. One whose result is not in the turn stays where it is.
 */
function resultsWithMedia(blocks: AnthropicContentBlock[]): AnthropicContentBlock[] {
  if (!blocks.some((block) => TOOL_RESULT_OF in block)) return blocks;
  const results = new Map<string, AnthropicToolResultBlock>();
  for (const block of blocks) if (block.type === 'tool_result') results.set(block.tool_use_id, block);
  return blocks.filter((block) => {
    const id = (block as ResultMedia)[TOOL_RESULT_OF];
    const result = id === undefined ? undefined : results.get(id);
    if (!result) return true;
    const { [TOOL_RESULT_OF]: _id, ...media } = block as ResultMedia;
    const before = typeof result.content === 'string' ? (result.content === '' ? [] : [{ type: 'text' as const, text: result.content }]) : (result.content ?? []);
    result.content = [...before, media];
    return false;
  });
}

function toolChoiceFor(choice: ToolChoice | undefined, parallel: boolean | undefined): AnthropicToolChoice | undefined {
  const single = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: 'auto', ...single } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...single };
  if (choice === 'required') return { type: 'any', ...single };
  return { type: 'tool', name: choice.function.name, ...single };
}

/**
 * The assistant turn whose tool calls the request answers, when it has no thinking blocks to send back (an OpenAI
 * client's turn: OpenAI's shape has no place for a signed block; or an Anthropic-format client's turn whose thinking
 * another provider wrote, which Anthropic cannot check). With thinking on, Anthropic refuses such a turn (the
 * tool-use loop must start with thinking); without, it takes it: so such a request asks for no thinking until the
 * next user turn (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#extended-thinking-with-tool-use).
 */
function toolUseTurnWithoutThinking(messages: ChatMessage[]): ChatMessage | undefined {
  // The turn Anthropic answers holds tool results whenever tool messages follow the last assistant turn, a user
  // message after them included: consecutive user-side messages become one user turn (mergeTurns).
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'assistant') return undefined;
    if (message.role !== 'tool') continue;
    const assistant = messages.findLast((m, j) => j < i && m.role === 'assistant');
    return assistant !== undefined && !(ANTHROPIC_BLOCKS in assistant) ? assistant : undefined;
  }
  return undefined;
}

/**
 * An OpenAI chat request as an Anthropic Messages API request (https://docs.anthropic.com/en/api/messages):
 * system and developer messages become the top-level `system`, tool messages become `tool_result` blocks in a
 * user turn, assistant tool calls become `tool_use` blocks, and `stop` becomes `stop_sequences`. A client's cache
 * breakpoints (CACHE_CONTROL) go where it set them, a message's on its last block; with one on a system block,
 * `system` is sent as blocks.
 */
export function toAnthropicRequest(asked: ChatRequest, model: string, stream: boolean, catalogModel?: CatalogModel): AnthropicMessagesRequest {
  refuseLogprobs(asked, 'Anthropic');
  refuseOpenAIOnlyMembers(asked, 'Anthropic');
  const request = refusalsAsText(asked);
  if (request.n !== undefined && request.n !== 1) throw cannotServe('n', '"n" must be 1: Anthropic answers with one choice');
  const system: AnthropicTextBlock[] = [];
  const turns: AnthropicMessage[] = [];
  request.messages.forEach((message, i) => {
    if (message.role === 'system' || message.role === 'developer') {
      system.push(...systemBlocks(message));
      return;
    }
    const turn = messageFor(message, i);
    if (turn) turns.push(turn);
  });
  // OpenAI answers a conversation of instructions alone (a system prompt, and no user turn or only an empty one);
  // Anthropic refuses one with no turn: the instructions are the turn, as near as Claude comes to answering them.
  if (turns.length === 0) {
    if (system.length === 0) throw nothingToSend('Anthropic');
    turns.push({ role: 'user', content: system.splice(0) });
  }
  if (request.response_format?.type === 'json_object') system.push({ type: 'text', text: JSON_OBJECT_INSTRUCTION });

  const body: AnthropicMessagesRequest = {
    model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? catalogModel?.maxOutputTokens ?? DEFAULT_MAX_TOKENS,
    messages: mergeTurns(turns),
    ...cacheControlOf(request),
  };
  const { thinking, outputConfig } = clientThinking(request, model, catalogModel);
  if (thinking) body.thinking = thinking;
  if (outputConfig) body.output_config = outputConfig;
  if (system.length > 0) body.system = system.some((block) => block.cache_control) ? system : system.map((block) => block.text).join('\n\n');
  const stops = claudeStopSequences(request.stop);
  if (stops) body.stop_sequences = stops;
  // OpenAI's temperature runs 0–2, Anthropic's 0–1: the nearest allowed value keeps a fallback from failing.
  if (request.temperature !== undefined) body.temperature = Math.min(1, Math.max(0, request.temperature));
  // Claude models from 4.5 on refuse temperature and top_p together ("use only one"); OpenAI clients often send
  // both. Temperature, the one clients mean to set, is kept.
  if (request.top_p !== undefined && request.temperature === undefined) body.top_p = request.top_p;
  if (request.top_k !== undefined && request.top_k > 0) body.top_k = request.top_k;
  if (typeof request.user === 'string') body.metadata = { user_id: request.user };
  if (stream) body.stream = true;

  const tools = (request.tools ?? []).map((tool) => ({
    name: tool.function.name,
    ...(tool.function.description ? { description: tool.function.description } : {}),
    input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
    ...cacheControlOf(tool),
  }));
  let toolChoice = tools.length > 0 ? toolChoiceFor(request.tool_choice, request.parallel_tool_calls) : undefined;
  // An Anthropic client's own output_config.format goes as it came (above), not as a tool; so does a json_schema
  // answer with reasoning on a model that takes Anthropic's structured output (nativeFormat).
  const clientForced = toolChoice !== undefined && (toolChoice.type === 'any' || toolChoice.type === 'tool');
  const native = outputConfig?.format || request[THINKING] || !effortThinking(request, model, body.max_tokens, clientForced, catalogModel) ? undefined : nativeFormat(request, catalogModel);
  if (native) body.output_config = { ...body.output_config, format: native };
  // A client that forces its own tools (`required`, or one named) is answered by a call of one: the schema's tool
  // beside them would let the model answer in JSON instead, against the client's choice.
  const jsonTool = outputConfig?.format || native || clientForced ? undefined : jsonResponseTool(request.response_format);
  if (jsonTool) {
    tools.push(jsonTool);
    // The answer must come through the schema tool: forced when it is the only one the model may use, and
    // "any tool" alongside the client's own tools so the model can still call those first.
    const clientMayUseTools = tools.length > 1 && request.tool_choice !== 'none';
    if (!clientMayUseTools) toolChoice = { type: 'tool', name: jsonTool.name };
    else if (toolChoice === undefined || toolChoice.type === 'auto') toolChoice = { ...toolChoice, type: 'any' };
  }
  if (tools.length > 0) body.tools = tools;
  if (toolChoice) body.tool_choice = toolChoice;
  if (!request[THINKING] && request.reasoning_effort !== undefined) thinkFor(body, request, catalogModel);
  return body;
}

/**
 * OpenAI's strict `json_schema` answer as Anthropic's own structured output (`output_config.format`), on a model the
 * catalog says takes it (`json_schema`), for a call the caller has checked will think: the forced tool that carries
 * such an answer elsewhere (jsonResponseTool) works on every model but goes without thinking, which Anthropic refuses
 * with forced tool use. Otherwise the tool stays: it takes any schema, where output_config.format refuses some
 * keywords (https://platform.claude.com/docs/en/build-with-claude/structured-outputs), and a schema that is not
 * strict promised nothing that would be worth a 400.
 */
function nativeFormat(request: ChatRequest, catalogModel: CatalogModel | undefined): { type: 'json_schema'; schema: Record<string, unknown> } | undefined {
  const format = request.response_format;
  if (format?.type !== 'json_schema' || !format.json_schema.schema || format.json_schema.strict !== true) return undefined;
  return catalogModel?.capabilities.includes('json_schema') ? { type: 'json_schema', schema: format.json_schema.schema } : undefined;
}

/**
 * A reasoning_effort this adapter maps: OpenAI's values. Another (a host's own, OpenRouter's max) is a 400, but one
 * the next target of an alias may take: the call moves on, and the caller gets the 400 only if no target does.
 */
function effortOf(value: string): ReasoningEffort {
  if (isReasoningEffort(value)) return value;
  throw cannotServe('reasoning_effort', `reasoning_effort "${value}" has no thinking budget for Claude; use one of ${REASONING_EFFORTS.join(', ')}`, 'unsupported_value');
}

/**
 * Extended thinking as a reasoning_effort asks it of a Claude model: the budget, and the max_tokens that holds it; or,
 * for a model that thinks only adaptively, adaptive thinking at an effort of Anthropic's.
 */
export type EffortThinking = { budgetTokens: number; maxTokens: number } | { adaptiveEffort: AdaptiveEffort };

/** Anthropic's `output_config.effort` values that every adaptive model takes (https://docs.anthropic.com/en/docs/build-with-claude/effort). */
type AdaptiveEffort = 'low' | 'medium' | 'high';

/**
 * OpenAI's efforts as Anthropic's, for adaptive thinking: `minimal` as `low`, Anthropic's least, and `xhigh` as `high`,
 * the most every adaptive model takes; `none` asks for no thinking.
 */
const ADAPTIVE_EFFORTS: Readonly<Record<ReasoningEffort, AdaptiveEffort | undefined>> = { none: undefined, minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' };

/** An Anthropic-format client's thinking and `output_config`, as a Claude model is sent them. */
export interface ClientThinking {
  thinking?: Record<string, unknown>;
  outputConfig?: { effort?: string; format?: Record<string, unknown> };
}

/**
 * An Anthropic-format client's `thinking` and `output_config` for a Claude model (`model`, its id), wherever it is
 * served (Anthropic's API, Bedrock): as they came, except
 * - on a tool-use turn whose thinking another provider wrote (its reasoning_content, from the Anthropic ingress),
 *   which Claude would refuse for lacking thinking blocks: that turn goes without thinking;
 * - for a model that thinks only adaptively (thinksOnlyAdaptively), which refuses a budget and disabled thinking
 *   alike with a 400 ("Manual extended thinking … and disabled thinking … are not supported on these models",
 *   https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html), and which a client
 *   written for earlier models (Claude Code with a budget) still asks so: a budget becomes adaptive thinking at the
 *   effort it comes to (effortForBudget), unless the client set its own effort, `display` kept; disabled thinking is
 *   sent as none, the model's default.
 */
export function clientThinking(request: ChatRequest, model: string, catalogModel?: CatalogModel): ClientThinking {
  const thinking = request[THINKING];
  const outputConfig = request[OUTPUT_CONFIG];
  if (!thinking) return { outputConfig };
  const adaptiveOnly = (thinking.type === 'enabled' || thinking.type === 'disabled') && thinksOnlyAdaptively(model, catalogModel);
  if (thinking.type === 'disabled') return adaptiveOnly ? { outputConfig } : { thinking, outputConfig };
  if (toolUseTurnWithoutThinking(request.messages)?.reasoning_content !== undefined) return { outputConfig };
  if (!adaptiveOnly) return { thinking, outputConfig };
  const { budget_tokens: budget, ...rest } = thinking;
  return { thinking: { ...rest, type: 'adaptive' }, outputConfig: { ...outputConfig, effort: outputConfig?.effort ?? effortForBudget(Number(budget)) } };
}

/**
 * The client's `stop` as Claude's stop sequences, wherever it is served (Anthropic's API, Bedrock): without the ones
 * only of whitespace (`"\n"`, `"\n\n"`), which OpenAI takes and Claude refuses, the whole call with them ("each stop
 * sequence must contain non-whitespace"); undefined when none is left. Claude's answer then goes on past such a
 * sequence (docs/ai-gateway.md says so).
 */
export function claudeStopSequences(stop: ChatRequest['stop']): string[] | undefined {
  if (stop === undefined) return undefined;
  const kept = (typeof stop === 'string' ? [stop] : stop).filter((sequence) => typeof sequence === 'string' && sequence.trim() !== '');
  return kept.length > 0 ? kept : undefined;
}

/**
 * OpenAI's `reasoning_effort` as extended thinking for a Claude model (`model`, its id), wherever it is served
 * (Anthropic's API, Bedrock): undefined when the call goes without thinking. An effort OpenAI does not document throws
 * (see effortOf). A model that thinks only adaptively (thinksOnlyAdaptively) gets adaptive thinking at an effort.
 * Claude's max_tokens counts the thinking too, and must be above its budget. OpenAI's `max_completion_tokens` is
 * "an upper bound for the number of tokens that can be generated for a completion, including visible output tokens
 * and reasoning tokens", the client's bound on what the call costs: it is Claude's max_tokens, and the budget is cut
 * to at most half of it (the answer's room), or there is no thinking when Claude's least budget (1,024) does not
 * fit. The legacy `max_tokens` (which OpenAI's reasoning models refuse), or none, is the room for the answer: the
 * budget is added to it (`maxTokens`; when the client set none, the model's output limit, or DEFAULT_MAX_TOKENS where
 * the catalog does not know it). Either within the catalog's output limit for the model. Thinking does not go with
 * forced tool use (`forcedTool`: a forced tool_choice, or a
 * tool that carries a json_schema answer), a model the catalog says does not reason, nor tool results answering a
 * turn without thinking blocks (toolUseTurnWithoutThinking)
 * (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#feature-compatibility).
 */
export function effortThinking(request: ChatRequest, model: string, maxTokens: number | undefined, forcedTool: boolean, catalogModel?: CatalogModel): EffortThinking | undefined {
  if (request.reasoning_effort === undefined) return undefined;
  const effort = effortOf(request.reasoning_effort);
  const budget = THINKING_BUDGETS[effort];
  if (budget === 0 || forcedTool || toolUseTurnWithoutThinking(request.messages)) return undefined;
  // A model the catalog says does not reason (Claude 3.5 Haiku) would refuse thinking: the effort asks for none there.
  if (catalogModel && !catalogModel.capabilities.includes('reasoning')) return undefined;
  // One that thinks only adaptively (Claude Opus 4.7 on) refuses a budget: the effort is Anthropic's own there.
  if (thinksOnlyAdaptively(model, catalogModel)) return { adaptiveEffort: ADAPTIVE_EFFORTS[effort]! };
  const limit = catalogModel?.maxOutputTokens ?? Infinity;
  if (request.max_completion_tokens !== undefined) {
    const total = Math.min(request.max_completion_tokens, limit);
    // At most half the bound, so that the answer keeps room: a budget of all but one token would leave none.
    const within = Math.min(budget, Math.floor(total / 2));
    return within >= THINKING_BUDGETS.minimal ? { budgetTokens: within, maxTokens: total } : undefined;
  }
  // Within the model's output limit, where the catalog knows it: the answer's room shrinks before the call fails.
  const total = Math.min((maxTokens ?? catalogModel?.maxOutputTokens ?? DEFAULT_MAX_TOKENS) + budget, limit);
  return budget < total ? { budgetTokens: budget, maxTokens: total } : undefined;
}

/**
 * The most output a call to Claude may bill (ProviderAdapter.billedOutputLimit): the limit it is sent, which for a
 * reasoning effort beside the older `max_tokens` has the thinking budget added (effortThinking); an Anthropic-format
 * client's own thinking is within its `max_tokens` (Anthropic's rule), which arrives as `max_completion_tokens`.
 */
export function claudeOutputLimit(request: ChatRequest, model: string, catalogModel?: CatalogModel): number | undefined {
  const asked = request.max_completion_tokens ?? request.max_tokens;
  if (request[THINKING]) return asked;
  const thinking = effortThinking(request, model, asked, false, catalogModel);
  return thinking && 'maxTokens' in thinking ? thinking.maxTokens : asked;
}

/**
 * OpenAI's `reasoning_effort` as extended thinking on Anthropic's body (effortThinking). A forced tool is the
 * client's contract, so such a call goes without thinking; otherwise the sampling settings thinking refuses go (a
 * changed temperature, top_k, a top_p under 0.95), since the client asked for reasoning.
 */
function thinkFor(body: AnthropicMessagesRequest, request: ChatRequest, catalogModel: CatalogModel | undefined): void {
  const forced = body.tool_choice !== undefined && (body.tool_choice.type === 'any' || body.tool_choice.type === 'tool');
  const thinking = effortThinking(request, body.model, body.max_tokens, forced, catalogModel);
  if (!thinking) return;
  if ('adaptiveEffort' in thinking) {
    body.thinking = { type: 'adaptive' };
    body.output_config = { ...body.output_config, effort: thinking.adaptiveEffort };
  } else {
    body.thinking = { type: 'enabled', budget_tokens: thinking.budgetTokens };
    body.max_tokens = thinking.maxTokens;
  }
  delete body.temperature;
  delete body.top_k;
  if (body.top_p !== undefined && body.top_p < 0.95) delete body.top_p;
}
