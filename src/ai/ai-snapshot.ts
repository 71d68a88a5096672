import { parseDuration } from '../config/duration.js';
import type { AiSection } from './ai-schema.js';
import { ModelCatalog } from './catalog/index.js';
import { lowerCaseHeaderNames } from './provider-header-names.js';
import type { PooledKey } from './provider-keys.js';
import { PROVIDER_ADAPTERS, REASONING_BACK_TYPES, sendsReasoningBack, takesThinkingToggle, type ProviderAdapter, type ProviderConfig } from './providers/index.js';
import { SecretRedaction, headerSecrets } from './secret-redaction.js';

export interface AiTarget {
  provider: string;
  model: string;
  weight: number;
  /**
   * The alias it is a target or fallback of: the operator chose its model, not the caller, so a provider's word that
   * the model is not there is this target's failure, and the alias goes on to its next (saysModelIsGone).
   */
  alias?: string;
}

/** A target of an alias, shared with the alias's other targets by weight. */
export interface AliasTarget extends AiTarget {
  /**
   * Its place in the weighted rotation (AiRuntime.weights), its alias's own: two aliases over the same provider models
   * share them each by its own weights, rather than move one another's turns.
   */
  rotation: string;
}

/** A pooled key as the snapshot holds it: with what to cut out of anything a call made with it brings back. */
export interface SnapshotKey extends PooledKey {
  /** The key's parts and the provider's configured credential headers, in every form a provider may quote them. */
  redaction: SecretRedaction;
}

export interface AiProvider {
  config: ProviderConfig;
  /** The catalog provider key its models are described and priced under. */
  catalogKey: string;
  adapter: ProviderAdapter;
  /** The key pool, in priority order. */
  keys: readonly SnapshotKey[];
  /** What a call without a pooled key (an Ollama with an empty pool) cuts: the configured credential headers. */
  keyless: SecretRedaction;
  /**
   * Which of the provider's configs this is, kept across snapshots that do not change it (forgetChangedProviders):
   * what a call learns of the provider (a circuit, a key set aside, an answer cached) is kept only if its config is
   * still the current one when the call ends.
   */
  generation: number;
}

export interface AiAlias {
  targets: readonly AliasTarget[];
  fallbacks: readonly AiTarget[];
  /** What the alias stands for, as text: the response cache keys an alias's answers by it, so a changed alias misses. */
  signature: string;
}

/** The AI gateway's part of the snapshot: providers with their opened key pools, aliases, cache settings. */
export interface AiSnapshot {
  readonly providers: ReadonlyMap<string, AiProvider>;
  readonly aliases: ReadonlyMap<string, AiAlias>;
  readonly cacheTtlMs: number;
  readonly cacheMaxEntries: number;
  readonly timeoutMs: number;
  /** The longest a client may take nothing of a stream while the provider waits on it (resumeWhenDrained); 0: no limit. */
  readonly sendTimeoutMs: number;
  /** A target's failures in a row that open its circuit (TargetCircuits), and for how long; 0: no circuit breaker. */
  readonly circuitFailures: number;
  readonly circuitCooldownMs: number;
  /** How long a stored Response is kept (`ai.responses.retention`). */
  readonly responsesRetentionMs: number;
  /** Whether Responses are stored at all (`ai.responses.store`, true by default). */
  readonly responsesStore: boolean;
  readonly catalog: ModelCatalog;
}

/** The circuit breaker's defaults, the proxy's passive checks' own: 5 failures in a row open a target's circuit for 10 s. */
const CIRCUIT_FAILURES = 5;
const CIRCUIT_COOLDOWN_MS = 10_000;

/** OpenAI keeps stored responses 30 days (https://platform.openai.com/docs/guides/your-data): so does Keygate, by default. */
export const RESPONSES_RETENTION_MS = 30 * 86_400_000;

const SHIPPED = ModelCatalog.shipped();
export const EMPTY_AI: AiSnapshot = { providers: new Map(), aliases: new Map(), cacheTtlMs: 0, cacheMaxEntries: 0, timeoutMs: 60_000, sendTimeoutMs: 60_000, circuitFailures: CIRCUIT_FAILURES, circuitCooldownMs: CIRCUIT_COOLDOWN_MS, responsesRetentionMs: RESPONSES_RETENTION_MS, responsesStore: true, catalog: SHIPPED };

/** Provider types whose hosts serve models no catalog can list in advance (any local or OpenAI-compatible model). */
const OPEN_ENDED = new Set(['ollama', 'openai-compatible']);

/**
 * Compiles the stored `ai` section with the opened key pools. A setting that applying a config now refuses but an
 * earlier stored config may hold (`reasoningBack` on a type that never sends reasoning back) is ignored and told to
 * `onIgnored` with the provider's name, the setting's and its value, at every compile: a node must start from any
 * config it stored, and saying so once is the caller's to decide.
 */
export function compileAiSnapshot(section: AiSection | undefined, pools: ReadonlyMap<string, readonly PooledKey[]>, onIgnored: (provider: string, setting: string, value: unknown) => void = () => undefined): AiSnapshot {
  if (!section) return EMPTY_AI;
  const providers = new Map<string, AiProvider>();
  for (const spec of section.providers) {
    const adapter = PROVIDER_ADAPTERS.get(spec.type);
    if (!adapter) continue;
    const baseUrl = spec.baseUrl ?? adapter.defaultBaseUrl ?? '';
    // A config stored before names were lowered on validation may spell one `AUTHORIZATION`: sent as it is, it would
    // go out instead of (or joined with) the pooled key's lower-case header.
    const headers = spec.headers && lowerCaseHeaderNames(spec.headers);
    const configured = headerSecrets(headers);
    let reasoningBack = spec.reasoningBack;
    if (reasoningBack !== undefined && !REASONING_BACK_TYPES.has(spec.type)) {
      onIgnored(spec.name, 'reasoningBack', reasoningBack);
      reasoningBack = undefined;
    }
    providers.set(spec.name, {
      catalogKey: spec.catalog ?? spec.type,
      config: { name: spec.name, type: spec.type, baseUrl, apiVersion: spec.apiVersion, region: spec.region, pathPrefix: spec.pathPrefix, headers, reasoningBack: sendsReasoningBack(adapter, { ...spec, baseUrl, reasoningBack }), ...(takesThinkingToggle({ ...spec, baseUrl }) ? { thinkingToggle: true } : {}), ...(spec.catalog ? { catalog: spec.catalog } : {}) },
      adapter,
      keys: (pools.get(spec.name) ?? []).map((key) => ({ ...key, redaction: SecretRedaction.of([key.secret, ...configured]) })),
      keyless: SecretRedaction.of(configured),
      generation: 0,
    });
  }
  const aliases = new Map<string, AiAlias>();
  for (const alias of section.aliases ?? []) {
    const targets = alias.targets.map((t) => ({ provider: t.provider, model: t.model, weight: t.weight ?? 1, alias: alias.name, rotation: `${alias.name}\n${t.provider}/${t.model}` }));
    // A fallback of weight 0 is drained as a target of weight 0 is.
    const fallbacks = (alias.fallbacks ?? []).map((t) => ({ provider: t.provider, model: t.model, weight: t.weight ?? 1, alias: alias.name })).filter((t) => t.weight > 0);
    aliases.set(alias.name, { targets, fallbacks, signature: JSON.stringify([targets, fallbacks]) });
  }
  return {
    providers,
    aliases,
    cacheTtlMs: section.cache ? (parseDuration(section.cache.ttl) ?? 0) : 0,
    cacheMaxEntries: section.cache?.maxEntries ?? 10_000,
    timeoutMs: section.timeout ? (parseDuration(section.timeout) ?? 60_000) : 60_000,
    sendTimeoutMs: section.sendTimeout ? (parseDuration(section.sendTimeout) ?? 60_000) : 60_000,
    circuitFailures: section.circuitBreaker?.failures ?? CIRCUIT_FAILURES,
    circuitCooldownMs: section.circuitBreaker?.cooldown ? (parseDuration(section.circuitBreaker.cooldown) ?? CIRCUIT_COOLDOWN_MS) : CIRCUIT_COOLDOWN_MS,
    responsesRetentionMs: section.responses?.retention ? (parseDuration(section.responses.retention) ?? RESPONSES_RETENTION_MS) : RESPONSES_RETENTION_MS,
    responsesStore: section.responses?.store ?? true,
    catalog: section.models?.length ? SHIPPED.withOverrides(section.models) : SHIPPED,
  };
}

/**
 * What a requested model name means: an alias (its targets by weight, then its fallbacks), `provider/model`,
 * or a bare model id served by the one configured provider whose name or type fits. Undefined when unknown.
 */
export function resolveModel(ai: AiSnapshot, requested: string, pickWeighted: (targets: readonly AiTarget[]) => AiTarget[]): readonly AiTarget[] | undefined {
  const alias = ai.aliases.get(requested);
  if (alias) return [...pickWeighted(alias.targets.filter((t) => t.weight > 0)), ...alias.fallbacks];
  // Anything but an alias resolves the same way for the snapshot's whole life: once per name is enough.
  let known = resolvedNames.get(ai);
  if (!known) resolvedNames.set(ai, (known = new Map()));
  const cached = known.get(requested);
  if (cached !== undefined) return cached ?? undefined;
  const targets = resolveName(ai, requested);
  // Names come from callers: the bound keeps made-up ones from growing the map without end.
  if (known.size >= 10_000) known.clear();
  known.set(requested, targets ?? null);
  return targets;
}

/** Per snapshot: what each non-alias name resolved to (null: to nothing). */
const resolvedNames = new WeakMap<AiSnapshot, Map<string, readonly AiTarget[] | null>>();

function resolveName(ai: AiSnapshot, requested: string): readonly AiTarget[] | undefined {
  const slash = requested.indexOf('/');
  if (slash > 0) {
    const provider = requested.slice(0, slash);
    const model = requested.slice(slash + 1);
    // Gemini, Azure and Bedrock put the model id in the URL path, where a `.` or `..` segment (`gemini/../../x`)
    // would move the call, and the pooled key with it, to another path of the provider's host: no model is so named.
    if (ai.providers.has(provider)) return model.split('/').some((segment) => segment === '.' || segment === '..') ? undefined : [{ provider, model, weight: 1 }];
  }
  // A bare id: every configured provider whose catalog lists it (or, for open-ended hosts, the only provider).
  const serving = [...ai.providers.values()].filter((p) => ai.catalog.lookup(p.catalogKey, requested) !== undefined);
  if (serving.length > 0) return serving.map((p) => ({ provider: p.config.name, model: requested, weight: 1 }));
  if (ai.providers.size === 1) {
    const [only] = ai.providers.values();
    if (OPEN_ENDED.has(only!.config.type)) return [{ provider: only!.config.name, model: requested, weight: 1 }];
  }
  return undefined;
}
