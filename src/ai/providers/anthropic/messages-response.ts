import { ANTHROPIC_BLOCKS, CACHE_WRITES, STOP_SEQUENCE, WINDOW_EXCEEDED, type AnthropicBlock, type ChatCompletion, type FinishReason, type StopSequence, type ToolCall, type Usage } from '../../chat-types.js';
import { textWrittenApart } from '../text-apart.js';
import { JSON_RESPONSE_TOOL } from './response-format.js';
import type { AnthropicMessageResponse, AnthropicToolUseBlock, AnthropicUsage } from './wire-types.js';

/**
 * Anthropic's `stop_reason` (https://docs.anthropic.com/en/api/handling-stop-reasons) in OpenAI's terms.
 * `tool_use` is only `tool_calls` when the client's own tools were called: an answer through the JSON schema
 * tool is an ordinary stop.
 */
export function finishReasonFor(stopReason: string | null | undefined, calledClientTool: boolean): FinishReason | null {
  switch (stopReason) {
    case null:
    case undefined:
      return null;
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return calledClientTool ? 'tool_calls' : 'stop';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/**
 * The sequence Anthropic says the answer stopped on, or that the context window ended it (WINDOW_EXCEEDED), for the
 * choice; nothing on any other stop reason.
 */
export function stopSequenceOf(stopReason: string | null | undefined, stopSequence: string | null | undefined): StopSequence {
  if (stopReason === 'model_context_window_exceeded') return { [WINDOW_EXCEEDED]: true };
  return stopReason === 'stop_sequence' ? { [STOP_SEQUENCE]: stopSequence ?? null } : {};
}

/**
 * Anthropic counts cache reads and cache writes apart from `input_tokens`; OpenAI's prompt tokens include them.
 * The writes, priced above plain input, go with the usage (CACHE_WRITES): by lifetime where `cache_creation` says
 * it, else all as 5-minute entries, the default.
 */
export function usageFor(usage: AnthropicUsage): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const written = usage.cache_creation_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + cacheRead + written;
  const completion = usage.output_tokens ?? 0;
  const result: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cacheRead } };
  if (written > 0) {
    const oneHour = Math.min(usage.cache_creation?.ephemeral_1h_input_tokens ?? 0, written);
    result[CACHE_WRITES] = { fiveMinute: written - oneHour, oneHour };
  }
  return result;
}

/**
 * An Anthropic Message as an OpenAI chat completion: text blocks are the content, `tool_use` blocks the tool calls,
 * and thinking blocks' text (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking) the
 * `reasoning_content`. An answer with thinking blocks, with citations, or whose text OpenAI's shape would join
 * (textWrittenApart), also keeps its blocks in their order (ANTHROPIC_BLOCKS), for the Anthropic ingress to answer with as they came.
 */
export function fromAnthropicMessage(message: AnthropicMessageResponse, created: number): ChatCompletion {
  const text: string[] = [];
  const toolCalls: ToolCall[] = [];
  let reasoning: string[] | undefined;
  for (const block of message.content) {
    if (block.type === 'text') text.push((block as { text: string }).text);
    else if (block.type === 'tool_use') {
      const use = block as AnthropicToolUseBlock;
      if (use.name === JSON_RESPONSE_TOOL) text.push(JSON.stringify(use.input));
      else toolCalls.push({ id: use.id, type: 'function', function: { name: use.name, arguments: JSON.stringify(use.input ?? {}) } });
    } else if (block.type === 'thinking') (reasoning ??= []).push(String((block as { thinking?: string }).thinking ?? ''));
    else if (block.type === 'redacted_thinking') reasoning ??= [];
  }
  const answer: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: text.length > 0 ? text.join('') : null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
  if (reasoning) {
    const thought = reasoning.join('\n\n');
    if (thought !== '') answer.reasoning_content = thought;
  }
  // Citations (https://docs.anthropic.com/en/docs/build-with-claude/citations) ride on text blocks, which OpenAI's shape has no place for.
  const cites = message.content.some((block) => block.type === 'text' && Array.isArray((block as { citations?: unknown }).citations));
  if (reasoning || cites || textWrittenApart(message.content.map((block) => (block.type === 'text' || (block.type === 'tool_use' && (block as AnthropicToolUseBlock).name === JSON_RESPONSE_TOOL) ? 'text' : block.type === 'tool_use' ? 'tool' : 'other')))) {
    // The JSON schema tool's answer is the text it stands for, as it is in `content`.
    answer[ANTHROPIC_BLOCKS] = message.content.map((block): AnthropicBlock => (block.type === 'tool_use' && (block as AnthropicToolUseBlock).name === JSON_RESPONSE_TOOL ? { type: 'text', text: JSON.stringify((block as AnthropicToolUseBlock).input) } : (block as AnthropicBlock)));
  }
  return {
    id: message.id,
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [
      {
        index: 0,
        message: answer,
        finish_reason: finishReasonFor(message.stop_reason, toolCalls.length > 0),
        logprobs: null,
        ...stopSequenceOf(message.stop_reason, message.stop_sequence),
      },
    ],
    usage: usageFor(message.usage),
  };
}
