/**
 * The members of OpenAI's Responses API (https://platform.openai.com/docs/api-reference/responses) that the
 * Responses ingress reads from clients and writes back to them, as the `openai` SDK (v6) types them
 * (`resources/responses/responses.d.ts`). Only what Keygate reads or writes is typed.
 */
import type { GoogleExtra } from '../chat-types.js';

/** A function tool as a client declares it: flat, unlike Chat Completions' `{type, function: {…}}`. */
export interface ResponsesFunctionTool {
  type: 'function';
  name: string;
  description?: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean | null;
}

/**
 * A custom tool as a client declares it (https://platform.openai.com/docs/guides/function-calling#custom-tools; the
 * SDK's `CustomTool`): its call carries free text, plain or following a grammar (`syntax` and `definition` flat on
 * the format, where Chat Completions nests them under `grammar`).
 */
export interface ResponsesCustomTool {
  type: 'custom';
  name: string;
  description?: string;
  format?: { type: 'text' } | { type: 'grammar'; syntax: 'lark' | 'regex'; definition: string };
}

export type ResponsesTool = ResponsesFunctionTool | ResponsesCustomTool;

/** An `allowed_tools` choice as the Responses API has it: flat, each tool `{type, name}`. */
export interface ResponsesAllowedTools {
  type: 'allowed_tools';
  mode: 'auto' | 'required';
  tools: Array<{ type: 'function' | 'custom'; name: string }>;
}

export type ResponsesToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; name: string } | { type: 'custom'; name: string } | ResponsesAllowedTools;

export type ResponsesTextFormat = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean | null; description?: string };

/** OpenAI's `Reasoning` configuration, as echoed on a Response. */
export interface ResponsesReasoning {
  effort: string | null;
  summary: string | null;
}

/**
 * What a Response says back of its request (https://platform.openai.com/docs/api-reference/responses/object): the
 * members of the Response object that echo request parameters, with OpenAI's defaults where the client set none.
 */
export interface ResponseEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  metadata: Record<string, string>;
  parallel_tool_calls: boolean;
  reasoning: ResponsesReasoning;
  temperature: number | null;
  text: { format: ResponsesTextFormat; verbosity?: string };
  tool_choice: ResponsesToolChoice;
  tools: ResponsesTool[];
  top_p: number | null;
  user: string | null;
  /** Whether the Response is kept (the request's `store`, true unless it said false, and false if keeping it failed). */
  store: boolean;
  /** The stored Response this one continues. */
  previous_response_id: string | null;
}

export interface ResponsesOutputText {
  type: 'output_text';
  text: string;
  annotations: [];
}
export interface ResponsesOutputRefusal {
  type: 'refusal';
  refusal: string;
}
export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export interface ResponsesOutputMessage {
  type: 'message';
  id: string;
  status: ItemStatus;
  role: 'assistant';
  content: Array<ResponsesOutputText | ResponsesOutputRefusal>;
}
export interface ResponsesFunctionCall {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: ItemStatus;
  /**
   * A Gemini call's thought signature, where Google's OpenAI-compatible API puts it on a tool call: not OpenAI's, and
   * only on a Gemini model's calls, so that a client that sends the item back gives Gemini its signature back.
   */
  extra_content?: GoogleExtra;
}
/**
 * A custom tool's call (the SDK's `ResponseCustomToolCall`, https://platform.openai.com/docs/api-reference/responses/object#responses/object-output):
 * its free text in `input`; its id `ctc_…`, as OpenAI's are.
 */
export interface ResponsesCustomToolCall {
  type: 'custom_tool_call';
  id: string;
  call_id: string;
  name: string;
  input: string;
  status: ItemStatus;
}
export interface ResponsesSummaryText {
  type: 'summary_text';
  text: string;
}
export interface ResponsesReasoningItem {
  type: 'reasoning';
  id: string;
  summary: ResponsesSummaryText[];
  /** Claude's thinking blocks sealed (encrypted-reasoning.ts): kept in a stored Response, shown to a client that included it. */
  encrypted_content?: string;
}
export type ResponsesOutputItem = ResponsesOutputMessage | ResponsesFunctionCall | ResponsesCustomToolCall | ResponsesReasoningItem;

export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'completed' | 'failed' | 'in_progress' | 'incomplete';

/** OpenAI's `ResponseError` codes are its own; Keygate says `server_error` for a provider that failed. */
export interface ResponsesError {
  code: string;
  message: string;
}

/** The Response object (https://platform.openai.com/docs/api-reference/responses/object), without `output_text`, which the SDKs compute. */
export interface ResponseObject extends ResponseEcho {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: false;
  error: ResponsesError | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  model: string;
  output: ResponsesOutputItem[];
  truncation: 'disabled';
  usage: ResponsesUsage | null;
}

/**
 * An input item as a stored Response keeps it (https://platform.openai.com/docs/api-reference/responses/input-items):
 * as the client sent it, with an id (`msg_…`, `fc_…`, `fco_…`, `ctc_…`, `ctco_…`, `rs_…`) where it had none, and a message's text as
 * content parts.
 */
export type ResponsesInputItem = Record<string, unknown> & { id: string; type: string };
