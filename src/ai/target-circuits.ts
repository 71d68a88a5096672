/** A target as the circuits know it: a provider's model, whatever alias or name it was reached by. */
export interface CircuitTarget {
  readonly provider: string;
  readonly model: string;
}

/** When a circuit opens, for whoever reports it (the node's log). */
export type CircuitOpened = (target: CircuitTarget, failures: number, cooldownMs: number) => void;

interface Circuit {
  /** Failures in a row. */
  failures: number;
  /** The circuit is open until then (0: closed, or half-open once it has passed). */
  openUntil: number;
}

/** At most this many targets are watched at once: a model name is the caller's choice, and so would be the map's size. */
const MAX_WATCHED = 10_000;

/**
 * The AI gateway's circuit breaker, one circuit per provider and model: `threshold` failures of a target in a row
 * (a 5xx, a timeout, a connection that failed, an answer that cannot be read) open its circuit for `cooldownMs`,
 * during which calls skip it for the next target of their chain; once it has passed, calls try it again, and one
 * more failure opens it again at once (half-open), as the proxy's passive checks do. Any answer that is not such a
 * failure (a 400 is the caller's, and proves the provider answers) closes it; a 429 leaves it as it is (the key
 * pool and Retry-After deal with rate limits). Kept by each process, in memory.
 */
export class TargetCircuits {
  readonly #circuits = new Map<string, Circuit>();

  constructor(private readonly opened: CircuitOpened = () => undefined) {}

  /** Until when the target's circuit is open, or 0 if calls may go to it now. */
  openUntil(target: CircuitTarget, now: number): number {
    // Nothing has failed lately (the usual case): no key is built.
    if (this.#circuits.size === 0) return 0;
    const circuit = this.#circuits.get(keyOf(target));
    return circuit !== undefined && circuit.openUntil > now ? circuit.openUntil : 0;
  }

  /** The target answered (or refused the request as the caller's fault): its failures are forgotten. */
  succeeded(target: CircuitTarget): void {
    if (this.#circuits.size === 0) return;
    this.#circuits.delete(keyOf(target));
  }

  /** The target failed: its circuit opens at the `threshold`th failure in a row (`threshold` 0: never). */
  failed(target: CircuitTarget, now: number, threshold: number, cooldownMs: number): void {
    if (threshold <= 0 || cooldownMs <= 0) return;
    const key = keyOf(target);
    let circuit = this.#circuits.get(key);
    if (circuit === undefined) {
      if (this.#circuits.size >= MAX_WATCHED) return;
      circuit = { failures: 0, openUntil: 0 };
      this.#circuits.set(key, circuit);
    }
    circuit.failures += 1;
    if (circuit.failures < threshold) return;
    // Open; once the cooldown has passed, the next failure opens it again at once.
    circuit.openUntil = now + cooldownMs;
    circuit.failures = threshold - 1;
    this.opened(target, threshold, cooldownMs);
  }
}

const keyOf = (target: CircuitTarget): string => `${target.provider}\n${target.model}`;
