// The arithmetic of kube-controller-manager's deployment controller (pkg/controller/deployment/util
// and the decisions of sync.go, rolling.go and progress.go), as pure functions over a Deployment and
// its ReplicaSets: which ReplicaSet is new, how far each may be scaled, the revision annotations, the
// status and conditions. controller.ts does the I/O. Callable from anywhere; nothing here mutates
// its arguments unless its name says so (set*, which mutate the copy the caller passes).

import type { Deployment, DeploymentCondition, DeploymentStatus, PodTemplateSpec, ReplicaSet } from '../../api/types.ts';
import { semanticDeepEqual } from '../../api/equality.ts';
import { scaledValue } from '../../api/validation/workloads.ts';
import { rfc3339 } from '../../util/clock.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** DefaultDeploymentUniqueLabelKey: on the ReplicaSet's selector, template and pods. */
export const POD_TEMPLATE_HASH = 'pod-template-hash';
/** kube's MaxRevHistoryLengthInChars for the revision-history annotation. */
export const MAX_REVISION_HISTORY_CHARS = 2000;

// Condition reasons (pkg/controller/deployment/util).
export const NEW_RS_REASON = 'NewReplicaSetCreated';
export const FOUND_NEW_RS_REASON = 'FoundNewReplicaSet';
export const RS_UPDATED_REASON = 'ReplicaSetUpdated';
export const NEW_RS_AVAILABLE_REASON = 'NewReplicaSetAvailable';
export const TIMED_OUT_REASON = 'ProgressDeadlineExceeded';
export const PAUSED_REASON = 'DeploymentPaused';
export const RESUMED_REASON = 'DeploymentResumed';
export const FAILED_RS_CREATE_REASON = 'ReplicaSetCreateError';
export const MIN_AVAILABLE_REASON = 'MinimumReplicasAvailable';
export const MIN_UNAVAILABLE_REASON = 'MinimumReplicasUnavailable';

/** Annotations of a Deployment that are not copied to its ReplicaSets (kube's annotationsToSkip). */
const NOT_COPIED: ReadonlySet<string> = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

/** progressDeadlineSeconds of math.MaxInt32 means "no deadline" (HasProgressDeadline). */
const NO_DEADLINE = 2147483647;

export const replicasOf = (rs: ReplicaSet): number => rs.spec?.replicas ?? 1;
export const desiredOf = (d: Deployment): number => d.spec?.replicas ?? 1;

function time(ts: string | undefined): number {
  const t = ts ? Date.parse(ts) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** ReplicaSetsByCreationTimestamp: older first, then by name. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const d = time(a.metadata?.creationTimestamp) - time(b.metadata?.creationTimestamp);
  if (d !== 0) return d;
  const an = a.metadata?.name ?? '';
  const bn = b.metadata?.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** ReplicaSetsBySizeNewer: larger first, then newer first (scaling up). */
export const bySizeNewer = (a: ReplicaSet, b: ReplicaSet): number => replicasOf(b) - replicasOf(a) || byCreation(b, a);
/** ReplicaSetsBySizeOlder: larger first, then older first (scaling down). */
export const bySizeOlder = (a: ReplicaSet, b: ReplicaSet): number => replicasOf(b) - replicasOf(a) || byCreation(a, b);

/** The revision annotation as a number; 0 when absent or unparsable (as kube's Revision with its error ignored). */
export function revisionOf(obj: { metadata?: { annotations?: Record<string, string> } }): number {
  const v = obj.metadata?.annotations?.[REVISION];
  if (v === undefined || !/^[0-9]+$/.test(v)) return 0;
  return Number.parseInt(v, 10);
}

export const byRevision = (a: ReplicaSet, b: ReplicaSet): number => revisionOf(a) - revisionOf(b) || byCreation(a, b);

export function maxRevision(rss: readonly ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) max = Math.max(max, revisionOf(rs));
  return max;
}

export const isRollingUpdate = (d: Deployment): boolean => d.spec?.strategy?.type !== 'Recreate';

export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return p != null && p !== NO_DEADLINE;
}

/**
 * ResolveFenceposts: maxSurge as a count rounded up, maxUnavailable rounded down, and when both come
 * to 0 one pod may be unavailable (so a rollout can always make progress).
 */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** MaxSurge: how many pods above the desired count a rolling update may run. */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, desiredOf(d)).surge;
}

/** MaxUnavailable: how many of the desired pods may be unavailable, never more than desired. */
export function maxUnavailable(d: Deployment): number {
  const desired = desiredOf(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return Math.min(desired, resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, desired).unavailable);
}

/** A template without the pod-template-hash label (EqualIgnoreHash compares templates this way). */
function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy: PodTemplateSpec = structuredClone(t ?? {});
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  if (copy.metadata && Object.keys(copy.metadata).length === 0) delete copy.metadata;
  return copy;
}

export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return semanticDeepEqual(withoutHash(a), withoutHash(b));
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template is the Deployment's (ignoring the hash label). */
export function findNewReplicaSet<T extends ReplicaSet>(d: Deployment, rss: readonly T[]): T | undefined {
  return [...rss].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Every ReplicaSet but the new one. */
export function findOldReplicaSets<T extends ReplicaSet>(rss: readonly T[], newRS: T | undefined): T[] {
  return rss.filter((rs) => rs !== newRS && (!newRS || rs.metadata?.uid !== newRS.metadata?.uid));
}

export function activeReplicaSets<T extends ReplicaSet>(rss: readonly (T | undefined)[]): T[] {
  return rss.filter((rs): rs is T => !!rs && replicasOf(rs) > 0);
}

const sum = (rss: readonly (ReplicaSet | undefined)[], f: (rs: ReplicaSet) => number): number => rss.reduce((n, rs) => n + (rs ? f(rs) : 0), 0);
/** GetReplicaCountForReplicaSets: desired pods (spec). */
export const specReplicas = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, replicasOf);
/** GetActualReplicaCountForReplicaSets: pods that exist (status). */
export const actualReplicas = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, (rs) => rs.status?.replicas ?? 0);
export const readyReplicas = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, (rs) => rs.status?.readyReplicas ?? 0);
export const availableReplicas = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, (rs) => rs.status?.availableReplicas ?? 0);

/**
 * FindActiveOrLatest: the only ReplicaSet with replicas, or when none has replicas the new one (else the
 * newest old one); undefined when several have replicas (a rollout is under way).
 */
export function findActiveOrLatest<T extends ReplicaSet>(newRS: T | undefined, oldRSs: readonly T[]): T | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = activeReplicaSets([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  if (active.length === 1) return active[0];
  return undefined;
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata?.annotations?.[key];
  return v !== undefined && /^-?[0-9]+$/.test(v) ? Number.parseInt(v, 10) : undefined;
}

/** The replica count a ReplicaSet was last sized for (desired-replicas), when it says. */
export const desiredReplicasAnnotation = (rs: ReplicaSet): number | undefined => intAnnotation(rs, DESIRED_REPLICAS);

/** IsSaturated: the new ReplicaSet runs all desired replicas, all available, and was sized for this count. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredOf(d);
  return replicasOf(rs) === desired && intAnnotation(rs, DESIRED_REPLICAS) === desired && (rs.status?.availableReplicas ?? 0) === desired;
}

/** Go's math.Round (half away from zero), as integer.RoundToInt32. */
const goRound = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

/** getReplicaSetFraction: this ReplicaSet's share of a resize, from the size it was last sized for (max-replicas). */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const desired = desiredOf(d);
  if (desired === 0) return -replicasOf(rs);
  const deploymentReplicas = desired + maxSurge(d);
  // Without the annotation, the Deployment's current size (kube's fallback; min/max below keep it in bounds).
  const annotated = intAnnotation(rs, MAX_REPLICAS) ?? d.status?.replicas ?? 0;
  if (annotated === 0) return 0;
  return goRound((replicasOf(rs) * deploymentReplicas) / annotated) - replicasOf(rs);
}

/** GetProportion: how many replicas this ReplicaSet gains (or loses) of what is left to add (remove). */
function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * The proportional scaling of sync.go's scale(): when a Deployment is resized in the middle of a
 * rolling update, every active ReplicaSet grows or shrinks by its share, and what rounding leaves
 * over goes to the largest. Returns the new size of each active ReplicaSet, in the order kube
 * writes them; empty when nothing is to change in total.
 */
export function proportionalScale<T extends ReplicaSet>(d: Deployment, newRS: T | undefined, oldRSs: readonly T[]): Array<{ rs: T; replicas: number }> {
  const all = activeReplicaSets([...oldRSs, newRS]);
  const desired = desiredOf(d);
  const allowed = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowed - specReplicas(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const sizes = all.map((rs) => {
    if (toAdd === 0) return replicasOf(rs);
    const p = proportion(rs, d, toAdd, added);
    added += p;
    return replicasOf(rs) + p;
  });
  if (toAdd !== 0 && sizes.length > 0) sizes[0] = Math.max(0, sizes[0] + (toAdd - added));
  return all.map((rs, i) => ({ rs, replicas: sizes[i] }));
}

/**
 * The pods the ReplicaSets hold: each its desired count, or more while its status still shows pods
 * it was told to shed. (Kubernetes counts only spec.replicas, so for a moment after an old
 * ReplicaSet is shrunk, before its controller has deleted the pods, a rollout may run more than
 * replicas + maxSurge pods; counting them keeps the bound.)
 */
export const podsHeld = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, (rs) => Math.max(replicasOf(rs), rs.status?.replicas ?? 0));

/**
 * The available pods the ReplicaSets will keep: a ReplicaSet shrunk below its available count keeps
 * at most its new size. (Kubernetes sums status.availableReplicas, which until the ReplicaSet's
 * controller catches up still counts the pods being deleted, and may then scale old ReplicaSets
 * down below desired - maxUnavailable.)
 */
export const availableKept = (rss: readonly (ReplicaSet | undefined)[]): number => sum(rss, (rs) => Math.min(replicasOf(rs), rs.status?.availableReplicas ?? 0));

/** NewRSNewReplicas: how large the new ReplicaSet may be now (rolling: within maxSurge; recreate: all). */
export function newRSNewReplicas(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  const desired = desiredOf(d);
  if (!isRollingUpdate(d)) return desired;
  const surge = scaledValue(d.spec?.strategy?.rollingUpdate?.maxSurge ?? 0, desired, true);
  const current = podsHeld(allRSs);
  const maxTotal = desired + surge;
  if (current >= maxTotal) return replicasOf(newRS);
  return replicasOf(newRS) + Math.min(maxTotal - current, desired - replicasOf(newRS));
}

export interface ScaleStep<T> {
  rs: T;
  replicas: number;
}

/**
 * cleanupUnhealthyReplicas: old ReplicaSets (oldest first) lose their unavailable replicas first,
 * up to `maxCleanup`, since removing them costs no availability and unblocks a stuck rollout.
 */
export function cleanupUnhealthy<T extends ReplicaSet>(oldRSs: readonly T[], maxCleanup: number): ScaleStep<T>[] {
  const steps: ScaleStep<T>[] = [];
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= maxCleanup) break;
    const replicas = replicasOf(rs);
    const available = rs.status?.availableReplicas ?? 0;
    if (replicas === 0 || replicas === available) continue;
    const n = Math.min(maxCleanup - total, replicas - available);
    steps.push({ rs, replicas: replicas - n });
    total += n;
  }
  return steps;
}

/**
 * scaleDownOldReplicaSetsForRollingUpdate: old ReplicaSets (oldest first) shrink by as many as are
 * available beyond desired - maxUnavailable.
 */
export function scaleDownOld<T extends ReplicaSet>(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], oldRSs: readonly T[]): ScaleStep<T>[] {
  const minAvailable = desiredOf(d) - maxUnavailable(d);
  const available = availableKept(allRSs);
  if (available <= minAvailable) return [];
  const budget = available - minAvailable;
  const steps: ScaleStep<T>[] = [];
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (total >= budget) break;
    const replicas = replicasOf(rs);
    if (replicas === 0) continue;
    const n = Math.min(replicas, budget - total);
    steps.push({ rs, replicas: replicas - n });
    total += n;
  }
  return steps;
}

/** reconcileOldReplicaSets' bound: how many old replicas may go at all in this sync (0 = none). */
export function maxScaledDown(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  const minAvailable = desiredOf(d) - maxUnavailable(d);
  const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
  return specReplicas(allRSs) - minAvailable - newUnavailable;
}

/** SetReplicasAnnotations: what size the ReplicaSet was set for (proportional scaling reads them). Returns whether they changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const meta = (rs.metadata ??= {});
  const ann = (meta.annotations ??= {});
  let changed = false;
  if (ann[DESIRED_REPLICAS] !== String(desired)) {
    ann[DESIRED_REPLICAS] = String(desired);
    changed = true;
  }
  if (ann[MAX_REPLICAS] !== String(max)) {
    ann[MAX_REPLICAS] = String(max);
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const ann = rs.metadata?.annotations;
  return ann?.[DESIRED_REPLICAS] !== String(desired) || ann?.[MAX_REPLICAS] !== String(max);
}

/**
 * SetNewReplicaSetAnnotations: the Deployment's own annotations (but the skipped ones), the revision
 * raised to `revision` when lower (a rollback to this ReplicaSet keeps its former revisions in
 * revision-history), and for a ReplicaSet about to be created its replica annotations.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, revision: number, exists: boolean): boolean {
  const meta = (rs.metadata ??= {});
  const ann = (meta.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) {
    if (NOT_COPIED.has(k) || ann[k] === v) continue;
    ann[k] = v;
    changed = true;
  }
  const old = ann[REVISION];
  if (old !== undefined && !/^[0-9]+$/.test(old)) return changed;
  const oldRevision = old === undefined ? 0 : Number.parseInt(old, 10);
  if (oldRevision < revision) {
    ann[REVISION] = String(revision);
    changed = true;
    if (old !== undefined) {
      const history = ann[REVISION_HISTORY] ?? '';
      if (history === '') ann[REVISION_HISTORY] = old;
      else {
        const parts = history.split(',');
        let total = history.length + old.length + 1;
        let start = 0;
        while (total > MAX_REVISION_HISTORY_CHARS && start < parts.length) total -= parts[start++].length + 1;
        if (total <= MAX_REVISION_HISTORY_CHARS) ann[REVISION_HISTORY] = [...parts.slice(start), old].join(',');
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, desiredOf(d), desiredOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/** SetDeploymentRevision: the Deployment carries its new ReplicaSet's revision. Returns whether it changed. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  const meta = (d.metadata ??= {});
  const ann = (meta.annotations ??= {});
  if (ann[REVISION] === revision) return false;
  ann[REVISION] = revision;
  return true;
}

/** A new ReplicaSet for the Deployment's template: named after the hash, which its selector and labels carry. */
export function newReplicaSetFor(d: Deployment, hash: string): ReplicaSet {
  const template: PodTemplateSpec = structuredClone(d.spec?.template ?? {});
  template.metadata ??= {};
  template.metadata.labels = { ...template.metadata.labels, [POD_TEMPLATE_HASH]: hash };
  const selector = structuredClone(d.spec?.selector ?? {});
  selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${d.metadata?.name ?? ''}-${hash}`, namespace: d.metadata?.namespace, labels: { ...template.metadata.labels } },
    spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
  };
}

// Conditions.

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function newCondition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, now: number): DeploymentCondition {
  const t = rfc3339(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/**
 * SetDeploymentCondition: replaces the condition of its type, unless status and reason are the same;
 * the transition time stays when only the reason changes.
 */
export function setCondition(status: DeploymentStatus, c: DeploymentCondition): void {
  const cur = getCondition(status, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = { ...c };
  if (cur && cur.status === c.status) next.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== c.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

/** calculateStatus: counts from the ReplicaSets, and the Available condition. */
export function calculateStatus(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, now: number): DeploymentStatus {
  const available = availableReplicas(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata?.generation ?? 0,
    replicas: actualReplicas(allRSs),
    updatedReplicas: actualReplicas([newRS]),
    readyReplicas: readyReplicas(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, specReplicas(allRSs) - available),
  };
  if (d.status?.collisionCount != null) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions?.length) status.conditions = d.status.conditions.map((c) => ({ ...c }));
  if (available >= desiredOf(d) - maxUnavailable(d)) setCondition(status, newCondition('Available', 'True', MIN_AVAILABLE_REASON, 'Deployment has minimum availability.', now));
  else setCondition(status, newCondition('Available', 'False', MIN_UNAVAILABLE_REASON, 'Deployment does not have minimum availability.', now));
  return status;
}

/** DeploymentComplete: every desired replica updated and available, and the latest generation seen. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const desired = desiredOf(d);
  return (s.updatedReplicas ?? 0) === desired && (s.replicas ?? 0) === desired && (s.availableReplicas ?? 0) === desired && (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
}

/** DeploymentProgressing: more updated, ready or available replicas than before, or fewer old ones. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld || (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

/** DeploymentTimedOut: no progress for progressDeadlineSeconds since the Progressing condition's last update. */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === NEW_RS_AVAILABLE_REASON) return false;
  if (c.reason === TIMED_OUT_REASON) return true;
  return time(c.lastUpdateTime) + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < now;
}

/**
 * syncRolloutStatus's status: counts, Available, Progressing (complete, progressing, or timed out),
 * and the new (else any) ReplicaSet's ReplicaFailure condition.
 */
export function rolloutStatus(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, now: number): DeploymentStatus {
  const s = calculateStatus(d, allRSs, newRS, now);
  if (!hasProgressDeadline(d)) removeCondition(s, 'Progressing');
  const cur = getCondition(d.status, 'Progressing');
  const complete = s.replicas === s.updatedReplicas && cur?.reason === NEW_RS_AVAILABLE_REASON;
  const name = d.metadata?.name ?? '';
  const rsName = newRS?.metadata?.name ?? '';
  if (hasProgressDeadline(d) && !complete) {
    if (deploymentComplete(d, s)) {
      const msg = newRS ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${name}" has successfully progressed.`;
      setCondition(s, newCondition('Progressing', 'True', NEW_RS_AVAILABLE_REASON, msg, now));
    } else if (deploymentProgressing(d, s)) {
      const msg = newRS ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${name}" is progressing.`;
      // Progress refreshes lastUpdateTime even when the reason stays (the deadline counts from it).
      const c = newCondition('Progressing', 'True', RS_UPDATED_REASON, msg, now);
      if (cur?.status === 'True') c.lastTransitionTime = cur.lastTransitionTime;
      removeCondition(s, 'Progressing');
      setCondition(s, c);
    } else if (deploymentTimedOut(d, s, now)) {
      const msg = newRS ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${name}" has timed out progressing.`;
      setCondition(s, newCondition('Progressing', 'False', TIMED_OUT_REASON, msg, now));
    }
  }
  const failures = [newRS, ...allRSs].flatMap((rs) => (rs?.status?.conditions ?? []).filter((c) => c.type === 'ReplicaFailure').map((c) => ({ rs, c })));
  const failure = failures.find((f) => f.rs === newRS) ?? failures[0];
  if (failure) {
    const c = failure.c;
    setCondition(s, { type: 'ReplicaFailure', status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message });
  } else removeCondition(s, 'ReplicaFailure');
  return s;
}

/**
 * requeueStuckDeployment: when a rollout in progress shows no progress, when to look again so the
 * deadline is noticed (ms from now); undefined when there is nothing to wait for.
 */
export function stuckRequeueAfter(d: Deployment, s: DeploymentStatus, now: number): number | undefined {
  const cur = getCondition(d.status, 'Progressing');
  if (!hasProgressDeadline(d) || !cur) return undefined;
  if (deploymentComplete(d, s) || cur.reason === TIMED_OUT_REASON) return undefined;
  const after = time(cur.lastUpdateTime) + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - now;
  return Math.max(after, 0);
}

/** Status equality as kube's reflect.DeepEqual of two DeploymentStatus values (absent = zero). */
export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus | undefined): boolean {
  const norm = (s: DeploymentStatus | undefined) => ({
    observedGeneration: s?.observedGeneration ?? 0,
    replicas: s?.replicas ?? 0,
    updatedReplicas: s?.updatedReplicas ?? 0,
    readyReplicas: s?.readyReplicas ?? 0,
    availableReplicas: s?.availableReplicas ?? 0,
    unavailableReplicas: s?.unavailableReplicas ?? 0,
    collisionCount: s?.collisionCount ?? null,
    conditions: s?.conditions ?? [],
  });
  return semanticDeepEqual(norm(a), norm(b));
}

/**
 * cleanupDeployment: the old ReplicaSets beyond revisionHistoryLimit, lowest revision first, that
 * may be deleted (no replicas wanted or running, status caught up, not already going).
 */
export function historyToDelete<T extends ReplicaSet>(d: Deployment, oldRSs: readonly T[]): T[] {
  const limit = d.spec?.revisionHistoryLimit;
  if (limit == null) return [];
  const alive = oldRSs.filter((rs) => !rs.metadata?.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  return [...alive]
    .sort(byRevision)
    .slice(0, diff)
    .filter((rs) => (rs.status?.replicas ?? 0) === 0 && replicasOf(rs) === 0 && (rs.metadata?.generation ?? 0) <= (rs.status?.observedGeneration ?? 0));
}
