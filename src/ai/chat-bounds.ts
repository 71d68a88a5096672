import { invalidParam as invalid } from './openai-error.js';

/** OpenAI's most choices a chat call may ask for: above it OpenAI answers 400 integer_above_max_value on `n`. */
const MAX_CHOICES = 128;

/** OpenAI's "up to 4 sequences" (https://platform.openai.com/docs/api-reference/chat/create#chat-create-stop). */
const MAX_STOP_SEQUENCES = 4;

/**
 * `n` and `stop` within OpenAI's bounds, refused beyond them with OpenAI's codes, for every provider: an adapter
 * maps them onto its provider's own (Gemini's candidateCount, whose limit is 8; stop sequences), which take or
 * refuse them by other rules, after the call is counted. Read once `n` is known to be a positive integer and `stop`
 * a string or an array of strings.
 */
export function refuseBeyondChatBounds(body: Record<string, unknown>): void {
  const { n, stop } = body;
  if (typeof n === 'number' && n > MAX_CHOICES) throw invalid('n', `Invalid 'n': integer above maximum value. Expected a value <= ${MAX_CHOICES}, but got ${n} instead.`, 'integer_above_max_value');
  if (Array.isArray(stop) && stop.length > MAX_STOP_SEQUENCES) {
    throw invalid('stop', `Invalid 'stop': array too long. Expected an array with maximum length ${MAX_STOP_SEQUENCES}, but got an array with length ${stop.length} instead.`, 'array_above_max_length');
  }
}
