import type { IncomingHttpHeaders } from 'node:http';
import type { ChatCompletionChunk, ChatRequest, EmbeddingsRequest } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import { openAIStyleAdapter, takesEffortWithTools } from '../openai/index.js';
import { failureFor, rateLimitRetryAfterMs, type CallContext, type ProviderAdapter, type ProviderFailure, type StreamTranslator, type UpstreamCall } from '../provider.js';
import { mappedTranslator } from '../stream-events.js';

/** The GA `api-version` used when a provider names none. */
export const AZURE_OPENAI_DEFAULT_API_VERSION = '2024-10-21';

/** The model id is the deployment's name: Azure routes by the path, not the body's `model`. */
const deploymentPath = (operation: string) => (ctx: CallContext) =>
  `/openai/deployments/${encodeURIComponent(ctx.model)}/${operation}?api-version=${encodeURIComponent(ctx.provider.apiVersion ?? AZURE_OPENAI_DEFAULT_API_VERSION)}`;

/** The date an `api-version` was published (a preview by its date: "2024-09-01-preview" is 2024-09-01); none for one without. */
const versionDate = (apiVersion: string): string | undefined => /^\d{4}-\d{2}-\d{2}/.exec(apiVersion)?.[0];

/**
 * The body for the deployment's `api-version`: whether the call streams is the call's to say (`ctx.stream`),
 * whatever the client's body said; `top_k`, which Azure refuses as OpenAI does, is left out. Azure added
 * `max_completion_tokens` in 2024-09-01-preview (o1 deployments take nothing else) and the `developer` role in
 * 2024-12-01-preview: an `api-version` dated before either gets `max_tokens` or `system`, which today's OpenAI
 * clients no longer send. An `api-version` with no date ("preview", "latest") is taken to know both.
 */
function azureBody(body: Record<string, unknown>, ctx: CallContext): Record<string, unknown> {
  const { stream: _stream, stream_options: streamOptions, top_k: _topK, ...rest } = body;
  const out: Record<string, unknown> = ctx.stream ? { ...rest, stream: true, stream_options: streamOptions } : rest;
  const date = versionDate(ctx.provider.apiVersion ?? AZURE_OPENAI_DEFAULT_API_VERSION);
  if (date !== undefined && date < '2024-09-01' && out.max_completion_tokens !== undefined) {
    out.max_tokens ??= out.max_completion_tokens;
    delete out.max_completion_tokens;
  }
  if (date !== undefined && date < '2024-12-01' && Array.isArray(out.messages) && out.messages.some((m: { role?: unknown }) => m.role === 'developer')) {
    out.messages = out.messages.map((m: { role?: unknown }) => (m.role === 'developer' ? { ...m, role: 'system' } : m));
  }
  return out;
}

const openAIFormat = openAIStyleAdapter({
  type: 'azure-openai',
  chatPath: deploymentPath('chat/completions'),
  embeddingsPath: deploymentPath('embeddings'),
  authHeaders: (ctx) => ({ 'api-key': ctx.credential.secret }),
  adjust: azureBody,
  takesEffortWithTools,
});

/** Every Azure resource has its own endpoint, so a provider without a base URL cannot be called. */
function resourceOf(ctx: CallContext): CallContext {
  if (ctx.provider.baseUrl) return ctx;
  throw new ProviderCallError({ status: 500, type: 'api_error', code: 'provider_misconfigured', message: `the Azure OpenAI provider "${ctx.provider.name}" names no baseUrl; set it to the resource's endpoint (https://{resource}.openai.azure.com)`, retryable: true });
}

/**
 * Azure opens a stream with a chunk holding only `prompt_filter_results` (no choices, no usage): it is dropped, so
 * that the first chunk a client reads is the role chunk, as from OpenAI. With the asynchronous content filter, Azure
 * also sends annotation chunks (https://learn.microsoft.com/azure/ai-services/openai/concepts/content-streaming):
 * `id` and `object` empty, their choice only `content_filter_results` and `content_filter_offsets`, often after the
 * finish. A choice of such a chunk that says nothing is dropped too; one that ends the answer (the filter's late
 * verdict, `finish_reason: "content_filter"`) goes on as a chunk of the stream's own id, as OpenAI's chunks all are.
 */
function azureStreamTranslator(ctx: CallContext): StreamTranslator {
  const inner = openAIFormat.streamTranslator(ctx);
  /** The stream's own chunk, whose id, creation time and model an annotation's finish goes on with. */
  let own: ChatCompletionChunk | undefined;
  const keep = (chunks: ReturnType<StreamTranslator['push']>) =>
    chunks.flatMap((chunk) => {
      if (chunk.id !== '') {
        own = chunk;
        return chunk.choices.length > 0 || chunk.usage ? [chunk] : [];
      }
      const finishes = chunk.choices.filter((choice) => choice.finish_reason != null).map(({ index, finish_reason }) => ({ index, delta: {}, finish_reason }));
      if (finishes.length === 0 && !chunk.usage) return [];
      return [{ id: own?.id ?? chunk.id, object: 'chat.completion.chunk' as const, created: own?.created ?? chunk.created, model: own?.model ?? chunk.model, choices: finishes, ...(chunk.usage ? { usage: chunk.usage } : {}) }];
    });
  return mappedTranslator(inner, keep);
}

/**
 * Azure's errors are OpenAI's shape, but `code` is often the HTTP status ("401", "429"), and its 429 messages link
 * the quota-increase page: a 429 is a rate limit unless its code says the quota is gone.
 */
function parseAzureError(status: number, body: string, headers: IncomingHttpHeaders): ProviderFailure {
  const failure = openAIFormat.parseError(status, body, headers);
  const code = failure.code !== null && /^\d+$/.test(failure.code) ? null : failure.code;
  if (status === 429 && !/quota/i.test(code ?? '')) {
    return { status, type: 'rate_limit_error', code: code ?? 'rate_limit_exceeded', message: failure.message, retryAfterMs: rateLimitRetryAfterMs(headers), retryable: true };
  }
  // The member OpenAI's format blames stays: a client is told which of its own it was (max_output_tokens, say).
  return { ...failureFor(status, failure.message, headers, code), param: failure.param };
}

/**
 * Azure OpenAI (https://learn.microsoft.com/azure/ai-services/openai/reference): OpenAI's format at
 * {baseUrl}/openai/deployments/{deployment}/chat/completions?api-version=… and /embeddings, keyed by an `api-key`
 * header. The base URL is the resource's endpoint (https://{resource}.openai.azure.com), so there is no default.
 */
export const AzureOpenAIProvider: ProviderAdapter = {
  ...openAIFormat,
  chatCall: (request: ChatRequest, ctx: CallContext): UpstreamCall => openAIFormat.chatCall(request, resourceOf(ctx)),
  embeddingsCall: (request: EmbeddingsRequest, ctx: CallContext): UpstreamCall => (openAIFormat.embeddingsCall as NonNullable<ProviderAdapter['embeddingsCall']>)(request, resourceOf(ctx)),
  streamTranslator: azureStreamTranslator,
  parseError: parseAzureError,
};
