import { randomUUID } from 'node:crypto';
import { failedChoice } from '../anthropic-ingress/index.js';
import { outputTokensOf } from '../output-tokens.js';
import { ANTHROPIC_BLOCKS, cachedPromptTokens, type ClientCompletion, type FinishReason, type Usage } from '../chat-types.js';
import type { EncryptedReasoning } from './encrypted-reasoning.js';
import type { ItemStatus, ResponseEcho, ResponseObject, ResponseStatus, ResponsesError, ResponsesOutputItem, ResponsesOutputMessage, ResponsesUsage } from './wire-types.js';

/**
 * An id as OpenAI's look: its prefix (`resp`, `msg`, `fc`, `fco`, `rs`; `ctc` a custom tool call's, as in OpenAI's
 * answers to Codex; `ctco` its output's, Keygate's own; `call` for a call id a provider left out), then 32 hex digits.
 */
export const itemId = (prefix: 'resp' | 'msg' | 'fc' | 'fco' | 'ctc' | 'ctco' | 'rs' | 'call'): string => `${prefix}_${randomUUID().replaceAll('-', '')}`;

/**
 * A chat usage as the Response's (https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage):
 * input tokens count cache reads, as Chat Completions' prompt tokens do; reasoning tokens are part of the output's.
 */
export function responseUsageFor(usage: Usage | null | undefined): ResponsesUsage {
  const input = usage?.prompt_tokens ?? 0;
  // Reasoning included, as OpenAI counts it, also from a host that counts it apart (xAI).
  const output = outputTokensOf(usage);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cachedPromptTokens(usage) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage?.total_tokens ?? input + output,
  };
}

/**
 * A finish reason as the Response's status: `incomplete` when the answer was cut, at `max_output_tokens` (a
 * `length` finish) or by the provider's content filter, with the reason in `incomplete_details`; `completed` otherwise.
 */
export function responseStatusFor(finishReason: FinishReason | string | null | undefined): { status: ResponseStatus; incomplete_details: ResponseObject['incomplete_details'] } {
  if (finishReason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finishReason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** What a Response object is made of, beyond what its request echoes. */
export interface ResponseParts {
  id: string;
  createdAt: number;
  model: string;
  status: ResponseStatus;
  output: ResponsesOutputItem[];
  usage: ResponsesUsage | null;
  error?: ResponsesError | null;
  incompleteDetails?: ResponseObject['incomplete_details'];
}

/** The Response object, its request's echo included, in the member order of OpenAI's reference. */
export function responseObject(parts: ResponseParts, echo: ResponseEcho): ResponseObject {
  return {
    id: parts.id,
    object: 'response',
    created_at: parts.createdAt,
    status: parts.status,
    background: false,
    error: parts.error ?? null,
    incomplete_details: parts.incompleteDetails ?? null,
    instructions: echo.instructions,
    max_output_tokens: echo.max_output_tokens,
    model: parts.model,
    output: parts.output,
    parallel_tool_calls: echo.parallel_tool_calls,
    previous_response_id: echo.previous_response_id,
    reasoning: echo.reasoning,
    store: echo.store,
    temperature: echo.temperature,
    text: echo.text,
    tool_choice: echo.tool_choice,
    tools: echo.tools,
    top_p: echo.top_p,
    truncation: 'disabled',
    usage: parts.usage,
    user: echo.user,
    metadata: echo.metadata,
  };
}

/**
 * A chat completion, from any provider, as the Response a non-streamed `POST /v1/responses` answers
 * (https://platform.openai.com/docs/api-reference/responses/object). Its output: a `reasoning` item, its summary the
 * provider's reasoning (`reasoning_content`), when there was any, and with `sealed` its `encrypted_content`, Claude's
 * thinking blocks sealed (ANTHROPIC_BLOCKS; Claude thinks before it writes, so the item comes first); a `message` item with the text as `output_text`
 * (and a refusal as `refusal`) when there is text; then one `function_call` item a tool call, its `call_id` the tool
 * call's id, with a Gemini call's thought signature as `extra_content` (a `custom_tool_call` item, its `input` the call's text, for a custom tool's call). `model` is the one the client asked for (an alias stays an alias); `created_at`
 * is `createdAt` (Unix seconds: the gateway passes its own clock's, as the streamed Response's), now by default. A
 * choice the provider says failed throws: no Response says that, and the caller answers 502.
 *
 * @example chatToResponse(completion, request.model, responseEchoOf(request))
 */
export function chatToResponse(completion: ClientCompletion, requestedModel: string, echo: ResponseEcho, id = itemId('resp'), sealed?: EncryptedReasoning, createdAt = Math.floor(Date.now() / 1000)): ResponseObject {
  const choice = completion.choices[0];
  if (failedChoice(choice?.finish_reason)) throw new Error('the provider answered with a choice that failed');
  const { status, incomplete_details: incompleteDetails } = responseStatusFor(choice?.finish_reason);
  const output: ResponsesOutputItem[] = [];
  const message = choice?.message;
  const reasoning = message?.reasoning_content;
  const said = typeof reasoning === 'string' && reasoning !== '';
  const encrypted = sealed?.seal(message?.[ANTHROPIC_BLOCKS]);
  if (said || encrypted !== undefined) {
    output.push({ type: 'reasoning', id: itemId('rs'), summary: said ? [{ type: 'summary_text', text: reasoning }] : [], ...(encrypted !== undefined ? { encrypted_content: encrypted } : {}) });
  }
  const content: ResponsesOutputMessage['content'] = [];
  if (message?.content) content.push({ type: 'output_text', text: message.content, annotations: [] });
  if (message?.refusal) content.push({ type: 'refusal', refusal: message.refusal });
  // An answer cut at max_output_tokens (or by a filter) was cut in its last item: that one is incomplete, a message
  // or a call whose arguments may not be whole JSON (which a client must not run); the items before it are whole.
  const calls = message?.tool_calls ?? [];
  const cut = (last: boolean): ItemStatus => (status === 'incomplete' && last ? 'incomplete' : 'completed');
  if (content.length > 0) output.push({ type: 'message', id: itemId('msg'), status: cut(calls.length === 0), role: 'assistant', content });
  calls.forEach((call, i) => {
    const itemStatus = cut(i === calls.length - 1);
    if (call.type === 'custom') output.push({ type: 'custom_tool_call', id: itemId('ctc'), call_id: call.id, name: call.custom.name, input: call.custom.input, status: itemStatus });
    else output.push({ type: 'function_call', id: itemId('fc'), call_id: call.id, name: call.function.name, arguments: call.function.arguments, status: itemStatus, ...(call.extra_content ? { extra_content: call.extra_content } : {}) });
  });
  // `created_at` is when this Response was made, as OpenAI's says: not the provider's `created` (its clock, or a cached
  // completion's time), which a cache hit would share with the Response it was first made for.
  return responseObject({ id, createdAt, model: requestedModel, status, incompleteDetails, output, usage: responseUsageFor(completion.usage) }, echo);
}
