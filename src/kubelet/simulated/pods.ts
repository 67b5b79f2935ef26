// The life of pods on simulated nodes, driven by the simulator's pod events and its shared timers:
//   bound → (start delay) → Running/Ready → [exit-after] → Succeeded/Failed, or restart by restartPolicy
//   deletionTimestamp set → (delete delay, at most the grace period) → confirmed (DELETE, grace 0)
// Statuses are computed by the real agent's generatePodStatus (./pod-view.ts) and handed to the
// node's StatusManager, which writes only what changed. A pod found already Running (the simulator
// restarted) is adopted as it is: nothing is restarted and nothing is rewritten.
//
// Per-pod annotations (all optional):
//   simulate.tinykube.io/start-delay: 2s   this pod's start delay instead of the simulator's
//   simulate.tinykube.io/exit-after: 5s    the app containers exit this long after starting
//   simulate.tinykube.io/exit-code: 1      with this code (default 0)
//
// Single-threaded: update/remove are called from informer handlers, timers from the DueQueue.
import type { Pod, PodStatus } from '../../api/types.ts';
import type { DueHandle, DueQueue } from './due-queue.ts';
import { restartsAfter, simulatedPodStatus, type SimulatedRun } from './pod-view.ts';
import { parseDurationMs } from './spec.ts';
import type { SimulatedAdmission } from './admission.ts';
import { rejectedStatus } from '../admission/predicates.ts';
import { qosClass } from '../status/qos.ts';
import { rfc3339, type Clock } from '../../util/clock.ts';

export const ANNOTATION_START_DELAY = 'simulate.tinykube.io/start-delay';
export const ANNOTATION_EXIT_AFTER = 'simulate.tinykube.io/exit-after';
export const ANNOTATION_EXIT_CODE = 'simulate.tinykube.io/exit-code';

/** Where a simulated pod's status goes: the node's StatusManager (../status/manager.ts). */
export interface PodStatusSink {
  setPodStatus(pod: Pod, status: PodStatus): void;
  removePod(uid: string): void;
}

/** One simulated node as its pods see it. */
export interface PodHost {
  readonly name: string;
  readonly hostIP: string;
  readonly status: PodStatusSink;
  /** Kubelet admission of the pods bound to this node. */
  readonly admission: SimulatedAdmission;
  /** A pod IP on this node (`preferred` when it is free and ours: an adopted pod keeps its IP). */
  allocateIP(preferred?: string): string;
  releaseIP(ip: string): void;
}

export interface SimulatedPodsOptions {
  clock: Clock;
  queue: DueQueue;
  host(nodeName: string): PodHost | undefined;
  /** The newest state of a pod by namespace/name key (the informer's cache). */
  getPod(key: string): Pod | undefined;
  /** Deletes a pod with grace 0 and a uid precondition (../status/manager.ts confirmPodDeletion). */
  confirmDeletion(pod: Pod): Promise<void>;
  startDelayMs?: number;
  deleteDelayMs?: number;
  /** Delays are scaled by a random factor in [1 - jitter, 1 + jitter] (default 0.2). */
  jitter?: number;
  random?: () => number;
  onError?(err: unknown, context: string): void;
}

interface PodState {
  key: string;
  uid: string;
  host: PodHost;
  ip: string;
  run: SimulatedRun | undefined;
  timer: DueHandle | undefined;
  deleting: boolean;
  terminal: boolean;
}

export interface SimulatedPodStats {
  /** Pods bound to simulated nodes that we track now. */
  pods: number;
  /** Runs started (first starts and restarts). */
  started: number;
  restarted: number;
  /** Pods that reached Succeeded or Failed here. */
  completed: number;
  /** Deletions confirmed. */
  deleted: number;
  /** Pods the node's admission refused (Failed with OutOfcpu, OutOfpods...). */
  rejected: number;
}

function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function annotationMs(pod: Pod, name: string): number | undefined {
  const v = pod.metadata?.annotations?.[name];
  if (v === undefined) return undefined;
  try {
    return parseDurationMs(v, name);
  } catch {
    return undefined;
  }
}

export class SimulatedPods {
  readonly #o: SimulatedPodsOptions;
  readonly #pods = new Map<string, PodState>();
  readonly #random: () => number;
  readonly #jitter: number;
  readonly #stats: Omit<SimulatedPodStats, 'pods'> = { started: 0, restarted: 0, completed: 0, deleted: 0, rejected: 0 };

  constructor(o: SimulatedPodsOptions) {
    this.#o = o;
    this.#random = o.random ?? Math.random;
    this.#jitter = Math.min(1, Math.max(0, o.jitter ?? 0.2));
  }

  stats(): SimulatedPodStats {
    return { pods: this.#pods.size, ...this.#stats };
  }

  #jittered(ms: number): number {
    if (ms <= 0) return 0;
    return ms * (1 - this.#jitter + 2 * this.#jitter * this.#random());
  }

  /** An added or updated pod (any pod: those not bound to a simulated node are ignored). */
  update(pod: Pod): void {
    const key = podKey(pod);
    const uid = pod.metadata?.uid ?? '';
    let st = this.#pods.get(key);
    if (st && st.uid !== uid) {
      // Same name, new pod: the old one's DELETED event was missed (re-list).
      this.#forget(st);
      st = undefined;
    }
    if (!st) {
      const host = this.#o.host(pod.spec?.nodeName ?? '');
      if (!host) return;
      st = this.#adopt(pod, key, uid, host);
    }
    if (pod.metadata?.deletionTimestamp && !st.deleting) this.#beginDeletion(st, pod);
    // An exit-after annotation added to a running pod takes effect then (counted from the container's
    // start): a test tells the pod of `kubectl create job` to finish by patching it, and the patch may
    // arrive after the start delay, above all on a loaded machine.
    else if (st.run && !st.terminal && !st.deleting && st.timer === undefined) this.#scheduleExit(st, pod);
  }

  /** A node's agent died: its pods are dropped (timers, pending status writes, IPs) until re-adopted. */
  forgetNode(nodeName: string): void {
    for (const st of [...this.#pods.values()]) if (st.host.name === nodeName) this.#forget(st);
  }

  /** A pod that left the API. */
  remove(pod: Pod): void {
    const st = this.#pods.get(podKey(pod));
    if (st && st.uid === (pod.metadata?.uid ?? '')) this.#forget(st);
  }

  #forget(st: PodState): void {
    st.timer?.cancel();
    st.host.admission.release(st.uid);
    st.host.status.removePod(st.uid);
    st.host.releaseIP(st.ip);
    this.#pods.delete(st.key);
  }

  #adopt(pod: Pod, key: string, uid: string, host: PodHost): PodState {
    const status = pod.status ?? {};
    const st: PodState = { key, uid, host, ip: host.allocateIP(status.podIP), run: undefined, timer: undefined, deleting: false, terminal: false };
    this.#pods.set(key, st);
    const now = this.#o.clock.now();
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      st.terminal = true;
    } else if (status.phase === 'Running') {
      // Started by an earlier simulator (or agent): carry on from what the API says; it was admitted then.
      host.admission.adopt(pod);
      const cs = status.containerStatuses?.[0];
      const startedAt = Date.parse(cs?.state?.running?.startedAt ?? status.startTime ?? '');
      st.run = { startedAt: Number.isFinite(startedAt) ? startedAt : now, restartCount: cs?.restartCount ?? 0 };
      this.#scheduleExit(st, pod);
    } else if (!pod.metadata?.deletionTimestamp) {
      const r = host.admission.admit(pod);
      if (!r.admit) {
        // The kubelet's rejectPod: Failed with the reason, never started.
        st.terminal = true;
        this.#stats.rejected++;
        host.status.setPodStatus(pod, rejectedStatus(r, status.qosClass ?? qosClass(pod), status.startTime ?? rfc3339(now)));
        return st;
      }
      const delay = annotationMs(pod, ANNOTATION_START_DELAY) ?? this.#jittered(this.#o.startDelayMs ?? 0);
      st.timer = this.#o.queue.after(delay, () => this.#start(st));
    }
    return st;
  }

  #current(st: PodState): Pod | undefined {
    const pod = this.#o.getPod(st.key);
    return pod && pod.metadata?.uid === st.uid && this.#pods.get(st.key) === st ? pod : undefined;
  }

  #write(st: PodState, pod: Pod): void {
    const status = simulatedPodStatus(pod, st.run!, { podIP: st.ip, hostIP: st.host.hostIP }, this.#o.clock.now());
    st.host.status.setPodStatus(pod, status);
  }

  #start(st: PodState): void {
    st.timer = undefined;
    const pod = this.#current(st);
    if (!pod || st.deleting) return;
    st.run = { startedAt: this.#o.clock.now(), restartCount: 0 };
    this.#stats.started++;
    this.#write(st, pod);
    this.#scheduleExit(st, pod);
  }

  #scheduleExit(st: PodState, pod: Pod): void {
    const after = annotationMs(pod, ANNOTATION_EXIT_AFTER);
    if (after === undefined || !st.run) return;
    const due = Math.max(this.#o.clock.now(), st.run.startedAt + after);
    st.timer = this.#o.queue.at(due, () => this.#exit(st));
  }

  #exit(st: PodState): void {
    st.timer = undefined;
    const pod = this.#current(st);
    if (!pod || st.deleting || !st.run) return;
    const now = this.#o.clock.now();
    const code = Number.parseInt(pod.metadata?.annotations?.[ANNOTATION_EXIT_CODE] ?? '0', 10) || 0;
    if (restartsAfter(pod, code)) {
      // No CrashLoopBackOff here: the exit-after period is the restart period.
      st.run = { startedAt: now, restartCount: st.run.restartCount + 1, last: { startedAt: st.run.startedAt, finishedAt: now, code } };
      this.#stats.started++;
      this.#stats.restarted++;
      this.#write(st, pod);
      this.#scheduleExit(st, pod);
      return;
    }
    st.run = { ...st.run, exit: { at: now, code } };
    st.terminal = true;
    st.host.admission.release(st.uid);
    this.#stats.completed++;
    this.#write(st, pod);
  }

  #beginDeletion(st: PodState, pod: Pod): void {
    st.deleting = true;
    st.timer?.cancel();
    const graceMs = (pod.metadata?.deletionGracePeriodSeconds ?? 30) * 1000;
    const delay = Math.min(graceMs, this.#jittered(this.#o.deleteDelayMs ?? 0));
    st.timer = this.#o.queue.after(delay, () => this.#confirm(st, pod));
  }

  #confirm(st: PodState, pod: Pod): void {
    st.timer = undefined;
    const cur = this.#current(st) ?? pod;
    this.#o.confirmDeletion(cur).then(
      () => {
        this.#stats.deleted++;
      },
      (err: unknown) => {
        this.#o.onError?.(err, `confirm deletion of ${st.key}`);
        // Still ours (no DELETED event yet): try again, as the kubelet's status manager would.
        if (this.#pods.get(st.key) === st && !st.timer) st.timer = this.#o.queue.after(1000, () => this.#confirm(st, pod));
      },
    );
  }
}
