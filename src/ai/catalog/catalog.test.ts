import { describe, expect, it } from 'vitest';
import { KeygateError } from '../../errors.js';
import { ModelCatalog, type CatalogModel } from './index.js';

const catalog = ModelCatalog.shipped();

const custom: CatalogModel = {
  id: 'acme-chat-1',
  provider: 'together',
  kind: 'chat',
  contextWindow: 32_000,
  maxOutputTokens: 4_000,
  inputPerMillion: 0.2,
  outputPerMillion: 0.4,
  cachedInputPerMillion: null,
  capabilities: ['chat', 'streaming'],
};

function refusal(work: () => unknown): KeygateError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(KeygateError);
    return error as KeygateError;
  }
  throw new Error('expected a KeygateError');
}

describe('ModelCatalog lookups', () => {
  it('finds a model by provider and the id the provider uses', () => {
    expect(catalog.lookup('openai', 'gpt-4o-mini')).toMatchObject({ inputPerMillion: 0.15, outputPerMillion: 0.6, cachedInputPerMillion: 0.075, kind: 'chat' });
  });

  it('finds Bedrock models by their Bedrock model id', () => {
    expect(catalog.lookup('bedrock', 'anthropic.claude-3-5-sonnet-20241022-v2:0')).toMatchObject({ inputPerMillion: 3, outputPerMillion: 15 });
  });

  it('answers undefined for a model it does not know', () => {
    expect(catalog.lookup('openai', 'no-such-model')).toBeUndefined();
    expect(catalog.lookup('anthropic', 'gpt-4o-mini')).toBeUndefined();
  });

  it.each([
    ['openai', 'gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['anthropic', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'],
    ['anthropic', 'claude-3-7-sonnet-latest', 'claude-3-7-sonnet-20250219'],
    ['gemini', 'models/gemini-2.5-flash', 'gemini-2.5-flash'],
    ['bedrock', 'anthropic.claude-3-7-sonnet-20250219-v1:0', 'us.anthropic.claude-3-7-sonnet-20250219-v1:0'],
    ['bedrock', 'eu.anthropic.claude-sonnet-4-6', 'anthropic.claude-sonnet-4-6'],
  ])('prices %s’s %s, a name it lists under another form, as %s', (provider, id, listed) => {
    expect(catalog.lookup(provider, id)).toBeUndefined();
    expect(catalog.priced(provider, id)).toBe(catalog.lookup(provider, listed));
    expect(catalog.priced(provider, id)).toBeDefined();
  });

  it("prices the first GPT-4o snapshot, gpt-4o-2024-05-13, at its own published rates ($5 and $15), not at gpt-4o's", () => {
    expect(catalog.priced('openai', 'gpt-4o-2024-05-13')).toMatchObject({ inputPerMillion: 5, outputPerMillion: 15 });
    expect(catalog.priced('openai', 'gpt-4o-2024-08-06')).toBe(catalog.lookup('openai', 'gpt-4o'));
  });

  it.each([
    ['anthropic.claude-opus-4-7-v1:0', 'anthropic.claude-opus-4-7'],
    ['us.anthropic.claude-opus-4-7-v1:0', 'anthropic.claude-opus-4-7'],
    ['eu.anthropic.claude-sonnet-4-6-v2:0', 'anthropic.claude-sonnet-4-6'],
    ['global.anthropic.claude-opus-4-8-v1:0', 'global.anthropic.claude-opus-4-8'],
    ['anthropic.claude-opus-4-7-20260415-v1:0', 'anthropic.claude-opus-4-7'],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-7-v1:0', 'anthropic.claude-opus-4-7'],
    ['arn:aws:bedrock:eu-central-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
    ['arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:inference-profile/us-gov.anthropic.claude-sonnet-4-6', 'anthropic.claude-sonnet-4-6'],
  ])('prices Bedrock’s %s, its revision, region or ARN aside, as %s', (id, listed) => {
    expect(catalog.lookup('bedrock', id)).toBeUndefined();
    expect(catalog.priced('bedrock', id)).toBe(catalog.lookup('bedrock', listed));
    expect(catalog.priced('bedrock', id)).toBeDefined();
  });

  it('prices a Bedrock revision of a model listed only under another revision not at all', () => {
    expect(catalog.lookup('bedrock', 'anthropic.claude-haiku-4-5-20251001-v1:0')).toBeDefined();
    expect(catalog.priced('bedrock', 'anthropic.claude-haiku-4-5-20251001-v2:0')).toBeUndefined();
    expect(catalog.priced('bedrock', 'us.anthropic.claude-3-5-sonnet-20241022-v3:0')).toBeUndefined();
  });

  it('prices an unlisted Bedrock revision as the model listed without one, never as a listed revision beside it', () => {
    const model = catalog.lookup('bedrock', 'anthropic.claude-opus-4-7')!;
    const both = catalog.withOverrides([{ ...model, id: 'anthropic.claude-opus-4-7-v1:0', inputPerMillion: 6 }]);
    expect(both.priced('bedrock', 'anthropic.claude-opus-4-7-v1:0')?.inputPerMillion).toBe(6);
    expect(both.priced('bedrock', 'anthropic.claude-opus-4-7-v2:0')).toBe(both.lookup('bedrock', 'anthropic.claude-opus-4-7'));
    expect(both.priced('bedrock', 'anthropic.claude-opus-4-7-v2:0')?.inputPerMillion).toBe(5);
  });

  it('reads neither a date nor a model’s own version as a Bedrock revision', () => {
    const dated = catalog.withOverrides([{ ...custom, provider: 'bedrock', id: 'acme.chat' }, { ...custom, provider: 'bedrock', id: 'acme.embed' }]);
    expect(dated.priced('bedrock', 'acme.chat-2026-01-15')).toBe(dated.lookup('bedrock', 'acme.chat'));
    expect(dated.priced('bedrock', 'acme.chat-v2')).toBeUndefined();
    expect(dated.priced('bedrock', 'acme.embed-v3')).toBeUndefined();
    expect(dated.priced('bedrock', 'acme.chat-v1:0:0')).toBeUndefined();
    expect(catalog.priced('bedrock', 'amazon.titan-embed-text-v3:0')).toBeUndefined();
  });

  it('reads no model out of an ARN that names none', () => {
    expect(catalog.priced('bedrock', 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/anthropic.claude-opus-4-7')).toBeUndefined();
    expect(catalog.priced('bedrock', 'arn:aws:bedrock:us-east-1:123456789012:provisioned-model/anthropic.claude-opus-4-7')).toBeUndefined();
  });

  it('prices a listed name as itself, and a name with no listed form not at all', () => {
    expect(catalog.priced('openai', 'gpt-4o-mini')).toBe(catalog.lookup('openai', 'gpt-4o-mini'));
    expect(catalog.priced('openai', 'no-such-model')).toBeUndefined();
    expect(catalog.priced('anthropic', 'claude-unknown-9')).toBeUndefined();
  });

  it('finds every provider that serves a model id', () => {
    expect(catalog.find('gpt-4o-mini').map((model) => model.provider).sort()).toEqual(['azure-openai', 'openai']);
    expect(catalog.find('no-such-model')).toEqual([]);
  });

  it('lists one provider’s models', () => {
    const models = catalog.list({ provider: 'deepseek' });
    expect(models.length).toBeGreaterThan(0);
    expect(models.every((model) => model.provider === 'deepseek')).toBe(true);
  });

  it('lists models by kind and capability', () => {
    const embeddings = catalog.list({ provider: 'openai', kind: 'embedding' }).map((model) => model.id);
    expect(embeddings.sort()).toEqual(['text-embedding-3-large', 'text-embedding-3-small', 'text-embedding-ada-002']);
    const visionTools = catalog.list({ capabilities: ['vision', 'tools'] });
    expect(visionTools.length).toBeGreaterThan(0);
    expect(visionTools.every((model) => model.capabilities.includes('vision') && model.capabilities.includes('tools'))).toBe(true);
  });

  it('leaves deprecated models out only when asked to', () => {
    expect(catalog.list({ provider: 'openai' }).some((model) => model.deprecated)).toBe(true);
    expect(catalog.list({ provider: 'openai', includeDeprecated: false }).some((model) => model.deprecated)).toBe(false);
  });

  it('names its providers', () => {
    expect(catalog.providers()).toEqual(expect.arrayContaining(['openai', 'azure-openai', 'bedrock', 'ollama', 'groq', 'perplexity']));
  });

  it('hands out entries that cannot be changed', () => {
    const model = catalog.lookup('openai', 'gpt-4o')!;
    expect(() => {
      (model as { inputPerMillion: number }).inputPerMillion = 0;
    }).toThrow(TypeError);
    expect(catalog.lookup('openai', 'gpt-4o')?.inputPerMillion).toBe(2.5);
  });

  it('prices a call to one of its models', () => {
    expect(catalog.costUsd(catalog.lookup('openai', 'gpt-4o-mini')!, { inputTokens: 1_000, outputTokens: 500 })).toBe(0.00045);
  });

  it('refuses the same provider and id twice', () => {
    expect(refusal(() => new ModelCatalog([custom, custom])).code).toBe('invalid_config');
  });
});

describe('ModelCatalog.withOverrides', () => {
  it('replaces a shipped entry with the same provider and id', () => {
    const shipped = catalog.lookup('openai', 'gpt-4o-mini')!;
    const overridden = catalog.withOverrides([{ ...shipped, inputPerMillion: 0.1, outputPerMillion: 0.4 }]);
    expect(overridden.lookup('openai', 'gpt-4o-mini')).toMatchObject({ inputPerMillion: 0.1, outputPerMillion: 0.4 });
    expect(overridden.size).toBe(catalog.size);
  });

  it('adds an entry the catalog did not have', () => {
    const extended = catalog.withOverrides([custom]);
    expect(extended.lookup('together', 'acme-chat-1')).toEqual(custom);
    expect(extended.size).toBe(catalog.size + 1);
  });

  it('leaves the catalog it started from as it was', () => {
    catalog.withOverrides([custom, { ...catalog.lookup('openai', 'gpt-4o')!, inputPerMillion: 99 }]);
    expect(catalog.lookup('together', 'acme-chat-1')).toBeUndefined();
    expect(catalog.lookup('openai', 'gpt-4o')?.inputPerMillion).toBe(2.5);
  });

  it('refuses an entry that does not match the schema, naming the field', () => {
    const error = refusal(() => catalog.withOverrides([custom, { ...custom, id: 'acme-chat-2', inputPerMillion: -1 }]));
    expect(error.code).toBe('invalid_config');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^models\[1\]\.inputPerMillion: /);
  });

  it("takes an entry's cache-write prices, and refuses a negative one naming it", () => {
    const shipped = catalog.lookup('bedrock', 'amazon.nova-pro-v1:0')!;
    const priced = catalog.withOverrides([{ ...shipped, cacheWrite5mPerMillion: 1, cacheWrite1hPerMillion: 1.6 }]);
    expect(priced.lookup('bedrock', 'amazon.nova-pro-v1:0')).toMatchObject({ cacheWrite5mPerMillion: 1, cacheWrite1hPerMillion: 1.6 });
    expect(refusal(() => catalog.withOverrides([{ ...shipped, cacheWrite1hPerMillion: -1 }])).message).toMatch(/^models\[0\]\.cacheWrite1hPerMillion: /);
  });

  it('refuses an entry with a member the schema does not know', () => {
    expect(refusal(() => catalog.withOverrides([{ ...custom, price: 1 }])).message).toMatch(/^models\[0\]\.price: is not a known member/);
  });

  it('refuses a capability it does not know, listing the ones it does', () => {
    expect(refusal(() => catalog.withOverrides([{ ...custom, capabilities: ['chat', 'telepathy'] }])).message).toMatch(/^models\[0\]\.capabilities\[1\]: must be one of "chat", /);
  });

  it('refuses the same provider and id overridden twice', () => {
    expect(refusal(() => catalog.withOverrides([custom, custom])).message).toMatch(/overridden twice/);
  });
});
