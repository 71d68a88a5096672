import { ANTHROPIC_BETA, type ChatRequest } from '../chat-types.js';
import { AnthropicRequestError } from './anthropic-error.js';

/** A beta feature's name as Anthropic writes them (`context-1m-2025-08-07`), and no longer than any of them is. */
const FEATURE = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * Features that change what Anthropic bills beyond what the catalog prices: prompts over 200,000 tokens at long-context
 * rates (`context-1m-…`), answers past the model's listed output limit, by which budget holds are sized
 * (`output-128k-…`). Refused, so that no call is recorded or held at less than it costs.
 */
const UNPRICED = [/^context-1m-/, /^output-128k-/];

/** More than any client asks for at once: the header is sent on, and its length is the client's to choose otherwise. */
const MAX_FEATURES = 32;

/**
 * The request with the `anthropic-beta` features its client asked for (https://docs.anthropic.com/en/api/beta-headers):
 * comma-separated, in one header or several, each kept once, under ANTHROPIC_BETA for the Anthropic adapter to send
 * on. Dropped, they turned off what the client asked for (a million tokens of context, interleaved thinking) without
 * a word. A name that is not one (a space, a quote) is refused rather than written into the provider's header.
 */
export function withBetaFeatures(request: ChatRequest, header: string | string[] | undefined): ChatRequest {
  if (header === undefined) return request;
  const features = new Set<string>();
  for (const line of Array.isArray(header) ? header : [header]) {
    for (const name of line.split(',')) {
      const feature = name.trim();
      if (feature === '') continue;
      if (!FEATURE.test(feature)) throw new AnthropicRequestError('anthropic-beta', `"${feature.slice(0, 40)}" is not a beta feature's name: send names of letters, digits, ".", "_" and "-", separated by commas`);
      if (UNPRICED.some((unpriced) => unpriced.test(feature))) throw new AnthropicRequestError('anthropic-beta', `"${feature}" changes what Anthropic bills beyond what the gateway's catalog prices (its budgets and usage records would count less than it costs): leave it out`);
      features.add(feature);
    }
  }
  if (features.size > MAX_FEATURES) throw new AnthropicRequestError('anthropic-beta', `names ${features.size} beta features, more than the ${MAX_FEATURES} the gateway sends on`);
  if (features.size > 0) request[ANTHROPIC_BETA] = [...features];
  return request;
}
