import type { ResponseFormat } from '../../chat-types.js';
import type { AnthropicTool } from './wire-types.js';

/**
 * OpenAI's `response_format` on Anthropic, which has no parameter for it on every model:
 *
 * - `json_schema` becomes a tool whose input schema is the client's schema, and the model must answer through it
 *   (Anthropic's documented "JSON mode" with tools, https://docs.anthropic.com/en/docs/build-with-claude/tool-use).
 *   It works on every Claude model, where `output_config.format` is limited to the newest ones. The tool's input
 *   comes back to the client as the message's JSON text, never as a tool call.
 * - `json_object` has no schema to enforce, so it is a system instruction.
 */
export const JSON_RESPONSE_TOOL = 'keygate_json_response';

export const JSON_OBJECT_INSTRUCTION = 'Respond with a single valid JSON object and nothing else: no prose, no code fences.';

/** The tool that carries a `json_schema` answer, or undefined for other formats. */
export function jsonResponseTool(format: ResponseFormat | undefined): AnthropicTool | undefined {
  if (format?.type !== 'json_schema') return undefined;
  const { name, description, schema } = format.json_schema;
  return {
    name: JSON_RESPONSE_TOOL,
    description: `Give the final answer as "${name}"${description ? `: ${description}` : ''}. Always answer through this tool.`,
    input_schema: schema && schema.type === 'object' ? schema : { type: 'object', properties: {} },
  };
}
