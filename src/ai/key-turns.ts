/** A pooled key as the order needs it. */
export interface TurnKey {
  readonly id: string;
  readonly priority: number;
}

/** Longest a rate-limited key goes to the back of its pool's order, whatever Retry-After the provider said. */
const MAX_BACK_MS = 60_000;
/** How long a key rate limited without a Retry-After goes to the back. */
const DEFAULT_BACK_MS = 5_000;
/** Key ids remembered as rate limited, and models' turns, at most: beyond, the oldest go first. */
const MAX_REMEMBERED = 10_000;

/**
 * The order a provider's keys are tried in for a model, call after call: by priority (lower first), the keys of one
 * priority in turn, each call starting at the next (several keys of one priority share the calls, and their rate
 * limits, which providers count per model); keys set aside are left out, so that the others share evenly; a key the
 * provider rate limited lately goes after the others until its Retry-After has passed (at most a minute), so that
 * calls start with a key that may pass. Kept by each process, in memory.
 */
export class KeyTurns {
  readonly #turns = new Map<string, number>();
  readonly #limitedUntil = new Map<string, number>();

  /**
   * `keys` (in priority order, as the pool holds them) in the order this call to `model` tries them, without those
   * `setAside` holds until after `now`.
   */
  order<K extends TurnKey>(provider: string, model: string, all: readonly K[], now: number, setAside: ReadonlyMap<string, { readonly until: number }>): readonly K[] {
    // One key (the usual pool), or none: nothing to share or reorder.
    if (all.length < 2) return all;
    const keys = setAside.size === 0 ? all : all.filter((key) => (setAside.get(key.id)?.until ?? 0) <= now);
    if (keys.length < 2) return keys;
    const turnOf = `${provider}\n${model}`;
    const turn = this.#turns.get(turnOf) ?? 0;
    if (this.#turns.size >= MAX_REMEMBERED && !this.#turns.has(turnOf)) this.#turns.delete(this.#turns.keys().next().value!);
    this.#turns.set(turnOf, turn + 1 >= Number.MAX_SAFE_INTEGER ? 0 : turn + 1);
    const ordered: K[] = [];
    for (let start = 0; start < keys.length; ) {
      let end = start + 1;
      while (end < keys.length && keys[end]!.priority === keys[start]!.priority) end += 1;
      const size = end - start;
      for (let i = 0; i < size; i++) ordered.push(keys[start + ((turn + i) % size)]!);
      start = end;
    }
    if (this.#limitedUntil.size === 0) return ordered;
    const fresh = ordered.filter((key) => !this.isLimited(key.id, now));
    return fresh.length === ordered.length ? ordered : [...fresh, ...ordered.filter((key) => this.isLimited(key.id, now))];
  }

  /** Whether the key was rate limited lately (its Retry-After, or a few seconds, not passed yet). */
  isLimited(id: string, now: number): boolean {
    return this.#limitedUntil.size > 0 && (this.#limitedUntil.get(id) ?? 0) > now;
  }

  /** The provider rate limited the key; `retryAfterMs`: its Retry-After, if it said. */
  limited(id: string, now: number, retryAfterMs: number | undefined): void {
    if (this.#limitedUntil.size >= MAX_REMEMBERED && !this.#limitedUntil.has(id)) this.#limitedUntil.delete(this.#limitedUntil.keys().next().value!);
    this.#limitedUntil.set(id, now + Math.min(retryAfterMs ?? DEFAULT_BACK_MS, MAX_BACK_MS));
  }
}
