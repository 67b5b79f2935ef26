// Low-priority API writes of the scheduler (Events): at most `concurrency` in flight, the rest wait
// in FIFO order. Why: one Event per scheduled pod doubles the requests of a burst, and the API server's
// CPU is what bounds the binding rate; unbounded, Events took half the sockets and half the server's
// time while bindings waited behind them. With a few in flight, bindings go first and Events catch up
// once the burst is bound (client-go's event broadcaster is asynchronous and lossy for the same reason).
//
// Called from the scheduler's loop and binding continuations (one thread, never concurrently);
// writes are not retried here: a failed write is reported to onError and forgotten.

import { Fifo } from '../util/fifo.ts';

export interface WriteQueueOptions {
  /** Writes in flight at once. */
  concurrency: number;
  /** Writes waiting beyond this are dropped (and reported), as a full event broadcaster drops. */
  maxQueued: number;
  onError: (err: unknown) => void;
}

export class WriteQueueFullError extends Error {
  readonly code = 'ERR_SCHEDULER_WRITE_QUEUE_FULL';
}

export class WriteQueue {
  readonly #o: WriteQueueOptions;
  readonly #waiting = new Fifo<{ run: () => Promise<unknown>; done: () => void }>();
  #inFlight = 0;
  #idle: Array<() => void> = [];
  #dropped = 0;
  #droppedInBurst = 0;

  constructor(o: WriteQueueOptions) {
    this.#o = o;
  }

  /** Writes waiting (not yet started) plus in flight. */
  get length(): number {
    return this.#waiting.length + this.#inFlight;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Queues `run`; the promise resolves once it ran (successfully or not) or was dropped, never rejects. */
  push(run: () => Promise<unknown>): Promise<void> {
    if (this.#waiting.length >= this.#o.maxQueued) {
      // Reported once when the queue fills and once, with the count, when it has drained: a burst
      // drops thousands of writes, which are one problem, not thousands of log lines.
      if (this.#droppedInBurst++ === 0) this.#o.onError(new WriteQueueFullError(`scheduler write queue full (${this.#o.maxQueued} waiting): dropping writes until it drains`));
      this.#dropped++;
      return Promise.resolve();
    }
    return new Promise<void>((done) => {
      this.#waiting.push({ run, done });
      this.#pump();
    });
  }

  /** Resolves once nothing waits and nothing is in flight. */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  #pump(): void {
    while (this.#inFlight < this.#o.concurrency && this.#waiting.length > 0) {
      const w = this.#waiting.shift()!;
      this.#inFlight++;
      let p: Promise<unknown>;
      try {
        p = w.run();
      } catch (err) {
        p = Promise.reject(err);
      }
      void p.catch((err) => this.#o.onError(err)).finally(() => {
        this.#inFlight--;
        w.done();
        this.#pump();
        if (this.#droppedInBurst > 0 && this.#waiting.length <= this.#o.maxQueued / 2) {
          this.#o.onError(new WriteQueueFullError(`scheduler write queue: ${this.#droppedInBurst} writes were dropped while it was full`));
          this.#droppedInBurst = 0;
        }
        if (this.length === 0) for (const r of this.#idle.splice(0)) r();
      });
    }
  }
}
