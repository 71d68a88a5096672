import type { TranslatedChunk } from '../provider.js';

/**
 * The error Groq tells in its own member of a streamed chunk: `x_groq.error`, "An error string indicating why a
 * stream was stopped early" (XGroq in https://console.groq.com/docs/api-reference, typed so in groq-python's
 * `types/chat/chat_completion_chunk.py` and groq-typescript's `resources/chat/completions.ts`). Undefined for any other
 * chunk, and for a member that is not a string with something in it.
 */
export function groqErrorOf(chunk: TranslatedChunk): string | undefined {
  const groq = (chunk as { x_groq?: unknown }).x_groq;
  const error = typeof groq === 'object' && groq !== null ? (groq as { error?: unknown }).error : undefined;
  return typeof error === 'string' && error !== '' ? error : undefined;
}
