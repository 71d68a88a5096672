import { REASONING_EFFORTS, isReasoningEffort, type ChatRequest } from '../../chat-types.js';
import { cannotServe } from '../cannot-serve.js';
import { thinkingAsked } from '../client-thinking.js';
import type { CallContext } from '../provider.js';

/**
 * Cohere's `thinking` request setting for its reasoning models (https://docs.cohere.com/docs/reasoning): on by default,
 * `{"type": "disabled"}` turns it off, and `token_budget` bounds the tokens it may think with.
 */
export interface CohereThinking {
  type: 'enabled' | 'disabled';
  token_budget?: number;
}

/**
 * The `thinking` Cohere is sent for what the client asked of reasoning:
 * - OpenAI's `reasoning_effort`: `none` as disabled, any other effort as enabled with no budget, as Cohere's own
 *   OpenAI-compatible endpoint reads `none` and `high` ("These correspond to enabling or disabling thinking in the
 *   Cohere Chat API"); Cohere's chat has no effort between, and its guide recommends thinking without a budget;
 * - an Anthropic-format client's thinking (thinkingAsked): disabled as disabled; enabled with `budget_tokens` as
 *   enabled with that `token_budget`; adaptive, or an effort alone, as enabled.
 * Nothing when the client asked nothing, nor for a model the catalog says does not reason, for which the setting asks
 * nothing (as Gemini's thinking is not sent to a model that does not think).
 */
export function cohereThinkingFor(request: ChatRequest, ctx: CallContext): CohereThinking | undefined {
  const effort = request.reasoning_effort;
  if (effort !== undefined && !isReasoningEffort(effort)) throw cannotServe('reasoning_effort', `reasoning_effort "${String(effort)}" is not one Cohere maps; use one of ${REASONING_EFFORTS.join(', ')}`, 'unsupported_value');
  if (ctx.catalogModel && !ctx.catalogModel.capabilities.includes('reasoning')) return undefined;
  if (effort !== undefined) return { type: effort === 'none' ? 'disabled' : 'enabled' };
  const asked = thinkingAsked(request);
  if (!asked) return undefined;
  if (!asked.on) return { type: 'disabled' };
  return asked.budget !== undefined ? { type: 'enabled', token_budget: asked.budget } : { type: 'enabled' };
}
