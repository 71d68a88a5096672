import type { CacheWrites } from './catalog/index.js';

/**
 * The unified API is OpenAI's Chat Completions API (https://platform.openai.com/docs/api-reference/chat): every
 * provider adapter translates to and from these shapes. Only the members Keygate reads are typed; everything
 * else a client sends is carried through untouched where the provider can take it.
 *
 * What Anthropic's Messages API says that OpenAI's shapes have no member for is carried under symbols, between the
 * ingresses and the adapters that can say it (CACHE_CONTROL the Anthropic and Bedrock adapters'; PROMPT_USAGE the
 * Anthropic adapter's; CACHE_WRITES the Anthropic and Bedrock adapters'; STOP_SEQUENCE the Anthropic, Bedrock and
 * Cohere adapters'; THINKING and OUTPUT_CONFIG, extended thinking and effort, the Anthropic, Bedrock, OpenAI-format
 * and Gemini adapters'; ANTHROPIC_BLOCKS and THINKING_DELTA the Anthropic and Bedrock adapters' and the Anthropic
 * ingress's): JSON.stringify leaves symbol keys out, so none reaches an OpenAI-format answer, nor the body of
 * a provider whose adapter does not read it.
 */
export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

/**
 * Anthropic's prompt-caching breakpoint (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching), as
 * a client set it: an Anthropic-format client on a system or content block (a text or image part, a tool call, a
 * tool message's `tool_result`), a tool, or the whole request (automatic caching); an OpenAI-format client, in the
 * form LiteLLM and OpenRouter take, on a content part, a message or a tool. On a message it marks the message's last
 * block. The Anthropic adapter sends it as it came, the Bedrock adapter as Converse `cachePoint` blocks; other
 * providers have no such breakpoints, and never see it.
 */
export const CACHE_CONTROL: unique symbol = Symbol('CACHE_CONTROL');

/** A cache breakpoint, as a member of what it marks. */
export type CacheControl = { [CACHE_CONTROL]?: Record<string, unknown> };

/**
 * On a request with a cache breakpoint anywhere (CACHE_CONTROL on it or on any part of it), set where the request is
 * read: what must see every breakpoint (the response cache's key) looks for them in marked requests only.
 */
export const CACHE_MARKED: unique symbol = Symbol('CACHE_MARKED');

/**
 * On an image or file part that came in a tool's result (an Anthropic-format `tool_result`, a Responses API
 * `function_call_output`): the id of the call it answers. OpenAI's tool messages carry text only, so such parts go
 * in a user message after the tool messages; the Anthropic and Bedrock adapters, whose tool results take images and
 * documents, put them back in the result they came in, so the model knows which call returned which.
 */
export const TOOL_RESULT_OF: unique symbol = Symbol('TOOL_RESULT_OF');

/** The call whose result a part came in, as a member of the part. */
export type ToolResultMedia = { [TOOL_RESULT_OF]?: string };

/**
 * On a text part that is the `context` of the document (a file part) right after it: an Anthropic-format document's
 * (https://docs.anthropic.com/en/docs/build-with-claude/citations). Other providers read it as text before the
 * document; the Anthropic and Bedrock adapters put it back as the document's own `context`.
 */
export const DOCUMENT_CONTEXT: unique symbol = Symbol('DOCUMENT_CONTEXT');

export interface TextPart extends CacheControl {
  type: 'text';
  text: string;
  [DOCUMENT_CONTEXT]?: true;
}
export interface ImagePart extends CacheControl, ToolResultMedia {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
/**
 * On a file part whose `filename` is not the client's: an Anthropic-format document without a title, named
 * `document.pdf` because OpenAI refuses file bytes without a name. The Anthropic adapter sends such a document
 * without a title, as it came.
 */
export const UNTITLED: unique symbol = Symbol('UNTITLED');

/**
 * On a file part, and on the request that holds it: an Anthropic-format document with `citations: {enabled: true}`
 * (https://docs.anthropic.com/en/docs/build-with-claude/citations). Only Anthropic writes citations, and only the
 * Anthropic adapter sends the flag on (a plain-text document as Anthropic's text source, `data:text/plain`); every
 * other adapter refuses the request (cannotServe), so an alias moves on to an Anthropic target.
 */
export const CITATIONS: unique symbol = Symbol('CITATIONS');

/**
 * A file in a prompt, as OpenAI's Chat Completions take one (https://platform.openai.com/docs/guides/pdf-files): its
 * bytes as a `data:` URL (`file_data`, a PDF: `data:application/pdf;base64,…`) with its name, or the id of a file
 * in OpenAI's own storage (`file_id`, which only OpenAI's API can read). The Anthropic, Bedrock and Gemini adapters
 * send a PDF as their own document blocks; the other adapters refuse the part.
 */
export interface FilePart extends CacheControl, ToolResultMedia {
  type: 'file';
  file: { file_data?: string; file_id?: string; filename?: string };
  /** On a PDF whose `filename` the gateway made up (UNTITLED). */
  [UNTITLED]?: true;
  /** On an Anthropic-format document that asked for citations (CITATIONS). */
  [CITATIONS]?: true;
}
export type ContentPart = TextPart | ImagePart | FilePart;

export interface ToolCall extends CacheControl {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  /** A Gemini call's thought signature, where Google's OpenAI-compatible API puts it (GoogleExtra). */
  extra_content?: GoogleExtra;
}

/**
 * `extra_content.google.thought_signature` on a tool call: Gemini's thought signature for it, as Google's own
 * OpenAI-compatible API gives it and takes it back (https://ai.google.dev/gemini-api/docs/thought-signatures).
 */
export interface GoogleExtra {
  google?: { thought_signature?: string };
}

/** The deprecated form of a tool call, in answers to calls that offered `functions` (see legacy-functions.ts). */
export interface FunctionCall {
  name: string;
  arguments: string;
}

/**
 * Anthropic's `output_config` as an Anthropic-format client set it: its `effort` (low, medium, high, xhigh, max;
 * https://docs.anthropic.com/en/docs/build-with-claude/effort, Claude Code's effort setting) and its `format`
 * (structured output). The Anthropic adapter sends it as it came, the Bedrock adapter its effort beside a Claude
 * model's thinking; other providers get the format as `response_format`, and the effort in their own terms
 * (providers/client-thinking.ts).
 */
export const OUTPUT_CONFIG: unique symbol = Symbol('OUTPUT_CONFIG');

/**
 * Extended thinking (https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking) as an Anthropic-format
 * client asked for it: the request's `thinking` object (`{type: "enabled", budget_tokens}`, `{type: "disabled"}`,
 * `{type: "adaptive"}`, each with an optional `display`), which the Anthropic adapter sends as it came, and the Bedrock
 * adapter to Claude models as Converse's `additionalModelRequestFields.thinking`. The OpenAI-format and Gemini
 * adapters read it in their own terms (providers/client-thinking.ts); the others leave it out.
 */
export const THINKING: unique symbol = Symbol('THINKING');

/**
 * The `anthropic-beta` features an Anthropic-format client asked for in its header (`context-1m-2025-08-07`,
 * `interleaved-thinking-2025-05-14`…; https://docs.anthropic.com/en/api/beta-headers), which the Anthropic adapter
 * sends on in the same header. Other providers have no such features through the gateway and leave them out.
 */
export const ANTHROPIC_BETA: unique symbol = Symbol('ANTHROPIC_BETA');

/**
 * A turn's content blocks in Anthropic's order, thinking and redacted_thinking blocks included, set only on a turn
 * that holds thinking blocks: on an assistant message of an Anthropic-format client's history (the Anthropic adapter
 * sends the turn as it came, since Anthropic wants thinking blocks back unchanged, signature and place), and on an
 * Anthropic answer's message (the Anthropic ingress answers with them). The Bedrock adapter sends a Claude model such
 * a turn as Converse's reasoningContent blocks, and gives a Claude answer's reasoning back in this form. Other
 * providers read the text and tool calls.
 */
export const ANTHROPIC_BLOCKS: unique symbol = Symbol('ANTHROPIC_BLOCKS');

/**
 * On a tool message, that its result is an error: an Anthropic-format client's `tool_result` with `is_error: true`
 * (https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use#handling-tool-use-and-tool-result-content-blocks).
 * Its text says so to every provider (`Error: …`); the Anthropic adapter also sends the flag, which Claude reads.
 */
export const TOOL_ERROR: unique symbol = Symbol('TOOL_ERROR');

/** How a tool message marked TOOL_ERROR begins, for the providers that have no flag; those that have one get the text without it. */
export const TOOL_ERROR_PREFIX = 'Error: ';

/** A TOOL_ERROR message's text as the client wrote it, for a provider that takes the flag. */
export const withoutToolErrorPrefix = (text: string): string => (text.startsWith(TOOL_ERROR_PREFIX) ? text.slice(TOOL_ERROR_PREFIX.length) : text);

/** An Anthropic content block, as Anthropic wrote it. */
export type AnthropicBlock = { type: string; [member: string]: unknown };

/** A name as OpenAI takes it for a tool, a function or a JSON schema: 1 to 64 letters, digits, underscores or dashes. */
export const OPENAI_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** OpenAI's `reasoning_effort` (https://platform.openai.com/docs/api-reference/chat/create#chat-create-reasoning_effort). */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** Whether `value` is one of OpenAI's efforts, which the Anthropic and Gemini adapters map; hosts may define others. */
export const isReasoningEffort = (value: unknown): value is ReasoningEffort => (REASONING_EFFORTS as readonly unknown[]).includes(value);

/**
 * A tool message's cache breakpoint is its `tool_result` block's. An assistant message's `reasoning_content` is the
 * reasoning a client sends back (see Reasoning), for the OpenAI-compatible hosts that want it.
 */
export interface ChatMessage extends CacheControl {
  [ANTHROPIC_BLOCKS]?: AnthropicBlock[];
  [TOOL_ERROR]?: true;
  reasoning_content?: string;
  role: Role;
  content: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}

export interface ToolDefinition extends CacheControl {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/**
 * The input format of an OpenAI custom tool in Chat Completions' shape
 * (https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools): free text, or text a Lark or regex
 * grammar constrains (nested under `grammar`, where the Responses API has `syntax` and `definition` flat).
 */
export type CustomToolFormat = { type: 'text' } | { type: 'grammar'; grammar: { syntax: 'lark' | 'regex'; definition: string } };

/**
 * OpenAI's custom tool (https://platform.openai.com/docs/guides/function-calling#custom-tools): its call carries free
 * text (`input`), not JSON arguments. Only the adapters that pass tools through ever see one: for every other,
 * provider-call translates it into a function tool first (custom-tools/).
 */
export interface CustomToolDefinition {
  type: 'custom';
  custom: { name: string; description?: string; format?: CustomToolFormat };
}

/** A call of a custom tool, in Chat Completions' shape: its free-text `input` where a function call has `arguments`. */
export interface CustomToolCall {
  id: string;
  type: 'custom';
  custom: { name: string; input: string };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string } };

export interface ChatRequest extends CacheControl {
  [THINKING]?: Record<string, unknown>;
  /** The request holds a document that asked for citations (CITATIONS). */
  [CITATIONS]?: true;
  [OUTPUT_CONFIG]?: { effort?: string; format?: Record<string, unknown> };
  [ANTHROPIC_BETA]?: string[];
  [CACHE_MARKED]?: true;
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  top_p?: number;
  /**
   * Not OpenAI's: top-k sampling, as Anthropic, Gemini, Cohere, Ollama and many OpenAI-compatible hosts take it;
   * adapters whose provider has no such setting leave it out.
   */
  top_k?: number;
  stop?: string | string[];
  n?: number;
  seed?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  tools?: ToolDefinition[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  /** OpenAI's efforts (ReasoningEffort), or another a host defines (OpenRouter's `max`), passed to OpenAI-format hosts as it came. */
  reasoning_effort?: string;
  user?: string;
  [extra: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/**
 * On a choice that finished (`stop`) on one of the request's stop sequences: that sequence, or null when the
 * provider does not say which (Cohere; Bedrock for models other than Claude). Absent when the provider does not tell a stop sequence from the
 * model's own end (OpenAI, Gemini, Mistral, Ollama).
 */
export const STOP_SEQUENCE: unique symbol = Symbol('STOP_SEQUENCE');

/**
 * On a choice that finished (`length`) because the model's context window was full rather than at the request's
 * `max_tokens`: Anthropic's and Bedrock's `model_context_window_exceeded`
 * (https://docs.anthropic.com/en/api/handling-stop-reasons), which OpenAI's finish reasons cannot tell from
 * `max_tokens`. The Anthropic ingress answers with it as it came; raising `max_tokens` would not help such a call.
 */
export const WINDOW_EXCEEDED: unique symbol = Symbol('WINDOW_EXCEEDED');

/** A choice's stop sequence, or its full context window, as members to spread into it: empty unless it stopped on one. */
export type StopSequence = { [STOP_SEQUENCE]?: string | null; [WINDOW_EXCEEDED]?: true };

/**
 * On a usage, the prompt tokens the provider wrote to its prompt cache (the Anthropic and Bedrock adapters report
 * them), priced at their own rates: OpenAI's usage has no member for them.
 */
export const CACHE_WRITES: unique symbol = Symbol('CACHE_WRITES');

/** The prompt tokens a usage says were read from the provider's cache: OpenAI's member, or DeepSeek's (`prompt_cache_hit_tokens`). */
export const cachedPromptTokens = (usage: Usage | null | undefined): number => usage?.prompt_tokens_details?.cached_tokens ?? usage?.prompt_cache_hit_tokens ?? 0;

/** A token's log probability in OpenAI's shape: the token, its UTF-8 bytes, and (TokenLogprob) the likeliest alternatives. */
export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
}
export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}
/** A choice's log probabilities, asked for with `logprobs: true` (and `top_logprobs`). */
export interface ChoiceLogprobs {
  content: TokenLogprob[] | null;
  refusal?: TokenLogprob[] | null;
}

export interface Usage {
  [CACHE_WRITES]?: CacheWrites;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  /** DeepSeek's count of the prompt tokens read from its cache (its `prompt_tokens_details` may be absent). */
  prompt_cache_hit_tokens?: number;
  /** The completion tokens spent on reasoning, where the provider says (OpenAI, Gemini's thoughts). */
  completion_tokens_details?: { reasoning_tokens?: number };
  /**
   * What the host charged for the call, where it says: OpenRouter's `cost` in US dollars (its credits), Perplexity's
   * `{total_cost}` (search fees included). The record's cost then, rather than the catalog's price.
   */
  cost?: number | { total_cost?: number };
}

/**
 * The model's reasoning text, as DeepSeek and other OpenAI-compatible hosts return it (`message.reasoning_content`,
 * streamed as `delta.reasoning_content`): the Anthropic and Gemini adapters put their thinking there, when the
 * client asked for reasoning.
 */
export interface Reasoning {
  reasoning_content?: string;
}

/**
 * A chat completion in OpenAI's shape. Adapters answer with function calls only (`Call` as by default); what a
 * client is answered (ClientCompletion) may hold custom tools' calls too: OpenAI's own, or a function call of
 * a custom tool translated back (custom-tools/).
 */
export interface ChatCompletion<Call extends ToolCall | CustomToolCall = ToolCall> {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{ index: number; message: { [ANTHROPIC_BLOCKS]?: AnthropicBlock[]; role: 'assistant'; content: string | null; tool_calls?: Call[]; function_call?: FunctionCall; refusal?: string | null } & Reasoning; finish_reason: FinishReason | null; logprobs?: ChoiceLogprobs | null } & StopSequence>;
  usage?: Usage;
  system_fingerprint?: string | null;
}

/** A completion as its client is answered: its tool calls may be custom tools' calls. */
export type ClientCompletion = ChatCompletion<ToolCall | CustomToolCall>;

/**
 * A streamed tool call's delta. A custom tool's call streams its `input` in `custom` fragments, as OpenAI sends them
 * (`{"index":0,"id":…,"type":"custom","custom":{"name":…,"input":…}}`; the shape the `openai` SDK's types still lack,
 * reported in openai/openai-python#2530 and openai/openai-openapi#576).
 */
export interface ChunkToolCallDelta {
  index: number;
  id?: string;
  type?: 'function' | 'custom';
  function?: { name?: string; arguments?: string };
  custom?: { name?: string; input?: string };
  extra_content?: GoogleExtra;
}

/**
 * On a stream's first chunk, when the provider counted the prompt before its answer (Anthropic's `message_start`):
 * that count, its completion tokens 0. The stream's usage still comes whole at its end.
 */
export const PROMPT_USAGE: unique symbol = Symbol('PROMPT_USAGE');

/**
 * On a streamed delta of an Anthropic answer's thinking (or a Bedrock Claude model's, in the same form): a thinking or redacted_thinking block starting (`block`, as
 * Anthropic's `content_block_start` had it), a `thinking_delta`'s text, or a `signature_delta`'s signature, for the
 * Anthropic ingress to stream on as Anthropic did. The thinking text is the delta's `reasoning_content` too.
 */
export const THINKING_DELTA: unique symbol = Symbol('THINKING_DELTA');
export interface ThinkingDelta {
  block?: AnthropicBlock;
  thinking?: string;
  signature?: string;
}

/**
 * On a streamed delta of an Anthropic answer: a text block starting (`block`, as Anthropic's `content_block_start`
 * had it), or a `citations_delta`'s citation, for the Anthropic ingress to stream on as Anthropic did: an answer with
 * citations comes in text blocks each with their own (https://docs.anthropic.com/en/docs/build-with-claude/citations).
 * The text itself is the delta's `content`.
 */
export const TEXT_BLOCK: unique symbol = Symbol('TEXT_BLOCK');
export interface TextBlockDelta {
  block?: AnthropicBlock;
  citation?: Record<string, unknown>;
}

export interface ChatCompletionChunk {
  [PROMPT_USAGE]?: Usage;
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{ index: number; delta: { [THINKING_DELTA]?: ThinkingDelta; [TEXT_BLOCK]?: TextBlockDelta; role?: 'assistant'; content?: string | null; tool_calls?: ChunkToolCallDelta[]; function_call?: Partial<FunctionCall>; refusal?: string | null } & Reasoning; finish_reason: FinishReason | null; logprobs?: ChoiceLogprobs | null } & StopSequence>;
  usage?: Usage | null;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  /**
   * Not OpenAI's: what the texts are for, as Cohere's Embed takes it (`search_document`, `search_query`,
   * `classification`, `clustering`); Cohere's adapters default to `search_document`, the OpenAI-format ones pass it on.
   */
  input_type?: string;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  /** As the provider reported it; absent when it reports none (Gemini), and then estimated by the gateway. */
  usage?: { prompt_tokens: number; total_tokens: number };
}

/** OpenAI's error body (https://platform.openai.com/docs/guides/error-codes). */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
