// Pod workers: one loop per pod, as in pkg/kubelet/pod_workers.go. A worker wakes when its pod
// changes in the API, when the PLEG or a probe reports a change, or when its resync timer fires; it
// then runs one sync (./sync.ts) with the newest pod it has been given, hands the computed status to
// the status manager and sleeps. Updates arriving during a sync are coalesced into the next one.
// A pod with a deletionTimestamp, or gone from the API, is terminated (containers stopped within
// the grace period), its deletion confirmed to the API server (DELETE with grace 0, the kubelet's
// final act), and its node resources cleaned up; then the worker ends.
//
// Callers: the agent's pod informer (update/remove), the PLEG and the prober (kick). Any of them
// may call at any time; nothing blocks.
import type { Pod } from '../../api/types.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import type { ContainerLocator } from '../prober/manager.ts';
import type { ProberManager } from '../prober/manager.ts';
import type { StatusManager } from '../status/manager.ts';
import type { PodTerminator, Termination } from '../eviction/manager.ts';
import { gracePeriod, newPodState, type PodState, type PodSyncer } from './sync.ts';

export interface PodWorkersOptions {
  syncer: PodSyncer;
  status: StatusManager;
  prober: ProberManager;
  clock: Clock;
  /** Tells the API server the pod's containers are gone (DELETE grace 0 with the uid precondition). */
  confirmDeletion(pod: Pod): Promise<void>;
  /** Resync period of a quiet pod (default 10 s; the kubelet uses 1 min plus the PLEG). */
  resyncMs?: number;
  /** Grace period for a pod removed from the API without a graceful deletion (default 2 s). */
  orphanGraceSec?: number;
  onError?(err: unknown, pod: Pod | undefined): void;
}

class Worker {
  pod: Pod;
  removed = false;
  /** Drain on agent shutdown: terminate and clean up, but do not touch the API. */
  drain = false;
  readonly state: PodState;
  #wake: (() => void) | undefined;
  // update() kicks right after creating the worker.
  #pending = false;
  /** Inside a sync or a termination. */
  busy = false;
  /** Its termination has stopped every container (cleanup may still be going on). */
  terminated = false;
  /** Ended outside its lifecycle (an eviction): pending until `abnormalDone`. */
  abnormal: Termination | undefined;
  abnormalDone = false;
  timer: Timer | undefined;
  /** In its final termination: a wake-up queued now is never acted on. */
  finishing = false;
  /** Ends a wait between termination attempts when the workers stop. */
  retryWait: AbortController | undefined;
  loop: Promise<void> | undefined;

  constructor(pod: Pod, fresh: boolean) {
    this.pod = pod;
    this.state = newPodState(pod.metadata?.uid ?? '');
    this.state.fresh = fresh;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') this.state.terminal = phase;
  }

  kick(): void {
    this.#pending = true;
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  get pending(): boolean {
    return this.#pending;
  }

  next(): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((r) => {
      this.#wake = () => {
        this.#pending = false;
        r();
      };
    });
  }
}

export class PodWorkers implements ContainerLocator, PodTerminator {
  readonly #o: PodWorkersOptions;
  readonly #workers = new Map<string, Worker>();
  #stopped = false;
  #idleWaiters: Array<() => void> = [];

  constructor(o: PodWorkersOptions) {
    this.#o = o;
  }

  /** The newest version of a pod from the API. */
  /**
   * A pod's latest state. `fresh`: the agent knows the runtime holds nothing of this pod yet (a pod
   * that arrived after the agent's start-up), so its first sync need not ask.
   */
  update(pod: Pod, fresh = false): void {
    if (this.#stopped) return;
    const uid = pod.metadata?.uid ?? '';
    let w = this.#workers.get(uid);
    if (!w) {
      w = new Worker(pod, fresh);
      this.#workers.set(uid, w);
      const worker = w;
      w.loop = this.#run(worker).finally(() => {
        if (this.#workers.get(uid) === worker) this.#workers.delete(uid);
        this.#notifyIdle();
      });
    }
    if (w.removed) return;
    w.pod = pod;
    w.kick();
  }

  /** The pod is gone from the API (its last known state). */
  remove(pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const w = this.#workers.get(uid);
    if (!w) {
      // Never had a worker (e.g. deleted while the agent was down): still clean up the node.
      this.update(pod);
      const nw = this.#workers.get(uid);
      if (nw) {
        nw.removed = true;
        nw.kick();
      }
      return;
    }
    w.removed = true;
    w.kick();
  }

  kick(uid: string): void {
    this.#workers.get(uid)?.kick();
  }

  /**
   * The kubelet's TerminatePodAbnormally (evictions): the worker kills the pod's containers within the
   * grace period and the pod stays Failed with the reason and message; nothing restarts, whatever the
   * restart policy. The API object is left for its owner (a controller replaces it) or the user.
   */
  terminateAbnormally(pod: Pod, t: Termination): boolean {
    const w = this.#workers.get(pod.metadata?.uid ?? '');
    if (!w || w.removed || w.drain || w.abnormal || w.terminated || w.state.terminal || w.pod.metadata?.deletionTimestamp) return false;
    w.abnormal = t;
    w.kick();
    return true;
  }

  has(uid: string): boolean {
    return this.#workers.has(uid);
  }

  uids(): string[] {
    return [...this.#workers.keys()];
  }

  /**
   * Whether the pod's containers may be running or about to start (the kubelet's
   * CouldHaveRunningContainers): false without a worker, once the pod is terminal, and once its
   * termination has stopped them. Admission counts only such pods.
   */
  couldHaveRunningContainers(uid: string): boolean {
    const w = this.#workers.get(uid);
    if (w?.abnormal && !w.abnormalDone) return true;
    return w !== undefined && !w.terminated && !w.state.terminal;
  }

  /** The state a worker holds (streaming, tests). */
  state(uid: string): PodState | undefined {
    return this.#workers.get(uid)?.state;
  }

  pod(uid: string): Pod | undefined {
    return this.#workers.get(uid)?.pod;
  }

  // ContainerLocator, for the prober
  runningContainer(uid: string, name: string): { id: string; startedAt: number } | undefined {
    return this.#workers.get(uid)?.state.running.get(name);
  }

  podIP(uid: string): string {
    return this.#workers.get(uid)?.state.podIPs[0] ?? '';
  }

  /** Stops every loop; containers keep running (kubelet semantics). */
  async stop(): Promise<void> {
    this.#stopped = true;
    const loops: Promise<void>[] = [];
    for (const w of this.#workers.values()) {
      w.timer?.cancel();
      w.retryWait?.abort();
      w.kick();
      if (w.loop) loops.push(w.loop);
    }
    await Promise.all(loops);
  }

  /** Terminates and cleans up every pod (agent shutdown with removePods), then stops. */
  async drain(): Promise<void> {
    const loops: Promise<void>[] = [];
    for (const w of this.#workers.values()) {
      w.drain = true;
      w.timer?.cancel();
      w.kick();
      if (w.loop) loops.push(w.loop);
    }
    await Promise.all(loops);
    this.#stopped = true;
  }

  /** True while some worker is syncing or has a wake-up queued (tests settle on this). */
  busy(): boolean {
    for (const w of this.#workers.values()) if (w.busy || (w.pending && !w.finishing)) return true;
    return false;
  }

  /** Resolves when no worker exists (tests). */
  whenNoWorkers(): Promise<void> {
    if (this.#workers.size === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #notifyIdle(): void {
    if (this.#workers.size > 0) return;
    const ws = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of ws) w();
  }

  async #run(w: Worker): Promise<void> {
    const o = this.#o;
    for (;;) {
      w.busy = false;
      await w.next();
      w.busy = true;
      w.timer?.cancel();
      if (this.#stopped && !w.drain) return;
      const pod = w.pod;
      try {
        if (w.drain || w.removed || pod.metadata?.deletionTimestamp) {
          await this.#finish(w, pod);
          return;
        }
        if (w.abnormal && !w.abnormalDone) {
          await this.#terminateAbnormally(w, pod, w.abnormal);
          continue;
        }
        o.prober.addPod(pod);
        const res = await o.syncer.sync(pod, w.state);
        if (!this.#stopped) o.status.setPodStatus(pod, res.status);
        const resync = o.resyncMs ?? 10_000;
        this.#schedule(w, Math.min(resync, res.requeueAt === undefined ? resync : res.requeueAt - o.clock.now()));
      } catch (err) {
        o.onError?.(err, pod);
        this.#schedule(w, 1000);
      }
    }
  }

  /** Kills the containers, writes the Failed status, then frees the volumes as for every terminated pod. */
  async #terminateAbnormally(w: Worker, pod: Pod, t: Termination): Promise<void> {
    const o = this.#o;
    const status = await o.syncer.terminateAbnormally(pod, w.state, t);
    w.abnormalDone = true;
    if (!this.#stopped) o.status.setPodStatus(pod, status);
    // An evicted pod's emptyDirs are what the node needed back (the kubelet unmounts and removes the
    // volumes of terminated pods).
    await o.syncer.releaseVolumes(w.state).catch((err: unknown) => o.onError?.(err, pod));
    this.#schedule(w, o.resyncMs ?? 10_000);
  }

  async #finish(w: Worker, pod: Pod): Promise<void> {
    const o = this.#o;
    w.finishing = true;
    const uid = w.state.uid;
    const grace = w.removed && !pod.metadata?.deletionTimestamp ? (o.orphanGraceSec ?? 2) : gracePeriod(pod);
    for (let attempt = 0; ; attempt++) {
      try {
        const status = await o.syncer.terminate(pod, w.state, grace);
        w.terminated = true;
        if (!w.removed && !w.drain) {
          o.status.setPodStatus(pod, status);
          // The final status goes first, as the kubelet's does; an unreachable API must not hold the deletion.
          const ac = new AbortController();
          await Promise.race([o.status.idle(), o.clock.sleep(5000, ac.signal).catch(() => undefined)]);
          ac.abort();
          await o.confirmDeletion(pod);
        }
        await o.syncer.cleanup(uid, pod);
        o.status.removePod(uid);
        return;
      } catch (err) {
        o.onError?.(err, pod);
        // As the kubelet's pod worker, a termination is tried until it succeeds (1, 2, 4, 8, 10, 10… s
        // apart): the deletion is confirmed only once nothing of the pod runs. A drain (the agent
        // shutting down) gives up after five attempts.
        if ((w.drain && attempt >= 4) || (this.#stopped && !w.drain)) return;
        const ac = new AbortController();
        w.retryWait = ac;
        // Waiting on a timer is not work in progress (tests settle on busy()).
        w.busy = false;
        await o.clock.sleep(Math.min(1000 * 2 ** attempt, 10_000), ac.signal).catch(() => undefined);
        w.busy = true;
        w.retryWait = undefined;
        if (this.#stopped && !w.drain) return;
      }
    }
  }

  #schedule(w: Worker, ms: number): void {
    w.timer?.cancel();
    if (this.#stopped) return;
    w.timer = this.#o.clock.setTimeout(() => w.kick(), ms);
  }
}
