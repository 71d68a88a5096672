import type { ClientCompletion } from './chat-types.js';
import type { TranslatedChunk } from './providers/index.js';

/**
 * `parallel_tool_calls: false` (Anthropic's `disable_parallel_tool_use`) held for every provider: at most one tool
 * call per choice. OpenAI, Anthropic and Mistral are told and make one; Gemini, Bedrock, Cohere and Ollama have no
 * such setting and may make several, of which the client gets the first (the model may make the others in its next
 * turn, once it has the first one's result). The calls left out were made and billed: the call's tokens count them.
 */
export const oneToolCallAsked = (request: { parallel_tool_calls?: boolean }): boolean => request.parallel_tool_calls === false;

/** The completion with only the first tool call of each choice; the same object when no choice has more. */
export function withOneToolCall(completion: ClientCompletion): ClientCompletion {
  if (!completion.choices.some((choice) => (choice.message?.tool_calls?.length ?? 0) > 1)) return completion;
  return {
    ...completion,
    choices: completion.choices.map((choice) => {
      const calls = choice.message?.tool_calls;
      return calls === undefined || calls.length <= 1 ? choice : { ...choice, message: { ...choice.message, tool_calls: calls.slice(0, 1) } };
    }),
  };
}

/**
 * The chunk without the deltas of any tool call after a choice's first (index 0), written anew when it had some (the
 * provider's text no longer goes as it is); the same chunk when it has none.
 */
export function withOneToolCallChunk(chunk: TranslatedChunk): TranslatedChunk {
  if (!chunk.choices.some((choice) => choice.delta.tool_calls?.some((call) => call.index > 0))) return chunk;
  return {
    ...chunk,
    choices: chunk.choices.map((choice) => {
      const calls = choice.delta.tool_calls;
      if (!calls?.some((call) => call.index > 0)) return choice;
      const { tool_calls: _all, ...delta } = choice.delta;
      const first = calls.filter((call) => call.index === 0);
      return { ...choice, delta: first.length > 0 ? { ...delta, tool_calls: first } : delta };
    }),
  };
}
