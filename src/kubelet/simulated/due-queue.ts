// Shared timers for thousands of simulated nodes and their pods: one min-heap of due times and one
// clock timer armed for the earliest, instead of a Timer per lease and per pod. Entries are cancelled
// lazily (a flag; the heap drops them when they surface), so cancel is O(1).
//
// Single-threaded use from the simulator's event handlers; callbacks run synchronously in due-time
// order and must not throw (a throw is reported to onError and the queue goes on).
import type { Clock, Timer } from '../../util/clock.ts';

export interface DueHandle {
  cancel(): void;
}

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class DueQueue {
  readonly #clock: Clock;
  readonly #onError: (err: unknown) => void;
  readonly #heap: Entry[] = [];
  #seq = 0;
  #timer: Timer | undefined;
  #armedAt = Infinity;
  #stopped = false;
  #live = 0;

  constructor(clock: Clock, onError: (err: unknown) => void = () => {}) {
    this.#clock = clock;
    this.#onError = onError;
  }

  /** Entries not yet run nor cancelled. */
  get size(): number {
    return this.#live;
  }

  /** Runs `fn` `ms` from now (0 or less: on the next turn of the clock). */
  after(ms: number, fn: () => void): DueHandle {
    return this.at(this.#clock.now() + Math.max(0, ms), fn);
  }

  at(when: number, fn: () => void): DueHandle {
    const e: Entry = { at: when, seq: ++this.#seq, fn, cancelled: false };
    if (this.#stopped) return { cancel() {} };
    this.#push(e);
    this.#live++;
    if (when < this.#armedAt) this.#arm();
    return {
      cancel: () => {
        if (e.cancelled) return;
        e.cancelled = true;
        this.#live--;
      },
    };
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#heap.length = 0;
    this.#live = 0;
  }

  #arm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#armedAt = Infinity;
    while (this.#heap.length > 0 && this.#heap[0].cancelled) this.#pop();
    if (this.#stopped || this.#heap.length === 0) return;
    const at = this.#heap[0].at;
    this.#armedAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, at - this.#clock.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = this.#clock.now();
    while (!this.#stopped && this.#heap.length > 0 && this.#heap[0].at <= now) {
      const e = this.#pop();
      if (e.cancelled) continue;
      e.cancelled = true;
      this.#live--;
      try {
        e.fn();
      } catch (err) {
        this.#onError(err);
      }
    }
    this.#arm();
  }

  #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l], h[m])) m = l;
        if (r < h.length && this.#less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
