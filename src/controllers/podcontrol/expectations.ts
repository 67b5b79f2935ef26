// Expectations (kube-controller-manager's ControllerExpectations and UIDTrackingControllerExpectations):
// what a controller has asked for and not yet seen in its informer. A controller that creates 5 pods
// records 5 expected creations; each pod add event lowers the count. Until the count reaches zero the
// controller's cache is behind its own writes, so a sync must not count pods again (it would create or
// delete twice on a burst of watch events). An expectation older than the TTL is considered satisfied
// (a watch event was lost; the next sync sees the truth).
//
// Called from informer handlers and workers of one controller; single-threaded (Node), so no locks.

import type { Clock } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';

/** kube-controller-manager's ExpectationsTimeout. */
export const EXPECTATIONS_TTL_MS = 5 * 60 * 1000;

interface Record {
  adds: number;
  /** UIDs of the objects whose deletion we asked for and have not yet seen go (or start terminating). */
  dels: Set<string>;
  at: number;
}

export class Expectations {
  readonly #records = new Map<string, Record>();
  readonly #clock: Clock;
  readonly #ttl: number;

  constructor(clock: Clock = realClock, ttlMs = EXPECTATIONS_TTL_MS) {
    this.#clock = clock;
    this.#ttl = ttlMs;
  }

  /** Whether the controller of `key` may trust its cache: nothing pending, or the record expired. */
  satisfied(key: string): boolean {
    const r = this.#records.get(key);
    if (!r) return true;
    if (r.adds <= 0 && r.dels.size === 0) return true;
    return this.#clock.now() - r.at > this.#ttl;
  }

  /** Records `adds` creations and the deletion of `deleteUIDs`, replacing what was pending. */
  expect(key: string, adds: number, deleteUIDs: Iterable<string> = []): void {
    this.#records.set(key, { adds, dels: new Set(deleteUIDs), at: this.#clock.now() });
  }

  /** A creation was seen in the informer, or a create request failed (it will never be seen). */
  creationObserved(key: string): void {
    const r = this.#records.get(key);
    if (r) r.adds--;
  }

  /** The object of `uid` was seen deleted or terminating, or its delete request failed. */
  deletionObserved(key: string, uid: string): void {
    this.#records.get(key)?.dels.delete(uid);
  }

  /** How many creations are still pending (tests, and controllers that report it). */
  pendingCreations(key: string): number {
    return Math.max(0, this.#records.get(key)?.adds ?? 0);
  }

  /** The controller's object is gone: forget it. */
  forget(key: string): void {
    this.#records.delete(key);
  }
}
