// The scheduler component: informers on pods, nodes, namespaces and claims feed the cache and the queue; one
// loop takes a pod at a time through the scheduling cycle (synchronous, on the live cache), assumes it on
// the chosen node and binds it in the background (POST pods/{name}/binding), so the next pod's cycle
// starts at once and already counts the previous one. Talks to the API server only (design.md).
//
// What it writes, besides bindings:
//  - Events (core/v1, source.component "default-scheduler"): Scheduled "Successfully assigned ns/pod to
//    node", FailedScheduling with Kubernetes' message, Preempted on preemption victims. Repeats of the
//    same event are folded into one (count, lastTimestamp), as client-go's correlator does.
//  - On failure, the PodScheduled=False condition (reason Unschedulable, the same message) and
//    status.nominatedNodeName after a preemption, by a strategic merge patch of pods/status.
//  - Beyond Kubernetes: the FailedScheduling event adds one line per node, "<node>: <reason>", after
//    Kubernetes' message, so `kubectl describe pod` (which prints events) shows why each node was
//    rejected. The pod object gets nothing kube-scheduler would not write: tools that compare or diff
//    pods see the same object as on Kubernetes.
//
// Built by startScheduler (src/cmd wires it); stop() ends the loop, the informers and waits for the
// writes in flight.

import { hostname } from 'node:os';
import type { Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '../api/types.ts';
import type { ApiClient } from '../client/client.ts';
import { isConflict, isNotFound } from '../client/errors.ts';
import { Informer, listWatch, transformListWatch } from '../client/informer.ts';
import { trimPodForCache } from '../client/trim.ts';
import { Events, Namespaces, Nodes, PersistentVolumeClaims, PersistentVolumes, Pods, StorageClasses } from '../client/resources.ts';
import type { Clock } from '../util/clock.ts';
import { realClock, rfc3339 } from '../util/clock.ts';
import { SchedulerCache } from './framework/cache.ts';
import { SchedulingAlgorithm } from './framework/cycle.ts';
import type { CycleState } from './framework/cycle-state.ts';
import { failedSchedulingEventMessage } from './framework/fit-error.ts';
import { Framework } from './framework/framework.ts';
import type { PluginConfig } from './framework/framework.ts';
import type { PodEvictor } from './framework/interfaces.ts';
import { newPodInfo, podKey } from './framework/pod-info.ts';
import type { PodInfo } from './framework/pod-info.ts';
import { SchedulingQueue } from './framework/queue.ts';
import type { QueuedPodInfo } from './framework/queue.ts';
import type { Status } from './framework/status.ts';
import { defaultPlugins, registry } from './plugins/registry.ts';
import { WriteQueue } from './write-queue.ts';
import { ApiVolumeWriter } from './volume-writer.ts';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export interface SchedulerOptions {
  client: ApiClient;
  clock?: Clock;
  /** Pods whose spec.schedulerName differs are left alone. Default "default-scheduler". */
  schedulerName?: string;
  /** As KubeSchedulerConfiguration's percentageOfNodesToScore; 0 = adaptive (the default). */
  percentageOfNodesToScore?: number;
  plugins?: readonly PluginConfig[];
  /** Tie-breaking randomness. */
  random?: () => number;
  /** Failures the scheduler recovers from (API write errors, informer reconnects). Default: console.error. */
  onError?: (err: unknown) => void;
  /** Informer list page size (default 500). */
  pageSize?: number;
  /** Queue backoff (defaults 1 s doubling to 10 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface SchedulerStats {
  /** Pods placed by a scheduling cycle (assumed). */
  scheduled: number;
  /** Bindings the API server accepted. */
  bound: number;
  /** Bindings that failed. */
  bindFailures: number;
  /** Attempts that ended unschedulable or in error. */
  failedAttempts: number;
  bindingsInFlight: number;
  /** Events (Scheduled, FailedScheduling...) waiting to be written or in flight, and dropped because too many waited. */
  eventsPending: number;
  eventsDropped: number;
  queue: { active: number; backoff: number; unschedulable: number };
}

export interface Scheduler {
  /** Resolves once the pod and node caches hold a complete list (scheduling starts then). */
  waitForSync(): Promise<void>;
  stats(): SchedulerStats;
  stop(): Promise<void>;
}

export function startScheduler(o: SchedulerOptions): Scheduler {
  const s = new KubeScheduler(o);
  s.start();
  return s;
}

const TERMINAL = (p: Pod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

interface EventRecord {
  name: string;
  count: number;
  first: string;
  /** Settles once the create was sent and answered: repeats patch the event only after it exists. */
  created: Promise<void>;
}

// Events in flight at once (see write-queue.ts); enough to keep up with a steady scheduling rate, few
// enough that a burst's bindings get the API server first.
const EVENT_CONCURRENCY = 4;
// Events waiting beyond this are dropped. A queued Scheduled event holds about 1 KB (its object and
// closure), so the bound is ~200 MB at worst: a burst of 150,000 pods (bench/scale) keeps every
// Scheduled event, written once the bindings are through, where 50,000 dropped two thirds of them.
// client-go's broadcaster drops past 1,000 queued; a single-binary cluster can afford more.
const EVENT_MAX_QUEUED = 200_000;

class KubeScheduler implements Scheduler, PodEvictor {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #name: string;
  readonly #onError: (err: unknown) => void;
  readonly #cache = new SchedulerCache();
  readonly #queue: SchedulingQueue;
  readonly #fw: Framework;
  readonly #algo: SchedulingAlgorithm;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #namespaces: Informer<Namespace>;
  readonly #claims: Informer<PersistentVolumeClaim>;
  readonly #volumes: Informer<PersistentVolume>;
  readonly #classes: Informer<StorageClass>;
  readonly #volumeWriter: ApiVolumeWriter;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #eventWrites: WriteQueue;
  /** Pod uid → event key → the event already written (to fold repeats). */
  readonly #events = new Map<string, Map<string, EventRecord>>();
  readonly #instance = `${DEFAULT_SCHEDULER_NAME}-${hostname()}`;
  #eventSeq = 0;
  #stopped = false;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #stats = { scheduled: 0, bound: 0, bindFailures: 0, failedAttempts: 0, bindingsInFlight: 0 };

  constructor(o: SchedulerOptions) {
    this.#client = o.client;
    this.#clock = o.clock ?? realClock;
    this.#name = o.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.#onError = o.onError ?? ((err) => console.error(`tinykube scheduler: ${(err as Error)?.message ?? String(err)}`));
    this.#queue = new SchedulingQueue({
      clock: this.#clock,
      initialBackoffMs: o.initialBackoffMs,
      maxBackoffMs: o.maxBackoffMs,
    });
    this.#eventWrites = new WriteQueue({
      concurrency: EVENT_CONCURRENCY,
      maxQueued: EVENT_MAX_QUEUED,
      onError: (err) => {
        if (!this.#stopped) this.#onError(err);
      },
    });
    const informerOptions = { clock: this.#clock, pageSize: o.pageSize, onError: this.#onError };
    // Terminal pods hold no resources: leave them out, as kube-scheduler's pod informer does.
    // Cached trimmed (client/trim.ts): the scheduler reads no container env, probes or statuses.
    this.#pods = new Informer<Pod>(transformListWatch(listWatch<Pod>(o.client, Pods, undefined, { fieldSelector: 'status.phase!=Succeeded,status.phase!=Failed' }), trimPodForCache), informerOptions);
    this.#nodes = new Informer<Node>(listWatch<Node>(o.client, Nodes), informerOptions);
    this.#namespaces = new Informer<Namespace>(listWatch<Namespace>(o.client, Namespaces), informerOptions);
    this.#claims = new Informer<PersistentVolumeClaim>(listWatch<PersistentVolumeClaim>(o.client, PersistentVolumeClaims), informerOptions);
    this.#volumes = new Informer<PersistentVolume>(listWatch<PersistentVolume>(o.client, PersistentVolumes), informerOptions);
    this.#classes = new Informer<StorageClass>(listWatch<StorageClass>(o.client, StorageClasses), informerOptions);
    this.#volumeWriter = new ApiVolumeWriter(o.client, this.#clock, this.#abort.signal);
    this.#fw = new Framework({
      registry,
      plugins: o.plugins ?? defaultPlugins,
      nodes: this.#cache,
      namespaceLabels: (ns) => this.#namespaces.store.get(undefined, ns)?.metadata?.labels,
      persistentVolumeClaim: (ns, name) => this.#claims.store.get(ns, name),
      evictor: this,
      bindPod: (pod, node) => this.#postBinding(pod, node),
      volumes: {
        persistentVolume: (name) => this.#volumes.store.get(undefined, name),
        persistentVolumes: () => this.#volumes.store.list(),
        storageClass: (name) => this.#classes.store.get(undefined, name),
      },
      volumeWriter: this.#volumeWriter,
    });
    this.#algo = new SchedulingAlgorithm(this.#fw, { percentageOfNodesToScore: o.percentageOfNodesToScore, random: o.random });
  }

  start(): void {
    this.#nodes.addEventHandler({
      onAdd: (n) => {
        this.#cache.addOrUpdateNode(n);
        this.#queue.moveAllToActiveOrBackoff('NodeAdd');
      },
      onUpdate: (a, b) => {
        this.#cache.addOrUpdateNode(b);
        if (schedulingPropertiesChanged(a, b)) this.#queue.moveAllToActiveOrBackoff('NodeUpdate');
      },
      onDelete: (n) => this.#cache.removeNode(n.metadata?.name ?? ''),
    });
    // A claim created, bound or gone can change VolumeBinding's answer (its PersistentVolumeClaim
    // Add/Update events); the pods it rejected are retried.
    this.#claims.addEventHandler({
      onAdd: () => {
        this.#queue.moveAllToActiveOrBackoff('PvcAdd');
        this.#volumeWriter.claimChanged();
      },
      onUpdate: () => {
        this.#queue.moveAllToActiveOrBackoff('PvcUpdate');
        this.#volumeWriter.claimChanged();
      },
    });
    // So can a volume or a class appearing or changing (PvAdd, PvUpdate, StorageClassAdd).
    this.#volumes.addEventHandler({
      onAdd: () => this.#queue.moveAllToActiveOrBackoff('PvAdd'),
      onUpdate: () => this.#queue.moveAllToActiveOrBackoff('PvUpdate'),
    });
    this.#classes.addEventHandler({
      onAdd: () => this.#queue.moveAllToActiveOrBackoff('StorageClassAdd'),
      onUpdate: () => this.#queue.moveAllToActiveOrBackoff('StorageClassUpdate'),
    });
    this.#pods.addEventHandler({
      onAdd: (p) => this.#podAdded(p),
      onUpdate: (a, b) => this.#podUpdated(a, b),
      onDelete: (p) => this.#podDeleted(p),
    });
    this.#nodes.start();
    this.#pods.start();
    this.#namespaces.start();
    this.#claims.start();
    this.#volumes.start();
    this.#classes.start();
    this.#loop = this.#run().catch((err) => this.#onError(err));
  }

  /** Rejects with the abort reason if the scheduler is stopped first. */
  async waitForSync(): Promise<void> {
    await Promise.all([this.#pods.waitForSync(this.#abort.signal), this.#nodes.waitForSync(this.#abort.signal), this.#claims.waitForSync(this.#abort.signal), this.#volumes.waitForSync(this.#abort.signal), this.#classes.waitForSync(this.#abort.signal)]);
  }

  stats(): SchedulerStats {
    return { ...this.#stats, eventsPending: this.#eventWrites.length, eventsDropped: this.#eventWrites.dropped, queue: this.#queue.lengths };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort(new Error('scheduler stopped'));
    this.#queue.close();
    await Promise.all([this.#pods.stop(), this.#nodes.stop(), this.#namespaces.stop(), this.#claims.stop(), this.#volumes.stop(), this.#classes.stop()]);
    await this.#loop;
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await this.#eventWrites.idle();
  }

  // --- informer handlers -------------------------------------------------------------------------

  #responsible(p: Pod): boolean {
    return (p.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.#name;
  }

  #podAdded(p: Pod): void {
    if (TERMINAL(p)) return;
    if (p.spec?.nodeName) this.#cache.addOrUpdatePod(p);
    else if (this.#responsible(p) && !p.metadata?.deletionTimestamp) this.#queue.add(p);
  }

  #podUpdated(a: Pod, b: Pod): void {
    if (TERMINAL(b)) return this.#podDeleted(b);
    const key = podKey(b);
    if (b.spec?.nodeName) {
      if (!a.spec?.nodeName) this.#queue.delete(b);
      this.#cache.addOrUpdatePod(b);
      // New labels on a placed pod can satisfy (or stop blocking) affinity and spreading of pending pods.
      if (a.spec?.nodeName && JSON.stringify(a.metadata?.labels ?? {}) !== JSON.stringify(b.metadata?.labels ?? {})) {
        this.#queue.moveAllToActiveOrBackoff('AssignedPodUpdate');
      }
      return;
    }
    // Being bound by us: the informer will deliver the bound pod; the queue must not take it again.
    if (this.#cache.isAssumed(key)) return;
    if (!this.#responsible(b) || b.metadata?.deletionTimestamp) {
      this.#queue.delete(b);
      return;
    }
    this.#queue.update(a, b);
  }

  #podDeleted(p: Pod): void {
    const key = podKey(p);
    if (p.spec?.nodeName || this.#cache.nodeOf(key) !== undefined) {
      this.#cache.removePod(p);
      this.#queue.moveAllToActiveOrBackoff('AssignedPodDelete');
    }
    this.#queue.delete(p);
    const uid = p.metadata?.uid;
    if (uid) this.#events.delete(uid);
  }

  // --- the loop ----------------------------------------------------------------------------------

  async #run(): Promise<void> {
    try {
      await this.waitForSync();
    } catch (err) {
      if (this.#stopped) return;
      throw err;
    }
    let sliceStart = performance.now();
    while (!this.#stopped) {
      const q = this.#queue.tryPop() ?? (await this.#queue.pop());
      if (!q) break;
      try {
        this.#scheduleOne(q);
      } catch (err) {
        this.#onError(err);
      }
      // Cycles never await; give informer events and binding answers a turn every few milliseconds.
      if (performance.now() - sliceStart > 4) {
        await new Promise<void>((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    }
  }

  #current(info: PodInfo): Pod | undefined {
    const cur = this.#pods.store.get(info.namespace, info.name);
    if (!cur || cur.metadata?.uid !== info.uid || cur.spec?.nodeName || cur.metadata?.deletionTimestamp || TERMINAL(cur)) return undefined;
    return cur;
  }

  #scheduleOne(q: QueuedPodInfo): void {
    const pod = q.podInfo;
    // Deleted, bound by someone else, or being deleted since it was queued (skipPodSchedule).
    if (!this.#current(pod) || this.#cache.isAssumed(pod.key)) return;
    const cycle = this.#queue.schedulingCycle;
    const r = this.#algo.schedule(pod);
    if (r.kind === 'scheduled') {
      const reserved = this.#fw.runReservePlugins(r.state, pod, r.nodeName);
      if (reserved.code !== 'Success') {
        this.#fw.runUnreservePlugins(r.state, pod, r.nodeName);
        this.#failed(q, cycle, { message: reserved.reasons.join(', '), error: true });
        return;
      }
      this.#cache.assume(pod, r.nodeName);
      this.#stats.scheduled++;
      this.#track(this.#bindingCycle(q, r.state, r.nodeName));
      return;
    }
    if (r.kind === 'unschedulable') {
      this.#failed(q, cycle, { message: r.message, statuses: r.fit?.nodeStatuses, nominatedNodeName: r.nominatedNodeName });
      return;
    }
    this.#failed(q, cycle, { message: r.status.reasons.join(', ') || 'scheduling failed', error: true });
  }

  async #bindingCycle(q: QueuedPodInfo, state: CycleState, nodeName: string): Promise<void> {
    const pod = q.podInfo;
    this.#stats.bindingsInFlight++;
    let status: Status;
    let preBound = false;
    try {
      status = await this.#fw.runPreBindPlugins(state, pod, nodeName);
      if (status.code === 'Success') {
        preBound = true;
        status = await this.#fw.runBindPlugins(state, pod, nodeName);
      }
    } finally {
      this.#stats.bindingsInFlight--;
    }
    if (status.code === 'Success') {
      this.#stats.bound++;
      this.#event(pod.pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.namespace}/${pod.name} to ${nodeName}`, 'Binding');
      this.#events.delete(pod.uid);
      return;
    }
    this.#stats.bindFailures++;
    this.#fw.runUnreservePlugins(state, pod, nodeName);
    this.#cache.forget(pod.key);
    // The room the pod held is free again.
    this.#queue.moveAllToActiveOrBackoff('AssignedPodDelete');
    if (!preBound) {
      // A PreBind write that lost a race (a volume taken meanwhile) is retried with fresh caches.
      this.#failed(q, this.#queue.schedulingCycle, { message: `running PreBind plugin ${JSON.stringify(status.plugin ?? '')}: ${status.reasons.join(', ')}`, error: true });
      return;
    }
    const err = status.error;
    // Already bound elsewhere or gone: the informer delivers the truth; nothing to retry.
    if (isNotFound(err) || isConflict(err)) return;
    this.#failed(q, this.#queue.schedulingCycle, { message: `Binding rejected: ${status.reasons.join(', ')}`, error: true });
  }

  #failed(q: QueuedPodInfo, cycle: number, f: { message: string; statuses?: ReadonlyMap<string, Status>; nominatedNodeName?: string; error?: boolean }): void {
    this.#stats.failedAttempts++;
    const cur = this.#current(q.podInfo);
    if (!cur) return;
    this.#queue.addUnschedulable({ ...q, podInfo: newPodInfo(cur) }, cycle, { error: f.error });
    this.#event(cur, 'Warning', 'FailedScheduling', failedSchedulingEventMessage(f.message, f.statuses), 'Scheduling');
    this.#updateStatus(cur, f.message, f.nominatedNodeName);
  }

  // updatePod: only when the condition (or nomination) actually changes, as Kubernetes does.
  #updateStatus(pod: Pod, msg: string, nominated: string | undefined): void {
    const prev = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const changed = !prev || prev.status !== 'False' || prev.reason !== 'Unschedulable' || prev.message !== msg;
    const nominate = nominated !== undefined && pod.status?.nominatedNodeName !== nominated;
    if (!changed && !nominate) return;
    const now = rfc3339(this.#clock.now());
    const status: Record<string, unknown> = {
      conditions: [{
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: msg,
        lastProbeTime: null,
        lastTransitionTime: prev && prev.status === 'False' ? prev.lastTransitionTime : now,
      }],
    };
    if (nominate) status.nominatedNodeName = nominated;
    this.#write(this.#client.patch(Pods, pod.metadata?.namespace, pod.metadata?.name ?? '', 'strategic', { status }, { subresource: 'status' }));
  }

  // --- API writes --------------------------------------------------------------------------------

  async #postBinding(pod: PodInfo, nodeName: string): Promise<void> {
    await this.#client.createSubresource(Pods, pod.namespace, pod.name, 'binding', {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
    });
  }

  /** PodEvictor: preemption victims are deleted through the API (graceful deletion applies). */
  evict(victim: PodInfo, preemptor: PodInfo, nodeName: string): void {
    this.#event(victim.pod, 'Normal', 'Preempted', `Preempted by pod ${preemptor.uid} on node ${nodeName}`, 'Preempting');
    this.#write(this.#client.delete(Pods, victim.namespace, victim.name, { preconditions: { uid: victim.uid } }).catch((err) => {
      if (!isNotFound(err)) throw err;
    }));
  }

  #event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string, action: string): void {
    const uid = pod.metadata?.uid ?? '';
    const ns = pod.metadata?.namespace ?? 'default';
    const now = rfc3339(this.#clock.now());
    let perPod = this.#events.get(uid);
    if (!perPod) this.#events.set(uid, (perPod = new Map()));
    const key = `${type}\u0000${reason}\u0000${message}`;
    const seen = perPod.get(key);
    if (seen) {
      seen.count++;
      const count = seen.count;
      const name = seen.name;
      const created = seen.created;
      void this.#eventWrites.push(async () => {
        await created;
        await this.#client.patch(Events, ns, name, 'merge', { count, lastTimestamp: now }).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      });
      return;
    }
    const name = `${pod.metadata?.name ?? 'pod'}.${(BigInt(this.#clock.now()) * 1_000_000n + BigInt(++this.#eventSeq % 1_000_000)).toString(16)}`;
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod.metadata?.name, uid, resourceVersion: pod.metadata?.resourceVersion },
      reason,
      message,
      type,
      action,
      source: { component: DEFAULT_SCHEDULER_NAME },
      reportingComponent: DEFAULT_SCHEDULER_NAME,
      reportingInstance: this.#instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    perPod.set(key, { name, count: 1, first: now, created: this.#eventWrites.push(() => this.#client.create(Events, ns, event)) });
  }

  /** Fire-and-forget write: failures are reported, never thrown into the loop; stop() waits for them. */
  #write(p: Promise<unknown>): void {
    this.#track(p.catch((err) => {
      if (!this.#stopped) throw err;
    }));
  }

  #track(p: Promise<unknown>): void {
    const q = p.catch((err) => this.#onError(err));
    this.#pending.add(q);
    void q.finally(() => this.#pending.delete(q));
  }
}

/** nodeSchedulingPropertiesChange: only these changes can make a pending pod fit; heartbeats cannot. */
function schedulingPropertiesChanged(a: Node, b: Node): boolean {
  if (Boolean(a.spec?.unschedulable) !== Boolean(b.spec?.unschedulable)) return true;
  const j = (v: unknown): string => JSON.stringify(v ?? null);
  if (j(a.metadata?.labels) !== j(b.metadata?.labels)) return true;
  if (j(a.spec?.taints) !== j(b.spec?.taints)) return true;
  if (j(a.status?.allocatable) !== j(b.status?.allocatable)) return true;
  const conds = (n: Node): string => j((n.status?.conditions ?? []).map((c) => [c.type, c.status]));
  return conds(a) !== conds(b);
}
