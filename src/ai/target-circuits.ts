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
  /** The circuit is open until then (0: never opened). Once it has passed, it is half-open: one call tries the target. */
  openUntil: number;
  /** Half-open: the call trying the target has until then to tell how it went, before another may try (0: none trying). */
  probeUntil: number;
  /** When it last failed: a target that has not failed for a while is forgotten when the map is full. */
  lastFailure: number;
}

/** A closed circuit whose last failure is older than this is forgotten when room is needed. */
const FORGET_AFTER_MS = 600_000;

/** What openUntil answers a call that is to make the half-open try: go, and settle the circuit (or release the try). */
export const HALF_OPEN_TRY = -1;

/** How long calls that skip a target while its try is under way are told to wait before they try again. */
const TRY_UNDER_WAY_RETRY_MS = 1_000;

/** At most this many targets are watched at once: a model name is the caller's choice, and so would be the map's size. */
const MAX_WATCHED = 10_000;

/**
 * The AI gateway's circuit breaker, one circuit per provider and model: `threshold` failures of a target in a row
 * (a 5xx, a timeout, a connection that failed, an answer that cannot be read) open its circuit for `cooldownMs`,
 * during which calls skip it for the next target of their chain. Once it has passed, the circuit is half-open: one
 * call tries the target while the others go on skipping it, so that a provider that hangs costs one call its
 * timeout, not every call made meanwhile; its failure opens the circuit again, any answer closes it (a 400 is the
 * caller's and a 429 a rate limit, both answers from a provider that is up). A call that never tells (its client
 * left, its keys were refused) frees the try after `probeMs`. Kept by each process, in memory.
 */
export class TargetCircuits {
  readonly #circuits = new Map<string, Circuit>();
  /** When the full map was last swept for quiet targets: at most once a minute, so that a flood of failures does not sweep on each. */
  #sweptAt = -Infinity;

  constructor(private readonly opened: CircuitOpened = () => undefined) {}

  /**
   * Until when calls are to skip the target, or 0 if this call may go to it now. Half-open, the first call to ask
   * is the one that tries it (HALF_OPEN_TRY, for at most `probeMs`: it settles the circuit, or releases the try if it
   * never reaches the provider), and the others skip it meanwhile, told to ask again a second later.
   */
  openUntil(target: CircuitTarget, now: number, probeMs: number): number {
    // Nothing has failed lately (the usual case): no key is built.
    if (this.#circuits.size === 0) return 0;
    const circuit = this.#circuits.get(keyOf(target));
    if (circuit === undefined || circuit.openUntil === 0) return 0;
    if (circuit.openUntil > now) return circuit.openUntil;
    if (circuit.probeUntil > now) return Math.min(circuit.probeUntil, now + TRY_UNDER_WAY_RETRY_MS);
    circuit.probeUntil = now + probeMs;
    return HALF_OPEN_TRY;
  }

  /** The call that held the target's half-open try leaves it without a word from the provider: another may try. */
  release(target: CircuitTarget): void {
    if (this.#circuits.size === 0) return;
    const circuit = this.#circuits.get(keyOf(target));
    if (circuit !== undefined) circuit.probeUntil = 0;
  }

  /** Forgets the circuits of one provider's models (its config changed: what failed may be fixed), or of all. */
  forget(provider?: string): void {
    if (provider === undefined) return this.#circuits.clear();
    const prefix = `${provider}\n`;
    for (const key of this.#circuits.keys()) if (key.startsWith(prefix)) this.#circuits.delete(key);
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
      if (this.#circuits.size >= MAX_WATCHED) this.#forgetQuiet(now);
      if (this.#circuits.size >= MAX_WATCHED) return;
      circuit = { failures: 0, openUntil: 0, probeUntil: 0, lastFailure: now };
      this.#circuits.set(key, circuit);
    }
    circuit.lastFailure = now;
    circuit.failures += 1;
    if (circuit.failures < threshold) return;
    // Open; once the cooldown has passed, the next failure (the half-open try's) opens it again at once.
    circuit.openUntil = now + cooldownMs;
    circuit.probeUntil = 0;
    circuit.failures = threshold - 1;
    this.opened(target, threshold, cooldownMs);
  }

  /** Forgets the targets that have not failed for FORGET_AFTER_MS and whose circuit is not open. */
  #forgetQuiet(now: number): void {
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [key, circuit] of this.#circuits) if (now - circuit.lastFailure > FORGET_AFTER_MS && circuit.openUntil <= now) this.#circuits.delete(key);
  }
}

const keyOf = (target: CircuitTarget): string => `${target.provider}\n${target.model}`;
