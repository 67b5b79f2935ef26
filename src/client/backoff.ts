// Exponential backoff with jitter for reconnect loops (informers, watches). The randomness is injected
// so tests can make it deterministic. Not shared between loops: each loop owns one.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Fraction of the delay added at random (0 = none). */
  jitter?: number;
  random?: () => number;
}

// client-go's reflector defaults: 800 ms doubling to 30 s.
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #current = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initial = options.initialMs ?? 800;
    this.#max = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.5;
    this.#random = options.random ?? Math.random;
  }

  /** The next delay in ms; each call grows the base delay until the maximum. */
  next(): number {
    this.#current = this.#current === 0 ? this.#initial : Math.min(this.#max, this.#current * this.#factor);
    return Math.round(this.#current * (1 + this.#jitter * this.#random()));
  }

  reset(): void {
    this.#current = 0;
  }
}
