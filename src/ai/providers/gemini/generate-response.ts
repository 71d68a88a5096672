import { generationFailure } from '../generation-failed.js';
import { randomUUID } from 'node:crypto';
import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import type { GeminiCandidate, GeminiFunctionCall, GeminiGenerateResponse, GeminiUsageMetadata } from './wire-types.js';
import { choiceLogprobsOf } from './logprobs.js';

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);

/**
 * The finish reasons by which Gemini says the generation failed rather than ended (https://ai.google.dev/api/generate-content#FinishReason):
 * a function call it could not write (MALFORMED_FUNCTION_CALL), a call of a tool not offered or not allowed, too many
 * calls, a response it could not form, an unsupported language, "other". Such a candidate has no content, or a part of
 * one; OpenAI has no finish reason for it, and as `stop` it passed for a whole, empty answer.
 */
const FAILED = new Set(['LANGUAGE', 'OTHER', 'MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS', 'MALFORMED_RESPONSE', 'MISSING_THOUGHT_SIGNATURE', 'NO_IMAGE', 'IMAGE_OTHER']);

/**
 * A generation Gemini ended as failed: retryable, as Cohere's ERROR and Mistral's `error` are, so that another target
 * may answer; `billed`, the usage Gemini reported for it, which it bills all the same.
 */
export function generationError(ending: string, billed?: Usage): ProviderCallError {
  return new ProviderCallError(generationFailure(`Gemini's generation ended ${ending}`), billed);
}

/**
 * Gemini's `finishReason` (https://ai.google.dev/api/generate-content#FinishReason) in OpenAI's terms, null while a
 * streamed candidate has none yet. Gemini ends a turn that called functions with STOP, so a candidate with calls
 * finishes with `tool_calls`. A reason that says the generation failed (FAILED) throws generationError.
 */
export function finishReasonFor(reason: string | undefined, calledTools: boolean, billed?: Usage): FinishReason | null {
  if (reason === undefined || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  if (FAILED.has(reason)) throw generationError(`with finishReason ${reason}`, billed);
  return calledTools ? 'tool_calls' : 'stop';
}

/**
 * Gemini's usage in OpenAI's terms: thinking tokens are billed as output, so they count as completion tokens (and
 * are told as OpenAI tells them, `completion_tokens_details.reasoning_tokens`); cached tokens are part of the
 * prompt count already.
 */
export function usageFor(metadata: GeminiUsageMetadata): Usage {
  const prompt = (metadata.promptTokenCount ?? 0) + (metadata.toolUsePromptTokenCount ?? 0);
  const completion = (metadata.candidatesTokenCount ?? 0) + (metadata.thoughtsTokenCount ?? 0);
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: metadata.totalTokenCount ?? prompt + completion,
    prompt_tokens_details: { cached_tokens: metadata.cachedContentTokenCount ?? 0 },
  };
  if (metadata.thoughtsTokenCount) usage.completion_tokens_details = { reasoning_tokens: metadata.thoughtsTokenCount };
  return usage;
}

/**
 * Gemini gives function calls no id (unless it sets one): a random `call_…` stands in, unique across the turns of a
 * conversation as OpenAI's are. Numbering them in each answer (`call_0`) gave every turn's first call the same id: a
 * history holding two of them could not say which call a tool message answers, and Anthropic and Bedrock refuse
 * repeated tool-use ids when the conversation moves on to Claude. The part's thought signature goes with the call
 * where Google's OpenAI-compatible API puts it (GoogleExtra), so that a client that sends the call back as it got it
 * gives Gemini its reasoning back (generate-request.ts).
 */
export function toolCallFor(call: GeminiFunctionCall, signature?: string): ToolCall {
  const toolCall: ToolCall = { id: call.id ?? `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`, type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } };
  if (signature) toolCall.extra_content = { google: { thought_signature: signature } };
  return toolCall;
}

/**
 * One candidate as a choice: its thought parts, which Gemini returns only when asked (`includeThoughts`, sent for a
 * `reasoning_effort`), are the `reasoning_content` (https://ai.google.dev/gemini-api/docs/thinking#summaries).
 */
function choiceFor(candidate: GeminiCandidate, billed?: Usage): ChatCompletion['choices'][number] {
  const text: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const part of candidate.content?.parts ?? []) {
    if (part.thought) {
      if (typeof part.text === 'string') thoughts.push(part.text);
      continue;
    }
    if (typeof part.text === 'string') text.push(part.text);
    if (part.functionCall) toolCalls.push(toolCallFor(part.functionCall, part.thoughtSignature));
  }
  const finish = finishReasonFor(candidate.finishReason, toolCalls.length > 0, billed);
  // A whole answer's every candidate has ended: one that does not say how is not passed on as whole.
  if (finish === null) throw generationError('without a finishReason', billed);
  return {
    // Google's JSON leaves a zero out: a candidate without an index is the first, as a stream's is (generate-stream.ts).
    index: candidate.index ?? 0,
    message: { role: 'assistant', content: text.length > 0 ? text.join('') : null, ...(thoughts.length > 0 ? { reasoning_content: thoughts.join('') } : {}), ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
    finish_reason: finish,
    // Those of its text only, as a stream's chunks carry them: none for an answer of tool calls alone.
    logprobs: text.length > 0 ? choiceLogprobsOf(candidate.logprobsResult) : null,
  };
}

/**
 * A GenerateContentResponse as an OpenAI chat completion, one choice per candidate. A prompt Gemini blocked
 * has no candidates: it is one empty choice finished by `content_filter`. An answer with neither candidates nor a
 * block reason said nothing, and is a failure as a stream that ends so is.
 */
export function fromGeminiResponse(response: GeminiGenerateResponse, created: number, model: string): ChatCompletion {
  const candidates = response.candidates ?? [];
  const billed = response.usageMetadata ? usageFor(response.usageMetadata) : undefined;
  if (candidates.length === 0 && !response.promptFeedback?.blockReason) throw generationError('without a candidate or a blockReason', billed);
  const choices =
    candidates.length > 0
      ? candidates.map((candidate) => choiceFor(candidate, billed)).sort((a, b) => a.index - b.index)
      : [{ index: 0, message: { role: 'assistant' as const, content: null }, finish_reason: 'content_filter' as FinishReason, logprobs: null }];
  return {
    id: response.responseId ?? `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created,
    model: response.modelVersion ?? model,
    choices,
    ...(response.usageMetadata ? { usage: usageFor(response.usageMetadata) } : {}),
  };
}
