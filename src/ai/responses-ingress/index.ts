/**
 * The Responses ingress: `POST /v1/responses` in OpenAI's Responses API (https://platform.openai.com/docs/api-reference/responses)
 * over any provider. Pure translations between the Responses API's shapes and the gateway's unified (Chat
 * Completions) ones, and the shapes of stored responses' endpoints; the AI handler does the calling, storing,
 * accounting and writing.
 */
export { chatToResponse, responseUsageFor } from './chat-to-response.js';
export { ChatChunksToResponseEvents, type ResponseEventsOptions } from './chunks-to-response-events.js';
export { checkInclude, includeOfQuery } from './includable.js';
export { inputItemsPage, readInputItemsQuery, type InputItemsPage, type InputItemsQuery } from './input-items-page.js';
export { ResponsesRequestError, previousResponseChainBroken, previousResponseNotFound, responseChainBroken, responseChainTooLong, responseNotFound, responsesStoreUnavailable, toResponsesError, type ResponsesErrorCode } from './responses-error.js';
export { ENCRYPTED_REASONING_INCLUDE, ENCRYPTED_REASONING_PURPOSE, encryptedReasoning, includesEncryptedReasoning, outputAsIncluded, responseAsIncluded, type EncryptedReasoning } from './encrypted-reasoning.js';
export { RESPONSE_ECHO, RESPONSE_INCLUDES_ENCRYPTED, RESPONSE_INPUT, includesEncrypted, previousResponseIdOf, responseEchoOf, responsesToChat, type PreviousResponse, type ResponsesChatRequest } from './responses-to-chat.js';
export type { ResponseEcho, ResponseObject, ResponsesInputItem, ResponsesOutputItem, ResponsesUsage } from './wire-types.js';
