import type { ChatMessage, ChatRequest } from './chat-types.js';
import { PAGE_TOKENS, documentTokens } from './document-tokens.js';
import { imageTokens } from './image-tokens.js';

type Tokenizer = { countTokens(text: string): number };
let tokenizer: Tokenizer | undefined;
let loading: Promise<void> | undefined;

/**
 * OpenAI's o200k_base tokenizer, loaded the first time a provider reports no usage: its tables take some 70 MB,
 * which a gateway whose providers all report usage never needs to hold.
 */
export function loadTokenizer(): Promise<void> {
  loading ??= import('gpt-tokenizer/encoding/o200k_base').then((module) => {
    tokenizer = module;
  });
  return loading;
}

/**
 * Token counts for providers that report none: exact for current OpenAI models, an estimate for others (calls
 * accounted this way are marked as estimated). Before the tokenizer is loaded, about four bytes of UTF-8 a token.
 */
export function estimateTokens(text: string): number {
  if (text === '') return 0;
  if (!tokenizer) return quickTokenCount(text);
  // Byte-pair encoding takes time quadratic in the length of a run without spaces (64 KB of one "word" took
  // seconds): such runs, which a client can put in a prompt, are counted by the quick rule instead.
  const sample = text.length > EXACT_CHARS ? text.slice(0, EXACT_CHARS) : text;
  let runs = 0;
  const words = sample.replace(LONG_RUN, (run) => {
    runs += quickTokenCount(run);
    return ' ';
  });
  const tokens = runs + tokenizer.countTokens(words);
  // Past EXACT_CHARS, the rest is counted at the rate of the part that was tokenized.
  return sample === text ? tokens : Math.ceil((tokens * text.length) / sample.length);
}

/** Text tokenized exactly, at most: a few milliseconds of tokenizer time. */
const EXACT_CHARS = 256 * 1024;
/** Runs of non-space characters longer than this are counted by the quick rule. */
const LONG_RUN = /\S{257,}/g;

/**
 * Prompt tokens of a chat request, with OpenAI's per-message overhead of about 3 tokens, its images' and documents'
 * `images` (promptMediaTokens, counted by the caller that needs the figure apart). `count` is the
 * tokenizer (accounting a call the provider reported no usage for) or the quick four-bytes-a-token rule
 * (limits checked before every call, which must not tokenize every prompt on the request path).
 */
export function estimatePromptTokens(messages: readonly ChatMessage[], count: (text: string) => number = estimateTokens, images = promptMediaTokens(messages)): number {
  let total = 3 + images;
  for (const message of messages) {
    total += 3;
    if (typeof message.content === 'string') total += count(message.content);
    else if (Array.isArray(message.content)) for (const part of message.content) if (part.type === 'text') total += count(part.text);
    // A custom tool's call (`{"type":"custom","custom":{name,input}}`) has its text in `custom`.
    for (const call of message.tool_calls ?? []) {
      const custom = (call as { custom?: { name: string; input: string } }).custom;
      total += count(call.function ? call.function.name + call.function.arguments : custom ? custom.name + custom.input : '');
    }
  }
  return total;
}

/**
 * The tokens of what a request defines beside its messages, which a provider counts as prompt too: its tools (their
 * names, descriptions and parameter schemas, as JSON) and a structured output's schema. Left out, a request whose
 * prompt is mostly tool definitions would pass budgets and tokens-per-minute limits as if it were short.
 */
export function definitionTokens(request: Pick<ChatRequest, 'tools' | 'response_format'>, count: (text: string) => number = estimateTokens): number {
  let total = 0;
  if (request.tools?.length) total += count(JSON.stringify(request.tools));
  const format = request.response_format;
  if (format?.type === 'json_schema' && format.json_schema) total += count(JSON.stringify(format.json_schema));
  return total;
}

/**
 * The part of estimatePromptTokens that is the prompt's images (imageTokens) and documents (documentTokens: a
 * `file_id`, whose file the gateway cannot see, as one page), 0 for a prompt of text alone.
 */
export function promptMediaTokens(messages: readonly ChatMessage[]): number {
  let total = 0;
  for (const message of messages) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (part.type === 'image_url') total += imageTokens(part.image_url?.url ?? '');
      else if (part.type === 'file') total += part.file?.file_data !== undefined ? documentTokens(part.file.file_data) : PAGE_TOKENS;
    }
  }
  return total;
}

/**
 * About four bytes of UTF-8 a token: what the pre-call checks use. English runs about four characters a token, but
 * Chinese, Japanese and Korean about one character a token (three bytes each), and emoji one or two, so counting
 * characters let such a prompt through a token limit at a third of its size. Against the o200k_base tokenizer,
 * bytes come within 0.7–1.7× of the real count in every script tried (token-estimate.test.ts), characters 0.3–1.2×.
 */
export const quickTokenCount = (text: string): number => Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
