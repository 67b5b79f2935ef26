// The disruption controller's arithmetic (pkg/controller/disruption): how many pods a budget expects
// and needs healthy, which recorded evictions still count, and the status that follows. Pure; the
// controller supplies the pods, the owners' scale and the time.

import { conditionsAreUpToDate, updateDisruptionAllowedCondition } from '../../api/disruption.ts';
import type { Pod, PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus } from '../../api/types.ts';
import { scaledValue } from '../../api/validation/workloads.ts';
import { isPodReady } from '../podcontrol/pods.ts';

/**
 * How long an eviction the API server approved keeps its pod out of currentHealthy: a pod still
 * there after this was not deleted after all, and counts again (DeletionTimeout).
 */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

/**
 * Whether the budget is measured against its pods' controllers' scale: maxUnavailable always, and a
 * percentage minAvailable. An integer minAvailable counts the selected pods themselves.
 */
export function needsScale(spec: PodDisruptionBudgetSpec | undefined): boolean {
  if (spec?.maxUnavailable != null) return true;
  return typeof spec?.minAvailable === 'string';
}

export interface Expected {
  expectedCount: number;
  desiredHealthy: number;
}

/**
 * getExpectedPodCount: `scale` is the sum of the pods' controllers' replicas (used only when
 * needsScale). Percentages round up, as intstr.GetScaledValueFromIntOrPercent(…, true) does, so
 * maxUnavailable 50% of 3 allows 2 unavailable and minAvailable 50% of 3 needs 2.
 */
export function expectedPods(spec: PodDisruptionBudgetSpec | undefined, podCount: number, scale: number): Expected {
  if (spec?.maxUnavailable != null) {
    const maxUnavailable = scaledValue(spec.maxUnavailable, scale, true);
    return { expectedCount: scale, desiredHealthy: Math.max(0, scale - maxUnavailable) };
  }
  if (spec?.minAvailable != null) {
    if (typeof spec.minAvailable === 'number') return { expectedCount: podCount, desiredHealthy: spec.minAvailable };
    return { expectedCount: scale, desiredHealthy: scaledValue(spec.minAvailable, scale, true) };
  }
  return { expectedCount: 0, desiredHealthy: 0 };
}

export interface DisruptedPods {
  /** The entries that still hold (pods there, not being deleted, within DELETION_TIMEOUT). */
  kept: Record<string, string>;
  /** When the next kept entry expires (epoch ms): the budget is synced again then. */
  recheckAt?: number;
  /** Pods an eviction was approved for that are still there past the timeout. */
  notDeleted: string[];
}

/**
 * buildDisruptedPodMap: drops entries of pods gone or being deleted (the controller sees them go)
 * and of pods still there after DELETION_TIMEOUT (the eviction's delete did not happen).
 */
export function buildDisruptedPodMap(pods: readonly Pod[], recorded: Record<string, string> | undefined, now: number): DisruptedPods {
  const out: DisruptedPods = { kept: {}, notDeleted: [] };
  if (!recorded) return out;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const name = pod.metadata?.name ?? '';
    const at = recorded[name];
    if (at === undefined) continue;
    const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
    if (expires < now) {
      out.notDeleted.push(name);
      continue;
    }
    out.kept[name] = at;
    if (out.recheckAt === undefined || expires < out.recheckAt) out.recheckAt = expires;
  }
  return out;
}

/** countHealthyPods: Ready pods that are neither being deleted nor recently approved for eviction. */
export function countHealthy(pods: readonly Pod[], disrupted: Record<string, string>, now: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const at = disrupted[pod.metadata?.name ?? ''];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

/**
 * disruptionsAllowed: what the healthy pods exceed the desired count by. A budget that expects no
 * pods allows nothing, so pods appearing before the next sync are safe.
 */
export function disruptionsAllowed(currentHealthy: number, desiredHealthy: number, expectedCount: number): number {
  const n = currentHealthy - desiredHealthy;
  return expectedCount <= 0 || n <= 0 ? 0 : n;
}

export interface Computed extends Expected {
  currentHealthy: number;
  disruptedPods: Record<string, string>;
}

/**
 * updatePdbStatus: the new status, or undefined when the stored one already says all of it (same
 * counts, same disrupted pods, observed this generation, condition up to date).
 */
export function nextStatus(pdb: PodDisruptionBudget, c: Computed, now: number): PodDisruptionBudgetStatus | undefined {
  const allowed = disruptionsAllowed(c.currentHealthy, c.desiredHealthy, c.expectedCount);
  const st = pdb.status;
  const generation = pdb.metadata?.generation ?? 0;
  if (
    st &&
    st.currentHealthy === c.currentHealthy &&
    st.desiredHealthy === c.desiredHealthy &&
    st.expectedPods === c.expectedCount &&
    st.disruptionsAllowed === allowed &&
    sameTimes(st.disruptedPods, c.disruptedPods) &&
    (st.observedGeneration ?? 0) === generation &&
    conditionsAreUpToDate(pdb)
  ) {
    return undefined;
  }
  const next: PodDisruptionBudget = {
    metadata: { generation },
    status: {
      currentHealthy: c.currentHealthy,
      desiredHealthy: c.desiredHealthy,
      expectedPods: c.expectedCount,
      disruptionsAllowed: allowed,
      observedGeneration: generation,
      conditions: (st?.conditions ?? []).map((x) => ({ ...x })),
    },
  };
  if (Object.keys(c.disruptedPods).length) next.status!.disruptedPods = c.disruptedPods;
  updateDisruptionAllowedCondition(next, now);
  return next.status;
}

/** Semantic equality of two disruptedPods maps (a nil map and an empty one are equal). */
function sameTimes(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && Date.parse(b[k]) === Date.parse(a![k]!));
}
