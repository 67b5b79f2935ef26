// The work queue every controller loop runs on, with client-go's workqueue semantics:
//  - a key is queued at most once however often it is added (dedup);
//  - a key being processed is never handed to a second worker; adding it meanwhile marks it dirty and it
//    is queued again when the worker calls done();
//  - addAfter()/addAt() delay an add on the injected clock, by a duration or to an absolute time (only the
//    earliest pending time per key is kept);
//  - addRateLimited() requeues a failing key with per-key exponential backoff until forget().
//
// Called from informer handlers (synchronously, any time) and from the controller's workers; all on the
// one JS thread, so no locking. get() waits for work; after shutDown() it resolves undefined at once.

import type { Clock, Timer } from '../util/clock.ts';
import { realClock } from '../util/clock.ts';
import { Fifo } from '../util/fifo.ts';

export interface WorkQueueOptions {
  clock?: Clock;
  /** First retry delay of addRateLimited (default 5 ms, as client-go). */
  baseDelayMs?: number;
  /** Longest retry delay (default 5 min: a controller must notice a fixed API server within minutes). */
  maxDelayMs?: number;
}

export class WorkQueue<K = string> {
  readonly #clock: Clock;
  readonly #baseDelay: number;
  readonly #maxDelay: number;
  readonly #queue = new Fifo<K>();
  readonly #queued = new Set<K>();
  readonly #processing = new Set<K>();
  readonly #dirty = new Set<K>();
  readonly #delayed = new Map<K, { at: number; timer: Timer }>();
  readonly #failures = new Map<K, number>();
  #waiters: Array<(k: K | undefined) => void> = [];
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#baseDelay = options.baseDelayMs ?? 5;
    this.#maxDelay = options.maxDelayMs ?? 300_000;
  }

  add(key: K): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#queue.push(key);
  }

  /** Adds `key` after `ms`; a later request for a key already waiting for an earlier time is dropped. */
  addAfter(key: K, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) return this.add(key);
    this.addAt(key, this.#clock.now() + ms);
  }

  /**
   * Adds `key` when the injected clock reaches `atMs` (epoch ms), at once if that time has passed; the
   * earliest pending time per key wins, as with addAfter. For a time computed before an await: a delay
   * taken from a `now` read before the await would be counted from after it, late by however far the
   * clock moved meanwhile.
   */
  addAt(key: K, atMs: number): void {
    if (this.#shutDown) return;
    const now = this.#clock.now();
    if (atMs <= now) return this.add(key);
    const pending = this.#delayed.get(key);
    if (pending && pending.at <= atMs) return;
    pending?.timer.cancel();
    const timer = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, atMs - now);
    this.#delayed.set(key, { at: atMs, timer });
  }

  /** Requeues after this key's next backoff delay (base doubling per failure, capped). */
  addRateLimited(key: K): void {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.#maxDelay, this.#baseDelay * 2 ** Math.min(n, 40)));
  }

  /** Clears the key's failure count (call after it was processed successfully). */
  forget(key: K): void {
    this.#failures.delete(key);
  }

  failures(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once shut down. The caller must call done(key) afterwards. */
  get(): Promise<K | undefined> {
    if (this.#queue.length > 0) {
      const key = this.#queue.shift() as K;
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  done(key: K): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Keys waiting now (not counting delayed ones or those being processed). */
  get length(): number {
    return this.#queue.length;
  }

  /** Keys waiting on a delay. */
  get delayedLength(): number {
    return this.#delayed.size;
  }

  /** True when nothing is queued, delayed or being processed (tests await quiescence with it). */
  get idle(): boolean {
    return this.length === 0 && this.#processing.size === 0 && this.#delayed.size === 0;
  }

  shutDown(): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    for (const d of this.#delayed.values()) d.timer.cancel();
    this.#delayed.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w(undefined);
  }

  get shuttingDown(): boolean {
    return this.#shutDown;
  }
}

/**
 * Runs `workers` loops taking keys from `queue` until it shuts down. A handler that throws is reported
 * to `onError` and its key requeued with backoff; one that returns is forgotten (backoff reset).
 * Resolves when every loop has exited.
 */
export async function runWorkers<K>(queue: WorkQueue<K>, workers: number, handler: (key: K) => Promise<void>, onError: (err: unknown, key: K) => void): Promise<void> {
  const loop = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await handler(key);
        queue.forget(key);
      } catch (err) {
        if (!queue.shuttingDown) {
          onError(err, key);
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
}
