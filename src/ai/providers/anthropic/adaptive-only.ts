import type { CatalogModel } from '../../catalog/index.js';

/**
 * The Claude model ids that think only adaptively, by name: the families the catalog marks `adaptive_thinking`
 * (Opus 4.7 and 4.8, every Claude 5 model: Opus, Sonnet, Haiku, Fable) and Mythos, with their successors: Opus 4.7
 * and every later Opus 4, every Claude from 5 on whatever its family, every Mythos (Preview included). Anthropic's ids
 * (`claude-opus-4-8`, `claude-sonnet-5-20260301`) and Bedrock's (`anthropic.claude-opus-4-8-20260101-v1:0`, after a
 * region's prefix `us.`, `eu.`, `global.`… or inside an inference profile's ARN) alike. A date is no version:
 * `claude-opus-4-20250514` is Opus 4, and `claude-3-7-sonnet-…` names its version before its family.
 */
const ADAPTIVE_ONLY_ID = /(?:^|[./:])claude-(?:mythos(?:-|$)|opus-4-(?:[7-9]|[1-9]\d)(?!\d)|[a-z]+-(?:[5-9]|[1-9]\d)(?!\d))/;

/**
 * Whether a Claude model, on Anthropic's API or Bedrock, thinks only adaptively (`thinking: {type: "adaptive"}` with
 * `output_config.effort`) and refuses a thinking budget with a 400: "Claude Opus 4.7 and Claude Mythos Preview only
 * support adaptive thinking. Manual extended thinking (thinking.type: "enabled" with budget_tokens) is not supported
 * on these models and will return a 400 error"
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html). The catalog's entry
 * says, when there is one (`adaptive_thinking`); a model it does not list (a new snapshot, a new model) is known by
 * its id (ADAPTIVE_ONLY_ID), since a budget sent to one that thinks only adaptively fails the call.
 *
 * @example thinksOnlyAdaptively('us.anthropic.claude-opus-4-9-20270115-v1:0', undefined) // true
 */
export function thinksOnlyAdaptively(model: string, catalogModel: CatalogModel | undefined): boolean {
  return catalogModel ? catalogModel.capabilities.includes('adaptive_thinking') : ADAPTIVE_ONLY_ID.test(model);
}
