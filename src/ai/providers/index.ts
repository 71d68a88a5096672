import { AnthropicProvider } from './anthropic/index.js';
import { AzureOpenAIProvider } from './azure-openai/index.js';
import { BedrockProvider } from './bedrock/index.js';
import { CohereProvider } from './cohere/index.js';
import { GeminiProvider } from './gemini/index.js';
import { MistralProvider } from './mistral/index.js';
import { OllamaProvider } from './ollama/index.js';
import { OpenAICompatibleProvider } from './openai-compatible/index.js';
import { OpenAIProvider } from './openai/index.js';
import type { ProviderAdapter } from './provider.js';

/**
 * Every provider type the gateway speaks; the config schema's list of types is read from here. Adding one: a folder
 * under src/ai/providers and a line here.
 */
export const PROVIDER_ADAPTERS: ReadonlyMap<string, ProviderAdapter> = new Map<string, ProviderAdapter>([
  ['openai', OpenAIProvider],
  ['openai-compatible', OpenAICompatibleProvider],
  ['anthropic', AnthropicProvider],
  ['gemini', GeminiProvider],
  ['azure-openai', AzureOpenAIProvider],
  ['mistral', MistralProvider],
  ['cohere', CohereProvider],
  ['bedrock', BedrockProvider],
  ['ollama', OllamaProvider],
]);

export { SOURCE_TEXT, type TranslatedChunk } from './provider.js';
export { thinkingAsked, type ThinkingAsked } from './client-thinking.js';
export { REASONING_BACK_TYPES, sendsReasoningBack } from './reasoning-back.js';
export { takesThinkingToggle } from './openai-compatible/thinking-toggle.js';
export type { ProviderAdapter, ProviderConfig, ProviderCredential, CallContext, ProviderFailure, StreamTranslator, UpstreamCall } from './provider.js';
