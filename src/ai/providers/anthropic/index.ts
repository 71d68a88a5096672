import type { CallContext, ProviderAdapter } from '../provider.js';
import { betaHeaderFor } from './beta-header.js';
import { anthropicFailure } from './messages-error.js';
import { claudeOutputLimit, toAnthropicRequest } from './messages-request.js';
import { fromAnthropicMessage } from './messages-response.js';
import { anthropicStreamTranslator } from './messages-stream.js';
import type { AnthropicMessageResponse } from './wire-types.js';

/** The `anthropic-version` header sent unless the provider's `apiVersion` names another. */
const ANTHROPIC_VERSION = '2023-06-01';

const base = (ctx: CallContext) => ctx.provider.baseUrl.replace(/\/$/, '');
const created = (ctx: CallContext) => Math.floor(ctx.now / 1000);

/**
 * Anthropic's Messages API (https://docs.anthropic.com/en/api/messages): POST {baseUrl}/v1/messages with the key
 * in `x-api-key`. Requests, answers, streams and errors are translated to and from OpenAI's shapes; Anthropic has
 * no embeddings API.
 */
export const AnthropicProvider: ProviderAdapter = {
  type: 'anthropic',
  failsAfterHead: true,
  defaultBaseUrl: 'https://api.anthropic.com',
  billedOutputLimit: claudeOutputLimit,
  chatCall(request, ctx) {
    const beta = betaHeaderFor(ctx.provider.headers, request);
    return {
      method: 'POST',
      url: `${base(ctx)}/v1/messages`,
      headers: {
        'content-type': 'application/json',
        accept: ctx.stream ? 'text/event-stream' : 'application/json',
        ...ctx.provider.headers,
        ...(beta ? { [beta.name]: beta.value } : {}),
        'anthropic-version': ctx.provider.apiVersion ?? ANTHROPIC_VERSION,
        'x-api-key': ctx.credential.secret,
      },
      body: JSON.stringify(toAnthropicRequest(request, ctx.model, ctx.stream, ctx.catalogModel)),
    };
  },
  parseChat: (body, ctx) => fromAnthropicMessage(body as AnthropicMessageResponse, created(ctx)),
  streamTranslator: (ctx) => anthropicStreamTranslator(created(ctx), ctx.model),
  parseError: anthropicFailure,
};

export { JSON_RESPONSE_TOOL } from './response-format.js';
export { claudeOutputLimit, claudeStopSequences, clientThinking, effortThinking, isBlank, type EffortThinking } from './messages-request.js';
