/**
 * The model catalog: what each provider's models can do, how much they read and write, and what they cost.
 *
 * Prices as published at the time of writing (2026-11-29); edit through the admin API or config. Entries the
 * providers' own pages could not confirm are marked `priceSource: 'estimate'`. The shipped data is
 * ./models-data.ts; a provider is either a provider type (openai, azure-openai, anthropic, gemini, mistral,
 * cohere, bedrock, ollama) or the key of an OpenAI-compatible host (groq, together, deepseek, fireworks,
 * openrouter, xai, perplexity), and `id` is the model id exactly as that provider names it.
 *
 * @example
 * const catalog = ModelCatalog.shipped().withOverrides(config.models ?? []);
 * const model = catalog.lookup('openai', 'gpt-4o-mini');
 * if (model) costUsd(model, { inputTokens: 1_000, outputTokens: 500 }); // 0.00045
 */
import { Value } from 'typebox/value';
import { KeygateError } from '../../errors.js';
import { CatalogModelSchema, type CatalogModel, type ModelCapability, type ModelKind } from './catalog-model.js';
import { costUsd, type TokenUsage } from './cost.js';
import { MODELS } from './models-data.js';

export interface CatalogFilter {
  provider?: string;
  kind?: ModelKind;
  /** Only models that have every one of these. */
  capabilities?: readonly ModelCapability[];
  /** Deprecated models are listed unless this is false. */
  includeDeprecated?: boolean;
}

const keyOf = (provider: string, id: string): string => `${provider}\u0000${id}`;

/**
 * A Bedrock model id's revision, `-v1:0` (`anthropic.claude-haiku-4-5-20251001-v1:0`): the colon tells it from a
 * model's own version (`amazon.titan-embed-text-v2`, `claude-opus-4-7`) or a date.
 */
const REVISION = /-v\d+:\d+$/;

/**
 * A Bedrock foundation model's or inference profile's ARN, which Converse takes for its id
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html) and whose resource is that id;
 * an application inference profile's or a provisioned model's names no model.
 */
const BEDROCK_ARN = /^arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]*:\d*:(?:foundation-model|inference-profile)\/(.+)$/;

/** `/capabilities/1` → `.capabilities[1]`, as a reader of the config file would write it. */
function readablePath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('');
}

/** Checks override entries against the schema; the message names the first offending field. */
function assertValidEntries(entries: readonly unknown[]): asserts entries is readonly CatalogModel[] {
  entries.forEach((entry, i) => {
    if (Value.Check(CatalogModelSchema, entry)) return;
    const first = [...Value.Errors(CatalogModelSchema, entry)][0];
    const where = `models[${i}]${readablePath(first?.instancePath ?? '')}`;
    const allowed = (first?.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
    // An unknown member fails as "schema is false" (additionalProperties: false): say what that means.
    const what = first?.message === 'schema is false' ? 'is not a known member' : allowed ? `must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}` : (first?.message ?? 'is not a catalog model');
    throw new KeygateError('invalid_config', `${where}: ${what}; see the CatalogModel schema`);
  });
}

/** An immutable set of catalog entries, one per provider and model id. */
export class ModelCatalog {
  readonly #byKey: ReadonlyMap<string, CatalogModel>;
  /** The highest input price of any entry, per million tokens: the most a prompt can cost, before its model is priced. */
  readonly maxInputPerMillion: number;

  /** Entries must be unique by provider and id: a later duplicate is a mistake, not an override. */
  constructor(entries: readonly CatalogModel[]) {
    const byKey = new Map<string, CatalogModel>();
    for (const entry of entries) {
      const key = keyOf(entry.provider, entry.id);
      if (byKey.has(key)) throw new KeygateError('invalid_config', `models: "${entry.provider}" model "${entry.id}" is listed twice; keep one entry`);
      byKey.set(key, Object.freeze({ ...entry, capabilities: Object.freeze([...entry.capabilities]) as CatalogModel['capabilities'] }));
    }
    this.#byKey = byKey;
    this.maxInputPerMillion = Math.max(0, ...[...byKey.values()].map((entry) => entry.inputPerMillion));
  }

  /** The catalog Keygate ships with. */
  static shipped(): ModelCatalog {
    return new ModelCatalog(MODELS);
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** The entry for this provider's model, if the catalog has one. */
  lookup(provider: string, id: string): CatalogModel | undefined {
    return this.#byKey.get(keyOf(provider, id));
  }

  /** Names the catalog lists under another form, with the entry each stands for (null: none), found once each. */
  readonly #near = new Map<string, CatalogModel | null>();

  /**
   * The entry that prices a call to `id` (and tells its limits): `lookup`'s, or, for a name the catalog lists under
   * another form, that form's. A provider takes more names for a model than a catalog can list, and a call priced at
   * nothing passes every budget: Gemini's `models/` prefix; a Bedrock inference profile's region (`us.`, `eu.`,
   * `global.`…) or its absence; a Bedrock ARN as the model id it ends with; a Bedrock revision (`-v1:0`) as the
   * model listed without one, but never as another revision (`-v2:0` of a model listed only as `-v1:0` is not
   * priced, since a revision may be another model); a dated snapshot (`gpt-4o-mini-2024-07-18`) as its model; an
   * undated alias (`claude-sonnet-4-5`, `claude-3-7-sonnet-latest`) as its newest dated snapshot. At most 10,000
   * such names are remembered, since clients choose them.
   */
  priced(provider: string, id: string): CatalogModel | undefined {
    const key = keyOf(provider, id);
    const exact = this.#byKey.get(key);
    if (exact) return exact;
    let near = this.#near.get(key);
    if (near === undefined) {
      near = this.#nearest(provider, id) ?? null;
      if (this.#near.size < 10_000) this.#near.set(key, near);
    }
    return near ?? undefined;
  }

  #nearest(provider: string, id: string): CatalogModel | undefined {
    const name = id.replace(/^models\//, '').replace(BEDROCK_ARN, '$1');
    const region = /^(?:us|eu|apac|global|jp|au|ca|us-gov)\./;
    const names = region.test(name) ? [name, name.replace(region, '')] : [name, `us.${name}`, `global.${name}`];
    for (const candidate of names) {
      const forms = REVISION.test(candidate) ? [candidate, candidate.replace(REVISION, '')] : [candidate];
      for (const form of forms) {
        const found = this.#asModelOrSnapshot(provider, form);
        if (found) return found;
      }
    }
    return undefined;
  }

  /** `name` as listed, a dated snapshot as its model, or an undated alias as its newest dated snapshot. */
  #asModelOrSnapshot(provider: string, name: string): CatalogModel | undefined {
    const found = this.#byKey.get(keyOf(provider, name)) ?? this.#byKey.get(keyOf(provider, name.replace(/-\d{4}-\d{2}-\d{2}$|-\d{8}$/, '')));
    if (found) return found;
    const stem = `${name.replace(/-latest$/, '')}-`;
    const isSnapshot = (entry: CatalogModel) => entry.provider === provider && entry.id.startsWith(stem) && /^\d{8}$/.test(entry.id.slice(stem.length));
    return [...this.#byKey.values()].filter(isSnapshot).sort((a, b) => (a.id < b.id ? 1 : -1))[0];
  }

  /** Every provider's entry for this model id (the same model served by OpenAI, Azure and OpenRouter, say). */
  find(id: string): CatalogModel[] {
    return [...this.#byKey.values()].filter((model) => model.id === id);
  }

  /** Entries matching every given filter, in catalog order. */
  list(filter: CatalogFilter = {}): CatalogModel[] {
    return [...this.#byKey.values()].filter(
      (model) =>
        (filter.provider === undefined || model.provider === filter.provider) &&
        (filter.kind === undefined || model.kind === filter.kind) &&
        (filter.includeDeprecated !== false || model.deprecated !== true) &&
        (filter.capabilities ?? []).every((capability) => model.capabilities.includes(capability)),
    );
  }

  /** What one call to `model` cost in USD; see `costUsd` for how cached input is billed. */
  costUsd(model: CatalogModel, usage: TokenUsage): number {
    return costUsd(model, usage);
  }

  /** The providers with at least one entry, in catalog order. */
  providers(): string[] {
    return [...new Set([...this.#byKey.values()].map((model) => model.provider))];
  }

  /**
   * A new catalog with entries from the config file or the admin API: an entry with the same provider and id
   * replaces the existing one whole; any other is added. This catalog is left as it was. Throws `invalid_config`
   * naming the first entry that does not match `CatalogModelSchema`, or a provider and id given twice.
   */
  withOverrides(entries: readonly unknown[]): ModelCatalog {
    assertValidEntries(entries);
    const merged = new Map(this.#byKey);
    const seen = new Set<string>();
    for (const entry of entries) {
      const key = keyOf(entry.provider, entry.id);
      if (seen.has(key)) throw new KeygateError('invalid_config', `models: "${entry.provider}" model "${entry.id}" is overridden twice; keep one entry`);
      seen.add(key);
      merged.set(key, entry);
    }
    return new ModelCatalog([...merged.values()]);
  }
}
