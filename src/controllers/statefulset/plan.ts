// What one sync of a StatefulSet does (kube-controller-manager's defaultStatefulSetControl.updateStatefulSet),
// as a pure plan over the set, its two revisions and its pods:
//
//  1. replicas: every ordinal in [start, start+replicas) gets a pod; a failed or succeeded pod is
//     deleted to be made again under the same name; a pod whose identity labels drifted is fixed.
//     OrderedReady ("monotonic") stops at the first pod it creates, deletes, or that is not yet
//     Running, Ready and available (minReadySeconds), so web-1 is made only once web-0 is Ready;
//     Parallel does all of them at once.
//  2. condemned pods (ordinals outside the range) are deleted, highest ordinal first, one at a time
//     and only while every other pod is healthy under OrderedReady; all at once under Parallel.
//  3. RollingUpdate: pods at ordinals >= partition that are not at the update revision are deleted,
//     highest first, at most maxUnavailable (default 1) unavailable at a time; the controller makes
//     them again at the update revision. OnDelete leaves that to the user.
//
// The plan is phases of actions; the controller runs a phase (one action at a time under OrderedReady,
// in slow-start batches under Parallel) and stops at the first failure, as kube's runForAll does.

import type { Pod, PodTemplateSpec, StatefulSet, StatefulSetStatus } from '../../api/types.ts';
import { scaledValue } from '../../api/validation/workloads.ts';
import { availableIn, isPodAvailable, isPodReady, isPodTerminating } from '../podcontrol/pods.ts';
import { endOrdinal, identityMatches, ordinalOf, podRevision, startOrdinal } from './identity.ts';

export interface Revision {
  name: string;
  template: PodTemplateSpec | undefined;
}

export type Action =
  /** Make the pod at `ordinal` from `revision`. */
  | { type: 'create'; ordinal: number; revision: Revision }
  /** Delete a pod: failed (to be made again), condemned by a scale-down, or replaced by an update. */
  | { type: 'delete'; pod: Pod; reason: 'failed' | 'scaleDown' | 'update' }
  /** Put the identity labels back on a member. */
  | { type: 'fixIdentity'; pod: Pod };

export interface Plan {
  /** Run in order; a phase with a failure ends the sync. */
  phases: Action[][];
  /** Whether actions run one at a time (OrderedReady) or in batches (Parallel). */
  monotonic: boolean;
  /** The status the set should show once the actions are made (before any pod event). */
  status: StatefulSetStatus;
  /**
   * When a Ready pod becomes available (minReadySeconds), epoch ms: sync again then. Absolute, since the
   * sync awaits the API between planning and requeueing and the clock moves meanwhile.
   */
  requeueAt?: number;
}

export interface PlanInput {
  set: StatefulSet;
  current: Revision;
  update: Revision;
  collisionCount: number;
  /** The pods the set owns. */
  pods: readonly Pod[];
  now: number;
}

const isFailed = (p: Pod) => p.status?.phase === 'Failed';
const isSucceeded = (p: Pod) => p.status?.phase === 'Succeeded';
const isRunningAndReady = (p: Pod) => p.status?.phase === 'Running' && isPodReady(p);

/** isRunningAndAvailable. */
function isAvailable(p: Pod, minReadySeconds: number, now: number): boolean {
  return isRunningAndReady(p) && isPodAvailable(p, minReadySeconds, now);
}

/** isUnavailable: not healthy (running, ready, not terminating) or not yet available. A missing pod is unavailable. */
function isUnavailable(p: Pod | undefined, minReadySeconds: number, now: number): boolean {
  return !p || !isRunningAndReady(p) || isPodTerminating(p) || !isPodAvailable(p, minReadySeconds, now);
}

/**
 * The revision a missing pod is made at (newVersionedStatefulSetPod): below the partition (or, with
 * RollingUpdate and no rollingUpdate, below the current replica count) the current one, else the update one.
 */
export function revisionForNewPod(set: StatefulSet, ordinal: number, current: Revision, update: Revision): Revision {
  const st = set.spec?.updateStrategy;
  const start = startOrdinal(set);
  const ru = st?.rollingUpdate;
  if ((st?.type === 'RollingUpdate' && !ru && ordinal < start + (set.status?.currentReplicas ?? 0)) || (ru && ordinal < start + (ru.partition ?? 0))) return current;
  return update;
}

/** getStatefulSetMaxUnavailable: the count or percentage of replicas rounded down, at least 1. */
export function maxUnavailable(set: StatefulSet): number {
  const v = set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  return Math.max(1, scaledValue(v, set.spec?.replicas ?? 1, false));
}

/** computeReplicaStatus over the pods the set has. */
export function replicaCounts(pods: readonly Pod[], minReadySeconds: number, current: string, update: string, now: number): Pick<Required<StatefulSetStatus>, 'replicas' | 'readyReplicas' | 'availableReplicas' | 'currentReplicas' | 'updatedReplicas'> {
  const s = { replicas: 0, readyReplicas: 0, availableReplicas: 0, currentReplicas: 0, updatedReplicas: 0 };
  for (const p of pods) {
    s.replicas++;
    if (isRunningAndReady(p)) {
      s.readyReplicas++;
      if (isAvailable(p, minReadySeconds, now)) s.availableReplicas++;
    }
    if (!isPodTerminating(p)) {
      const rev = podRevision(p);
      if (rev === current) s.currentReplicas++;
      if (rev === update) s.updatedReplicas++;
    }
  }
  return s;
}

export function plan(input: PlanInput): Plan {
  const { set, current, update, now } = input;
  const minReady = set.spec?.minReadySeconds ?? 0;
  const start = startOrdinal(set);
  const end = endOrdinal(set);
  const count = Math.max(0, end - start + 1);
  const replicas: Array<Pod | undefined> = new Array(count).fill(undefined);
  const condemned: Pod[] = [];
  for (const p of input.pods) {
    const ord = ordinalOf(p);
    if (ord < 0) continue;
    if (ord >= start && ord <= end) replicas[ord - start] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));

  const counted = [...replicas.filter((p): p is Pod => !!p), ...condemned];
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata?.generation,
    currentRevision: current.name,
    updateRevision: update.name,
    collisionCount: input.collisionCount,
    ...replicaCounts(counted, minReady, current.name, update.name, now),
  };
  let requeueAt: number | undefined;
  for (const p of counted) {
    if (!isRunningAndReady(p)) continue;
    const wait = availableIn(p, minReady, now);
    if (wait !== undefined) requeueAt = Math.min(requeueAt ?? Infinity, now + wait);
  }
  const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
  const out: Plan = { phases: [], monotonic, status, ...(requeueAt !== undefined ? { requeueAt } : {}) };
  // A set being deleted only reports (the garbage collector removes its pods).
  if (set.metadata?.deletionTimestamp) return out;

  // The first unavailable pod: replicas in order, then condemned from the lowest ordinal.
  let firstUnavailable: Pod | 'missing' | undefined;
  for (const p of replicas) {
    if (isUnavailable(p, minReady, now)) {
      firstUnavailable = p ?? 'missing';
      break;
    }
  }
  if (!firstUnavailable) for (let i = condemned.length - 1; i >= 0; i--) if (isUnavailable(condemned[i], minReady, now)) {
    firstUnavailable = condemned[i];
    break;
  }

  // 1. Replicas.
  const replicaActions: Action[] = [];
  out.phases.push(replicaActions);
  for (let i = 0; i < count; i++) {
    const p = replicas[i];
    if (p && (isFailed(p) || isSucceeded(p))) {
      // Made again under the same name on the sync after it is gone.
      if (!isPodTerminating(p)) replicaActions.push({ type: 'delete', pod: p, reason: 'failed' });
      if (monotonic) return out;
      continue;
    }
    if (!p) {
      replicaActions.push({ type: 'create', ordinal: start + i, revision: revisionForNewPod(set, start + i, current, update) });
      if (monotonic) return out;
      continue;
    }
    if (monotonic && (isPodTerminating(p) || !isRunningAndReady(p) || !isAvailable(p, minReady, now))) return out;
    if (!identityMatches(set, p)) replicaActions.push({ type: 'fixIdentity', pod: p });
  }

  // 2. Condemned, highest ordinal first.
  const condemnedActions: Action[] = [];
  out.phases.push(condemnedActions);
  for (const p of condemned) {
    if (isPodTerminating(p)) {
      if (monotonic) return out;
      continue;
    }
    if (monotonic && p !== firstUnavailable && (!isRunningAndReady(p) || !isAvailable(p, minReady, now))) return out;
    condemnedActions.push({ type: 'delete', pod: p, reason: 'scaleDown' });
    if (monotonic) return out;
  }

  // 3. Rolling update (updateStatefulSetAfterInvariantEstablished).
  if (set.spec?.updateStrategy?.type === 'OnDelete') return out;
  const updateActions: Action[] = [];
  out.phases.push(updateActions);
  const partition = set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  const budget = maxUnavailable(set);
  const unavailable = replicas.filter((p) => isUnavailable(p, minReady, now)).length;
  let toDelete = budget - unavailable;
  for (let i = count - 1; i >= partition && toDelete > 0; i--) {
    const p = replicas[i];
    if (p && podRevision(p) !== update.name && !isPodTerminating(p)) {
      updateActions.push({ type: 'delete', pod: p, reason: 'update' });
      toDelete--;
      status.currentReplicas = Math.max(0, (status.currentReplicas ?? 0) - 1);
    }
  }
  return out;
}

/**
 * completeRollingUpdate: once every pod is updated and ready under RollingUpdate, the update revision
 * becomes the current one.
 */
export function completeRollingUpdate(set: StatefulSet, status: StatefulSetStatus): void {
  if (set.spec?.updateStrategy?.type === 'RollingUpdate' && (status.updatedReplicas ?? 0) === status.replicas && (status.readyReplicas ?? 0) === status.replicas) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
}
