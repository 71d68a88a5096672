import type { ChatCompletionChunk } from '../chat-types.js';
import { ProviderCallError } from '../provider-call.js';
import type { StreamTranslator } from './provider.js';

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

/**
 * The failure of a stream that ended, its connection closed cleanly, before the provider's event that ends an answer
 * (a finish reason, `message_stop`, `done`…): what came is part of an answer at most, never one to pass off as whole.
 * Retryable: a stream that said nothing yet falls back. `before`: the chunks of the stream's last bytes, which go to
 * the client first.
 */
export function incompleteStream(before: ChatCompletionChunk[] = []): ProviderCallError {
  const error = new ProviderCallError({ status: 502, type: 'api_error', code: 'provider_stream_incomplete', message: 'the provider stream ended before the answer did', retryable: true });
  error.before = before;
  return error;
}

/**
 * `translator` with its chunks put through `map` (a host's differences from the format it wraps), those a failure
 * carries for the client too (ProviderCallError.before): they go out as the others do.
 */
export function mappedTranslator(translator: StreamTranslator, map: (chunks: ChatCompletionChunk[]) => ChatCompletionChunk[]): StreamTranslator {
  const mapped = (read: () => ChatCompletionChunk[]): ChatCompletionChunk[] => {
    let chunks: ChatCompletionChunk[];
    try {
      chunks = read();
    } catch (error) {
      if (error instanceof ProviderCallError && error.before.length > 0) error.before = map(error.before);
      throw error;
    }
    return map(chunks);
  };
  return { push: (bytes) => mapped(() => translator.push(bytes)), end: () => mapped(() => translator.end()), usage: () => translator.usage() };
}
