import type { ChatRequest } from '../../chat-types.js';
import { apiHostOf } from '../api-host.js';
import { thinkingAsked } from '../client-thinking.js';
import type { CallContext } from '../provider.js';

/**
 * DeepSeek's thinking mode switch on Chat Completions, `{"thinking": {"type": "enabled"}}` or `"disabled"`
 * (https://api-docs.deepseek.com/guides/thinking_mode: "Thinking Mode Toggle … {"thinking": {"type":
 * "enabled/disabled"}}", "Thinking mode is enabled by default"). Only DeepSeek documents it: known, as
 * reasoning-back.ts knows Groq, by the provider's catalog key or by the host its base URL reaches.
 */
export interface ThinkingToggle {
  type: 'enabled' | 'disabled';
}

const DEEPSEEK_KEY = 'deepseek';
const DEEPSEEK_HOST = 'api.deepseek.com';
/**
 * DeepSeek's legacy id that is its thinking mode by name (as `deepseek-chat` is the other mode): its docs do not say
 * the switch turns it off, so it is never sent `disabled`.
 */
const THINKING_BY_NAME = 'deepseek-reasoner';

/**
 * Whether an OpenAI-compatible provider is DeepSeek's API, which takes the `thinking` switch; decided once, when the
 * config is compiled.
 *
 * @example takesThinkingToggle({ type: 'openai-compatible', baseUrl: 'https://api.deepseek.com' }) // true
 */
export function takesThinkingToggle(provider: { type: string; catalog?: string; baseUrl?: string }): boolean {
  if (provider.type !== 'openai-compatible') return false;
  return provider.catalog === DEEPSEEK_KEY || apiHostOf(provider.baseUrl ?? '') === DEEPSEEK_HOST;
}

/**
 * OpenAI's effort for no reasoning (https://platform.openai.com/docs/api-reference/chat/create#chat-create-reasoning_effort),
 * as a Chat Completions client, or a Responses API one (`reasoning.effort`), sends it. DeepSeek's Chat Completions
 * take `reasoning_effort` for how hard to think only, its documented values not including `none`: thinking is turned
 * off with the switch alone (https://api-docs.deepseek.com/guides/thinking_mode, "Thinking Mode Toggle and Effort
 * Control"; `none` disables thinking on its Responses API format only).
 */
const NO_REASONING = 'none';

/**
 * The `thinking` switch DeepSeek is sent for its client's thinking: `disabled` when an Anthropic-format client sent
 * `thinking: {type: "disabled"}`, or an OpenAI-format one `reasoning_effort: "none"` (DeepSeek's models would think
 * anyway, thinking being their default), but not to `deepseek-reasoner`; `enabled` when an Anthropic-format client
 * asked for thinking, to the models the catalog says reason (those that get a `reasoning_effort` too,
 * client-thinking.ts). Nothing when it asked nothing, or when the body already holds a `thinking` of the client's own.
 */
export function thinkingToggleFor(request: ChatRequest, body: Record<string, unknown>, ctx: CallContext): ThinkingToggle | undefined {
  if (!ctx.provider.thinkingToggle || body.thinking !== undefined) return undefined;
  const asked = thinkingAsked(request);
  if (!asked) return body.reasoning_effort === NO_REASONING && ctx.model !== THINKING_BY_NAME ? { type: 'disabled' } : undefined;
  if (!asked.on) return ctx.model === THINKING_BY_NAME ? undefined : { type: 'disabled' };
  return ctx.catalogModel?.capabilities.includes('reasoning') ? { type: 'enabled' } : undefined;
}

/**
 * The body with DeepSeek's switch for its client's thinking (thinkingToggleFor): a `reasoning_effort: "none"` it
 * stands for goes, as an effort DeepSeek does not document.
 */
export function withThinkingToggle(request: ChatRequest, body: Record<string, unknown>, ctx: CallContext): Record<string, unknown> {
  const toggle = thinkingToggleFor(request, body, ctx);
  if (!toggle) return body;
  const { reasoning_effort: effort, ...rest } = body;
  return { ...(effort === NO_REASONING ? rest : body), thinking: toggle };
}
