// The loop most controllers are: informer handlers add keys to a work queue, workers sync each key,
// a failed sync is retried with backoff (an expected outcome, such as a conflict, is retried without
// being reported). Built by a controller in its constructor; start() and stop() are the controller's.

import type { Namespace } from '../api/types.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../client/errors.ts';
import type { Clock } from '../util/clock.ts';
import type { SharedInformers } from './informers.ts';
import { WorkQueue, runWorkers } from './workqueue.ts';

export interface KeyLoopOptions {
  clock?: Clock;
  workers?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onError: (err: unknown) => void;
  /** Failures that are retried but not reported (default: conflicts, our cache was behind). */
  quiet?: (err: unknown) => boolean;
}

export class KeyLoop {
  readonly queue: WorkQueue<string>;
  readonly #workers: number;
  readonly #onError: (err: unknown) => void;
  readonly #quiet: (err: unknown) => boolean;
  #unsubscribe: Array<() => void> = [];
  #loops: Promise<void> | undefined;
  #abort: AbortController | undefined;

  constructor(o: KeyLoopOptions) {
    this.queue = new WorkQueue<string>({ clock: o.clock, baseDelayMs: o.baseDelayMs, maxDelayMs: o.maxDelayMs });
    this.#workers = o.workers ?? 1;
    this.#onError = o.onError;
    this.#quiet = o.quiet ?? isConflict;
  }

  /**
   * Subscribes the handlers (each returns its removal), starts the informers, and the workers once
   * every informer has its first list, as kube's controllers wait (cache.WaitForNamedCacheSync): a key
   * queued by the first list of one kind must not be synced against another kind's half-filled cache
   * (a ReplicaSet seeing none of its pods yet would make more). Idempotent.
   */
  start(informers: Pick<SharedInformers, 'start' | 'waitForSync'>, subscribe: () => Array<() => void>, sync: (key: string) => Promise<void>): void {
    if (this.#loops) return;
    this.#unsubscribe = subscribe();
    informers.start();
    const abort = new AbortController();
    this.#abort = abort;
    this.#loops = informers.waitForSync(abort.signal).then(
      () =>
        runWorkers(this.queue, this.#workers, sync, (err) => {
          if (!this.#quiet(err)) this.#onError(err);
        }),
      // Stopped before the caches filled: no worker ever ran.
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    this.#abort?.abort();
    for (const u of this.#unsubscribe) u();
    this.#unsubscribe = [];
    this.queue.shutDown();
    await this.#loops;
    this.#loops = undefined;
  }
}

/** A namespace that exists and is not being deleted (where per-namespace objects are kept). */
export function isActiveNamespace(ns: Namespace | undefined): ns is Namespace {
  return !!ns && !ns.metadata?.deletionTimestamp && ns.status?.phase !== 'Terminating';
}

/**
 * A create that lost a race: made meanwhile, or its namespace started terminating or went away. Any
 * other Forbidden (RBAC refusing the controller's account) is a failure to report.
 */
export function lostCreateRace(err: unknown): boolean {
  return isAlreadyExists(err) || isNamespaceTerminating(err) || isNotFound(err);
}

/** A create refused because the namespace is being deleted (Status cause NamespaceTerminating). */
export function isNamespaceTerminating(err: unknown): boolean {
  const causes = (err as { status?: { details?: { causes?: { type?: string; reason?: string }[] } } }).status?.details?.causes ?? [];
  return causes.some((c) => c.type === 'NamespaceTerminating' || c.reason === 'NamespaceTerminating');
}
