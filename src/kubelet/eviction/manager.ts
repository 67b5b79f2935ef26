// The eviction manager's local-storage half (the kubelet's managerImpl.synchronize with
// localStorageCapacityIsolation): every housekeeping period it takes a fresh Summary, and each active
// pod whose emptyDir, pod or container ephemeral storage is over its limit (./local-storage.ts) is
// evicted as the kubelet's evictPod does: a Warning `Evicted` event with the message, then the pod's
// termination through the pod workers with the immediate-eviction grace period (1 s), which leaves it
// Failed with reason Evicted and that message. Critical pods are never evicted. Node-pressure
// eviction (thresholds on the node's memory and disk) is not done here.
//
// One run at a time on the injected clock (Periodic); start/stop are idempotent.
import type { Pod } from '../../api/types.ts';
import type { Clock } from '../../util/clock.ts';
import { Periodic } from '../../util/periodic.ts';
import { podRef, type EventRecorder } from '../events/recorder.ts';
import type { PodStats, Summary } from '../stats/types.ts';
import { EVICTED_REASON, isCriticalPod, localStorageViolation } from './local-storage.ts';

/** immediateEvictionGracePeriodSeconds: how long an evicted pod's containers get to stop. */
export const IMMEDIATE_EVICTION_GRACE_SECONDS = 1;

/** What an eviction asks of the pod's worker (the kubelet's TerminatePodOptions). */
export interface Termination {
  gracePeriodSeconds: number;
  reason: string;
  message: string;
}

/**
 * Ends a pod outside its own lifecycle (the kubelet's PodTerminator, implemented by the pod workers):
 * its containers are killed within the grace period and the pod is left Failed with the reason and
 * message. Returns false when the pod has no worker, is already terminal or already being ended.
 * Called by the eviction manager only; must not block.
 */
export interface PodTerminator {
  terminateAbnormally(pod: Pod, t: Termination): boolean;
}

export interface EvictionManagerOptions {
  clock: Clock;
  /** The pods whose containers may run (the kubelet's activePods). */
  activePods(): Pod[];
  /** A summary no older than `maxAgeMs`. */
  summary(maxAgeMs: number): Promise<Summary>;
  terminator: PodTerminator;
  recorder: EventRecorder;
  /** The housekeeping period (default 10 s, the kubelet's evictionMonitoringPeriod). */
  periodMs?: number;
  onError?(err: unknown): void;
}

export class EvictionManager {
  readonly #o: EvictionManagerOptions;
  readonly #loop: Periodic;

  constructor(o: EvictionManagerOptions) {
    this.#o = o;
    this.#loop = new Periodic({ clock: o.clock, periodMs: () => o.periodMs ?? 10_000, run: async () => void (await this.synchronize()), onError: o.onError });
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** One housekeeping pass; returns the pods evicted. */
  async synchronize(): Promise<Pod[]> {
    const o = this.#o;
    const pods = o.activePods();
    if (pods.length === 0) return [];
    const summary = await o.summary(0);
    const byUid = new Map<string, PodStats>(summary.pods.map((p) => [p.podRef.uid, p]));
    const evicted: Pod[] = [];
    for (const pod of pods) {
      const stats = byUid.get(pod.metadata?.uid ?? '');
      if (!stats) continue;
      const message = localStorageViolation(pod, stats);
      if (message === undefined) continue;
      if (this.#evict(pod, message)) evicted.push(pod);
    }
    return evicted;
  }

  #evict(pod: Pod, message: string): boolean {
    if (isCriticalPod(pod)) return false;
    const o = this.#o;
    if (!o.terminator.terminateAbnormally(pod, { gracePeriodSeconds: IMMEDIATE_EVICTION_GRACE_SECONDS, reason: EVICTED_REASON, message })) return false;
    o.recorder.event(podRef(pod), 'Warning', EVICTED_REASON, message);
    return true;
  }
}
