import { generationFailure } from '../generation-failed.js';
import { randomUUID } from 'node:crypto';
import { INPUT_RATES } from '../../catalog/index.js';
import { ANTHROPIC_BLOCKS, CACHE_WRITES, STOP_SEQUENCE, WINDOW_EXCEEDED, type ChatCompletion, type FinishReason, type StopSequence, type ToolCall, type Usage } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import type { CallContext } from '../provider.js';
import { textWrittenApart } from '../text-apart.js';
import { citedTextOfBlock } from './converse-citations.js';
import { documentNamesOf } from './document-names.js';
import { anthropicBlocksOf, isClaudeModel, type ConverseAnswerBlock } from './converse-thinking.js';

/** The parts of a Converse response Keygate reads (API_runtime_Converse.html, "Response Syntax"). */
interface ConverseResponse {
  output?: { message?: { content?: ConverseAnswerBlock[] } };
  stopReason?: string;
  additionalModelResponseFields?: unknown;
  usage?: ConverseUsage;
}

/**
 * API_runtime_TokenUsage.html: `cacheDetails` breaks the cache writes down by their entries' TTL. Reasoning has no
 * count of its own: a model's thinking is within `outputTokens`, as Claude bills it.
 */
export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
  cacheDetails?: Array<{ ttl?: string; inputTokens?: number }>;
}

const FINISH_REASONS: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  content_filtered: 'content_filter',
  guardrail_intervened: 'content_filter',
};

/**
 * The stop reasons by which Converse says the model's output could not be read (API_runtime_MessageStopEvent.html:
 * malformed_model_output, malformed_tool_use): the generation failed. OpenAI has no finish reason for it, and as
 * `stop` a tool call that was lost passed for a whole answer.
 */
const FAILED = new Set(['malformed_model_output', 'malformed_tool_use']);

export const generationFailed = (stopReason: string | undefined): boolean => FAILED.has(stopReason ?? '');

/**
 * A generation Converse ended as failed: retryable, as Cohere's ERROR and Mistral's `error` are, so that another
 * target may answer; `billed`, its usage, which Bedrock bills all the same.
 */
export function generationError(stopReason: string, billed?: Usage): ProviderCallError {
  return new ProviderCallError(generationFailure(`Bedrock's generation ended with stopReason ${stopReason}`), billed);
}

export function finishReasonOf(stopReason: string | undefined): FinishReason {
  return FINISH_REASONS[stopReason ?? ''] ?? 'stop';
}

/**
 * A `stop_sequence` stop, for the choice: which sequence, when the model's own response says (Claude's
 * `stop_sequence`, returned in `additionalModelResponseFields` when the request asked for it), else null: Converse
 * itself does not say.
 */
export function stopSequenceOf(stopReason: string | undefined, fields?: unknown): StopSequence {
  if (stopReason === 'model_context_window_exceeded') return { [WINDOW_EXCEEDED]: true };
  if (stopReason !== 'stop_sequence') return {};
  const matched = typeof fields === 'object' && fields !== null ? (fields as { stop_sequence?: unknown }).stop_sequence : undefined;
  return { [STOP_SEQUENCE]: typeof matched === 'string' ? matched : null };
}

/**
 * Converse counts cached prompt tokens apart from `inputTokens`; OpenAI counts them inside `prompt_tokens` and names
 * the cache reads in `prompt_tokens_details.cached_tokens`. The writes go with the usage (CACHE_WRITES), by TTL where
 * `cacheDetails` says it, else as 5-minute entries, Bedrock's default. What Bedrock charges for them depends on the
 * model (https://docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html): the catalog entry's write
 * prices (Claude's) price them; where it has none (Nova's: none was found) they are plain input (INPUT_RATES).
 */
export function usageOf(usage: ConverseUsage | undefined): Usage {
  const cacheRead = usage?.cacheReadInputTokens ?? 0;
  const written = usage?.cacheWriteInputTokens ?? 0;
  const prompt = (usage?.inputTokens ?? 0) + cacheRead + written;
  const completion = usage?.outputTokens ?? 0;
  const result: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, ...(cacheRead > 0 ? { prompt_tokens_details: { cached_tokens: cacheRead } } : {}) };
  if (written > 0) {
    const oneHour = Math.min(usage?.cacheDetails?.find((detail) => detail.ttl === '1h')?.inputTokens ?? 0, written);
    result[CACHE_WRITES] = { fiveMinute: written - oneHour, oneHour, rates: INPUT_RATES };
  }
  return result;
}

/**
 * A Converse answer as an OpenAI chat completion: text blocks are the content, toolUse blocks the tool calls, and
 * reasoningContent blocks' text the `reasoning_content` (Bedrock answers with them only to a request that asked for
 * reasoning). A Claude answer with reasoning also keeps its blocks as Anthropic's (ANTHROPIC_BLOCKS), signatures and
 * redacted thinking included, for the `/v1/messages` ingress to answer with and its client to send back; so does any
 * model's answer whose text OpenAI's shape would join (textWrittenApart), its blocks as they came.
 */
export function fromConverseResponse(body: unknown, ctx: CallContext): ChatCompletion {
  const response = body as ConverseResponse;
  // A 200 that is no Converse answer (a proxy's, another API's) would be an empty completion, billed nothing and
  // cached: it is the provider's failure, and the next target may answer.
  if (!Array.isArray(response.output?.message?.content)) {
    throw new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_bad_response', message: 'the provider answered with no Converse message', retryable: true });
  }
  if (generationFailed(response.stopReason)) throw generationError(response.stopReason as string, usageOf(response.usage));
  const blocks = response.output.message.content;
  const text = blocks.map((block) => block.text ?? (block.citationsContent ? citedTextOfBlock(block.citationsContent) : '')).join('');
  const toolCalls: ToolCall[] = blocks.flatMap((block) =>
    block.toolUse ? [{ id: block.toolUse.toolUseId, type: 'function' as const, function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) } }] : [],
  );
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
  const reasoning = blocks.filter((block) => block.reasoningContent);
  if (reasoning.length > 0) {
    const thought = reasoning.flatMap((block) => (block.reasoningContent?.reasoningText?.text ? [block.reasoningContent.reasoningText.text] : [])).join('\n\n');
    if (thought !== '') message.reasoning_content = thought;
    if (isClaudeModel(ctx.model)) message[ANTHROPIC_BLOCKS] = anthropicBlocksOf(blocks, documentNamesOf.get(ctx));
  } else if (blocks.some((block) => block.citationsContent) || textWrittenApart(blocks.map((block) => (typeof block.text === 'string' || block.citationsContent ? 'text' : block.toolUse ? 'tool' : 'other')))) message[ANTHROPIC_BLOCKS] = anthropicBlocksOf(blocks, documentNamesOf.get(ctx));
  return {
    // Converse names no completion id in its body (only the x-amzn-requestid header).
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(ctx.now / 1000),
    model: ctx.model,
    choices: [{ index: 0, message, finish_reason: finishReasonOf(response.stopReason), logprobs: null, ...stopSequenceOf(response.stopReason, response.additionalModelResponseFields) }],
    usage: usageOf(response.usage),
  };
}
