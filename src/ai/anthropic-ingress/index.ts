/**
 * The Anthropic ingress: `POST /v1/messages` in Anthropic's Messages API (https://docs.anthropic.com/en/api/messages)
 * over any provider. Pure translations between Anthropic's shapes and the gateway's unified (OpenAI) ones; the
 * AI handler does the calling, accounting and writing.
 */
export { AnthropicRequestError, anthropicError, anthropicErrorTypeFor, toAnthropicError, type GatewayError } from './anthropic-error.js';
export { withBetaFeatures } from './beta-features.js';
export { anthropicStopFor, anthropicUsageFor, chatToMessages, failedChoice } from './chat-to-messages.js';
export { ChatChunksToMessageEvents, type MessageEventsOptions } from './chunks-to-message-events.js';
export { hiddenReasoningFor, type HiddenReasoning } from './keygate-thinking.js';
export { messagesToChat } from './messages-to-chat.js';
export type {
  AnthropicContentBlock,
  AnthropicErrorBody,
  AnthropicErrorType,
  AnthropicMessage,
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicStopReason,
  AnthropicUsage,
} from './wire-types.js';
