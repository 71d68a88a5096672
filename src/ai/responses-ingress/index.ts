/**
 * The Responses ingress: `POST /v1/responses` in OpenAI's Responses API (https://platform.openai.com/docs/api-reference/responses)
 * over any provider, statelessly. Pure translations between the Responses API's shapes and the gateway's unified
 * (Chat Completions) ones; the AI handler does the calling, accounting and writing.
 */
export { chatToResponse, responseUsageFor } from './chat-to-response.js';
export { ChatChunksToResponseEvents, type ResponseEventsOptions } from './chunks-to-response-events.js';
export { ResponsesRequestError, toResponsesError, type ResponsesErrorCode } from './responses-error.js';
export { RESPONSE_ECHO, responseEchoOf, responsesToChat, type ResponsesChatRequest } from './responses-to-chat.js';
export type { ResponseEcho, ResponseObject, ResponsesOutputItem, ResponsesUsage } from './wire-types.js';
