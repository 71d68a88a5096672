import { generationFailure } from '../generation-failed.js';
import { ProviderCallError } from '../../provider-call.js';
import type { ChatCompletion, ChatCompletionChunk, FinishReason, Usage } from '../../chat-types.js';
import { withToolCallTypes } from '../openai/index.js';

/**
 * Where Mistral's answers (https://docs.mistral.ai/api/#tag/chat) leave OpenAI's: finish_reason `model_length` (the
 * model's context was full) is OpenAI's `length`, content may be a list of chunks (reasoning models send
 * `thinking` chunks beside `text`), of which the text is kept, and tool calls come without their `type` (optional in
 * Mistral's API, and left out), which is filled in (the OpenAI-format translator does it for streamed calls).
 */
type MistralContent = string | null | undefined | Array<{ type?: string; text?: string }>;

function finishReasonOf(reason: string | null): FinishReason | null {
  return reason === 'model_length' ? 'length' : (reason as FinishReason | null);
}

/**
 * Mistral ends a generation that failed with finish_reason `error` (its API's enum: stop, length, model_length, error,
 * tool_calls), which OpenAI's clients know nothing of: a retryable failure, as Cohere's ERROR, rather than a truncated
 * answer passed on as whole (another target may answer).
 */
export const generationFailed = (choices: ReadonlyArray<{ finish_reason: string | null }>): boolean => choices.some((choice) => choice.finish_reason === 'error');

/** The failure; `billed`, the usage of the answer that failed, which Mistral made and bills all the same. */
export function generationError(billed?: Usage): ProviderCallError {
  return new ProviderCallError(generationFailure("Mistral's generation ended with finish_reason error"), billed);
}

function textOf(content: MistralContent): string | null | undefined {
  if (!Array.isArray(content)) return content;
  return content.map((part) => (part.type === 'text' ? (part.text ?? '') : '')).join('');
}

export function fromMistralChat(body: unknown): ChatCompletion {
  const completion = body as ChatCompletion;
  if (generationFailed(completion.choices)) throw generationError(completion.usage ?? undefined);
  return withToolCallTypes({
    ...completion,
    choices: completion.choices.map((choice) => ({ ...choice, message: { ...choice.message, content: textOf(choice.message.content as MistralContent) ?? null }, finish_reason: finishReasonOf(choice.finish_reason) })),
  });
}

export function fromMistralChunk(chunk: ChatCompletionChunk): ChatCompletionChunk {
  return {
    ...chunk,
    choices: chunk.choices.map((choice) => ({
      ...choice,
      delta: choice.delta.content === undefined ? choice.delta : { ...choice.delta, content: textOf(choice.delta.content as MistralContent) },
      finish_reason: finishReasonOf(choice.finish_reason),
    })),
  };
}
