/**
 * The members of Anthropic's Messages API (https://docs.anthropic.com/en/api/messages) that Keygate writes or
 * reads. Anthropic may add fields and event types at any time (its versioning policy); unknown ones are ignored.
 */

/** A prompt-caching breakpoint (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching), as the client set it. */
export interface AnthropicCacheControl {
  cache_control?: Record<string, unknown>;
}
export interface AnthropicTextBlock extends AnthropicCacheControl {
  type: 'text';
  text: string;
}
export interface AnthropicImageBlock extends AnthropicCacheControl {
  type: 'image';
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };
}
/** A PDF (https://docs.anthropic.com/en/docs/build-with-claude/pdf-support), its name as the title. */
export interface AnthropicDocumentBlock extends AnthropicCacheControl {
  type: 'document';
  source: { type: 'base64'; media_type: 'application/pdf'; data: string } | { type: 'text'; media_type: 'text/plain'; data: string };
  title?: string;
  context?: string;
  citations?: { enabled: boolean };
}
export interface AnthropicToolUseBlock extends AnthropicCacheControl {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}
export interface AnthropicToolResultBlock extends AnthropicCacheControl {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | Array<AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock>;
  /** The tool failed (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use). */
  is_error?: boolean;
}
/** A thinking or redacted_thinking block (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking), as Anthropic wrote it. */
export interface AnthropicThinkingBlock {
  type: 'thinking' | 'redacted_thinking';
  thinking?: string;
  signature?: string;
  data?: string;
}
export type AnthropicContentBlock = AnthropicTextBlock | AnthropicImageBlock | AnthropicDocumentBlock | AnthropicToolUseBlock | AnthropicToolResultBlock | AnthropicThinkingBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicContentBlock[];
}

export interface AnthropicTool extends AnthropicCacheControl {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

export type AnthropicToolChoice = { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean } | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean } | { type: 'none' };

export interface AnthropicMessagesRequest extends AnthropicCacheControl {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  /** A string, unless a block has a cache breakpoint. */
  system?: string | AnthropicTextBlock[];
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stream?: boolean;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  /** Extended thinking: `{type: "enabled", budget_tokens}`, `{type: "disabled"}` or `{type: "adaptive"}`. */
  thinking?: Record<string, unknown>;
  output_config?: { effort?: string; format?: Record<string, unknown> };
}

export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** The cache writes by the lifetime of their entries; together `cache_creation_input_tokens`. */
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
}

/** A response content block: text, tool_use and thinking blocks are translated, server-tool blocks are not. */
export type AnthropicResponseBlock = AnthropicTextBlock | AnthropicToolUseBlock | AnthropicThinkingBlock | { type: string };

export interface AnthropicMessageResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: string | null;
  stop_sequence?: string | null;
  usage: AnthropicUsage;
}

/** Anthropic's error body (https://docs.anthropic.com/en/api/errors), also the data of a streamed `error` event. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/** One streamed event's data (https://docs.anthropic.com/en/docs/build-with-claude/streaming). */
export type AnthropicStreamEvent =
  | { type: 'message_start'; message: AnthropicMessageResponse }
  | { type: 'content_block_start'; index: number; content_block: AnthropicResponseBlock }
  | {
      type: 'content_block_delta';
      index: number;
      delta: { type: 'text_delta'; text: string } | { type: 'input_json_delta'; partial_json: string } | { type: 'thinking_delta'; thinking: string } | { type: 'signature_delta'; signature: string } | { type: string };
    }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason?: string | null; stop_sequence?: string | null }; usage?: AnthropicUsage }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | AnthropicErrorBody;
