import { Type, type Static } from 'typebox';

/**
 * What a model can do, in the unified API's terms (see ../chat-types.ts). `adaptive_thinking`: a Claude model that
 * thinks only adaptively (`thinking: {type: "adaptive"}` with `output_config.effort`), and refuses a thinking budget
 * or disabled thinking with a 400 (https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-adaptive-thinking.html).
 */
export const MODEL_CAPABILITIES = ['chat', 'tools', 'vision', 'json_schema', 'embeddings', 'streaming', 'reasoning', 'adaptive_thinking'] as const;
export type ModelCapability = (typeof MODEL_CAPABILITIES)[number];

export const MODEL_KINDS = ['chat', 'embedding'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

const PerMillion = (description: string) => Type.Number({ minimum: 0, maximum: 100_000, description });

/**
 * One catalog entry. The config file and the admin API validate overrides with this schema; an override with
 * the same `provider` and `id` as a shipped entry replaces it whole.
 */
/** A catalog key: a provider type, or the key a provider's `catalog` names (an OpenAI-compatible host's: groq, together…). */
export const CATALOG_KEY_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';

export const CatalogModelSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200, pattern: '^\\S+$', description: 'the model id as the provider names it' }),
    provider: Type.String({
      pattern: CATALOG_KEY_PATTERN,
      description: 'a provider type (openai, azure-openai, anthropic, gemini, mistral, cohere, bedrock, ollama) or an OpenAI-compatible host key (groq, together, deepseek, …)',
    }),
    kind: Type.Enum(MODEL_KINDS),
    contextWindow: Type.Integer({ minimum: 1, description: 'tokens the model reads, input and output together' }),
    maxOutputTokens: Type.Integer({ minimum: 0, description: 'tokens one response may hold; 0 for embedding models' }),
    inputPerMillion: PerMillion('USD per million input tokens'),
    outputPerMillion: PerMillion('USD per million output tokens'),
    cachedInputPerMillion: Type.Union([PerMillion('USD per million cached input tokens'), Type.Null()], {
      description: 'null when the provider has no cached-input rate: cached tokens are then billed as input',
    }),
    cacheWrite5mPerMillion: Type.Optional(PerMillion("USD per million input tokens written to the prompt cache for 5 minutes; absent: 1.25× the input price on Anthropic's API, the input price elsewhere")),
    cacheWrite1hPerMillion: Type.Optional(PerMillion("USD per million input tokens written to the prompt cache for 1 hour; absent: 2× the input price on Anthropic's API, the input price elsewhere")),
    capabilities: Type.Array(Type.Enum(MODEL_CAPABILITIES), { uniqueItems: true, maxItems: MODEL_CAPABILITIES.length }),
    dimensions: Type.Optional(Type.Integer({ minimum: 1, description: 'embedding models: the default vector length' })),
    deployable: Type.Optional(Type.Boolean({ description: 'reached through a deployment the operator names (Azure OpenAI); `id` is the base model it runs' })),
    deprecated: Type.Optional(Type.Boolean({ description: 'the provider has announced its retirement' })),
    priceSource: Type.Optional(Type.Enum(['published', 'estimate'], { description: 'absent means published' })),
  },
  { additionalProperties: false, $id: 'CatalogModel' },
);

export type CatalogModel = Static<typeof CatalogModelSchema>;
