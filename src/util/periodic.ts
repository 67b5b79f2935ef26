// A loop on the injected clock: runs `run` at once, then `periodMs` after each run ends, one run at a
// time, until stopped. Used by the node agent's lease renewal and its runtime relist (PLEG).
// start() and stop() are idempotent; stop() waits for a run in progress.

import type { Clock, Timer } from './clock.ts';

export interface PeriodicOptions {
  clock: Clock;
  /** Read before each wait, so a caller may change the period. */
  periodMs: () => number;
  run: () => Promise<void>;
  /** A run that throws is reported here and the loop goes on. */
  onError?: (err: unknown) => void;
}

export class Periodic {
  readonly #o: PeriodicOptions;
  #timer: Timer | undefined;
  #stopped = true;
  #running: Promise<void> | undefined;

  constructor(o: PeriodicOptions) {
    this.#o = o;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#running;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#running = this.#o
        .run()
        .catch((err: unknown) => this.#o.onError?.(err))
        .finally(() => this.#schedule(this.#o.periodMs()));
    }, ms);
  }
}
