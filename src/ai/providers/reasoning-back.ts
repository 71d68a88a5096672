import { isProviderOf } from './api-host.js';
import type { ProviderAdapter } from './provider.js';

/**
 * OpenAI-compatible hosts that refuse `reasoning_content` in a request's messages, by catalog key and by API host:
 * Groq ("'messages.1' : property 'reasoning_content' is unsupported") and Cerebras (the same, a 400 either way), as
 * their users report (janhq/jan#8136, Kilo-Org/kilocode#10375). Sent it, a tool loop's next turn fails.
 */
const REFUSING_KEYS = ['groq', 'cerebras'];
const REFUSING_HOSTS: ReadonlySet<string> = new Set(['api.groq.com', 'api.cerebras.ai']);

/**
 * Provider types whose requests can carry the history's `reasoning_content`: the others (Mistral's included) write
 * their own messages and never send it, so a `reasoningBack` there would change nothing. Applying a config refuses
 * the setting on them; a stored config from before that rule has it ignored when compiled (ai-snapshot.ts).
 */
export const REASONING_BACK_TYPES: ReadonlySet<string> = new Set(['openai', 'openai-compatible', 'azure-openai']);

/**
 * Whether a provider is sent the history's `reasoning_content` (and so whether a `/v1/messages` client that asked
 * for no thinking is handed its reasoning to send back, anthropic-ingress/keygate-thinking.ts): the provider's own
 * `reasoningBack` setting when it has one; otherwise when its adapter says its hosts want it back
 * (ProviderAdapter.wantsReasoningBack, DeepSeek's thinking mode), unless the host is one known to refuse the field.
 *
 * @example sendsReasoningBack(OpenAICompatibleProvider, { type: 'openai-compatible', catalog: 'groq' }) // false
 */
export function sendsReasoningBack(adapter: Pick<ProviderAdapter, 'wantsReasoningBack'>, provider: { reasoningBack?: boolean; catalog?: string; type: string; baseUrl?: string }): boolean {
  if (provider.reasoningBack !== undefined) return provider.reasoningBack;
  if (adapter.wantsReasoningBack !== true) return false;
  return !isProviderOf(provider, REFUSING_KEYS, REFUSING_HOSTS);
}
