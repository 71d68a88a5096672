import { invalidParam as invalid } from './openai-error.js';

/**
 * `stream_options` on a call that does not stream, refused as OpenAI refuses it
 * (https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options, "only set this when you
 * set stream: true"): the adapters drop it from an answer in one piece, so a client asking for a usage chunk was
 * told nothing. Read after `stream` is known to be a boolean or absent.
 */
export function refuseStreamOptionsWithoutStream(body: Record<string, unknown>): void {
  if (body.stream_options !== undefined && body.stream !== true) throw invalid('stream_options', "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
}
