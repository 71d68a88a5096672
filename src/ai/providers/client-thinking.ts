import type { CatalogModel } from '../catalog/index.js';
import { OUTPUT_CONFIG, THINKING, type ChatRequest } from '../chat-types.js';
import { effortForBudget, type PortableEffort } from './anthropic/messages-request.js';

export { effortForBudget, type PortableEffort };

/**
 * What an Anthropic-format client asked of thinking (THINKING, OUTPUT_CONFIG), for providers other than Anthropic,
 * which get it in their own terms: `on` false for `thinking: {type: "disabled"}`; otherwise on, with the
 * `budget` of `{type: "enabled", budget_tokens}` and the `effort` the budget or `output_config.effort` comes to
 * (neither, for `{type: "adaptive"}` alone: the provider's own dynamic thinking). `omitted` when the client asked
 * for `display: "omitted"` (https://platform.claude.com/docs/en/build-with-claude/extended-thinking): thinking
 * blocks come back with their text empty.
 */
export interface ThinkingAsked {
  on: boolean;
  budget?: number;
  effort?: PortableEffort;
  omitted?: boolean;
}

/**
 * Anthropic's `output_config.effort` (low, medium, high, xhigh, max; https://platform.claude.com/docs/en/build-with-claude/effort)
 * as a portable effort: the first three as they are, `xhigh` and `max` as `high`, for the reason effortForBudget gives.
 */
function effortOf(effort: string | undefined): PortableEffort | undefined {
  if (effort === undefined) return undefined;
  return effort === 'low' || effort === 'medium' ? effort : 'high';
}

/**
 * What the request's Anthropic-format client asked of thinking, or undefined when it asked nothing (no `thinking`,
 * no `output_config.effort`: every request of an OpenAI-format client). A budget decides the effort; without one,
 * `output_config.effort` does. Thinking disabled stays off whatever the effort says.
 */
export function thinkingAsked(request: ChatRequest): ThinkingAsked | undefined {
  const thinking = request[THINKING];
  const effort = effortOf(request[OUTPUT_CONFIG]?.effort);
  if (thinking === undefined && effort === undefined) return undefined;
  const omitted = thinking?.display === 'omitted' ? { omitted: true } : {};
  if (thinking?.type === 'disabled') return { on: false, ...omitted };
  if (thinking?.type === 'enabled') {
    const budget = thinking.budget_tokens as number;
    return { on: true, budget, effort: effortForBudget(budget), ...omitted };
  }
  return { on: true, ...(effort ? { effort } : {}), ...omitted };
}

/**
 * The `reasoning_effort` an OpenAI-format provider is sent for an Anthropic-format client's thinking: its effort
 * (thinkingAsked), only for a model the catalog says reasons, since OpenAI refuses `reasoning_effort` on the others
 * ("Unsupported parameter: 'reasoning_effort' is not supported with this model") and a host model the catalog does not
 * know may be one of them. Thinking disabled or adaptive without an effort asks for nothing: the model's default.
 */
export function reasoningEffortFor(request: ChatRequest, catalogModel: CatalogModel | undefined): PortableEffort | undefined {
  // An OpenAI-format client's request (no thinking asked) is answered before the catalog is read.
  const asked = thinkingAsked(request);
  if (!asked?.on || !catalogModel?.capabilities.includes('reasoning')) return undefined;
  return asked.effort;
}
