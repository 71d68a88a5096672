import { randomUUID } from 'node:crypto';
import type { ChatCompletion, EmbeddingsRequest, EmbeddingsResponse, FinishReason, ToolCall, Usage } from '../../chat-types.js';
import { base64Of } from '../embedding-encoding.js';
import { isVectorList, unreadableEmbeddings } from '../unreadable-embeddings.js';
import type { CallContext } from '../provider.js';

/** One /api/chat answer, or one line of its stream; `thinking` is a thinking model's reasoning (https://docs.ollama.com/capabilities/thinking). */
export interface OllamaChatLine {
  message?: { content?: string; thinking?: string; tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: unknown } }> };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

/** Ollama says "stop" for tool calls too; "load" and "unload" answer an empty conversation. */
export function finishReasonOf(doneReason: string | undefined, calledTools: boolean): FinishReason {
  if (doneReason === 'length') return 'length';
  return calledTools ? 'tool_calls' : 'stop';
}

/** prompt_eval_count is absent when the whole prompt came from Ollama's cache. */
export function usageOf(line: OllamaChatLine): Usage {
  const prompt = line.prompt_eval_count ?? 0;
  const completion = line.eval_count ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Ollama gives tool arguments as an object and, in older versions, no call id: one is made up. */
export function toolCallsOf(line: OllamaChatLine): ToolCall[] {
  return (line.message?.tool_calls ?? []).map((call) => ({
    id: call.id ?? `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    type: 'function',
    function: { name: call.function?.name ?? '', arguments: typeof call.function?.arguments === 'string' ? call.function.arguments : JSON.stringify(call.function?.arguments ?? {}) },
  }));
}

export function fromOllamaChat(body: unknown, ctx: CallContext): ChatCompletion {
  const line = body as OllamaChatLine;
  const text = line.message?.content ?? '';
  const thinking = line.message?.thinking;
  const toolCalls = toolCallsOf(line);
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(ctx.now / 1000),
    model: ctx.model,
    choices: [{ index: 0, message: { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, ...(thinking ? { reasoning_content: thinking } : {}), ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) }, finish_reason: finishReasonOf(line.done_reason, toolCalls.length > 0), logprobs: null }],
    usage: usageOf(line),
  };
}

/** Ollama's embeddings in OpenAI's shape: floats, or base64 when `encoding_format` asks for it (the `openai` SDK's default). */
export function fromOllamaEmbed(body: unknown, ctx: CallContext, request?: EmbeddingsRequest): EmbeddingsResponse {
  const response = body as { embeddings?: unknown; prompt_eval_count?: number } | null;
  // /api/embed answers `{"embeddings": [[…], …]}`, one per input (https://github.com/ollama/ollama/blob/main/docs/api.md#generate-embeddings).
  if (!isVectorList(response?.embeddings)) throw unreadableEmbeddings();
  const tokens = response.prompt_eval_count ?? 0;
  const data = response.embeddings.map((embedding, index) => ({ object: 'embedding' as const, index, embedding: request?.encoding_format === 'base64' ? base64Of(embedding) : embedding }));
  return { object: 'list', data, model: ctx.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
