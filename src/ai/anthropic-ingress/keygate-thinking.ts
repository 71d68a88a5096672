import type { ChatMessage, ChatRequest } from '../chat-types.js';
import { thinkingAsked } from '../providers/index.js';

/**
 * The signature of the thinking blocks Keygate writes for providers other than Anthropic (their `reasoning_content`:
 * Gemini's thoughts, DeepSeek's reasoning), so that a client sending its history back tells Keygate which thinking
 * blocks are its own and which are Anthropic's.
 *
 * Anthropic's signatures are opaque base64 (https://platform.claude.com/docs/en/build-with-claude/extended-thinking):
 * they never hold a `:`, so no Anthropic signature starts with KEYGATE_SIGNATURE_PREFIX. No key signs Keygate's: the
 * signature only routes a block, it vouches for nothing. A block marked as Keygate's becomes plain reasoning text
 * for the providers that want it back, which is text the client could write into its history anyway; and it never
 * reaches Anthropic, whose own signatures protect what Anthropic checks (a block falsely unmarked would go to
 * Anthropic, which refuses a signature it did not make). With `display: "omitted"` the text, which the block then
 * leaves empty, travels in the signature (base64 after KEYGATE_SIGNATURE_PREFIX), as Anthropic keeps its own
 * omitted thinking in its signature: the client can decode it, but it is the client's own answer.
 */
export const KEYGATE_SIGNATURE_PREFIX = 'keygate:v1';

/**
 * The signature of a thinking block Keygate writes: the prefix alone, or with `hidden` (the reasoning of a block
 * whose text display "omitted" leaves empty) after a `:`, base64-encoded.
 *
 * @example keygateSignature() // 'keygate:v1'
 */
export function keygateSignature(hidden?: string): string {
  return hidden ? `${KEYGATE_SIGNATURE_PREFIX}:${Buffer.from(hidden, 'utf8').toString('base64')}` : KEYGATE_SIGNATURE_PREFIX;
}

/** Whether a thinking block's signature is one Keygate wrote (keygateSignature). */
export const isKeygateSignature = (signature: unknown): signature is string =>
  typeof signature === 'string' && (signature === KEYGATE_SIGNATURE_PREFIX || signature.startsWith(`${KEYGATE_SIGNATURE_PREFIX}:`));

/** The reasoning a Keygate thinking block holds: its text, or when that is empty what its signature carries. */
export function keygateReasoningOf(thinking: string, signature: string): string {
  if (thinking !== '' || signature.length <= KEYGATE_SIGNATURE_PREFIX.length) return thinking;
  return Buffer.from(signature.slice(KEYGATE_SIGNATURE_PREFIX.length + 1), 'base64').toString('utf8');
}

/**
 * When a client that asked for no thinking is handed the provider's reasoning all the same, in thinking blocks that
 * show no text (the signature carries it, as for display "omitted"): when the host wants it back
 * (its provider's `reasoningBack`, providers/reasoning-back.ts), as DeepSeek's thinking mode, which reasons unasked, wants back every answer's
 * reasoning of a user turn that called tools, the last answer's too, and refuses a later request without it
 * (https://api-docs.deepseek.com/guides/thinking_mode). `turn`: the request continues a turn that called tools, so
 * any answer's reasoning is handed back; `tool-calls`: only an answer that calls tools has its reasoning handed back,
 * others stay as without thinking. A client sends its blocks back unchanged (Anthropic's SDK and Claude Code do,
 * thinking included), and they become the turn's `reasoning_content` again (messagesToChat).
 */
export type HiddenReasoning = 'turn' | 'tool-calls';

/**
 * The HiddenReasoning of an answer to `request` from a host that wants its reasoning back or not; undefined when it
 * does not, or when the client asked for thinking, which it gets as it asked.
 *
 * @example hiddenReasoningFor(messagesToChat(body), provider.config.reasoningBack === true)
 */
export function hiddenReasoningFor(request: ChatRequest, wantsReasoningBack: boolean): HiddenReasoning | undefined {
  if (!wantsReasoningBack || thinkingAsked(request)?.on) return undefined;
  return turnCalledTools(request.messages) ? 'turn' : 'tool-calls';
}

/** Whether an assistant message since the last user message called tools: the request goes on with a tool loop. */
function turnCalledTools(messages: readonly ChatMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role === 'user') return false;
    if (message.role === 'assistant' && message.tool_calls?.length) return true;
  }
  return false;
}
