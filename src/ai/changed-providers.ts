import type { AiRuntime } from './ai-handler.js';
import type { AiProvider, AiSnapshot } from './ai-snapshot.js';
import { AiError } from './openai-error.js';

/** Generations given to changed providers: one count for the process, so that no two configs share one. */
let generations = 0;

const configOf = (provider: AiProvider): string => JSON.stringify([provider.config, provider.catalogKey]);

/**
 * What a process learnt of providers under one config that another config makes stale, forgotten when the new
 * snapshot is served: the circuits of a provider whose config changed or that is gone, and its keys set aside (a
 * wrong base URL refuses every key, and fixing it would otherwise leave them aside for ten minutes); every circuit
 * when the circuit breaker's settings changed (`failures: 0` turns it off at once); and the response cache when any
 * provider changed (its names may be answered by another host now) or the cache is off (turned on again, it starts
 * empty, not with answers older than anyone meant to reuse). As a service whose spec changed starts afresh.
 *
 * A provider that changed gets a new generation, one that did not keeps its own, and the runtime learns which are
 * current: a call still under way on the old config cannot put back what was forgotten (see isCurrent). It learns
 * which keys are pooled too: a call under way sends no key deleted since (see isPooled).
 */
export function forgetChangedProviders(before: AiSnapshot, after: AiSnapshot, runtime: Pick<AiRuntime, 'circuits' | 'setAside' | 'cache' | 'generations' | 'pooledKeys'>): void {
  if (before === after) return;
  if (before.circuitFailures !== after.circuitFailures || before.circuitCooldownMs !== after.circuitCooldownMs) runtime.circuits.forget();
  let changed = false;
  for (const [name, provider] of after.providers) {
    const earlier = before.providers.get(name);
    if (earlier !== undefined && configOf(earlier) === configOf(provider)) provider.generation = earlier.generation;
    else provider.generation = generations += 1;
  }
  for (const [name, provider] of before.providers) {
    const now = after.providers.get(name);
    if (now !== undefined && now.generation === provider.generation) continue;
    changed = true;
    runtime.circuits.forget(name);
    for (const key of provider.keys) runtime.setAside.delete(key.id);
  }
  runtime.generations.clear();
  runtime.pooledKeys.clear();
  for (const [name, provider] of after.providers) {
    runtime.generations.set(name, provider.generation);
    for (const key of provider.keys) runtime.pooledKeys.add(key.id);
  }
  // A deleted key comes back, if ever, under a new id: what was kept of it is of no more use.
  for (const provider of before.providers.values()) for (const key of provider.keys) if (!runtime.pooledKeys.has(key.id)) runtime.setAside.delete(key.id);
  if (changed || after.cacheTtlMs === 0) runtime.cache.clear();
}

/** Whether what a call learnt of its target's provider may be kept: the provider's config it ran on is still the current one. */
export function isCurrent(runtime: Pick<AiRuntime, 'generations'>, provider: AiProvider | undefined): boolean {
  // Every provider served has its generation in the map (the first snapshot's too): one removed since has none.
  return provider !== undefined && runtime.generations.get(provider.config.name) === provider.generation;
}

/**
 * Whether a key a call took from its snapshot's pool is still pooled. A call holds the snapshot it began on, so that
 * a change does not move it; but a key deleted through the admin API (leaked, say) must not be sent once the
 * DELETE has answered, not even by a fallback or a retry of a call begun before: each try asks.
 */
export function isPooled(runtime: Pick<AiRuntime, 'pooledKeys'>, keyId: string): boolean {
  return runtime.pooledKeys.has(keyId);
}

/**
 * A try's key found deleted before the try's next provider call (an embeddings request's next part): the try stops
 * there, and the call goes on as it does past a key deleted before a try, with the pool's next key (isPooled). A 503,
 * what the record of the parts the try had answered shows, should no key of the target be left to finish them.
 */
export class KeyLeftPool extends AiError {
  override name = 'KeyLeftPool';
  constructor(keyId: string) {
    super(503, 'api_error', 'no_provider_available', `the API key ${keyId} was deleted from its pool while the call was under way`);
  }
}
