/**
 * The members of Anthropic's Messages API (https://docs.anthropic.com/en/api/messages) that the Anthropic ingress
 * reads from clients and writes back to them. These are the client's side of the wire: unlike the provider
 * adapter's types, a message's content may be a plain string, `system` may be text blocks, and a tool result
 * may say it is an error.
 */
export interface AnthropicTextBlockParam {
  type: 'text';
  text: string;
}
export interface AnthropicImageBlockParam {
  type: 'image';
  source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };
}
export interface AnthropicToolUseBlockParam {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}
export interface AnthropicToolResultBlockParam {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | Array<AnthropicTextBlockParam | AnthropicImageBlockParam>;
  is_error?: boolean;
}
/** Extended thinking from an earlier turn, sent back by the client; only Anthropic can read it. */
export interface AnthropicThinkingBlockParam {
  type: 'thinking' | 'redacted_thinking';
  thinking?: string;
  signature?: string;
  data?: string;
}
export type AnthropicContentBlockParam = AnthropicTextBlockParam | AnthropicImageBlockParam | AnthropicToolUseBlockParam | AnthropicToolResultBlockParam | AnthropicThinkingBlockParam;

export interface AnthropicMessageParam {
  role: 'user' | 'assistant' | 'system';
  content: string | AnthropicContentBlockParam[];
}

export interface AnthropicToolParam {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  /** Absent or `custom` for the client's own tools; Anthropic's server tools carry a versioned type. */
  type?: string;
}

export type AnthropicToolChoiceParam = { type: 'auto' | 'any'; disable_parallel_tool_use?: boolean } | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean } | { type: 'none' };

export interface AnthropicMessagesRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessageParam[];
  system?: string | AnthropicTextBlockParam[];
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stream?: boolean;
  tools?: AnthropicToolParam[];
  tool_choice?: AnthropicToolChoiceParam;
  metadata?: { user_id?: string | null };
  /** `display` (`summarized` or `omitted`) says how thinking blocks come back. */
  thinking?: ({ type: 'enabled'; budget_tokens: number } | { type: 'disabled' } | { type: 'adaptive' }) & { display?: 'summarized' | 'omitted' };
}

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
}
export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}
/** A thinking or redacted_thinking block of an Anthropic provider's answer, as Anthropic wrote it. */
export interface AnthropicThinkingBlock {
  type: 'thinking' | 'redacted_thinking';
  [member: string]: unknown;
}
export type AnthropicContentBlock = AnthropicTextBlock | AnthropicToolUseBlock | AnthropicThinkingBlock;

/** Stop reasons (https://docs.anthropic.com/en/api/handling-stop-reasons) an OpenAI finish reason can become. */
export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'model_context_window_exceeded' | 'stop_sequence' | 'tool_use' | 'refusal';

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** The cache writes by the lifetime of their entries; together `cache_creation_input_tokens`. */
  cache_creation?: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

/** A Message, the answer to a non-streamed `POST /v1/messages`. */
export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

/** Anthropic's error types and the HTTP status each is sent with (https://docs.anthropic.com/en/api/errors). */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

/** Anthropic's error body, also the data of a streamed `error` event. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
  /** The request's id, as Anthropic's error bodies carry it (and its `request-id` header). */
  request_id?: string;
}
