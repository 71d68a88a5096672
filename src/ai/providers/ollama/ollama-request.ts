import { REASONING_EFFORTS, isReasoningEffort, type ChatMessage, type ChatRequest, type EmbeddingsRequest } from '../../chat-types.js';
import { toolArgumentsOf } from '../tool-arguments.js';
import { cannotServe } from '../cannot-serve.js';
import { imageUrlOf, textOf } from '../content-parts.js';
import type { CallContext } from '../provider.js';
import { refuseLogprobs } from '../no-logprobs.js';
import { refusalsAsText } from '../refusal-as-text.js';
import { refuseOpenAIOnlyMembers } from '../no-openai-only-members.js';
import { embeddingTexts } from '../embedding-texts.js';

/**
 * OpenAI's chat request as Ollama's native /api/chat (https://github.com/ollama/ollama/blob/main/docs/api.md): images
 * as base64 strings beside the text, tool-call arguments as objects, tool results named by their tool, sampling
 * settings under `options` (num_predict is the token limit), JSON mode or a schema as `format`, `reasoning_effort`
 * as `think` (thinkFor). Ollama streams unless told not to, so `stream` is always sent. It has no tool choice:
 * `none` leaves the tools out, and any other choice is left to the model.
 */
export function toOllamaChat(asked: ChatRequest, ctx: CallContext): Record<string, unknown> {
  refuseLogprobs(asked, 'Ollama');
  refuseOpenAIOnlyMembers(asked, 'Ollama');
  const request = refusalsAsText(asked);
  if ((request.n ?? 1) > 1) throw cannotServe('n', 'n: Ollama returns a single choice');
  const toolNames = new Map<string, string>();
  for (const message of request.messages) for (const call of message.tool_calls ?? []) toolNames.set(call.id, call.function.name);

  const body: Record<string, unknown> = { model: ctx.model, messages: request.messages.map((m, i) => toOllamaMessage(m, i, toolNames)), stream: ctx.stream };
  if (request.tools?.length && request.tool_choice !== 'none') {
    body.tools = request.tools.map((tool) => ({ type: 'function', function: { name: tool.function.name, ...(tool.function.description ? { description: tool.function.description } : {}), parameters: tool.function.parameters ?? { type: 'object', properties: {} } } }));
  }
  if (request.reasoning_effort !== undefined) body.think = thinkFor(request.reasoning_effort, ctx.model);
  const format = request.response_format;
  if (format?.type === 'json_object') body.format = 'json';
  if (format?.type === 'json_schema') body.format = format.json_schema.schema ?? 'json';

  const options: Record<string, unknown> = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens !== undefined) options.num_predict = maxTokens;
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.top_p !== undefined) options.top_p = request.top_p;
  if (request.top_k !== undefined && request.top_k > 0) options.top_k = request.top_k;
  if (request.stop !== undefined) options.stop = Array.isArray(request.stop) ? request.stop : [request.stop];
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.frequency_penalty !== undefined) options.frequency_penalty = request.frequency_penalty;
  if (request.presence_penalty !== undefined) options.presence_penalty = request.presence_penalty;
  if (Object.keys(options).length > 0) body.options = options;
  return body;
}

/** GPT-OSS, by its name in Ollama's library (`gpt-oss:20b`), which takes a level for `think`. */
const GPT_OSS = /(?:^|\/)gpt-oss(?=[:-]|$)/i;

/**
 * OpenAI's `reasoning_effort` as Ollama's `think` (https://docs.ollama.com/capabilities/thinking): for most thinking
 * models a switch, off for `none` and on for any other effort (a model that does not think refuses it on). GPT-OSS
 * takes a level instead and ignores the switch, its trace never wholly off: `none` and `minimal` as `low`, its least,
 * `xhigh` as `high`, the others by name.
 */
function thinkFor(effort: unknown, model: string): boolean | 'low' | 'medium' | 'high' {
  if (!isReasoningEffort(effort)) throw cannotServe('reasoning_effort', `reasoning_effort "${String(effort)}" is not one Ollama maps; use one of ${REASONING_EFFORTS.join(', ')}`, 'unsupported_value');
  if (!GPT_OSS.test(model)) return effort !== 'none';
  if (effort === 'none' || effort === 'minimal') return 'low';
  return effort === 'xhigh' ? 'high' : effort;
}

function toOllamaMessage(message: ChatMessage, i: number, toolNames: Map<string, string>): Record<string, unknown> {
  const role = message.role === 'developer' ? 'system' : message.role;
  const content = message.content;
  const text = textOf(content);
  const out: Record<string, unknown> = { role, content: text };
  const images = Array.isArray(content) ? content.flatMap((part, j) => (part.type === 'text' ? [] : [imageBytes(imageUrlOf(part, `messages[${i}].content[${j}]`, 'Ollama'), `messages[${i}].content[${j}]`)])) : [];
  if (images.length > 0) out.images = images;
  if (message.tool_calls?.length) out.tool_calls = message.tool_calls.map((call, j) => ({ function: { name: call.function.name, arguments: toolArgumentsOf(call.function.arguments, `messages[${i}].tool_calls[${j}]`) } }));
  if (message.role === 'tool') {
    const name = toolNames.get(message.tool_call_id ?? '');
    if (name) out.tool_name = name;
  }
  return out;
}

/** Ollama takes images as base64 only: a data: URL is unwrapped, a web URL is refused. */
function imageBytes(url: string, where: string): string {
  const match = /^data:image\/[^;,]+;base64,(.*)$/s.exec(url);
  if (!match) throw cannotServe(`${where}.image_url.url`, `${where}.image_url.url: Ollama takes images as data: URLs (base64)`);
  return match[1] ?? '';
}

/** OpenAI's embeddings request as Ollama's /api/embed: `input` passes as is, `dimensions` too. */
export function toOllamaEmbed(request: EmbeddingsRequest, ctx: CallContext): Record<string, unknown> {
  embeddingTexts(request.input, 'Ollama');
  return { model: ctx.model, input: request.input, ...(request.dimensions ? { dimensions: request.dimensions } : {}) };
}
