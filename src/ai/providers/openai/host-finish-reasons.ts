import type { ChatCompletion, ChatCompletionChunk, FinishReason } from '../../chat-types.js';

/**
 * Finish reasons of OpenAI-compatible hosts that OpenAI's clients do not know, as OpenAI's own: Together's `eos`, the
 * model's end-of-sequence token (its `stop` is a stop sequence), is OpenAI's `stop`. Together's chat completion choice
 * is `finish_reason: 'stop' | 'eos' | 'length' | 'tool_calls' | 'function_call'` (its SDKs, generated from its
 * OpenAPI document: together-typescript's `resources/chat/completions.ts`, together-python's `types/common.py`).
 */
const AS_OPENAI: Readonly<Record<string, FinishReason>> = { eos: 'stop' };

/**
 * Finish reasons that say the host's generation failed, with what the gateway tells of each: DeepSeek's
 * `insufficient_system_resource`, "the request is interrupted due to insufficient resource of the inference system"
 * (https://api-docs.deepseek.com/api/create-chat-completion). Not an answer: another target may give one.
 */
const FAILED: Readonly<Record<string, string>> = {
  insufficient_system_resource: "DeepSeek's inference was interrupted for lack of resources (finish_reason insufficient_system_resource)",
};

type Choices = ReadonlyArray<{ finish_reason?: string | null } | null | undefined>;

/** OpenAI's value for a host's own finish reason; undefined for one that is OpenAI's already (or not known). */
function asOpenAI(reason: string | null | undefined): FinishReason | undefined {
  return typeof reason === 'string' && Object.hasOwn(AS_OPENAI, reason) ? AS_OPENAI[reason] : undefined;
}

/** What the gateway tells of a choice the host ended as a failed generation, if one did. */
export function failedGenerationOf(choices: Choices): string | undefined {
  for (const choice of choices) {
    const reason = choice?.finish_reason;
    if (typeof reason === 'string' && Object.hasOwn(FAILED, reason)) return FAILED[reason];
  }
  return undefined;
}

/** A whole answer with OpenAI's finish reasons; the answer itself when it has no other, so that its bytes can go on. */
export function withOpenAIFinishReasons<T extends ChatCompletion>(completion: T): T {
  const choices = Array.isArray(completion?.choices) ? completion.choices : [];
  if (!choices.some((choice) => asOpenAI(choice?.finish_reason) !== undefined)) return completion;
  return { ...completion, choices: choices.map((choice) => ({ ...choice, finish_reason: asOpenAI(choice?.finish_reason) ?? choice.finish_reason })) };
}

/** Gives a streamed chunk's choices OpenAI's finish reasons, in place; whether one was changed. */
export function giveOpenAIFinishReasons(chunk: ChatCompletionChunk): boolean {
  let changed = false;
  for (const choice of chunk.choices) {
    const reason = asOpenAI(choice?.finish_reason);
    if (reason === undefined) continue;
    choice.finish_reason = reason;
    changed = true;
  }
  return changed;
}
