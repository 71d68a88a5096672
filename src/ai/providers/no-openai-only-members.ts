import type { ChatRequest } from '../chat-types.js';
import { cannotServe } from './cannot-serve.js';

type Asked = { modalities?: unknown; audio?: unknown; web_search_options?: unknown; logit_bias?: unknown };

/**
 * Members of OpenAI's request that ask for what a provider without a counterpart cannot give, and whose absence the
 * caller could not tell from the answer: spoken audio (`modalities` beyond text, `audio`), an answer grounded in a web
 * search (`web_search_options`), tokens banned or favoured (`logit_bias`). A 400 naming the member, as for logprobs
 * (refuseLogprobs), rather than a text answer that looks like the one asked for. Retryable: the next target of an
 * alias (an OpenAI-format host) may take it. Text only, no search, an empty bias ask for nothing and pass.
 */
export function refuseOpenAIOnlyMembers(request: ChatRequest | Record<string, unknown>, name: string): void {
  const asked = request as Asked;
  if ((Array.isArray(asked.modalities) && asked.modalities.some((modality) => modality !== 'text')) || (asked.audio !== undefined && asked.audio !== null)) {
    throw cannotServe(asked.audio !== undefined && asked.audio !== null ? 'audio' : 'modalities', `modalities: ${name} answers in text only through the gateway; ask for ["text"], or use an OpenAI model for audio`);
  }
  if (asked.web_search_options !== undefined && asked.web_search_options !== null) throw cannotServe('web_search_options', `web_search_options: ${name} searches no web through the gateway`);
  if (typeof asked.logit_bias === 'object' && asked.logit_bias !== null && Object.keys(asked.logit_bias).length > 0) throw cannotServe('logit_bias', `logit_bias: ${name} takes no token biases through the gateway`);
}
