import type { Usage } from '../../chat-types.js';
import type { TranslatedChunk } from '../provider.js';

/**
 * The usage Groq tells in its own member of a streamed chunk: its final chunk carries `x_groq.usage`, "Usage
 * information for the stream. Only sent in the final chunk." (XGroq in https://console.groq.com/docs/api-reference,
 * typed so in groq-python's `types/chat/chat_completion_chunk.py`), and OpenAI's `usage` only when
 * `stream_options.include_usage` was honoured. Undefined for any other chunk, and for a member that is not an object.
 */
export function groqUsageOf(chunk: TranslatedChunk): Usage | undefined {
  const groq = (chunk as { x_groq?: unknown }).x_groq;
  const usage = typeof groq === 'object' && groq !== null ? (groq as { usage?: unknown }).usage : undefined;
  return typeof usage === 'object' && usage !== null && !Array.isArray(usage) ? (usage as Usage) : undefined;
}
