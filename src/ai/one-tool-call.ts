import { ANTHROPIC_BLOCKS, type ClientCompletion } from './chat-types.js';
import type { TranslatedChunk } from './providers/index.js';

/**
 * `parallel_tool_calls: false` (Anthropic's `disable_parallel_tool_use`) held for every provider: at most one tool
 * call per choice. OpenAI, Anthropic and Mistral are told and make one; Gemini, Bedrock, Cohere and Ollama have no
 * such setting and may make several, of which the client gets the first (the model may make the others in its next
 * turn, once it has the first one's result). The calls left out were made and billed: the call's tokens count them.
 */
export const oneToolCallAsked = (request: { parallel_tool_calls?: boolean }): boolean => request.parallel_tool_calls === false;

/**
 * The completion with only the first tool call of each choice; the same object when no choice has more. The answer's
 * own blocks (ANTHROPIC_BLOCKS, which an Anthropic-format client is answered with) lose the other calls' `tool_use`
 * blocks too.
 */
export function withOneToolCall(completion: ClientCompletion): ClientCompletion {
  if (!completion.choices.some((choice) => (choice.message?.tool_calls?.length ?? 0) > 1)) return completion;
  return {
    ...completion,
    choices: completion.choices.map((choice) => {
      const calls = choice.message?.tool_calls;
      if (calls === undefined || calls.length <= 1) return choice;
      const message = { ...choice.message, tool_calls: calls.slice(0, 1) };
      const blocks = message[ANTHROPIC_BLOCKS];
      if (blocks) message[ANTHROPIC_BLOCKS] = blocks.filter((block) => block.type !== 'tool_use' || block.id === calls[0]!.id);
      return { ...choice, message };
    }),
  };
}

/**
 * For one stream: each chunk without the deltas of any tool call but its choice's first, the one whose index came
 * first (0 from OpenAI; a host in front of Claude may number calls by content block, its only call 1), written anew
 * when it had others (the provider's text no longer goes as it is); the same chunk when it has none.
 */
export function oneToolCallPerChoice(): (chunk: TranslatedChunk) => TranslatedChunk {
  const first = new Map<number, number>();
  return (chunk) => {
    // Every choice's first call is known before any is cut (a host answering with n > 1 may put several in a chunk).
    let cut = false;
    for (const choice of chunk.choices) {
      for (const call of choice.delta.tool_calls ?? []) {
        const seen = first.get(choice.index);
        if (seen === undefined) first.set(choice.index, call.index);
        else if (seen !== call.index) cut = true;
      }
    }
    if (!cut) return chunk;
    return {
      ...chunk,
      choices: chunk.choices.map((choice) => {
        const calls = choice.delta.tool_calls;
        if (!calls?.some((call) => call.index !== first.get(choice.index))) return choice;
        const { tool_calls: _all, ...delta } = choice.delta;
        const own = calls.filter((call) => call.index === first.get(choice.index));
        return { ...choice, delta: own.length > 0 ? { ...delta, tool_calls: own } : delta };
      }),
    };
  };
}
