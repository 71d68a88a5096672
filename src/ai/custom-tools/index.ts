/**
 * OpenAI's custom tools (https://platform.openai.com/docs/guides/function-calling#custom-tools), whose calls carry
 * free text, over providers that know only function tools: the request's custom tools and calls as functions of one
 * string (`input`), and the provider's calls of those functions back as custom calls, whole or streamed. With them,
 * the `allowed_tools` tool choice, as the tools it allows.
 */
export { customCallsBack, CustomCallChunks } from './custom-calls-back.js';
export { customToolsAsFunctions, NO_CUSTOM_TOOLS, refuseToolNameCollisions, type FunctionToolsRequest } from './custom-tools-as-functions.js';
export { isAllowedToolsChoice, validateAllowedTools, type AllowedToolsChoice } from './allowed-tools.js';
