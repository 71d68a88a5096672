import { Type, type Static } from 'typebox';
import { CATALOG_KEY_PATTERN, CatalogModelSchema } from './catalog/index.js';
import { PROVIDER_ADAPTERS } from './providers/index.js';
import { HEADER_NAME_PATTERN } from './provider-header-names.js';

/** The provider types, as the adapters' registry lists them: adding a provider's folder and its line there is all. */
export const PROVIDER_TYPES: readonly string[] = [...PROVIDER_ADAPTERS.keys()];
/** What a provider may be named: the config's providers, and the admin API's key pools (a pool under another name would never be used). */
export const PROVIDER_NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$';
export const ProviderNameSchema = Type.String({ pattern: PROVIDER_NAME_PATTERN });
const Duration = Type.String({ pattern: '^\\d+(ms|s|m|h|d)$' });

export const AiProviderSchema = Type.Object(
  {
    name: ProviderNameSchema,
    type: Type.Enum(PROVIDER_TYPES),
    baseUrl: Type.Optional(Type.String({ pattern: '^https?://', description: "the provider's API origin; each type has a default" })),
    apiVersion: Type.Optional(Type.String({ maxLength: 40 })),
    region: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$', description: 'AWS region (bedrock)' })),
    pathPrefix: Type.Optional(
      Type.String({ pattern: '^(/(?!\\.{1,2}(/|$))[A-Za-z0-9._~-]+)*$', maxLength: 200, description: 'OpenAI-format hosts (openai, openai-compatible, mistral): the path before /chat/completions and /embeddings; /v1 by default, "" for a host without one (Perplexity)' }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: HEADER_NAME_PATTERN }), Type.String(), {
        additionalProperties: false,
        description: 'headers sent on every call; names in any case, compared and sent in lower case: two that differ only in case are refused, and the credential headers win over them',
      }),
    ),
    catalog: Type.Optional(Type.String({ pattern: CATALOG_KEY_PATTERN, description: 'whose catalog entries describe and price its models (groq, together, deepseek…); its type by default' })),
    reasoningBack: Type.Optional(
      Type.Boolean({ description: "openai, openai-compatible and azure-openai only: send the history's reasoning_content on (DeepSeek wants it back in a tool loop); by default yes for openai-compatible hosts but Groq and Cerebras, which refuse it, and no for openai and azure-openai" }),
    ),
  },
  { additionalProperties: false },
);

const TargetSchema = Type.Object(
  {
    provider: ProviderNameSchema,
    // Some adapters put the model id in the URL path: a `.` or `..` segment there would change the path.
    model: Type.String({ minLength: 1, maxLength: 200, pattern: '^(?!(?:.*/)?\\.{1,2}(?:/|$))', description: "the provider's model id; no `.` or `..` segment" }),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  },
  { additionalProperties: false },
);

export const AiAliasSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$' }),
    targets: Type.Array(TargetSchema, { minItems: 1, description: 'shared by weight' }),
    fallbacks: Type.Optional(Type.Array(TargetSchema, { description: 'tried in order when every target failed (errors, timeouts, 429s)' })),
  },
  { additionalProperties: false },
);

export const AiSectionSchema = Type.Object(
  {
    providers: Type.Array(AiProviderSchema),
    aliases: Type.Optional(Type.Array(AiAliasSchema)),
    models: Type.Optional(Type.Array(CatalogModelSchema, { description: 'catalog entries to add, or to replace shipped ones (same provider and id)' })),
    cache: Type.Optional(Type.Object({ ttl: Duration, maxEntries: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })) }, { additionalProperties: false, description: 'exact-match response cache for non-streamed calls' })),
    timeout: Type.Optional(Duration),
    sendTimeout: Type.Optional(Duration),
    circuitBreaker: Type.Optional(
      Type.Object(
        {
          failures: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: "a target's failures in a row (5xx, timeouts, connection failures) that open its circuit; 5 by default, 0: never" })),
          cooldown: Type.Optional(Duration),
        },
        { additionalProperties: false, description: "skips a provider's model that keeps failing for its chain's next target, for cooldown (10s by default)" },
      ),
    ),
    responses: Type.Optional(
      Type.Object(
        {
          retention: Type.Optional(Type.String({ pattern: '^\\d+(ms|s|m|h|d)$', description: 'how long a stored Response is kept, from its answer; 30d (as OpenAI) by default; a change applies to those already stored within a minute' })),
          store: Type.Optional(Type.Boolean({ description: 'false: no Response is stored, whatever a request asks (each is answered with store: false, and previous_response_id is refused); true by default' })),
        },
        { additionalProperties: false, description: "responses stored for OpenAI's Responses API (previous_response_id, GET and DELETE /v1/responses/{id})" },
      ),
    ),
  },
  { additionalProperties: false },
);

/** A route served by the AI gateway: `/v1/chat/completions`, `/v1/responses`, `/v1/embeddings`, `/v1/models`, `/v1/messages` under its paths. */
export const RouteAiSchema = Type.Object(
  { models: Type.Optional(Type.Array(Type.String(), { description: 'models and aliases this route serves; all when absent' })) },
  { additionalProperties: false },
);

export type AiSection = Static<typeof AiSectionSchema>;
export type AiProviderSpec = Static<typeof AiProviderSchema>;
export type AiAliasSpec = Static<typeof AiAliasSchema>;
