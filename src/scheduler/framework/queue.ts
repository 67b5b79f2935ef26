// The scheduling queue (Kubernetes' PriorityQueue): pods waiting to be scheduled, in three parts.
//  - activeQ: ready now, highest priority first, then the one that entered the queue first;
//  - backoffQ: failed recently, waiting out a backoff of 1 s doubling per attempt up to 10 s;
//  - unschedulable: failed and waiting for the cluster to change (a node added or updated, a pod
//    deleted: moveAllToActiveOrBackoff), or for 5 minutes at most.
// A move request that arrives while a pod is being scheduled sends that pod to backoffQ rather than
// unschedulable when it fails, so the change it might have needed is not missed (moveRequestCycle).
//
// Time comes from the injected Clock. Called from the scheduler's single loop and its informer handlers
// (same thread, never concurrently); pop() is awaited by one consumer.

import type { Pod } from '../../api/types.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import { KeyedHeap } from './heap.ts';
import { newPodInfo, podKey } from './pod-info.ts';
import type { PodInfo } from './pod-info.ts';

export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod last entered the queue (activeQ order, backoff start). */
  timestamp: number;
  /** When it first entered the queue (for latency figures). */
  initialAttemptTimestamp: number;
  /** Scheduling attempts so far (pop increments it). */
  attempts: number;
}

export interface QueueOptions {
  clock: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Longest stay in the unschedulable set without a cluster event (podMaxInUnschedulablePodsDuration). */
  maxUnschedulableMs?: number;
  /** How often leftovers are checked (Kubernetes: 30 s). */
  flushUnschedulableEveryMs?: number;
}

export type QueueName = 'active' | 'backoff' | 'unschedulable';

export class SchedulingQueue {
  readonly #clock: Clock;
  readonly #initialBackoff: number;
  readonly #maxBackoff: number;
  readonly #maxUnschedulable: number;
  readonly #flushEvery: number;
  readonly #active: KeyedHeap<QueuedPodInfo>;
  readonly #backoff: KeyedHeap<QueuedPodInfo>;
  readonly #unschedulable = new Map<string, QueuedPodInfo>();
  #waiters: Array<(q: QueuedPodInfo | undefined) => void> = [];
  #backoffTimer: Timer | undefined;
  #backoffTimerAt = Infinity;
  #flushTimer: Timer | undefined;
  #closed = false;
  #schedulingCycle = 0;
  #moveRequestCycle = -1;

  constructor(o: QueueOptions) {
    this.#clock = o.clock;
    this.#initialBackoff = o.initialBackoffMs ?? 1000;
    this.#maxBackoff = o.maxBackoffMs ?? 10_000;
    this.#maxUnschedulable = o.maxUnschedulableMs ?? 5 * 60_000;
    this.#flushEvery = o.flushUnschedulableEveryMs ?? 30_000;
    this.#active = new KeyedHeap<QueuedPodInfo>(
      (q) => q.podInfo.key,
      (a, b) => a.podInfo.priority > b.podInfo.priority || (a.podInfo.priority === b.podInfo.priority && a.timestamp < b.timestamp),
    );
    this.#backoff = new KeyedHeap<QueuedPodInfo>((q) => q.podInfo.key, (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
    this.#armFlush();
  }

  /** Incremented by each pop: the number of the attempt in progress. */
  get schedulingCycle(): number {
    return this.#schedulingCycle;
  }

  /** A new pending pod. */
  add(pod: Pod | PodInfo): void {
    const info = 'pod' in pod && 'key' in pod ? pod : newPodInfo(pod);
    const now = this.#clock.now();
    const key = info.key;
    this.#unschedulable.delete(key);
    this.#backoff.delete(key);
    const existing = this.#active.get(key);
    this.#active.push(existing ? { ...existing, podInfo: info } : { podInfo: info, timestamp: now, initialAttemptTimestamp: now, attempts: 0 });
    this.#notify();
  }

  /**
   * A pending pod changed. In activeQ or backoffQ it is updated in place; in the unschedulable set a
   * change that could matter (spec, labels, annotations other than ours) moves it on; a pod in no queue
   * (neither pending nor being bound) is added.
   */
  update(oldPod: Pod, newPod: Pod): void {
    const key = podKey(newPod);
    const queued = this.#active.get(key) ?? this.#backoff.get(key) ?? this.#unschedulable.get(key);
    const info = newPodInfo(newPod, queued?.podInfo);
    const a = this.#active.get(key);
    if (a) {
      this.#active.push({ ...a, podInfo: info });
      return;
    }
    const b = this.#backoff.get(key);
    if (b) {
      this.#backoff.push({ ...b, podInfo: info });
      return;
    }
    const u = this.#unschedulable.get(key);
    if (u) {
      const q = { ...u, podInfo: info };
      if (this.#meaningfulUpdate(oldPod, newPod)) {
        this.#unschedulable.delete(key);
        this.#requeue(q);
      } else {
        this.#unschedulable.set(key, q);
      }
      return;
    }
    this.add(info);
  }

  delete(pod: Pod): void {
    const key = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
    this.#active.delete(key);
    this.#backoff.delete(key);
    this.#unschedulable.delete(key);
  }

  /** Next pod to schedule, waiting for one; undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    const q = this.#take();
    if (q) return Promise.resolve(q);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** pop() without waiting. */
  tryPop(): QueuedPodInfo | undefined {
    return this.#closed ? undefined : this.#take();
  }

  /**
   * After a failed attempt: to backoffQ when it failed with an error or a move request came during the
   * attempt, else to the unschedulable set. A pod already queued again (it was updated meanwhile) stays where it is.
   */
  addUnschedulable(q: QueuedPodInfo, podSchedulingCycle: number, options: { error?: boolean } = {}): void {
    const key = q.podInfo.key;
    if (this.#active.has(key) || this.#backoff.has(key) || this.#unschedulable.has(key)) return;
    const entry = { ...q, timestamp: this.#clock.now() };
    if (options.error || this.#moveRequestCycle >= podSchedulingCycle) {
      this.#backoff.push(entry);
      this.#armBackoff();
    } else {
      this.#unschedulable.set(key, entry);
    }
  }

  /** A cluster change that may make unschedulable pods fit: move them all (to backoffQ if still backing off). */
  moveAllToActiveOrBackoff(_event: string, filter?: (q: QueuedPodInfo) => boolean): void {
    const moved: QueuedPodInfo[] = [];
    for (const q of this.#unschedulable.values()) if (!filter || filter(q)) moved.push(q);
    for (const q of moved) {
      this.#unschedulable.delete(q.podInfo.key);
      this.#requeue(q);
    }
    this.#moveRequestCycle = this.#schedulingCycle;
  }

  /** calculateBackoffDuration: 1 s for the first failure, doubled per further attempt, capped at 10 s. */
  backoffDuration(q: QueuedPodInfo): number {
    let d = this.#initialBackoff;
    for (let i = 1; i < q.attempts; i++) {
      d *= 2;
      if (d >= this.#maxBackoff) return this.#maxBackoff;
    }
    return Math.min(d, this.#maxBackoff);
  }

  backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDuration(q);
  }

  /** Which part of the queue holds the pod (for tests and diagnostics). */
  where(key: string): QueueName | undefined {
    if (this.#active.has(key)) return 'active';
    if (this.#backoff.has(key)) return 'backoff';
    if (this.#unschedulable.has(key)) return 'unschedulable';
    return undefined;
  }

  get lengths(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.#active.size, backoff: this.#backoff.size, unschedulable: this.#unschedulable.size };
  }

  /** Ends waiting pops with undefined and stops the timers. */
  close(): void {
    this.#closed = true;
    this.#backoffTimer?.cancel();
    this.#flushTimer?.cancel();
    const w = this.#waiters;
    this.#waiters = [];
    for (const resolve of w) resolve(undefined);
  }

  #take(): QueuedPodInfo | undefined {
    const q = this.#active.pop();
    if (!q) return undefined;
    this.#schedulingCycle++;
    q.attempts++;
    return q;
  }

  #notify(): void {
    while (this.#waiters.length > 0 && this.#active.size > 0) {
      const resolve = this.#waiters.shift()!;
      resolve(this.#take());
    }
  }

  #requeue(q: QueuedPodInfo): void {
    if (this.#clock.now() < this.backoffExpiry(q)) {
      this.#backoff.push(q);
      this.#armBackoff();
    } else {
      this.#active.push(q);
      this.#notify();
    }
  }

  #flushBackoffCompleted(): void {
    const now = this.#clock.now();
    let moved = false;
    for (let q = this.#backoff.peek(); q && this.backoffExpiry(q) <= now; q = this.#backoff.peek()) {
      this.#backoff.pop();
      this.#active.push(q);
      moved = true;
    }
    if (moved) this.#notify();
  }

  // One timer, at the earliest backoff expiry (Kubernetes polls every second; a precise timer is as cheap
  // and lets fake-clock tests advance exactly).
  #armBackoff(): void {
    if (this.#closed) return;
    const head = this.#backoff.peek();
    if (!head) return;
    const at = this.backoffExpiry(head);
    if (this.#backoffTimer && this.#backoffTimerAt <= at) return;
    this.#backoffTimer?.cancel();
    this.#backoffTimerAt = at;
    this.#backoffTimer = this.#clock.setTimeout(() => {
      this.#backoffTimer = undefined;
      this.#backoffTimerAt = Infinity;
      this.#flushBackoffCompleted();
      this.#armBackoff();
    }, Math.max(0, at - this.#clock.now()));
  }

  #armFlush(): void {
    if (this.#closed) return;
    this.#flushTimer = this.#clock.setTimeout(() => {
      const now = this.#clock.now();
      const stale: QueuedPodInfo[] = [];
      for (const q of this.#unschedulable.values()) if (now - q.timestamp >= this.#maxUnschedulable) stale.push(q);
      for (const q of stale) {
        this.#unschedulable.delete(q.podInfo.key);
        this.#requeue(q);
      }
      this.#armFlush();
    }, this.#flushEvery);
  }

  // isPodUpdated: anything but status, resourceVersion and managedFields.
  #meaningfulUpdate(a: Pod, b: Pod): boolean {
    const strip = (p: Pod): unknown => ({ spec: p.spec, labels: p.metadata?.labels ?? {}, annotations: p.metadata?.annotations ?? {}, deletion: p.metadata?.deletionTimestamp ?? null });
    return JSON.stringify(strip(a)) !== JSON.stringify(strip(b));
  }
}
