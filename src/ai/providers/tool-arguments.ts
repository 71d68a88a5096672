import { ProviderCallError } from '../provider-call.js';
import { MAX_NESTING_DEPTH, nestsTooDeep } from '../nesting-depth.js';

const refused = (code: string, message: string, param: string) => new ProviderCallError({ status: 400, type: 'invalid_request_error', code, message, param, retryable: false });

/**
 * A tool call's arguments from the history (the call at `where`: `messages[1].tool_calls[0]`), which OpenAI's format
 * carries as JSON text, as the object the providers that take them parsed want (Anthropic's and Bedrock's `input`,
 * Gemini's `args`, Ollama's `arguments`); empty text is no arguments. Text that is not JSON, JSON that is not an
 * object, or an object nested deeper than the gateway writes out again (MAX_NESTING_DEPTH), is the request's fault:
 * a 400 naming the arguments' place, before calling.
 */
export function toolArgumentsOf(args: string, where: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  const param = `${where}.function.arguments`;
  let value: unknown;
  try {
    value = JSON.parse(args) as unknown;
  } catch {
    throw refused('invalid_tool_arguments', `${param} is not valid JSON`, param);
  }
  if (nestsTooDeep(value)) throw refused('nesting_too_deep', `${param} nests objects and arrays more than ${MAX_NESTING_DEPTH} levels deep`, param);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refused('invalid_tool_arguments', `${param} must be a JSON object`, param);
  return value as Record<string, unknown>;
}
