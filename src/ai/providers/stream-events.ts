import type { ChatCompletionChunk } from '../chat-types.js';
import { ProviderCallError } from '../provider-call.js';

/**
 * The chunks of a read's provider events, in order. A failure an event reports (a ProviderCallError) carries the
 * chunks of the events before it (ProviderCallError.before), for the client to get first: the model's last words and
 * the error often come in one read.
 */
export function translateEach<Event>(events: readonly Event[], translate: (event: Event) => ChatCompletionChunk[]): ChatCompletionChunk[] {
  const out: ChatCompletionChunk[] = [];
  for (const event of events) {
    try {
      for (const chunk of translate(event)) out.push(chunk);
    } catch (error) {
      if (error instanceof ProviderCallError) error.before = out;
      throw error;
    }
  }
  return out;
}
