import { CACHE_CONTROL } from '../chat-types.js';
import { isJsonObject } from '../json-object.js';

type Json = Record<string, unknown>;

const isRefusalPart = (part: unknown): boolean => isJsonObject(part) && part.type === 'refusal';

/** An assistant message that holds a refusal: OpenAI's `refusal` member, or a `refusal` content part. */
function hasRefusal(message: unknown): message is Json {
  if (!isJsonObject(message) || message.role !== 'assistant') return false;
  return (typeof message.refusal === 'string' && message.refusal !== '') || (Array.isArray(message.content) && message.content.some(isRefusalPart));
}

/** A refusal part as a text part, with the cache breakpoint the client put on it (takeCacheControl). */
function textOf(part: Json): Json {
  const text: Json = { type: 'text', text: String(part.refusal ?? '') };
  if (CACHE_CONTROL in part) (text as { [CACHE_CONTROL]?: unknown })[CACHE_CONTROL] = (part as { [CACHE_CONTROL]?: unknown })[CACHE_CONTROL];
  return text;
}

function withRefusalAsText(message: Json): Json {
  const { refusal, ...rest } = message;
  let content = Array.isArray(message.content) ? message.content.map((part: unknown) => (isRefusalPart(part) ? textOf(part as Json) : part)) : message.content;
  if (typeof refusal === 'string' && refusal !== '') {
    if (content === undefined || content === null || content === '') content = refusal;
    else if (typeof content === 'string') content = `${content}\n${refusal}`;
    else if (Array.isArray(content)) content = [...content, { type: 'text', text: refusal }];
  }
  return { ...rest, content };
}

/**
 * The request with each assistant refusal as the assistant's text, for a provider that has no refusal of its own: OpenAI
 * answers a refused request with `refusal` (https://platform.openai.com/docs/guides/structured-outputs#refusals), and a
 * client sends it back in its history, as that member (`content: null`) or as a `{type: "refusal", refusal}` part,
 * both valid in OpenAI's API. The model should see that it refused, rather than a turn of nothing or a 400 for a
 * history OpenAI takes. The request itself when it holds none.
 */
export function refusalsAsText<T extends object>(request: T): T {
  const messages = (request as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || !messages.some(hasRefusal)) return request;
  return { ...request, messages: messages.map((message: unknown) => (hasRefusal(message) ? withRefusalAsText(message) : message)) };
}
