import { isJsonObject, jsonTypeName } from './json-object.js';
import { invalidParam as invalid } from './openai-error.js';

/**
 * `stream_options` as OpenAI takes it (https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options):
 * only with `stream: true` ("only set this when you set stream: true": the adapters drop it from an answer in one
 * piece, so a client asking for a usage chunk was told nothing), an object, and its `include_usage` a boolean (a
 * string "true" read as not asking would lose the usage chunk the client counts on). Refused in OpenAI's words
 * otherwise. Read after `stream` is known to be a boolean or absent.
 */
export function validateStreamOptions(body: Record<string, unknown>): void {
  const options = body.stream_options;
  if (options === undefined) return;
  if (body.stream !== true) throw invalid('stream_options', "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
  if (!isJsonObject(options)) throw invalid('stream_options', `Invalid type for 'stream_options': expected an object, but got ${jsonTypeName(options)} instead.`, 'invalid_type');
  for (const name of ['include_usage', 'include_obfuscation'] as const) {
    const value = options[name];
    if (value !== undefined && value !== null && typeof value !== 'boolean') throw invalid(`stream_options.${name}`, `Invalid type for 'stream_options.${name}': expected a boolean, but got a ${typeof value} instead.`, 'invalid_type');
  }
}
