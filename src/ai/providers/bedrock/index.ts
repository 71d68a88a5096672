import type { ChatRequest, EmbeddingsRequest } from '../../chat-types.js';
import { ProviderCallError } from '../../provider-call.js';
import type { CallContext, ProviderAdapter, UpstreamCall } from '../provider.js';
import { awsCredentialsOf } from './aws-credential.js';
import { isBedrockApiKey } from './bedrock-api-key.js';
import { parseBedrockError } from './bedrock-errors.js';
import { toConverseRequest } from './converse-request.js';
import { DocumentNames, documentNamesOf } from './document-names.js';
import { fromConverseResponse } from './converse-response.js';
import { converseStreamTranslator } from './converse-stream.js';
import { converseOutputLimit } from './converse-thinking.js';
import { fromInvokeEmbeddings, invokeEmbeddingsLimit, toInvokeEmbeddings } from './invoke-embeddings.js';
import { sha256Hex, signSigV4, uriEncode } from './sigv4.js';

/** The signing name of Bedrock's runtime endpoints. */
const SERVICE = 'bedrock';

function endpoint(ctx: CallContext): string {
  const region = ctx.provider.region;
  if (!region) {
    throw new ProviderCallError({ status: 500, type: 'api_error', code: 'provider_misconfigured', message: `the Bedrock provider "${ctx.provider.name}" names no region; set its region`, retryable: true });
  }
  return ctx.provider.baseUrl ? ctx.provider.baseUrl.replace(/\/$/, '') : `https://bedrock-runtime.${region}.amazonaws.com`;
}

/**
 * Amazon Bedrock's Converse API (https://docs.aws.amazon.com/bedrock/latest/userguide/conversation-inference.html):
 * POST /model/{modelId}/converse, or /converse-stream answering in the AWS event-stream framing, each signed with
 * SigV4 at `ctx.now`, or sent with an Amazon Bedrock API key as its Bearer token (isBedrockApiKey). The base URL
 * defaults to the region's runtime endpoint, so `defaultBaseUrl` is unset. Embeddings go through InvokeModel
 * (POST /model/{modelId}/invoke), in Titan's or Cohere Embed's own format.
 */
export const BedrockProvider: ProviderAdapter = {
  type: 'bedrock',
  failsAfterHead: true,
  billedOutputLimit: converseOutputLimit,
  chatCall(request: ChatRequest, ctx: CallContext): UpstreamCall {
    const documents = new DocumentNames();
    documentNamesOf.set(ctx, documents);
    return authorizedPost(ctx, ctx.stream ? 'converse-stream' : 'converse', JSON.stringify(toConverseRequest(request, ctx.model, ctx.catalogModel, documents)), ctx.stream ? 'application/vnd.amazon.eventstream' : 'application/json');
  },
  parseChat: fromConverseResponse,
  streamTranslator: converseStreamTranslator,
  maxEmbeddingInputs: invokeEmbeddingsLimit,
  embeddingsCall(request: EmbeddingsRequest, ctx: CallContext): UpstreamCall {
    return authorizedPost(ctx, 'invoke', JSON.stringify(toInvokeEmbeddings(request, ctx.model)), 'application/json');
  },
  parseEmbeddings: (body, ctx, request) => fromInvokeEmbeddings(body, ctx.model, request),
  parseError: parseBedrockError,
};

/**
 * POST /model/{modelId}/{operation} with `body`: with an API key as its Bearer token, which Bedrock takes in place of a
 * signature on the runtime's operations (api-keys-use.html: "Authorization: Bearer $AWS_BEARER_TOKEN_BEDROCK"), else
 * signed with SigV4 at `ctx.now`.
 */
function authorizedPost(ctx: CallContext, operation: string, body: string, accept: string): UpstreamCall {
  const url = `${endpoint(ctx)}/model/${uriEncode(ctx.model)}/${operation}`;
  const secret = ctx.credential.secret;
  if (isBedrockApiKey(secret)) return { method: 'POST', url, headers: { ...ctx.provider.headers, 'content-type': 'application/json', authorization: `Bearer ${secret}`, accept }, body };
  const signed = signSigV4(
    { method: 'POST', url, headers: { ...ctx.provider.headers, 'content-type': 'application/json', 'x-amz-content-sha256': sha256Hex(body) }, body },
    { credentials: awsCredentialsOf(secret), region: ctx.provider.region ?? '', service: SERVICE, now: ctx.now },
  );
  return { method: 'POST', url, headers: { ...signed.headers, accept }, body };
}

export { signSigV4, signingKey, uriEncode, type AwsCredentials, type SigV4Options, type SigV4Request, type SigV4Signature } from './sigv4.js';
export { EventStreamDecoder, EventStreamError, encodeEventStreamMessage, type EventStreamMessage } from './event-stream.js';
