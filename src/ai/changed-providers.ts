import type { AiRuntime } from './ai-handler.js';
import type { AiSnapshot } from './ai-snapshot.js';

/**
 * What a process learnt of providers under one config that another config makes stale, forgotten when the new
 * snapshot is served: the circuits of a provider whose config changed or that is gone, and its keys set aside (a
 * wrong base URL refuses every key, and fixing it would otherwise leave them aside for ten minutes); every circuit
 * when the circuit breaker's settings changed (`failures: 0` turns it off at once); and the response cache when any
 * provider changed (its names may be answered by another host now). As a service whose spec changed starts afresh.
 */
export function forgetChangedProviders(before: AiSnapshot, after: AiSnapshot, runtime: Pick<AiRuntime, 'circuits' | 'setAside' | 'cache'>): void {
  if (before === after) return;
  if (before.circuitFailures !== after.circuitFailures || before.circuitCooldownMs !== after.circuitCooldownMs) runtime.circuits.forget();
  let changed = false;
  for (const [name, provider] of before.providers) {
    const now = after.providers.get(name);
    if (now !== undefined && JSON.stringify(now.config) === JSON.stringify(provider.config)) continue;
    changed = true;
    runtime.circuits.forget(name);
    for (const key of provider.keys) runtime.setAside.delete(key.id);
  }
  if (changed) runtime.cache.clear();
}
