import { createHash } from 'node:crypto';
import { REASONING_EFFORTS, isReasoningEffort } from '../../chat-types.js';
import type { CallContext } from '../provider.js';
import { refuseLogprobs } from '../no-logprobs.js';
import { refusalsAsText } from '../refusal-as-text.js';
import { refuseOpenAIOnlyMembers } from '../no-openai-only-members.js';
import { cannotServe } from '../cannot-serve.js';

/**
 * Mistral's chat completions (https://docs.mistral.ai/api/#tag/chat) take OpenAI's shape but refuse any member they
 * do not know (422 "Extra inputs are not permitted"), so the body keeps only what Mistral documents, renamed where
 * Mistral names it otherwise: max_completion_tokens → max_tokens, seed → random_seed, tool_choice "required" → "any",
 * reasoning_effort in Mistral's values (mistralEffort). No stream_options: Mistral sends usage with the last chunk
 * anyway. Whether to stream is the call's to say.
 */
const CHAT_MEMBERS = new Set(['model', 'messages', 'temperature', 'top_p', 'max_tokens', 'stream', 'stop', 'random_seed', 'response_format', 'tools', 'tool_choice', 'presence_penalty', 'frequency_penalty', 'n', 'parallel_tool_calls', 'prediction', 'safe_prompt', 'prompt_mode', 'reasoning_effort']);
const MESSAGE_MEMBERS: Record<string, string[]> = {
  system: ['role', 'content'],
  user: ['role', 'content'],
  assistant: ['role', 'content', 'tool_calls', 'prefix'],
  tool: ['role', 'content', 'tool_call_id', 'name'],
};

type Json = Record<string, unknown>;

export function adjustForMistral(body: Json, ctx: CallContext): Json {
  refuseLogprobs(body, 'Mistral');
  refuseOpenAIOnlyMembers(body, 'Mistral');
  const source: Json = { ...refusalsAsText(body), stream: ctx.stream ? true : undefined };
  if (source.max_tokens === undefined && source.max_completion_tokens !== undefined) source.max_tokens = source.max_completion_tokens;
  if (source.random_seed === undefined && source.seed !== undefined) source.random_seed = source.seed;
  if (source.tool_choice === 'required') source.tool_choice = 'any';
  if (source.reasoning_effort !== undefined) source.reasoning_effort = mistralEffort(source.reasoning_effort);
  const out: Json = {};
  for (const [name, value] of Object.entries(source)) if (CHAT_MEMBERS.has(name) && value !== undefined) out[name] = value;
  if (Array.isArray(out.messages)) out.messages = inMistralOrder((out.messages as Json[]).map((message, i) => toMistralMessage(refusingFiles(message, i))));
  if (Array.isArray(out.tools)) out.tools = (out.tools as Array<{ function: Json }>).map((tool) => ({ type: 'function', function: pick(tool.function, ['name', 'description', 'parameters', 'strict']) }));
  return out;
}

/**
 * OpenAI's `reasoning_effort` in the two values Mistral takes for adjustable reasoning
 * (https://docs.mistral.ai/capabilities/reasoning/adjustable; any other is refused, "reasoning_effort='medium' is not
 * supported for this model. Must be one of (none, high)"): `none` and `minimal` as `none`, with which Mistral's model
 * "thinks minimally", any other effort as `high`. It goes to whatever model the client asked it of: Mistral lists the
 * models that take it in no one place, and one that does not refuses it, as OpenAI's models without reasoning do.
 */
function mistralEffort(effort: unknown): 'none' | 'high' {
  if (!isReasoningEffort(effort)) throw cannotServe('reasoning_effort', `reasoning_effort "${String(effort)}" is not one Mistral maps; use one of ${REASONING_EFFORTS.join(', ')}`, 'unsupported_value');
  return effort === 'none' || effort === 'minimal' ? 'none' : 'high';
}

/**
 * A message without `file` parts, which Mistral's chat has no counterpart for (its documents are `document_url`s it
 * fetches, not bytes): refused as any part a provider cannot take (cannotServe), so an alias moves on.
 */
function refusingFiles(message: Json, i: number): Json {
  if (Array.isArray(message.content)) {
    const at = (message.content as Json[]).findIndex((part) => part.type === 'file');
    if (at >= 0) throw cannotServe(`messages[${i}].content[${at}]`, `messages[${i}].content[${at}] is a "file" part, which Mistral does not take: send text and image_url parts`);
  }
  return message;
}

function toMistralMessage(message: Json): Json {
  const role = message.role === 'developer' ? 'system' : String(message.role);
  const out = pick({ ...message, role }, MESSAGE_MEMBERS[role] ?? ['role', 'content']);
  if (out.content === null) delete out.content;
  if (Array.isArray(out.tool_calls)) {
    out.tool_calls = (out.tool_calls as Array<{ id: string; function: Json }>).map((call) => ({ id: mistralToolCallId(call.id), type: 'function', function: pick(call.function, ['name', 'arguments']) }));
  }
  if (typeof out.tool_call_id === 'string') out.tool_call_id = mistralToolCallId(out.tool_call_id);
  return out;
}

/** What stands between a tool's result and the user's next words, where Mistral wants an assistant's turn. */
export const MISTRAL_BRIDGE = 'OK.';

/**
 * Mistral refuses three orders of messages other providers take (400 `invalid_request_message_order`): a system
 * message last (see below); a user or system message right after a tool's result ("Unexpected role 'user' after
 * role 'tool'"), which is how an Anthropic-format client
 * sends every tool round with words beside the results, and how a Responses client speaks after a function's output;
 * and a conversation ending with an assistant's message not marked `prefix: true` ("Expected last role User or Tool
 * (or Assistant with prefix True)"), which is how a Messages client prefills the answer. A short assistant turn is put
 * between the two, and a last assistant message without tool calls is sent as the prefix Mistral documents
 * (`prefix`, "to force the model to start its answer by the content of the message").
 */
function inMistralOrder(asked: Json[]): Json[] {
  // Mistral answers only after a user, tool or prefixed assistant message ("Expected last role User or Tool … but got
  // system"): instructions that come last (a system prompt alone, which OpenAI answers, or one after the user's
  // turn) are the user's turn, as the other adapters that need one make them.
  const messages = asked.at(-1)?.role === 'system' ? [...asked.slice(0, -1), { ...asked.at(-1), role: 'user' }] : asked;
  const out: Json[] = [];
  for (const message of messages) {
    if ((message.role === 'user' || message.role === 'system') && out.at(-1)?.role === 'tool') out.push({ role: 'assistant', content: MISTRAL_BRIDGE });
    out.push(message);
  }
  const last = out.at(-1);
  if (last?.role === 'assistant' && last.tool_calls === undefined && last.prefix === undefined) out[out.length - 1] = { ...last, prefix: true };
  return out;
}

/**
 * Mistral wants tool call ids of exactly nine characters from a-z, A-Z, 0-9. Its own ids pass as they are; others
 * (from another provider, earlier in the conversation) become a stable nine-character digest, the same for the call
 * and its result.
 */
export function mistralToolCallId(id: string): string {
  if (/^[a-zA-Z0-9]{9}$/.test(id)) return id;
  return createHash('sha256').update(id).digest('base64').replace(/[^a-zA-Z0-9]/g, '').slice(0, 9);
}

function pick(value: Json, names: string[]): Json {
  const out: Json = {};
  for (const name of names) if (value[name] !== undefined) out[name] = value[name];
  return out;
}
