// The StatefulSet controller (kube-controller-manager's "statefulset-controller"): keeps each set's
// members `<set>-<ordinal>` in order (plan.ts), records its templates as ControllerRevisions (the
// shared history module) so pods carry the revision they were made from and `kubectl rollout
// history|undo sts` work, and reports replicas, readiness and revisions in the set's status.
//
// Built by the manager; start() subscribes to StatefulSets, pods and ControllerRevisions on the shared
// informers. Syncs of one set never run concurrently (the work queue). A sync whose writes fail
// throws, so the queue retries it with backoff; refused pod creations are also told as FailedCreate
// events on the set, which `kubectl describe sts` shows.

import type { ControllerRevision, KubeObject, PersistentVolumeClaim, Pod, PodTemplateSpec, StatefulSet, StatefulSetStatus } from '../../api/types.ts';
import { fromLabelSelector, LabelSelectorError, type LabelSelectorValue } from '../../api/labels.ts';
import type { ApiClient, HasMetadata } from '../../client/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.ts';
import { ControllerRevisions, PersistentVolumeClaims, Pods, StatefulSets } from '../../client/resources.ts';
import type { Informer } from '../../client/informer.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';
import { ApiEventSink, type EventSink, type EventTarget } from '../events.ts';
import { candidateRevisions, equalRevision, findEqualRevisions, newRevision, nextRevision, revisionsToTruncate, RevisionWriter, sortRevisions, type RevisionOwner } from '../history/history.ts';
import { POD_BY_NAMESPACE, type SharedInformers } from '../informers.ts';
import { KeyLoop } from '../keyloop.ts';
import { claim, controllerOf } from '../podcontrol/controllerref.ts';
import { Expectations } from '../podcontrol/expectations.ts';
import { slowStartBatch } from '../podcontrol/slowstart.ts';
import { claimsFor, endOrdinal, identityLabels, isMemberOf, newStatefulPod, ordinalOf, podRevision, startOrdinal } from './identity.ts';
import { completeRollingUpdate, plan, type Action, type Revision } from './plan.ts';

export const STATEFULSET_CONTROLLER_COMPONENT = 'statefulset-controller';

/** A claim of the member exists but is on its way out: the pod waits for it to go (then it is made again). */
export class ClaimBeingDeletedError extends Error {
  readonly code = 'ERR_STATEFULSET_CLAIM_DELETING';
  constructor(claimName: string) {
    super(`pvc ${claimName} is being deleted`);
    this.name = 'ClaimBeingDeletedError';
  }
}

type SetObject = StatefulSet & HasMetadata;
type RevisionObject = ControllerRevision & HasMetadata & KubeObject;
type PodObject = Pod & HasMetadata & KubeObject;

export interface StatefulSetControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  events?: EventSink;
  workers?: number;
  onError?: (err: unknown) => void;
}

export class StatefulSetController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #events: EventSink;
  readonly #ownSink: ApiEventSink | undefined;
  readonly #loop: KeyLoop;
  readonly #expectations: Expectations;
  readonly #history: RevisionWriter;

  constructor(o: StatefulSetControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    if (o.events) this.#events = o.events;
    else this.#events = this.#ownSink = new ApiEventSink(o.client, this.#clock, STATEFULSET_CONTROLLER_COMPONENT);
    this.#expectations = new Expectations(this.#clock);
    this.#history = new RevisionWriter(o.client);
    this.#loop = new KeyLoop({
      clock: o.clock,
      workers: o.workers ?? 2,
      onError: o.onError ?? ((err) => console.error(`tinykube: statefulset controller: ${(err as Error).message}`)),
      // A cache behind our own writes (the pod or revision exists already, or changed meanwhile), or
      // the set deleted meanwhile: the retry sees the truth.
      quiet: (err) => isConflict(err) || isAlreadyExists(err) || isNotFound(err),
    });
  }

  #sets(): Informer<SetObject> {
    return this.#informers.resource<SetObject>(StatefulSets);
  }

  #revisions(): Informer<RevisionObject> {
    return this.#informers.resource<RevisionObject>(ControllerRevisions);
  }

  start(): void {
    const q = this.#loop.queue;
    const keyOf = (o: HasMetadata) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    // The claims' cache (shared with the volume controllers), read to keep the retention policy's owners.
    this.#informers.resource<PersistentVolumeClaim & HasMetadata>(PersistentVolumeClaims);
    this.#loop.start(
      this.#informers,
      () => [
        this.#sets().addEventHandler({
          onAdd: (s) => q.add(keyOf(s)),
          onUpdate: (_o, s) => q.add(keyOf(s)),
          onDelete: (s) => {
            this.#expectations.forget(keyOf(s));
            q.add(keyOf(s));
          },
        }),
        this.#informers.pods().addEventHandler({
          onAdd: (p) => {
            if (p.metadata?.deletionTimestamp) return this.#podDeleted(p);
            const owner = this.#ownerKey(p);
            if (owner) {
              this.#expectations.creationObserved(owner);
              q.add(owner);
            } else if (!controllerOf(p)) for (const k of this.#matchingSets(p)) q.add(k);
          },
          onUpdate: (old, p) => {
            if (p.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) return this.#podDeleted(p);
            const was = this.#ownerKey(old);
            const now = this.#ownerKey(p);
            if (was && was !== now) q.add(was);
            if (now) q.add(now);
            else if (!controllerOf(p)) for (const k of this.#matchingSets(p)) q.add(k);
          },
          onDelete: (p) => this.#podDeleted(p),
        }),
        this.#revisions().addEventHandler({
          onAdd: (r) => this.#revisionChanged(r),
          onUpdate: (_o, r) => this.#revisionChanged(r),
          onDelete: (r) => this.#revisionChanged(r),
        }),
      ],
      (key) => this.sync(key),
    );
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#ownSink?.flush();
  }

  #ownerKey(obj: KubeObject): string | undefined {
    const ref = controllerOf(obj);
    if (ref?.kind !== 'StatefulSet' || !ref.apiVersion?.startsWith('apps/')) return undefined;
    const ns = obj.metadata?.namespace ?? '';
    const set = this.#sets().store.get(ns, ref.name ?? '');
    return set && set.metadata?.uid === ref.uid ? `${ns}/${ref.name}` : undefined;
  }

  #podDeleted(p: Pod): void {
    const owner = this.#ownerKey(p);
    if (!owner) return;
    if (p.metadata?.uid) this.#expectations.deletionObserved(owner, p.metadata.uid);
    this.#loop.queue.add(owner);
  }

  #revisionChanged(r: ControllerRevision): void {
    const owner = this.#ownerKey(r as KubeObject);
    if (owner) this.#loop.queue.add(owner);
  }

  /** Sets in the pod's namespace whose selector and name match it (orphans to adopt). */
  #matchingSets(p: Pod): string[] {
    const out: string[] = [];
    for (const s of this.#sets().store.list()) {
      if (s.metadata?.namespace !== p.metadata?.namespace || !isMemberOf(s, p)) continue;
      const sel = selectorOf(s);
      if (sel && !sel.empty() && sel.matches(p.metadata?.labels ?? {})) out.push(`${s.metadata?.namespace}/${s.metadata?.name}`);
    }
    return out;
  }

  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const cached = this.#sets().store.get(ns, name);
    if (!cached) {
      this.#expectations.forget(key);
      return;
    }
    const set = structuredClone(cached) as SetObject;
    const selector = selectorOf(set);
    // An invalid or empty selector would select nothing or everything; validation refuses both.
    if (!selector || selector.empty()) return;
    const owner: RevisionOwner & { deleting: boolean } = { apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid: set.metadata?.uid ?? '', namespace: ns, deleting: !!set.metadata?.deletionTimestamp };
    const canAdopt = async () => {
      const fresh = await this.#client.get<StatefulSet>(StatefulSets, ns, name);
      return fresh.metadata?.uid === owner.uid && !fresh.metadata?.deletionTimestamp;
    };

    const revisionCandidates = candidateRevisions(this.#revisions().store.list(), owner, selector);
    const revisions = sortRevisions(await claim<RevisionObject>({ client: this.#client, ref: ControllerRevisions, owner, matches: (r) => selector.matches(r.metadata?.labels ?? {}), candidates: revisionCandidates, canAdopt }));
    const podCandidates = this.#informers.pods().store.byIndex(POD_BY_NAMESPACE, ns);
    const pods = await claim<PodObject>({
      client: this.#client,
      ref: Pods,
      owner,
      matches: (p) => isMemberOf(set, p) && selector.matches(p.metadata?.labels ?? {}),
      candidates: podCandidates.filter((p) => isMemberOf(set, p)) as PodObject[],
      canAdopt,
    });

    const { current, update, collisionCount, updateRecord, currentRecord } = await this.#revisionsOf(set, owner, revisions);
    const p = plan({ set, current, update, collisionCount, pods, now: this.#clock.now() });
    // Until the cache has seen our last creations and deletions, only the status is brought up to date.
    const err = this.#expectations.satisfied(key) ? await this.#run(set, owner, p.phases, p.monotonic, key) : undefined;
    if (!owner.deleting) await this.#claimOwnership(set, owner, pods);
    await this.#writeStatus(set, p.status);
    await this.#truncateHistory(set, pods, revisions, currentRecord, updateRecord);
    if (p.requeueAt !== undefined) this.#loop.queue.addAt(key, p.requeueAt + 1);
    if (err) throw err;
  }

  /**
   * getStatefulSetRevisions: the update revision is the set's template (made, or an equal older one
   * renumbered to roll back to it); the current one is the status' currentRevision, or the update
   * revision for a new set.
   */
  async #revisionsOf(set: StatefulSet, owner: RevisionOwner, revisions: ControllerRevision[]): Promise<{ current: Revision; update: Revision; collisionCount: number; currentRecord: ControllerRevision; updateRecord: ControllerRevision }> {
    let collisionCount = set.status?.collisionCount ?? 0;
    const wanted = newRevision(owner, set.spec?.template?.metadata?.labels, revisionData(set), nextRevision(revisions), collisionCount);
    if (set.metadata?.annotations) wanted.metadata!.annotations = { ...set.metadata.annotations };
    const equal = findEqualRevisions(revisions, wanted);
    let updateRecord: ControllerRevision;
    const last = revisions[revisions.length - 1];
    if (equal.length > 0 && equalRevision(last, equal[equal.length - 1])) updateRecord = last;
    else if (equal.length > 0) updateRecord = await this.#history.updateRevision(equal[equal.length - 1], wanted.revision ?? 1);
    else {
      const made = await this.#history.create(owner, wanted, collisionCount);
      updateRecord = made.revision;
      collisionCount = made.collisionCount;
    }
    const currentRecord = revisions.find((r) => r.metadata?.name === set.status?.currentRevision) ?? updateRecord;
    return { current: toRevision(currentRecord, set), update: toRevision(updateRecord, set), collisionCount, currentRecord, updateRecord };
  }

  /** Runs the plan's phases; returns the first failure (after which nothing more is tried). */
  async #run(set: StatefulSet, owner: RevisionOwner, phases: Action[][], monotonic: boolean, key: string): Promise<unknown> {
    for (const actions of phases) {
      if (actions.length === 0) continue;
      const creates = actions.filter((a) => a.type === 'create').length;
      const deletes = actions.flatMap((a) => (a.type === 'delete' && a.pod.metadata?.uid ? [a.pod.metadata.uid] : []));
      this.#expectations.expect(key, creates, deletes);
      const one = async (a: Action) => {
        try {
          await this.#act(set, owner, a);
        } catch (err) {
          if (a.type === 'create') this.#expectations.creationObserved(key);
          if (a.type === 'delete' && a.pod.metadata?.uid) this.#expectations.deletionObserved(key, a.pod.metadata.uid);
          throw err;
        }
      };
      if (monotonic) {
        for (const a of actions) {
          try {
            await one(a);
          } catch (err) {
            return err;
          }
        }
      } else {
        const r = await slowStartBatch(actions.length, (i) => one(actions[i]));
        if (r.error !== undefined) {
          for (let i = 0; i < r.skipped; i++) {
            const a = actions[actions.length - 1 - i];
            if (a.type === 'create') this.#expectations.creationObserved(key);
            if (a.type === 'delete' && a.pod.metadata?.uid) this.#expectations.deletionObserved(key, a.pod.metadata.uid);
          }
          return r.error;
        }
      }
    }
    return undefined;
  }

  /**
   * persistentVolumeClaimRetentionPolicy.whenScaled: Delete (updateClaimOwnerRefForSetAndPod): before a
   * member condemned by a scale-down goes, its claims lose the set as owner and gain the pod, so the
   * garbage collector removes them with the pod. A claim already gone is nothing to do.
   */
  async #handClaimsToPod(set: StatefulSet, owner: RevisionOwner, pod: Pod): Promise<void> {
    const podRef = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
    for (const c of claimsFor(set, owner, ordinalOf(pod))) {
      const name = c.metadata?.name ?? '';
      try {
        const cur = await this.#client.get<KubeObject & HasMetadata>(PersistentVolumeClaims, owner.namespace, name);
        const refs = (cur.metadata?.ownerReferences ?? []).filter((r) => r.uid !== owner.uid && r.uid !== podRef.uid);
        await this.#client.update(PersistentVolumeClaims, owner.namespace, { ...cur, metadata: { ...cur.metadata, ownerReferences: [...refs, podRef] } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /**
   * The retention policy as it is now, on the claims of the members the set keeps
   * (updateClaimOwnerRefForSetAndPod for pods that are not condemned): with whenDeleted: Delete the set
   * owns each claim, with Retain it does not; a member kept (again) takes back a claim it was handed
   * at a scale-down. So a policy changed after the claims were made applies to them, as in kube.
   * Reads the claims from the shared cache; writes only claims whose owners differ.
   */
  async #claimOwnership(set: StatefulSet, owner: RevisionOwner, pods: readonly Pod[]): Promise<void> {
    if ((set.spec?.volumeClaimTemplates ?? []).length === 0) return;
    const claims = this.#informers.resource<PersistentVolumeClaim & HasMetadata>(PersistentVolumeClaims);
    if (!claims.hasSynced()) return;
    const byDelete = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
    const last = endOrdinal(set);
    for (const pod of pods) {
      const ordinal = ordinalOf(pod);
      if (ordinal < startOrdinal(set) || ordinal > last || pod.metadata?.deletionTimestamp) continue;
      for (const want of claimsFor(set, owner, ordinal)) {
        const cur = claims.store.get(owner.namespace, want.metadata?.name ?? '');
        if (!cur || cur.metadata?.deletionTimestamp) continue;
        const refs = cur.metadata?.ownerReferences ?? [];
        const kept = refs.filter((r) => r.uid !== owner.uid && !(r.kind === 'Pod' && r.name === pod.metadata?.name));
        const next = byDelete ? [...kept, ...(want.metadata?.ownerReferences ?? [])] : kept;
        if (JSON.stringify(next) === JSON.stringify(refs)) continue;
        try {
          await this.#client.update(PersistentVolumeClaims, owner.namespace, { ...cur, metadata: { ...cur.metadata, ownerReferences: next.length > 0 ? next : undefined } });
        } catch (err) {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        }
      }
    }
  }

  async #act(set: StatefulSet, owner: RevisionOwner, a: Action): Promise<void> {
    const target = targetOf(set);
    const ns = owner.namespace;
    switch (a.type) {
      case 'create': {
        const pod = newStatefulPod(set, owner, a.revision.template, a.ordinal, a.revision.name);
        const podName = pod.metadata?.name ?? '';
        await this.#createClaims(set, owner, a.ordinal, podName);
        try {
          await this.#client.create(Pods, ns, pod as Pod & HasMetadata);
        } catch (err) {
          // One made meanwhile is the cache being behind: retried quietly, no event.
          if (!isAlreadyExists(err)) this.#events.event(target, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${owner.name} failed error: ${messageOf(err)}`);
          throw err;
        }
        this.#events.event(target, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${owner.name} successful`);
        return;
      }
      case 'delete': {
        const podName = a.pod.metadata?.name ?? '';
        if (a.reason === 'scaleDown' && set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') await this.#handClaimsToPod(set, owner, a.pod);
        try {
          await this.#client.delete(Pods, ns, podName, { preconditions: { uid: a.pod.metadata?.uid } });
        } catch (err) {
          if (isNotFound(err) || isConflict(err)) return;
          this.#events.event(target, 'Warning', 'FailedDelete', `delete Pod ${podName} in StatefulSet ${owner.name} failed error: ${messageOf(err)}`);
          throw err;
        }
        this.#events.event(target, 'Normal', 'SuccessfulDelete', `delete Pod ${podName} in StatefulSet ${owner.name} successful`);
        return;
      }
      case 'fixIdentity': {
        const podName = a.pod.metadata?.name ?? '';
        try {
          await this.#client.patch(Pods, ns, podName, 'strategic', { metadata: { uid: a.pod.metadata?.uid, labels: identityLabels(a.pod) } });
        } catch (err) {
          if (isNotFound(err) || isConflict(err)) return;
          this.#events.event(target, 'Warning', 'FailedUpdate', `update Pod ${podName} in StatefulSet ${owner.name} failed error: ${messageOf(err)}`);
          throw err;
        }
        this.#events.event(target, 'Normal', 'SuccessfulUpdate', `update Pod ${podName} in StatefulSet ${owner.name} successful`);
        return;
      }
    }
  }

  /**
   * createPersistentVolumeClaims: each claim of the member that does not exist yet is made before the
   * pod; a claim that cannot be made (or is being deleted) fails the sync before the pod is created,
   * so the pod never starts without its storage. The queue retries with backoff.
   */
  async #createClaims(set: StatefulSet, owner: RevisionOwner, ordinal: number, podName: string): Promise<void> {
    const claims = claimsFor(set, owner, ordinal);
    const target = targetOf(set);
    for (const c of claims) {
      const claimName = c.metadata?.name ?? '';
      const failed = (err: unknown): void => {
        this.#events.event(target, 'Warning', 'FailedCreate', `create Claim ${claimName} for Pod ${podName} in StatefulSet ${owner.name} failed error: ${messageOf(err)}`);
      };
      let existing: { metadata?: { deletionTimestamp?: string } } | undefined;
      try {
        existing = await this.#client.get(PersistentVolumeClaims, owner.namespace, claimName);
      } catch (err) {
        if (!isNotFound(err)) {
          failed(err);
          throw err;
        }
      }
      if (existing) {
        if (existing.metadata?.deletionTimestamp) throw new ClaimBeingDeletedError(claimName);
        continue;
      }
      try {
        await this.#client.create(PersistentVolumeClaims, owner.namespace, c as typeof c & HasMetadata);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        failed(err);
        throw err;
      }
      this.#events.event(target, 'Normal', 'SuccessfulCreate', `create Claim ${claimName} Pod ${podName} in StatefulSet ${owner.name} success`);
    }
  }

  /**
   * updateStatefulSetStatus: written only when it differs (inconsistentStatus), as an update of the
   * status subresource (the verb kube's statefulset-controller role grants), retried on a conflict
   * with the same computed status onto the fresh object, as kube's RetryOnConflict.
   */
  async #writeStatus(set: SetObject, computed: StatefulSetStatus): Promise<void> {
    const status: StatefulSetStatus = { ...computed };
    completeRollingUpdate(set, status);
    const old = set.status ?? { replicas: 0 };
    const same = (['observedGeneration', 'replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'currentRevision', 'updateRevision', 'collisionCount'] as const).every((k) => (old[k] ?? 0) === (status[k] ?? 0));
    if (same) return;
    // The wire form: replicas and availableReplicas always, the other counts omitted when zero.
    const write = (base: StatefulSetStatus | undefined): StatefulSetStatus => {
      const next: StatefulSetStatus = { ...base, replicas: status.replicas, availableReplicas: status.availableReplicas ?? 0 };
      for (const k of ['readyReplicas', 'currentReplicas', 'updatedReplicas'] as const) {
        if (status[k]) next[k] = status[k];
        else delete next[k];
      }
      if (status.observedGeneration !== undefined) next.observedGeneration = status.observedGeneration;
      if (status.currentRevision !== undefined) next.currentRevision = status.currentRevision;
      if (status.updateRevision !== undefined) next.updateRevision = status.updateRevision;
      if (status.collisionCount !== undefined) next.collisionCount = status.collisionCount;
      return next;
    };
    const ns = set.metadata?.namespace;
    let target: SetObject = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#client.updateStatus(StatefulSets, ns, { ...target, status: write(target.status) });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw err;
        const fresh = await this.#client.get<SetObject>(StatefulSets, ns, set.metadata?.name ?? '');
        // Deleted and made again meanwhile: that set's own sync writes its status.
        if (fresh.metadata?.uid !== set.metadata?.uid) return;
        target = fresh;
      }
    }
  }

  /** truncateHistory: revisions neither current, update, nor worn by a pod, beyond revisionHistoryLimit. */
  async #truncateHistory(set: StatefulSet, pods: readonly Pod[], revisions: readonly ControllerRevision[], current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const live = new Set([current.metadata?.name, update.metadata?.name, ...pods.map(podRevision)]);
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    for (const r of revisionsToTruncate(revisions, Math.max(0, limit), (r) => live.has(r.metadata?.name))) await this.#history.delete(r);
  }
}

/**
 * A revision's data (getPatch): the set's template as a strategic merge patch that replaces it, which
 * is also what `kubectl rollout undo` applies to the set.
 */
export function revisionData(set: StatefulSet): { spec: { template: Record<string, unknown> } } {
  return { spec: { template: { ...structuredClone(set.spec?.template ?? {}), $patch: 'replace' } } };
}

/** ApplyRevision: the template a revision records (the set's own when the data is not a template patch). */
export function templateOf(r: ControllerRevision, set: StatefulSet): PodTemplateSpec | undefined {
  const data = r.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const t = data?.spec?.template;
  if (!t || typeof t !== 'object') return set.spec?.template;
  const { $patch: _p, ...template } = t;
  return template as PodTemplateSpec;
}

function toRevision(r: ControllerRevision, set: StatefulSet): Revision {
  return { name: r.metadata?.name ?? '', template: templateOf(r, set) };
}

function selectorOf(set: StatefulSet): LabelSelectorValue | undefined {
  try {
    return fromLabelSelector(set.spec?.selector);
  } catch (err) {
    if (err instanceof LabelSelectorError) return undefined;
    throw err;
  }
}

function targetOf(set: StatefulSet): EventTarget {
  return { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: set.metadata?.namespace, name: set.metadata?.name ?? '', uid: set.metadata?.uid };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
