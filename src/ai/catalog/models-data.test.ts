import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { CatalogModelSchema } from './catalog-model.js';
import { MODELS } from './models-data.js';

const matchesSchema = (value: unknown): boolean => Value.Check(CatalogModelSchema, value);

const PROVIDERS = ['openai', 'azure-openai', 'anthropic', 'gemini', 'mistral', 'cohere', 'bedrock', 'ollama', 'groq', 'together', 'deepseek', 'fireworks', 'openrouter', 'xai', 'perplexity'];

describe('the shipped model data', () => {
  it('holds at least 100 models', () => {
    expect(MODELS.length).toBeGreaterThanOrEqual(100);
  });

  it('covers every provider type and OpenAI-compatible host Keygate supports', () => {
    const present = new Set(MODELS.map((model) => model.provider));
    expect(PROVIDERS.filter((provider) => !present.has(provider))).toEqual([]);
  });

  it('names only providers Keygate supports', () => {
    expect(MODELS.filter((model) => !PROVIDERS.includes(model.provider)).map((model) => model.provider)).toEqual([]);
  });

  it('validates every entry against CatalogModelSchema', () => {
    const invalid = MODELS.filter((model) => !matchesSchema(model)).map((model) => `${model.provider}/${model.id}`);
    expect(invalid).toEqual([]);
  });

  it('lists each provider and model id once', () => {
    const keys = MODELS.map((model) => `${model.provider}/${model.id}`);
    expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
  });

  it('carries the embedding models the gateway routes embeddings to', () => {
    const embeddings = MODELS.filter((model) => model.kind === 'embedding').map((model) => `${model.provider}/${model.id}`);
    expect(embeddings).toEqual(
      expect.arrayContaining([
        'openai/text-embedding-3-small',
        'openai/text-embedding-3-large',
        'openai/text-embedding-ada-002',
        'gemini/text-embedding-004',
        'mistral/mistral-embed',
        'cohere/embed-english-v3.0',
        'cohere/embed-v4.0',
        'ollama/nomic-embed-text',
        'bedrock/amazon.titan-embed-text-v2:0',
      ]),
    );
  });

  it('gives embedding models the embeddings capability, no output price and a vector length', () => {
    const wrong = MODELS.filter((model) => model.kind === 'embedding' && (!model.capabilities.includes('embeddings') || model.outputPerMillion !== 0 || model.dimensions === undefined));
    expect(wrong).toEqual([]);
  });

  it('gives chat models the chat capability and room for a response', () => {
    const wrong = MODELS.filter((model) => model.kind === 'chat' && (!model.capabilities.includes('chat') || model.maxOutputTokens < 1 || model.maxOutputTokens > model.contextWindow));
    expect(wrong).toEqual([]);
  });

  it('never prices cached input above fresh input', () => {
    const wrong = MODELS.filter((model) => model.cachedInputPerMillion !== null && model.cachedInputPerMillion > model.inputPerMillion);
    expect(wrong).toEqual([]);
  });

  it('never prices a cache write below fresh input', () => {
    const below = (price: number | undefined, model: (typeof MODELS)[number]) => price !== undefined && price < model.inputPerMillion;
    expect(MODELS.filter((model) => below(model.cacheWrite5mPerMillion, model) || below(model.cacheWrite1hPerMillion, model))).toEqual([]);
  });

  it("prices Claude's cache writes on Bedrock as Bedrock bills them: 1.25× the input price for 5 minutes, 2× for an hour", () => {
    const claude = MODELS.filter((model) => model.provider === 'bedrock' && model.cacheWrite5mPerMillion !== undefined);
    expect(claude.map((model) => model.id)).toEqual(expect.arrayContaining(['anthropic.claude-sonnet-4-6', 'us.anthropic.claude-haiku-4-5-20251001-v1:0', 'anthropic.claude-3-5-haiku-20241022-v1:0']));
    expect(claude.filter((model) => !model.id.includes('anthropic.claude-'))).toEqual([]);
    for (const model of claude) {
      expect(model.cacheWrite5mPerMillion).toBeCloseTo(1.25 * model.inputPerMillion, 9);
      expect(model.cacheWrite1hPerMillion).toBeCloseTo(2 * model.inputPerMillion, 9);
    }
  });

  it("prices Amazon Nova's cache reads on Bedrock at a quarter of input, since Keygate sends Nova cache points", () => {
    const nova = MODELS.filter((model) => model.provider === 'bedrock' && /(^|\.)amazon\.nova-/.test(model.id));
    expect(nova.map((model) => model.id)).toEqual(expect.arrayContaining(['amazon.nova-pro-v1:0', 'amazon.nova-lite-v1:0', 'amazon.nova-micro-v1:0']));
    for (const model of nova) expect(model.cachedInputPerMillion, model.id).toBeCloseTo(model.inputPerMillion / 4, 9);
  });

  it('prices local Ollama models at zero', () => {
    const priced = MODELS.filter((model) => model.provider === 'ollama' && (model.inputPerMillion !== 0 || model.outputPerMillion !== 0));
    expect(priced).toEqual([]);
  });

  it('marks every Azure OpenAI model as reached through a named deployment', () => {
    const azure = MODELS.filter((model) => model.provider === 'azure-openai');
    expect(azure.every((model) => model.deployable === true)).toBe(true);
  });

  it('offers every Azure OpenAI model under the same id on OpenAI', () => {
    const openai = new Set(MODELS.filter((model) => model.provider === 'openai').map((model) => model.id));
    expect(MODELS.filter((model) => model.provider === 'azure-openai' && !openai.has(model.id))).toEqual([]);
  });

  it('names Bedrock models by their Bedrock model id or inference profile', () => {
    const bedrock = MODELS.filter((model) => model.provider === 'bedrock');
    expect(bedrock.filter((model) => !/^((us|eu|apac|global)\.)?(anthropic|meta|mistral|amazon|cohere)\./.test(model.id))).toEqual([]);
    expect(bedrock.map((model) => model.id)).toContain('anthropic.claude-3-5-sonnet-20241022-v2:0');
  });
});
