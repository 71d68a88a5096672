import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatMessage } from './chat-types.js';

/**
 * Token counts for providers that report none, with OpenAI's o200k_base tokenizer: exact for current OpenAI
 * models, an estimate for others. Calls accounted this way are marked as estimated.
 */
export function estimateTokens(text: string): number {
  return text === '' ? 0 : countTokens(text);
}

/** Prompt tokens of a chat request, with OpenAI's per-message overhead of about 3 tokens. */
export function estimatePromptTokens(messages: readonly ChatMessage[]): number {
  let total = 3;
  for (const message of messages) {
    total += 3;
    if (typeof message.content === 'string') total += estimateTokens(message.content);
    else if (Array.isArray(message.content)) for (const part of message.content) if (part.type === 'text') total += estimateTokens(part.text);
    for (const call of message.tool_calls ?? []) total += estimateTokens(call.function.name + call.function.arguments);
  }
  return total;
}
