import type { ChatMessage, ChatRequest } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { cannotServe } from '../cannot-serve.js';
import { imageUrlOf, textOf } from '../content-parts.js';
import type { CallContext } from '../provider.js';
import { refuseLogprobs } from '../no-logprobs.js';
import { refusalsAsText } from '../refusal-as-text.js';
import { refuseOpenAIOnlyMembers } from '../no-openai-only-members.js';
import { cohereThinkingFor } from './cohere-thinking.js';

/**
 * OpenAI's chat request as a Cohere v2 Chat request (https://docs.cohere.com/reference/chat). The messages keep
 * their roles (developer becomes system); an assistant turn's text beside tool calls becomes its `tool_plan`, as
 * Cohere writes such turns. Cohere's tool choice is REQUIRED or NONE only, so a named function is forced by
 * offering that tool alone with REQUIRED. What the client asked of reasoning goes as `thinking` (cohereThinkingFor).
 */
export function toCohereChat(asked: ChatRequest, ctx: CallContext): Record<string, unknown> {
  refuseLogprobs(asked, 'Cohere');
  refuseOpenAIOnlyMembers(asked, 'Cohere');
  const request = refusalsAsText(asked);
  if ((request.n ?? 1) > 1) throw unsupported('n', 'Cohere returns a single choice');
  const body: Record<string, unknown> = { model: ctx.model, messages: request.messages.map((message, i) => toCohereMessage(message, i)), stream: ctx.stream };

  let tools = request.tools;
  const choice = request.tool_choice;
  if (typeof choice === 'object') {
    tools = tools?.filter((tool) => tool.function.name === choice.function.name);
    // The request's mistake, not what Cohere cannot do: no other target would serve it either.
    if (!tools?.length) throw new ProviderCallError({ status: 400, type: 'invalid_request_error', code: 'invalid_value', message: `tool_choice: names "${choice.function.name}", which is not among the tools`, param: 'tool_choice', retryable: false });
  }
  if (tools?.length) {
    body.tools = tools.map((tool) => ({ type: 'function', function: { name: tool.function.name, ...(tool.function.description ? { description: tool.function.description } : {}), parameters: tool.function.parameters ?? { type: 'object', properties: {} } } }));
    if (tools.some((tool) => tool.function.strict)) body.strict_tools = true;
    if (choice === 'required' || typeof choice === 'object') body.tool_choice = 'REQUIRED';
    if (choice === 'none') body.tool_choice = 'NONE';
  }

  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined) body.max_tokens = maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  // Cohere takes p from 0.01 to 0.99 and penalties from 0 to 1 (https://docs.cohere.com/reference/chat); OpenAI top_p
  // from 0 to 1 and penalties from -2 to 2, which validateChat holds values to: each OpenAI value as Cohere's nearest,
  // so that OpenAI's common top_p of 1 does not fail the call (a negative penalty, which Cohere lacks, as none).
  if (request.top_p !== undefined) body.p = Math.min(0.99, Math.max(0.01, request.top_p));
  // Cohere's k goes up to 500; a larger k is as good as unlimited, and the nearest value keeps a fallback from failing.
  if (request.top_k !== undefined && request.top_k > 0) body.k = Math.min(500, request.top_k);
  if (request.stop !== undefined) body.stop_sequences = Array.isArray(request.stop) ? request.stop : [request.stop];
  if (request.seed !== undefined) body.seed = request.seed;
  Object.assign(body, penaltiesOf(request));
  const thinking = cohereThinkingFor(request, ctx);
  if (thinking) body.thinking = thinking;
  const format = request.response_format;
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema') body.response_format = { type: 'json_object', ...(format.json_schema.schema ? { json_schema: format.json_schema.schema } : {}) };
  return body;
}

function toCohereMessage(message: ChatMessage, i: number): Record<string, unknown> {
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOf(message.content) };
    case 'user':
      return { role: 'user', content: typeof message.content === 'string' ? message.content : (message.content ?? []).map((part, j) => (part.type === 'text' ? { type: 'text', text: part.text } : { type: 'image_url', image_url: { url: imageUrlOf(part, `messages[${i}].content[${j}]`, 'Cohere') } })) };
    case 'assistant': {
      const text = textOf(message.content);
      if (!message.tool_calls?.length) return { role: 'assistant', content: text };
      return { role: 'assistant', ...(text ? { tool_plan: text } : {}), tool_calls: message.tool_calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } })) };
    }
    case 'tool':
      return { role: 'tool', tool_call_id: message.tool_call_id ?? '', content: textOf(message.content) };
  }
}

/**
 * The penalty Cohere is sent, of OpenAI's two: Cohere refuses both in one request ("invalid request: cannot specify
 * both frequency_penalty and presence_penalty", https://docs.cohere.com/reference/errors), so one that is 0 (or
 * negative, which Cohere's range from 0 to 1 makes 0) goes unsent, as the default it is; two that are not cannot be
 * served, and an alias moves on to a target that takes both.
 */
function penaltiesOf(request: ChatRequest): { frequency_penalty?: number; presence_penalty?: number } {
  const frequency = Math.min(1, Math.max(0, request.frequency_penalty ?? 0));
  const presence = Math.min(1, Math.max(0, request.presence_penalty ?? 0));
  if (frequency > 0 && presence > 0) throw unsupported('presence_penalty', 'Cohere takes frequency_penalty or presence_penalty, not both; send one of them');
  return { ...(frequency > 0 ? { frequency_penalty: frequency } : {}), ...(presence > 0 ? { presence_penalty: presence } : {}) };
}

function unsupported(param: string, message: string): ProviderCallError {
  return cannotServe(param, `${param}: ${message}`);
}
