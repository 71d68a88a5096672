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
