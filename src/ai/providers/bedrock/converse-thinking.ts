import { anthropicCitationOf, citedTextOfBlock, type ConverseCitationsContent } from './converse-citations.js';
import type { DocumentNames } from './document-names.js';
import type { CatalogModel } from '../../catalog/index.js';
import { CACHE_CONTROL, REASONING_EFFORTS, isReasoningEffort, type AnthropicBlock, type CacheControl, type ChatRequest, type ReasoningEffort } from '../../chat-types.js';
import { claudeOutputLimit, clientThinking, effortThinking, isBlank } from '../anthropic/index.js';
import { cannotServe } from '../cannot-serve.js';
import type { ConverseBlock } from './converse-request.js';

/**
 * Extended thinking on Bedrock's Claude models, through Converse
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-extended-thinking.html): Converse has no member
 * for asking it, and passes a model's own request fields in `additionalModelRequestFields`
 * (API_runtime_Converse.html), which for Claude are those of Anthropic's Messages API (`thinking`, and
 * `output_config.effort`, which Bedrock documents beside adaptive thinking, claude-messages-adaptive-thinking.html,
 * and which goes beside any thinking the client sent, as the Anthropic adapter sends it). The thinking comes back as
 * `reasoningContent` blocks (API_runtime_ReasoningContentBlock.html): `reasoningText` (`text`, `signature`) or
 * `redactedContent` (base64 bytes), which Claude wants back unchanged in a tool-use loop, as Anthropic's thinking and
 * redacted_thinking blocks (API_runtime_ReasoningTextBlock.html: "include the text and its signature unmodified").
 */

/** Bedrock's Claude model ids: `anthropic.claude-…`, or a cross-region inference profile's (`us.anthropic.claude-…`). */
export const isClaudeModel = (modelId: string): boolean => /(^|[.:/])anthropic\./.test(modelId);

/** Converse's `inferenceConfig` (API_runtime_InferenceConfiguration.html), as far as thinking changes it. */
interface InferenceConfig {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  [member: string]: unknown;
}

/**
 * The `additionalModelRequestFields` of a Claude model's thinking, or undefined for none. An Anthropic-format client's
 * `thinking` (enabled with its budget, disabled, adaptive) goes as it came, with its `output_config.effort`; OpenAI's
 * `reasoning_effort` goes by the Anthropic adapter's rule (effortThinking): the budget added to `maxTokens`, and none
 * with a forced tool (`toolChoice` any or tool), which is the client's contract. Beside it, the temperature and a topP
 * under 0.95, which Claude refuses with thinking, are dropped, since the client asked for reasoning.
 */
export function claudeThinkingFields(request: ChatRequest, modelId: string, inferenceConfig: InferenceConfig, toolConfig: { toolChoice?: Record<string, unknown> } | undefined, catalogModel?: CatalogModel): Record<string, unknown> | undefined {
  const { thinking, outputConfig } = clientThinking(request, modelId, catalogModel);
  if (thinking) {
    const effort = outputConfig?.effort;
    return { thinking, ...(effort ? { output_config: { effort } } : {}) };
  }
  const choice = toolConfig?.toolChoice;
  const asked = effortThinking(request, modelId, inferenceConfig.maxTokens, choice !== undefined && ('any' in choice || 'tool' in choice), catalogModel);
  if (!asked) return undefined;
  delete inferenceConfig.temperature;
  if (inferenceConfig.topP !== undefined && inferenceConfig.topP < 0.95) delete inferenceConfig.topP;
  if ('adaptiveEffort' in asked) return { thinking: { type: 'adaptive' }, output_config: { effort: asked.adaptiveEffort } };
  inferenceConfig.maxTokens = asked.maxTokens;
  return { thinking: { type: 'enabled', budget_tokens: asked.budgetTokens } };
}

/** Amazon Nova 2 models (`amazon.nova-2-lite-v1:0`, `us.amazon.nova-2-…`), which take a reasoning effort. */
const NOVA_2 = /(^|[.:/])amazon\.nova-2-/;

/** OpenAI's efforts as Nova 2's `maxReasoningEffort`, which has three; `none` is Nova's default, no extended thinking. */
const NOVA_EFFORTS: Readonly<Record<ReasoningEffort, 'low' | 'medium' | 'high' | undefined>> = { none: undefined, minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' };

/**
 * The `additionalModelRequestFields` of a model other than Claude, for OpenAI's `reasoning_effort`; an
 * Anthropic-format client's `thinking` is left out, as for any provider but Anthropic. Amazon Nova 2 takes
 * `reasoningConfig: {type: "enabled", maxReasoningEffort}` (the Nova 2 user guide's extended thinking), and with a
 * high effort no temperature, topP nor maxTokens, which are dropped since the client asked for reasoning. Bedrock
 * documents no thinking request for the other models of Keygate's catalog (Llama, Mistral, Cohere, Nova 1), so an
 * effort asks for none there. An effort OpenAI does not document is refused as the Anthropic and Gemini adapters
 * refuse it: a 400 marked retryable, so that the next target of an alias may take it.
 */
export function otherModelThinkingFields(request: ChatRequest, modelId: string, inferenceConfig: InferenceConfig, catalogModel?: CatalogModel): Record<string, unknown> | undefined {
  const effort = request.reasoning_effort;
  if (effort === undefined) return undefined;
  if (!isReasoningEffort(effort)) {
    throw cannotServe('reasoning_effort', `reasoning_effort "${effort}" is not one Bedrock maps; use one of ${REASONING_EFFORTS.join(', ')}`, 'unsupported_value');
  }
  const level = novaEffortOf(request, modelId, catalogModel);
  if (!level) return undefined;
  if (level === 'high') {
    delete inferenceConfig.temperature;
    delete inferenceConfig.topP;
    delete inferenceConfig.maxTokens;
  }
  return { reasoningConfig: { type: 'enabled', maxReasoningEffort: level } };
}

/**
 * The most output a Converse call may bill (ProviderAdapter.billedOutputLimit): a Claude model's as the Anthropic
 * adapter's (claudeOutputLimit: the thinking budget added to `max_tokens`); none for Nova 2 at a high effort, which
 * is sent no maxTokens (otherModelThinkingFields); else the request's own.
 */
export function converseOutputLimit(request: ChatRequest, modelId: string, catalogModel?: CatalogModel): number | undefined {
  if (isClaudeModel(modelId)) return claudeOutputLimit(request, modelId, catalogModel);
  if (novaEffortOf(request, modelId, catalogModel) === 'high') return undefined;
  return request.max_completion_tokens ?? request.max_tokens;
}

/**
 * Nova 2's `maxReasoningEffort` for the call's effort: none for another model, no effort (or `none`), an effort OpenAI
 * does not document (otherModelThinkingFields refuses it), or a model the catalog says does not reason.
 */
function novaEffortOf(request: ChatRequest, modelId: string, catalogModel?: CatalogModel): 'low' | 'medium' | 'high' | undefined {
  const effort = request.reasoning_effort;
  if (!NOVA_2.test(modelId) || !isReasoningEffort(effort) || (catalogModel && !catalogModel.capabilities.includes('reasoning'))) return undefined;
  return NOVA_EFFORTS[effort];
}

/**
 * An Anthropic-format client's assistant turn with thinking (ANTHROPIC_BLOCKS) as Converse blocks, in its order:
 * thinking as `reasoningText` with its signature, redacted_thinking as `redactedContent`, text and tool_use as Converse's
 * own; a block's `cache_control` as a cachePoint after it (through `cachePoint`). Blocks Converse has no place for
 * (server tools') are left out.
 */
export function converseBlocksOfTurn(blocks: readonly AnthropicBlock[], cachePoint: (at: CacheControl) => ConverseBlock | undefined): ConverseBlock[] {
  return blocks.flatMap((block): ConverseBlock[] => {
    const converse = converseBlockOf(block);
    if (!converse) return [];
    const point = typeof block.cache_control === 'object' && block.cache_control !== null ? cachePoint({ [CACHE_CONTROL]: block.cache_control as Record<string, unknown> }) : undefined;
    return point ? [converse, point] : [converse];
  });
}

function converseBlockOf(block: AnthropicBlock): ConverseBlock | undefined {
  switch (block.type) {
    case 'thinking':
      return { reasoningContent: { reasoningText: { text: String(block.thinking ?? ''), ...(typeof block.signature === 'string' ? { signature: block.signature } : {}) } } };
    case 'redacted_thinking':
      return { reasoningContent: { redactedContent: String(block.data ?? '') } };
    case 'text':
      return isBlank(String(block.text ?? '')) ? undefined : { text: String(block.text) };
    case 'tool_use':
      return { toolUse: { toolUseId: String(block.id), name: String(block.name), input: block.input ?? {} } };
    default:
      return undefined;
  }
}

/** A Converse answer's content block, as far as Keygate reads it (API_runtime_ContentBlock.html). */
export interface ConverseAnswerBlock {
  text?: string;
  citationsContent?: ConverseCitationsContent;
  toolUse?: { toolUseId: string; name: string; input?: unknown };
  reasoningContent?: { reasoningText?: { text?: string; signature?: string }; redactedContent?: string };
}

/** A thinking block as Anthropic writes it: its text, and the signature Claude checks when it comes back. */
export const thinkingBlock = (text: string, signature: string): AnthropicBlock => ({ type: 'thinking', thinking: text, signature });

/** A redacted_thinking block as Anthropic writes it: the encrypted thinking, here Bedrock's bytes in base64. */
export const redactedThinkingBlock = (data: string): AnthropicBlock => ({ type: 'redacted_thinking', data });

/** A Claude answer's blocks as Anthropic's, in their order, for the `/v1/messages` ingress to answer with; citations tell the titles `documents` stand for. */
export function anthropicBlocksOf(blocks: readonly ConverseAnswerBlock[], documents?: DocumentNames): AnthropicBlock[] {
  return blocks.flatMap((block): AnthropicBlock[] => {
    const reasoning = block.reasoningContent;
    if (reasoning?.reasoningText) return [thinkingBlock(reasoning.reasoningText.text ?? '', reasoning.reasoningText.signature ?? '')];
    if (reasoning?.redactedContent !== undefined) return [redactedThinkingBlock(reasoning.redactedContent)];
    if (block.toolUse) return [{ type: 'tool_use', id: block.toolUse.toolUseId, name: block.toolUse.name, input: block.toolUse.input ?? {} }];
    if (block.citationsContent) return [{ type: 'text', text: citedTextOfBlock(block.citationsContent), citations: (block.citationsContent.citations ?? []).flatMap((citation) => anthropicCitationOf(citation, documents) ?? []) }];
    return typeof block.text === 'string' && block.text !== '' ? [{ type: 'text', text: block.text }] : [];
  });
}
