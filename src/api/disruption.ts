// What both the disruption controller and the pods/eviction subresource know of a
// PodDisruptionBudget (k8s.io/component-helpers/apps/poddisruptionbudget): which pods it selects,
// and its DisruptionAllowed condition. Pure.

import type { Condition } from 'kubernetes-types/meta/v1.js';
import { fromLabelSelector, LabelSelectorError, type Labels } from './labels.ts';
import type { PodDisruptionBudget } from './types.ts';
import { rfc3339 } from '../util/clock.ts';

export const DISRUPTION_ALLOWED_CONDITION = 'DisruptionAllowed';
/** The budget allows disruptions now. */
export const SUFFICIENT_PODS_REASON = 'SufficientPods';
/** Not enough healthy pods to allow one more disruption. */
export const INSUFFICIENT_PODS_REASON = 'InsufficientPods';
/** The controller could not compute the budget (it then allows no disruption: "fail safe"). */
export const SYNC_FAILED_REASON = 'SyncFailed';

/**
 * Whether the budget covers a pod with these labels (policy/v1: an empty selector selects every pod
 * of the namespace, a missing one none). A selector that does not parse selects nothing.
 */
export function budgetSelects(pdb: PodDisruptionBudget, labels: Labels): boolean {
  try {
    return fromLabelSelector(pdb.spec?.selector).matches(labels);
  } catch (err) {
    if (err instanceof LabelSelectorError) return false;
    throw err;
  }
}

/**
 * meta.SetStatusCondition: adds the condition, or updates the one of its type, keeping
 * lastTransitionTime unless the status changes.
 */
export function setStatusCondition(conds: Condition[], c: Omit<Condition, 'lastTransitionTime'>, now: number): void {
  const i = conds.findIndex((x) => x.type === c.type);
  if (i < 0) {
    conds.push({ ...c, lastTransitionTime: rfc3339(now) });
    return;
  }
  const old = conds[i]!;
  conds[i] = { ...c, lastTransitionTime: old.status !== c.status ? rfc3339(now) : old.lastTransitionTime };
}

/** UpdateDisruptionAllowedCondition: True/SufficientPods while disruptions are allowed, else False/InsufficientPods. */
export function updateDisruptionAllowedCondition(pdb: PodDisruptionBudget, now: number): void {
  const st = (pdb.status ??= { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 });
  const conds = (st.conditions ??= []);
  const allowed = st.disruptionsAllowed > 0;
  setStatusCondition(
    conds,
    { type: DISRUPTION_ALLOWED_CONDITION, status: allowed ? 'True' : 'False', reason: allowed ? SUFFICIENT_PODS_REASON : INSUFFICIENT_PODS_REASON, message: '', observedGeneration: st.observedGeneration ?? 0 },
    now,
  );
}

/** ConditionsAreUpToDate: the condition exists, is for the current generation and agrees with disruptionsAllowed. */
export function conditionsAreUpToDate(pdb: PodDisruptionBudget): boolean {
  const st = pdb.status;
  const cond = st?.conditions?.find((c) => c.type === DISRUPTION_ALLOWED_CONDITION);
  if (!st || !cond) return false;
  if ((st.observedGeneration ?? 0) !== (pdb.metadata?.generation ?? 0)) return false;
  if (st.disruptionsAllowed > 0) return cond.status === 'True' && cond.reason === SUFFICIENT_PODS_REASON;
  return cond.status === 'False' && cond.reason === INSUFFICIENT_PODS_REASON;
}
