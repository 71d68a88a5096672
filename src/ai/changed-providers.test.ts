import { describe, expect, it } from 'vitest';
import type { AiRuntime } from './ai-handler.js';
import { EMPTY_AI, type AiProvider, type AiSnapshot } from './ai-snapshot.js';
import { forgetChangedProviders, isCurrent, isPooled } from './changed-providers.js';
import { ResponseCache } from './response-cache.js';
import { TargetCircuits } from './target-circuits.js';

const provider = (name: string, baseUrl: string, keyIds: string[] = []): AiProvider =>
  ({ config: { name, type: 'openai', baseUrl }, catalogKey: 'openai', keys: keyIds.map((id) => ({ id })), generation: 0 }) as unknown as AiProvider;
const snapshot = (...providers: AiProvider[]): AiSnapshot => ({ ...EMPTY_AI, providers: new Map(providers.map((p) => [p.config.name, p])) });
const runtime = (): Pick<AiRuntime, 'circuits' | 'setAside' | 'cache' | 'generations' | 'pooledKeys'> => ({ circuits: new TargetCircuits(), setAside: new Map(), cache: new ResponseCache(10), generations: new Map(), pooledKeys: new Set() });

describe('the generations of providers across config changes', () => {
  it('takes a provider of the first snapshot as current, and one removed since as not, though it never changed', () => {
    const state = runtime();
    const first = snapshot(provider('p', 'http://a', ['k1']));
    forgetChangedProviders(EMPTY_AI, first, state);
    const old = first.providers.get('p');
    expect(isCurrent(state, old)).toBe(true);
    forgetChangedProviders(first, snapshot(), state);
    // A call still under way on it may not set its key aside, nor touch a circuit.
    expect(isCurrent(state, old)).toBe(false);
  });

  it('gives a provider added back under its old name a generation of its own, and none of what was kept of it before', () => {
    const state = runtime();
    const first = snapshot(provider('p', 'http://a', ['k1']));
    forgetChangedProviders(EMPTY_AI, first, state);
    state.setAside.set('k1', { until: Date.now() + 600_000, reason: 'invalid', told: false });
    const removed = snapshot();
    forgetChangedProviders(first, removed, state);
    expect(state.setAside.has('k1')).toBe(false);
    const back = snapshot(provider('p', 'http://a', ['k1']));
    forgetChangedProviders(removed, back, state);
    expect(isCurrent(state, back.providers.get('p'))).toBe(true);
    expect(isCurrent(state, first.providers.get('p'))).toBe(false);
  });

  it('keeps the generation of a provider whose config did not change', () => {
    const state = runtime();
    const first = snapshot(provider('p', 'http://a'), provider('q', 'http://b'));
    forgetChangedProviders(EMPTY_AI, first, state);
    const second = snapshot(provider('p', 'http://a'), provider('q', 'http://c'));
    forgetChangedProviders(first, second, state);
    expect(isCurrent(state, first.providers.get('p'))).toBe(true);
    expect(isCurrent(state, first.providers.get('q'))).toBe(false);
    expect(isCurrent(state, second.providers.get('q'))).toBe(true);
  });
});

describe('the keys of the pools across changes', () => {
  it('takes a key deleted from its pool as no longer pooled, and forgets it was set aside, while its provider stays current', () => {
    const state = runtime();
    const first = snapshot(provider('p', 'http://a', ['k1', 'k2']));
    forgetChangedProviders(EMPTY_AI, first, state);
    state.setAside.set('k1', { until: Date.now() + 600_000, reason: 'invalid', told: false });
    expect([isPooled(state, 'k1'), isPooled(state, 'k2')]).toEqual([true, true]);
    const second = snapshot(provider('p', 'http://a', ['k2']));
    forgetChangedProviders(first, second, state);
    // A call begun on the first snapshot still holds k1 in its pool: it asks before each try.
    expect([isPooled(state, 'k1'), isPooled(state, 'k2')]).toEqual([false, true]);
    expect(state.setAside.has('k1')).toBe(false);
    expect(isCurrent(state, first.providers.get('p'))).toBe(true);
  });
});

describe('the response cache across config changes', () => {
  const answer = { body: '{}', stopped: {} };

  it('starts empty when it is turned on again, with no answer kept from before it was turned off', () => {
    const state = runtime();
    const on = { ...snapshot(provider('p', 'http://a')), cacheTtlMs: 600_000 };
    forgetChangedProviders(EMPTY_AI, on, state);
    state.cache.set('k', answer, 0, 600_000);
    const off = { ...on, cacheTtlMs: 0 };
    forgetChangedProviders(on, off, state);
    forgetChangedProviders(off, { ...on }, state);
    expect(state.cache.get('k', 1, 600_000)).toBeUndefined();
  });

  it('keeps its answers through a change of another setting', () => {
    const state = runtime();
    const on = { ...snapshot(provider('p', 'http://a')), cacheTtlMs: 600_000 };
    forgetChangedProviders(EMPTY_AI, on, state);
    state.cache.set('k', answer, 0, 600_000);
    forgetChangedProviders(on, { ...on, timeoutMs: 30_000 }, state);
    expect(state.cache.get('k', 1, 600_000)).toBeDefined();
  });
});
