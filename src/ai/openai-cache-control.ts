import { CACHE_CONTROL, type CacheControl } from './chat-types.js';
import { isJsonObject } from './json-object.js';
import { invalidParam } from './openai-error.js';

/**
 * An OpenAI-format client's prompt-caching breakpoint, in the form LiteLLM and OpenRouter take on a content part, a
 * message, a tool or the whole request (`param` '': Anthropic's automatic caching): `cache_control: {"type": "ephemeral"}`, with an optional `ttl` of "5m" or "1h", as Anthropic
 * defines it (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching). Taken off `target` into
 * CACHE_CONTROL, so it never reaches an OpenAI-format provider's body, which refuses members it does not know, and
 * the Anthropic and Bedrock adapters send it on. `null` is no breakpoint, as for OpenAI's own optional members.
 *
 * @returns whether `target` has a breakpoint now.
 * @throws AiError (400, `param` `<param>.cache_control`) for any other value.
 * @example takeCacheControl(part, 'messages[0].content[1]') // part.cache_control → part[CACHE_CONTROL]
 */
export function takeCacheControl(target: Record<string, unknown>, param: string): boolean {
  const control = target.cache_control;
  const name = param === '' ? 'cache_control' : `${param}.cache_control`;
  if (control === undefined) return false;
  delete target.cache_control;
  if (control === null) return false;
  const ttl = isJsonObject(control) ? control.ttl : undefined;
  if (!isJsonObject(control) || control.type !== 'ephemeral' || (ttl !== undefined && ttl !== '5m' && ttl !== '1h') || Object.keys(control).some((key) => key !== 'type' && key !== 'ttl')) {
    throw invalidParam(name, `'${name}' must be {"type": "ephemeral"}, with an optional "ttl" of "5m" or "1h"`);
  }
  (target as CacheControl)[CACHE_CONTROL] = ttl === undefined ? { type: 'ephemeral' } : { type: 'ephemeral', ttl };
  return true;
}
