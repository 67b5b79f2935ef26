// The deployment controller (kube-controller-manager's "deployment-controller"): each Deployment is
// rolled out through ReplicaSets it owns, one per template (`<name>-<pod-template-hash>`).
//
// - ReplicaSets are claimed through controller references (orphans matching the selector adopted,
//   ReplicaSets that stopped matching released).
// - The new ReplicaSet is the one whose template is the Deployment's; the others are old. A
//   RollingUpdate grows the new one within maxSurge and shrinks old ones within maxUnavailable;
//   Recreate empties the old ones, waits for their pods to be gone, then fills the new one.
// - A resize in mid-rollout is spread proportionally over the ReplicaSets; a paused Deployment is
//   still resized but not rolled out.
// - Revisions live in annotations; old empty ReplicaSets beyond revisionHistoryLimit are deleted;
//   status counts come from the ReplicaSets' status; conditions Available and Progressing (with
//   progressDeadlineSeconds) say how the rollout goes.
// - A rollback is the client's (kubectl rollout undo copies an old ReplicaSet's template back): the
//   old ReplicaSet is then the new one again and gets the next revision.
//
// Built by the manager with shared informers; start() and stop() once each. The arithmetic is in
// rollout.ts.

import type { Deployment, Pod, ReplicaSet } from '../../api/types.ts';
import type { LabelSelectorValue } from '../../api/labels.ts';
import { selectorOf } from '../../api/validation/workloads.ts';
import type { ApiClient } from '../../client/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.ts';
import { Deployments, ReplicaSets } from '../../client/resources.ts';
import type { Clock } from '../../util/clock.ts';
import { realClock } from '../../util/clock.ts';
import { ApiEventSink, type EventSink, type EventTarget } from '../events.ts';
import { POD_BY_NAMESPACE, type SharedInformers } from '../informers.ts';
import { KeyLoop, isNamespaceTerminating } from '../keyloop.ts';
import { claim, controllerOf, controllerRef } from '../podcontrol/controllerref.ts';
import { computeHash } from '../podcontrol/hash.ts';
import * as r from './rollout.ts';

export const DEPLOYMENT_CONTROLLER_COMPONENT = 'deployment-controller';

export interface DeploymentControllerOptions {
  client: ApiClient;
  informers: SharedInformers;
  clock?: Clock;
  /** Concurrent syncs (kube-controller-manager's --concurrent-deployment-syncs, default 5). */
  workers?: number;
  events?: EventSink;
  onError?: (err: unknown) => void;
}

type D = Deployment;
type RS = ReplicaSet;

/** A failure already reported as a condition and an event: retried with backoff, not logged again. */
class ReportedFailure extends Error {
  readonly code = 'ERR_CONTROLLER_REPORTED';
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const nameOf = (o: { metadata?: { name?: string } } | undefined) => o?.metadata?.name ?? '';

/**
 * One sync's view: the Deployment (a copy, updated as its status is written) and its ReplicaSets,
 * replaced by what each write returns so one sync never conflicts with itself.
 */
interface SyncState {
  key: string;
  d: D;
  rss: RS[];
}

export class DeploymentController {
  readonly #client: ApiClient;
  readonly #informers: SharedInformers;
  readonly #clock: Clock;
  readonly #events: EventSink;
  readonly #loop: KeyLoop;

  constructor(o: DeploymentControllerOptions) {
    this.#client = o.client;
    this.#informers = o.informers;
    this.#clock = o.clock ?? realClock;
    this.#events = o.events ?? new ApiEventSink(o.client, this.#clock, DEPLOYMENT_CONTROLLER_COMPONENT);
    this.#loop = new KeyLoop({
      clock: o.clock,
      workers: o.workers ?? 5,
      onError: o.onError ?? ((err) => console.error(`tinykube: ${DEPLOYMENT_CONTROLLER_COMPONENT}: ${(err as Error).message}`)),
      // A conflict means our cache was behind; a NotFound that the Deployment or a ReplicaSet went
      // away meanwhile (the retry finds it gone or sees it fresh).
      quiet: (err) => isConflict(err) || isNotFound(err) || err instanceof ReportedFailure,
    });
  }

  #deployments() {
    return this.#informers.resource<D>(Deployments);
  }

  #replicaSets() {
    return this.#informers.resource<RS>(ReplicaSets);
  }

  start(): void {
    const q = this.#loop.queue;
    this.#loop.start(this.#informers, () => [
      this.#deployments().addEventHandler({ onAdd: (d) => q.add(keyOf(d)), onUpdate: (_o, d) => q.add(keyOf(d)), onDelete: (d) => q.add(keyOf(d)) }),
      this.#replicaSets().addEventHandler({
        onAdd: (rs) => this.#rsAdded(rs),
        onUpdate: (old, rs) => this.#rsUpdated(old, rs),
        onDelete: (rs) => this.#enqueueOwner(rs),
      }),
      this.#informers.pods().addEventHandler({ onDelete: (p) => this.#podDeleted(p) }),
    ], (key) => this.sync(key));
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  /** The Deployment a controller reference names, when it is one (same uid). */
  #ownerOf(obj: RS): D | undefined {
    const ref = controllerOf(obj);
    if (!ref || ref.kind !== 'Deployment' || ref.apiVersion?.split('/')[0] !== 'apps') return undefined;
    const d = this.#deployments().store.get(obj.metadata?.namespace, ref.name);
    return d && d.metadata?.uid === ref.uid ? d : undefined;
  }

  #enqueueOwner(rs: RS): void {
    const d = this.#ownerOf(rs);
    if (d) this.#loop.queue.add(keyOf(d));
  }

  /** Deployments in the ReplicaSet's namespace whose selector matches it (for orphans). */
  #matching(rs: RS): D[] {
    const ns = rs.metadata?.namespace;
    return this.#deployments().store.list().filter((d) => d.metadata?.namespace === ns && !!selectorOf(d.spec?.selector)?.matches(rs.metadata?.labels ?? {}));
  }

  #rsAdded(rs: RS): void {
    if (controllerOf(rs)) return this.#enqueueOwner(rs);
    if (!rs.metadata?.deletionTimestamp) for (const d of this.#matching(rs)) this.#loop.queue.add(keyOf(d));
  }

  #rsUpdated(old: RS, rs: RS): void {
    if (old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
    const oldOwner = this.#ownerOf(old);
    const owner = this.#ownerOf(rs);
    if (oldOwner && oldOwner !== owner) this.#loop.queue.add(keyOf(oldOwner));
    if (owner) {
      this.#loop.queue.add(keyOf(owner));
      return;
    }
    const labelsChanged = JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(rs.metadata?.labels ?? {});
    if (!controllerOf(rs) && (labelsChanged || controllerOf(old))) for (const d of this.#matching(rs)) this.#loop.queue.add(keyOf(d));
  }

  /** Recreate waits for the old pods to be gone: a pod's deletion may be what it waits for. */
  #podDeleted(p: Pod): void {
    const ref = controllerOf(p);
    if (!ref || ref.kind !== 'ReplicaSet') return;
    const rs = this.#replicaSets().store.get(p.metadata?.namespace, ref.name);
    if (!rs || rs.metadata?.uid !== ref.uid) return;
    const d = this.#ownerOf(rs);
    if (d && d.spec?.strategy?.type === 'Recreate') this.#loop.queue.add(keyOf(d));
  }

  async sync(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const cached = this.#deployments().store.get(namespace, name);
    if (!cached) return;
    const d: D = structuredClone(cached);
    d.status ??= {};
    const selector = selectorOf(d.spec?.selector);
    // Validation refuses empty and invalid selectors; one stored before that selects nothing.
    if (!selector || selector.empty()) return;
    const s: SyncState = { key, d, rss: await this.#claimReplicaSets(d, selector) };
    if (d.metadata?.deletionTimestamp) return this.#syncStatusOnly(s);
    await this.#checkPausedConditions(s);
    if (d.spec?.paused) return this.#syncScale(s);
    if (await this.#isScalingEvent(s)) return this.#syncScale(s);
    if (d.spec?.strategy?.type === 'Recreate') return this.#rolloutRecreate(s, selector);
    return this.#rolloutRolling(s);
  }

  #target(d: D): EventTarget {
    return { apiVersion: 'apps/v1', kind: 'Deployment', namespace: d.metadata?.namespace, name: nameOf(d), uid: d.metadata?.uid };
  }

  async #claimReplicaSets(d: D, selector: LabelSelectorValue): Promise<RS[]> {
    const ns = d.metadata?.namespace ?? '';
    const name = nameOf(d);
    const uid = d.metadata?.uid ?? '';
    return claim<RS>({
      client: this.#client,
      ref: ReplicaSets,
      owner: { apiVersion: 'apps/v1', kind: 'Deployment', name, uid, deleting: !!d.metadata?.deletionTimestamp },
      matches: (rs) => selector.matches(rs.metadata?.labels ?? {}),
      candidates: this.#replicaSets().store.list().filter((rs) => rs.metadata?.namespace === ns),
      canAdopt: async () => {
        try {
          const fresh = await this.#client.get<D>(Deployments, ns, name);
          return fresh.metadata?.uid === uid && !fresh.metadata?.deletionTimestamp;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      },
    });
  }

  /** Writes the Deployment's status (and the revision annotation with it, as kube does through UpdateStatus). */
  async #updateStatus(s: SyncState): Promise<void> {
    const out = await this.#client.updateStatus<D>(Deployments, s.d.metadata?.namespace, s.d);
    s.d.metadata = { ...s.d.metadata, resourceVersion: out.metadata?.resourceVersion };
  }

  #replace(s: SyncState, rs: RS): void {
    const i = s.rss.findIndex((x) => x.metadata?.uid === rs.metadata?.uid);
    if (i >= 0) s.rss[i] = rs;
    else s.rss.push(rs);
  }

  /** getAllReplicaSetsAndSyncRevision: the new ReplicaSet (made when `create`), the old ones, the revision synced. */
  async #allReplicaSets(s: SyncState, create: boolean): Promise<{ newRS: RS | undefined; oldRSs: RS[] }> {
    const existing = r.findNewReplicaSet(s.d, s.rss);
    const oldRSs = r.findOldReplicaSets(s.rss, existing);
    const newRS = await this.#newReplicaSet(s, existing, oldRSs, create);
    return { newRS, oldRSs };
  }

  async #newReplicaSet(s: SyncState, existing: RS | undefined, oldRSs: RS[], create: boolean): Promise<RS | undefined> {
    const d = s.d;
    const ns = d.metadata?.namespace ?? '';
    const revision = r.maxRevision(oldRSs) + 1;
    const now = this.#clock.now();
    if (existing) {
      const copy: RS = structuredClone(existing);
      const annotationsChanged = r.setNewReplicaSetAnnotations(d, copy, revision, true);
      const minReady = d.spec?.minReadySeconds ?? 0;
      let rs = existing;
      if (annotationsChanged || (copy.spec?.minReadySeconds ?? 0) !== minReady) {
        copy.spec = { ...copy.spec!, minReadySeconds: minReady };
        rs = await this.#client.update<RS>(ReplicaSets, ns, copy);
        this.#replace(s, rs);
      }
      let needsUpdate = r.setDeploymentRevision(d, rs.metadata?.annotations?.[r.REVISION] ?? '');
      if (r.hasProgressDeadline(d) && !r.getCondition(d.status, 'Progressing')) {
        r.setCondition(d.status!, r.newCondition('Progressing', 'True', r.FOUND_NEW_RS_REASON, `Found new replica set "${nameOf(rs)}"`, now));
        needsUpdate = true;
      }
      if (needsUpdate) await this.#updateStatus(s);
      return rs;
    }
    if (!create) return undefined;

    const hash = computeHash(d.spec?.template, d.status?.collisionCount);
    const fresh = r.newReplicaSetFor(d, hash) as RS;
    fresh.metadata!.ownerReferences = [controllerRef({ apiVersion: 'apps/v1', kind: 'Deployment', name: nameOf(d), uid: d.metadata?.uid ?? '' })];
    const replicas = r.newRSNewReplicas(d, [...oldRSs, fresh], fresh);
    fresh.spec!.replicas = replicas;
    r.setNewReplicaSetAnnotations(d, fresh, revision, false);
    let created: RS;
    let alreadyExisted = false;
    try {
      created = await this.#client.create<RS>(ReplicaSets, ns, fresh);
    } catch (err) {
      if (isAlreadyExists(err)) {
        // Ours with this template (our cache was behind), or a hash collision: another template (or
        // another owner) has the name, so the next hash is tried (collisionCount).
        const found = await this.#getReplicaSet(ns, nameOf(fresh));
        const ref = found && controllerOf(found);
        if (!found || ref?.uid !== d.metadata?.uid || !r.equalIgnoreHash(d.spec?.template, found.spec?.template)) {
          d.status!.collisionCount = (d.status?.collisionCount ?? 0) + 1;
          await this.#updateStatus(s);
          throw err;
        }
        created = found;
        alreadyExisted = true;
      } else if (isNotFound(err) || isNamespaceTerminating(err)) {
        // The namespace is going away: nothing to report.
        throw err;
      } else {
        const msg = `Failed to create new replica set "${nameOf(fresh)}": ${(err as Error).message}`;
        if (r.hasProgressDeadline(d)) {
          r.setCondition(d.status!, r.newCondition('Progressing', 'False', r.FAILED_RS_CREATE_REASON, msg, now));
          await this.#updateStatus(s);
        }
        this.#events.event(this.#target(d), 'Warning', 'FailedCreate', msg);
        throw new ReportedFailure(msg);
      }
    }
    this.#replace(s, created);
    if (!alreadyExisted && replicas > 0) this.#events.event(this.#target(d), 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${nameOf(created)} from 0 to ${replicas}`);
    let needsUpdate = r.setDeploymentRevision(d, String(revision));
    if (!alreadyExisted && r.hasProgressDeadline(d)) {
      r.setCondition(d.status!, r.newCondition('Progressing', 'True', r.NEW_RS_REASON, `Created new replica set "${nameOf(created)}"`, now));
      needsUpdate = true;
    }
    if (needsUpdate) await this.#updateStatus(s);
    return created;
  }

  async #getReplicaSet(ns: string, name: string): Promise<RS | undefined> {
    try {
      return await this.#client.get<RS>(ReplicaSets, ns, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** scaleReplicaSetAndRecordEvent: nothing when the size is right. */
  async #scaleAndRecord(s: SyncState, rs: RS, replicas: number): Promise<{ scaled: boolean; rs: RS }> {
    if (r.replicasOf(rs) === replicas) return { scaled: false, rs };
    return this.#scaleReplicaSet(s, rs, replicas);
  }

  /** scaleReplicaSet: the size and the replica annotations (what the size was set for), one write. */
  async #scaleReplicaSet(s: SyncState, rs: RS, replicas: number): Promise<{ scaled: boolean; rs: RS }> {
    const d = s.d;
    const from = r.replicasOf(rs);
    const sizeChanges = from !== replicas;
    const desired = r.desiredOf(d);
    const max = desired + r.maxSurge(d);
    if (!sizeChanges && !r.replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const copy: RS = structuredClone(rs);
    copy.spec = { ...copy.spec!, replicas };
    r.setReplicasAnnotations(copy, desired, max);
    const out = await this.#client.update<RS>(ReplicaSets, rs.metadata?.namespace, copy);
    this.#replace(s, out);
    if (sizeChanges) this.#events.event(this.#target(d), 'Normal', 'ScalingReplicaSet', `Scaled ${from < replicas ? 'up' : 'down'} replica set ${nameOf(rs)} from ${from} to ${replicas}`);
    return { scaled: sizeChanges, rs: out };
  }

  /** checkPausedConditions: Progressing Unknown with DeploymentPaused / DeploymentResumed (a timed-out rollout keeps its condition). */
  async #checkPausedConditions(s: SyncState): Promise<void> {
    const d = s.d;
    if (!r.hasProgressDeadline(d)) return;
    const cond = r.getCondition(d.status, 'Progressing');
    if (cond?.reason === r.TIMED_OUT_REASON) return;
    const pausedShown = cond?.reason === r.PAUSED_REASON;
    const now = this.#clock.now();
    if (d.spec?.paused && !pausedShown) r.setCondition(d.status!, r.newCondition('Progressing', 'Unknown', r.PAUSED_REASON, 'Deployment is paused', now));
    else if (!d.spec?.paused && pausedShown) r.setCondition(d.status!, r.newCondition('Progressing', 'Unknown', r.RESUMED_REASON, 'Deployment is resumed', now));
    else return;
    await this.#updateStatus(s);
  }

  /** isScalingEvent: an active ReplicaSet was sized for another replica count than the Deployment's. */
  async #isScalingEvent(s: SyncState): Promise<boolean> {
    const { newRS, oldRSs } = await this.#allReplicaSets(s, false);
    const desired = r.desiredOf(s.d);
    return r.activeReplicaSets([...oldRSs, newRS]).some((rs) => {
      const v = r.desiredReplicasAnnotation(rs);
      return v !== undefined && v !== desired;
    });
  }

  /** sync: resize (paused or scaling), clean history when paused, and the status. */
  async #syncScale(s: SyncState): Promise<void> {
    const { newRS, oldRSs } = await this.#allReplicaSets(s, false);
    await this.#scale(s, newRS, oldRSs);
    if (s.d.spec?.paused) await this.#cleanup(s, oldRSs);
    await this.#syncDeploymentStatus(s, [...oldRSs, newRS], newRS);
  }

  async #syncStatusOnly(s: SyncState): Promise<void> {
    const { newRS, oldRSs } = await this.#allReplicaSets(s, false);
    await this.#syncDeploymentStatus(s, [...oldRSs, newRS], newRS);
  }

  async #scale(s: SyncState, newRS: RS | undefined, oldRSs: RS[]): Promise<void> {
    const d = s.d;
    const desired = r.desiredOf(d);
    const only = r.findActiveOrLatest(newRS, oldRSs);
    if (only) {
      if (r.replicasOf(only) !== desired) await this.#scaleAndRecord(s, only, desired);
      return;
    }
    if (r.isSaturated(d, newRS)) {
      for (const old of r.activeReplicaSets(oldRSs)) await this.#scaleAndRecord(s, old, 0);
      return;
    }
    if (!r.isRollingUpdate(d)) return;
    for (const step of r.proportionalScale(d, newRS, oldRSs)) await this.#scaleReplicaSet(s, step.rs, step.replicas);
  }

  async #rolloutRolling(s: SyncState): Promise<void> {
    const { newRS, oldRSs } = await this.#allReplicaSets(s, true);
    const rs = newRS!;
    const all = [...oldRSs, rs];
    if (await this.#reconcileNew(s, all, rs)) return this.#syncRolloutStatus(s, all, rs);
    if (await this.#reconcileOld(s, all, r.activeReplicaSets(oldRSs), rs)) return this.#syncRolloutStatus(s, all, rs);
    if (r.deploymentComplete(s.d, s.d.status ?? {})) await this.#cleanup(s, oldRSs);
    return this.#syncRolloutStatus(s, all, rs);
  }

  async #reconcileNew(s: SyncState, all: RS[], newRS: RS): Promise<boolean> {
    const desired = r.desiredOf(s.d);
    const current = r.replicasOf(newRS);
    if (current === desired) return false;
    const target = current > desired ? desired : r.newRSNewReplicas(s.d, all, newRS);
    return (await this.#scaleAndRecord(s, newRS, target)).scaled;
  }

  async #reconcileOld(s: SyncState, all: RS[], oldActive: RS[], newRS: RS): Promise<boolean> {
    if (r.specReplicas(oldActive) === 0) return false;
    const budget = r.maxScaledDown(s.d, all, newRS);
    if (budget <= 0) return false;
    let olds = [...oldActive];
    let total = 0;
    for (const step of r.cleanupUnhealthy(olds, budget)) {
      const out = await this.#scaleAndRecord(s, step.rs, step.replicas);
      total += r.replicasOf(step.rs) - step.replicas;
      olds = olds.map((x) => (x === step.rs ? out.rs : x));
    }
    for (const step of r.scaleDownOld(s.d, [...olds, newRS], olds)) {
      await this.#scaleAndRecord(s, step.rs, step.replicas);
      total += r.replicasOf(step.rs) - step.replicas;
    }
    return total > 0;
  }

  async #rolloutRecreate(s: SyncState, selector: LabelSelectorValue): Promise<void> {
    let { newRS, oldRSs } = await this.#allReplicaSets(s, false);
    let scaledDown = false;
    for (const rs of r.activeReplicaSets(oldRSs)) if ((await this.#scaleAndRecord(s, rs, 0)).scaled) scaledDown = true;
    if (scaledDown || this.#oldPodsRunning(s, newRS, oldRSs, selector)) return this.#syncRolloutStatus(s, [...oldRSs, newRS], newRS);
    if (!newRS) ({ newRS, oldRSs } = await this.#allReplicaSets(s, true));
    await this.#scaleAndRecord(s, newRS!, r.desiredOf(s.d));
    if (r.deploymentComplete(s.d, s.d.status ?? {})) await this.#cleanup(s, oldRSs);
    return this.#syncRolloutStatus(s, [...oldRSs, newRS], newRS);
  }

  /** oldPodsRunning: old ReplicaSets report pods, or pods of theirs not yet finished are still there. */
  #oldPodsRunning(s: SyncState, newRS: RS | undefined, oldRSs: RS[], selector: LabelSelectorValue): boolean {
    if (r.actualReplicas(oldRSs) > 0) return true;
    const olds = new Set(oldRSs.map((rs) => rs.metadata?.uid));
    for (const p of this.#informers.pods().store.byIndex(POD_BY_NAMESPACE, s.d.metadata?.namespace ?? '')) {
      const ref = controllerOf(p);
      if (!ref || !olds.has(ref.uid) || ref.uid === newRS?.metadata?.uid) continue;
      if (!selector.matches(p.metadata?.labels ?? {})) continue;
      const phase = p.status?.phase;
      if (phase !== 'Failed' && phase !== 'Succeeded') return true;
    }
    return false;
  }

  /** cleanupDeployment: old empty ReplicaSets beyond revisionHistoryLimit go, lowest revision first. */
  async #cleanup(s: SyncState, oldRSs: RS[]): Promise<void> {
    for (const rs of r.historyToDelete(s.d, oldRSs)) {
      try {
        await this.#client.delete(ReplicaSets, rs.metadata?.namespace, nameOf(rs), { preconditions: { uid: rs.metadata?.uid } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }

  async #syncDeploymentStatus(s: SyncState, all: Array<RS | undefined>, newRS: RS | undefined): Promise<void> {
    const next = r.calculateStatus(s.d, all, newRS, this.#clock.now());
    if (r.statusEqual(s.d.status, next)) return;
    s.d.status = next;
    await this.#updateStatus(s);
  }

  /** syncRolloutStatus: the status with Progressing, and a look again when the deadline may pass unnoticed. */
  async #syncRolloutStatus(s: SyncState, all: Array<RS | undefined>, newRS: RS | undefined): Promise<void> {
    const now = this.#clock.now();
    const next = r.rolloutStatus(s.d, all, newRS, now);
    if (r.statusEqual(s.d.status, next)) {
      const after = r.stuckRequeueAfter(s.d, next, now);
      // The deadline is "more than progressDeadlineSeconds since", so look just after it.
      if (after !== undefined) this.#loop.queue.addAfter(s.key, after + 1);
      return;
    }
    s.d.status = next;
    await this.#updateStatus(s);
  }
}
