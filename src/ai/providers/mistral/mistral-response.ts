import { generationFailure } from '../generation-failed.js';
import { ProviderCallError } from '../../provider-call.js';
import type { ChatCompletion, ChatCompletionChunk, FinishReason, Usage } from '../../chat-types.js';
import { withToolCallTypes } from '../openai/index.js';

/**
 * Where Mistral's answers (https://docs.mistral.ai/api/#tag/chat) leave OpenAI's: finish_reason `model_length` (the
 * model's context was full) is OpenAI's `length`, content may be a list of chunks, of which the `text` ones are the
 * answer and the `thinking` ones (reasoning models', `{"type": "thinking", "thinking": [{"type": "text", "text": …}]}`,
 * https://docs.mistral.ai/capabilities/reasoning/) its `reasoning_content`, and tool calls come without their `type`
 * (optional in Mistral's API, and left out), which is filled in (the OpenAI-format translator does it for streamed calls).
 */
type MistralChunk = { type?: string; text?: string; thinking?: Array<{ type?: string; text?: string }> };
type MistralContent = string | null | undefined | MistralChunk[];

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

/** The text of the content's thinking chunks; undefined when it has none. */
function reasoningOf(content: MistralContent): string | undefined {
  if (!Array.isArray(content) || !content.some((part) => part.type === 'thinking')) return undefined;
  return content.map((part) => (part.type === 'thinking' && Array.isArray(part.thinking) ? part.thinking.map((inner) => (inner.type === 'text' ? (inner.text ?? '') : '')).join('') : '')).join('');
}

export function fromMistralChat(body: unknown): ChatCompletion {
  const completion = body as ChatCompletion;
  if (generationFailed(completion.choices)) throw generationError(completion.usage ?? undefined);
  return withToolCallTypes({
    ...completion,
    choices: completion.choices.map((choice) => {
      const content = choice.message.content as MistralContent;
      const reasoning = reasoningOf(content);
      return { ...choice, message: { ...choice.message, content: textOf(content) ?? null, ...(reasoning !== undefined ? { reasoning_content: reasoning } : {}) }, finish_reason: finishReasonOf(choice.finish_reason) };
    }),
  });
}

/**
 * A streamed delta in OpenAI's terms: its text as `content`, its thinking as `reasoning_content`, and no content when
 * it is only thinking (Mistral streams the thinking as lists of chunks, then the answer as text).
 */
function deltaOf(delta: ChatCompletionChunk['choices'][number]['delta']): ChatCompletionChunk['choices'][number]['delta'] {
  const content = delta.content as MistralContent;
  const reasoning = reasoningOf(content);
  if (reasoning === undefined) return content === undefined ? delta : { ...delta, content: textOf(content) };
  const { content: _content, ...rest } = delta;
  const text = textOf(content);
  return { ...rest, ...(text ? { content: text } : {}), reasoning_content: reasoning };
}

export function fromMistralChunk(chunk: ChatCompletionChunk): ChatCompletionChunk {
  return { ...chunk, choices: chunk.choices.map((choice) => ({ ...choice, delta: deltaOf(choice.delta), finish_reason: finishReasonOf(choice.finish_reason) })) };
}
