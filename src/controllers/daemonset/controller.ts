// The DaemonSet controller (kube-controller-manager's "daemonset-controller"): one pod per eligible
// node. Pods are made from the template with the DaemonSet's default tolerations, the
// `controller-revision-hash` and `pod-template-generation` labels, and a required node affinity
// `metadata.name In [node]` the default scheduler honours (kube stopped setting spec.nodeName itself).
// Each sync: the template's ControllerRevision (history), then — once the informers have seen the
// controller's own writes (expectations) — pods for nodes without one, deletions on nodes that stopped
// fitting, the rolling update (maxUnavailable / maxSurge) or nothing for OnDelete, history trimmed to
// revisionHistoryLimit, and the status kubectl's `rollout status` reads.
//
// Built by the manager with shared informers; start() once, stop() waits for the sync in flight.

import type { ControllerRevision, DaemonSet, KubeObject, Node, Pod } from '../../api/types.ts';
import type { LabelSelectorValue } from '../../api/labels.ts';
import { selectorOf } from '../../api/validation/workloads.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import { ControllerRevisions, DaemonSets, Pods } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';
import { ApiEventSink, type EventSink } from '../events.ts';
import { CONTROLLER_REVISION_HASH_LABEL, candidateRevisions, nextRevision, RevisionWriter, sameData, sortRevisions } from '../history/history.ts';
import type { SharedInformers } from '../informers.ts';
import { POD_BY_NAMESPACE } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { claim, controllerOf, type OwnerIdentity } from '../podcontrol/controllerref.ts';
import { Expectations } from '../podcontrol/expectations.ts';
import { computeHash } from '../podcontrol/hash.ts';
import { availableIn } from '../podcontrol/pods.ts';
import { slowStartBatch } from '../podcontrol/slowstart.ts';
import { podFromTemplate } from '../podcontrol/template.ts';
import { daemonPodTolerations, nodeNameAffinity, targetNodeName } from './eligibility.ts';
import { managePlan, rollingUpdatePlan, statusCounts, POD_TEMPLATE_GENERATION_LABEL, type NodePods } from './plan.ts';

export const DAEMONSET_CONTROLLER_COMPONENT = 'daemonset-controller';
/** The DaemonSet's annotation with its template generation (the strategy keeps it). */
const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
/** kube-controller-manager's BurstReplicas: creations and deletions per sync. */
export const BURST_REPLICAS = 250;
/** failedPodsBackoff: 1 s doubling to 15 min per DaemonSet and node. */
const FAILED_POD_BACKOFF_MS = { base: 1000, max: 15 * 60 * 1000 };

type Cached<T> = T & HasMetadata;
/** What claim() handles: an object with metadata. */
type Claimable<T> = T & KubeObject;

export interface DaemonSetControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  /** Where events go (default: our own sink, flushed on stop). */
  events?: EventSink;
  clock?: Clock;
  workers?: number;
  onError?: (err: unknown) => void;
}

export class DaemonSetController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #events: EventSink;
  readonly #ownSink: ApiEventSink | undefined;
  readonly #clock: Clock;
  readonly #loop: KeyLoop;
  readonly #expectations: Expectations;
  readonly #history: RevisionWriter;
  /** Failed-pod back-off per "<ds key>/<node>": when it ends and its current length. */
  readonly #failedBackoff = new Map<string, { until: number; delay: number }>();

  constructor(o: DaemonSetControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    this.#ownSink = o.events ? undefined : new ApiEventSink(o.client, this.#clock, DAEMONSET_CONTROLLER_COMPONENT);
    this.#events = o.events ?? this.#ownSink!;
    this.#expectations = new Expectations(this.#clock);
    this.#history = new RevisionWriter(o.client);
    this.#loop = new KeyLoop({ clock: o.clock, workers: o.workers, onError: o.onError ?? ((err) => console.error(`tinykube: daemonset controller: ${(err as Error).message}`)) });
  }

  #daemonSets() {
    return this.#informers.resource<Cached<DaemonSet>>(DaemonSets);
  }

  #revisions() {
    return this.#informers.resource<Cached<ControllerRevision>>(ControllerRevisions);
  }

  start(): void {
    const q = this.#loop.queue;
    const key = (o: HasMetadata) => `${o.metadata?.namespace}/${o.metadata?.name}`;
    const enqueueAll = () => {
      for (const ds of this.#daemonSets().store.list()) q.add(key(ds));
    };
    /** The DaemonSet controlling `obj`, or for an orphan every DaemonSet whose selector matches it. */
    const enqueueFor = (obj: { metadata?: KubeObject['metadata'] }) => {
      const ref = obj.metadata?.ownerReferences?.find((r) => r?.controller === true);
      if (ref) {
        if (ref.kind === 'DaemonSet') q.add(`${obj.metadata?.namespace}/${ref.name}`);
        return;
      }
      for (const ds of this.#daemonSets().store.list()) {
        if (ds.metadata?.namespace === obj.metadata?.namespace && selectorOf(ds.spec?.selector)?.matches(obj.metadata?.labels ?? {})) q.add(key(ds));
      }
    };
    const podGone = (p: Pod) => {
      const ref = controllerOf(p);
      if (ref?.kind !== 'DaemonSet') return;
      const k = `${p.metadata?.namespace}/${ref.name}`;
      this.#expectations.deletionObserved(k, p.metadata?.uid ?? '');
      q.add(k);
    };
    this.#loop.start(this.#informers, () => [
      this.#daemonSets().addEventHandler({
        onAdd: (ds) => q.add(key(ds)),
        onUpdate: (_o, ds) => q.add(key(ds)),
        onDelete: (ds) => {
          this.#expectations.forget(key(ds));
          q.add(key(ds));
        },
      }),
      this.#informers.pods().addEventHandler({
        onAdd: (p) => {
          if (p.metadata?.deletionTimestamp) return podGone(p);
          const ref = controllerOf(p);
          if (ref?.kind === 'DaemonSet') this.#expectations.creationObserved(`${p.metadata?.namespace}/${ref.name}`);
          enqueueFor(p);
        },
        onUpdate: (old, p) => {
          if (p.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) return podGone(p);
          const was = controllerOf(old);
          if (was?.kind === 'DaemonSet' && was.uid !== controllerOf(p)?.uid) q.add(`${old.metadata?.namespace}/${was.name}`);
          enqueueFor(p);
        },
        onDelete: podGone,
      }),
      this.#informers.nodes().addEventHandler({
        onAdd: enqueueAll,
        onUpdate: (old, n) => {
          // Only what eligibility reads matters; status heartbeats do not.
          if (!sameData(old.metadata?.labels, n.metadata?.labels) || !sameData(old.spec?.taints, n.spec?.taints)) enqueueAll();
        },
        onDelete: enqueueAll,
      }),
      this.#revisions().addEventHandler({
        onAdd: enqueueFor,
        onDelete: enqueueFor,
      }),
    ], (k) => this.sync(k));
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#ownSink?.flush();
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const ds = this.#daemonSets().store.get(namespace, name);
    if (!ds) {
      this.#expectations.forget(key);
      return;
    }
    const selector = selectorOf(ds.spec?.selector);
    // An invalid or empty selector is refused by validation; one in storage selects nothing here.
    if (!selector || selector.empty()) return;
    if (ds.metadata?.deletionTimestamp) return;
    const owner: OwnerIdentity & { namespace: string } = { apiVersion: 'apps/v1', kind: 'DaemonSet', name, uid: ds.metadata?.uid ?? '', namespace };
    const { current, old } = await this.#constructHistory(ds, owner, selector);
    const hash = current.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
    const nodes = this.#informers.nodes().store.list();
    const generation = templateGeneration(ds);

    if (!this.#expectations.satisfied(key)) {
      await this.#writeStatus(ds, nodes, await this.#nodePods(ds, owner, selector), hash, generation, false);
      return;
    }
    const nodePods = await this.#nodePods(ds, owner, selector);
    const plan = managePlan({ ds, nodes, nodePods, hash, now: this.#clock.now(), failedPodBackoff: (node) => this.#failedPodBackoff(`${key}/${node}`) });
    for (const f of plan.finished) {
      const msg = `Found ${f.failed ? 'failed' : 'succeeded'} daemon pod ${namespace}/${f.pod.metadata?.name} on node ${f.node}, will try to ${f.failed ? 'kill' : 'delete'} it`;
      this.#events.event(dsTarget(ds), f.failed ? 'Warning' : 'Normal', f.failed ? 'FailedDaemonPod' : 'SucceededDaemonPod', msg);
    }
    if (plan.retryAfterMs !== undefined) this.#loop.queue.addAfter(key, plan.retryAfterMs);
    let err = await this.#syncNodes(ds, key, plan.delete, plan.create, hash, generation);

    if (!err && this.#expectations.satisfied(key) && ds.spec?.updateStrategy?.type === 'RollingUpdate') {
      const rolling = rollingUpdatePlan({ ds, nodes, nodePods: await this.#nodePods(ds, owner, selector), hash, generation, now: this.#clock.now() });
      err = await this.#syncNodes(ds, key, rolling.delete, rolling.create, hash, generation);
    }
    await this.#cleanupHistory(ds, owner, selector, old);
    await this.#writeStatus(ds, nodes, await this.#nodePods(ds, owner, selector), hash, generation, true);
    if (err) throw err;
  }

  /** The DaemonSet's pods (claimed: orphans adopted, non-matching released) by target node. */
  async #nodePods(ds: DaemonSet, owner: OwnerIdentity & { namespace: string }, selector: LabelSelectorValue): Promise<NodePods> {
    const candidates = this.#informers.pods().store.byIndex(POD_BY_NAMESPACE, owner.namespace) as Claimable<Pod>[];
    const pods = await claim<Claimable<Pod>>({
      client: this.#client,
      ref: Pods,
      owner: { ...owner, deleting: !!ds.metadata?.deletionTimestamp },
      matches: (p) => selector.matches(p.metadata?.labels ?? {}),
      candidates,
      canAdopt: () => this.#canAdopt(owner),
    });
    const byNode: NodePods = new Map();
    for (const p of pods) {
      const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
      // A finished pod being deleted is the kubelet's or pod GC's business now.
      if (finished && p.metadata?.deletionTimestamp) continue;
      const node = targetNodeName(p);
      if (node === undefined) continue;
      const list = byNode.get(node);
      if (list) list.push(p);
      else byNode.set(node, [p]);
    }
    return byNode;
  }

  /** RecheckDeletionTimestamp: adopt only for the live, undeleted DaemonSet of this uid. */
  async #canAdopt(owner: OwnerIdentity & { namespace: string }): Promise<boolean> {
    try {
      const fresh = await this.#client.get<DaemonSet>(DaemonSets, owner.namespace, owner.name);
      return fresh.metadata?.uid === owner.uid && !fresh.metadata?.deletionTimestamp;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  #failedPodBackoff(k: string): number | undefined {
    const now = this.#clock.now();
    const b = this.#failedBackoff.get(k);
    if (b && now < b.until) return b.until - now;
    const delay = b ? Math.min(b.delay * 2, FAILED_POD_BACKOFF_MS.max) : FAILED_POD_BACKOFF_MS.base;
    this.#failedBackoff.set(k, { until: now + delay, delay });
    return undefined;
  }

  /**
   * syncNodes: deletes `remove` and makes a pod for each of `create`, at most BURST_REPLICAS of
   * each, creations in slow-start batches. Returns the first failure (the sync then backs off).
   */
  async #syncNodes(ds: DaemonSet, key: string, remove: readonly Pod[], create: readonly string[], hash: string, generation: number | undefined): Promise<unknown> {
    const creates = create.slice(0, BURST_REPLICAS);
    const deletes = remove.slice(0, BURST_REPLICAS);
    if (creates.length === 0 && deletes.length === 0) {
      this.#expectations.expect(key, 0);
      return undefined;
    }
    this.#expectations.expect(key, creates.length, deletes.map((p) => p.metadata?.uid ?? ''));
    const namespace = ds.metadata?.namespace ?? '';
    const owner: OwnerIdentity = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata?.name ?? '', uid: ds.metadata?.uid ?? '' };
    const template = ds.spec?.template;
    const labels: Record<string, string> = { [CONTROLLER_REVISION_HASH_LABEL]: hash };
    if (generation !== undefined) labels[POD_TEMPLATE_GENERATION_LABEL] = String(generation);
    let firstError: unknown;

    const started = slowStartBatch(creates.length, async (i) => {
      const pod = podFromTemplate(template, owner, namespace, { labels });
      const spec = pod.spec!;
      spec.tolerations = daemonPodTolerations(spec);
      spec.affinity = nodeNameAffinity(spec.affinity, creates[i]);
      try {
        const made = await this.#client.create<Cached<Pod>>(Pods, namespace, pod as Cached<Pod>);
        this.#events.event(dsTarget(ds), 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata?.name}`);
      } catch (err) {
        this.#expectations.creationObserved(key);
        this.#events.event(dsTarget(ds), 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`);
        throw err;
      }
    });
    const deleted = Promise.all(
      deletes.map(async (p) => {
        try {
          await this.#client.delete(Pods, namespace, p.metadata?.name ?? '', { preconditions: { uid: p.metadata?.uid } });
          this.#events.event(dsTarget(ds), 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
        } catch (err) {
          this.#expectations.deletionObserved(key, p.metadata?.uid ?? '');
          if (isNotFound(err) || isConflict(err)) return;
          this.#events.event(dsTarget(ds), 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`);
          firstError ??= err;
        }
      }),
    );
    const result = await started;
    // Creations never attempted will not be observed either.
    for (let i = 0; i < result.skipped; i++) this.#expectations.creationObserved(key);
    await deleted;
    return result.error ?? firstError;
  }

  /**
   * constructHistory: the revision matching the current template (made when missing, renumbered to
   * be the newest when an old one is rolled back to) and the others.
   */
  async #constructHistory(ds: DaemonSet, owner: OwnerIdentity & { namespace: string }, selector: LabelSelectorValue): Promise<{ current: ControllerRevision; old: ControllerRevision[] }> {
    const revisions = await claim<Claimable<ControllerRevision>>({
      client: this.#client,
      ref: ControllerRevisions,
      owner: { ...owner, deleting: !!ds.metadata?.deletionTimestamp },
      matches: (r) => selector.matches(r.metadata?.labels ?? {}),
      candidates: candidateRevisions(this.#revisions().store.list(), owner, selector) as Claimable<ControllerRevision>[],
      canAdopt: () => this.#canAdopt(owner),
    });
    const data = revisionData(ds);
    const matching: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (const r of revisions) (sameData(r.data, data) ? matching : old).push(r);
    const next = nextRevision(old);
    if (matching.length === 0) return { current: await this.#snapshot(ds, owner, next), old };
    // Duplicates (a race between two syncs) collapse into the newest.
    const sorted = sortRevisions(matching);
    let current = sorted[sorted.length - 1];
    for (const dup of sorted.slice(0, -1)) await this.#history.delete(dup);
    if ((current.revision ?? 0) < next) current = await this.#history.updateRevision(current, next);
    return { current, old };
  }

  /** snapshot: a new revision named <ds>-<template hash>; a name taken by other data bumps status.collisionCount. */
  async #snapshot(ds: DaemonSet, owner: OwnerIdentity & { namespace: string }, revision: number): Promise<ControllerRevision> {
    const collisionCount = ds.status?.collisionCount ?? 0;
    const hash = computeHash(ds.spec?.template, collisionCount);
    const name = `${owner.name}-${hash}`;
    const body: Cached<ControllerRevision> = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace: owner.namespace,
        labels: { ...ds.spec?.template?.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash },
        ...(ds.metadata?.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
        ownerReferences: [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }],
      },
      data: revisionData(ds) as ControllerRevision['data'],
      revision,
    };
    try {
      return await this.#client.create(ControllerRevisions, owner.namespace, body);
    } catch (err) {
      if (!isAlreadyExistsError(err)) throw err;
      const existing = await this.#client.get<ControllerRevision>(ControllerRevisions, owner.namespace, name);
      if (sameData(existing.data, body.data)) return existing;
      // A different template hashed to this name: bump the collision count (from a fresh read, so a
      // stale cache never bumps it twice) and retry with the next hash.
      const fresh = await this.#client.get<Cached<DaemonSet>>(DaemonSets, owner.namespace, owner.name);
      if ((fresh.status?.collisionCount ?? 0) !== collisionCount) throw new Error(`found a stale collision count (${collisionCount}, expected ${fresh.status?.collisionCount ?? 0}) of DaemonSet "${owner.name}" while processing; will retry until it is updated`);
      await this.#client.updateStatus(DaemonSets, owner.namespace, { ...fresh, status: { ...fresh.status!, collisionCount: collisionCount + 1 } });
      throw err;
    }
  }

  /**
   * cleanupHistory: the oldest revisions beyond revisionHistoryLimit go, except those a live pod
   * still carries the hash of.
   */
  async #cleanupHistory(ds: DaemonSet, owner: OwnerIdentity & { namespace: string }, selector: LabelSelectorValue, old: readonly ControllerRevision[]): Promise<void> {
    let toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const p of this.#informers.pods().store.byIndex(POD_BY_NAMESPACE, owner.namespace)) {
      if (controllerOf(p)?.uid !== owner.uid || !selector.matches(p.metadata?.labels ?? {})) continue;
      const h = p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      if (h) live.add(h);
    }
    for (const r of sortRevisions(old)) {
      if (toKill <= 0) break;
      if (live.has(r.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '')) continue;
      await this.#history.delete(r);
      toKill--;
    }
  }

  /** storeDaemonSetStatus: written when a count changed or the generation is newly observed. */
  async #writeStatus(ds: Cached<DaemonSet>, nodes: readonly Node[], nodePods: NodePods, hash: string, generation: number | undefined, observe: boolean): Promise<void> {
    const now = this.#clock.now();
    const counts = statusCounts(ds, nodes, nodePods, hash, generation, now);
    const observedGeneration = observe ? (ds.metadata?.generation ?? 0) : ds.status?.observedGeneration;
    const status = { ...ds.status, ...counts, ...(observedGeneration ? { observedGeneration } : {}) };
    for (const k of ['updatedNumberScheduled', 'numberAvailable', 'numberUnavailable'] as const) if (!status[k]) delete status[k];
    if (!sameData(status, ds.status ?? {})) {
      try {
        await this.#client.updateStatus(DaemonSets, ds.metadata?.namespace, { ...ds, status });
      } catch (err) {
        // Gone meanwhile: nothing to report on.
        if (!isNotFound(err)) throw err;
      }
    }
    // Availability after minReadySeconds is marked by no event: look again then.
    const minReady = ds.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && counts.numberReady !== counts.numberAvailable) {
      let soonest = minReady * 1000;
      for (const pods of nodePods.values()) for (const p of pods) soonest = Math.min(soonest, availableIn(p, minReady, now) ?? soonest);
      // Absolute: `now` was read before the status write, and the clock moved meanwhile.
      this.#loop.queue.addAt(`${ds.metadata?.namespace}/${ds.metadata?.name}`, now + soonest);
    }
  }
}

function isAlreadyExistsError(err: unknown): boolean {
  return (err as { reason?: string } | undefined)?.reason === 'AlreadyExists';
}

function dsTarget(ds: DaemonSet) {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: ds.metadata?.namespace, name: ds.metadata?.name ?? '', uid: ds.metadata?.uid };
}

/** GetTemplateGeneration: the annotation's value, or undefined when absent or not a number. */
export function templateGeneration(ds: DaemonSet): number | undefined {
  const v = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) ? n : undefined;
}

/**
 * getPatch: what a revision stores, a strategic merge patch that puts the template back (kubectl
 * rollout undo sends it as is).
 */
export function revisionData(ds: DaemonSet): { spec: { template: Record<string, unknown> } } {
  return { spec: { template: { ...structuredClone(ds.spec?.template ?? {}), $patch: 'replace' } } };
}
