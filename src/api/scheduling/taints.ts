// Taints and tolerations as core/v1 helpers define them (Toleration.ToleratesTaint,
// FindMatchingUntoleratedTaint). Shared by the scheduler's TaintToleration, NodeUnschedulable,
// PodTopologySpread's nodeTaintsPolicy and preemption checks, and by the node agent's admission.

import type { Taint, Toleration } from '../types.ts';

/** An empty key with Exists tolerates every taint; an empty effect matches every effect; the operator defaults to Equal. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function taintTolerated(taint: Taint, tolerations: readonly Toleration[] | undefined): boolean {
  if (!tolerations) return false;
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** The first taint (in node order) that passes `filter` and no toleration tolerates. */
export function findUntoleratedTaint(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[] | undefined, filter: (t: Taint) => boolean): Taint | undefined {
  if (!taints) return undefined;
  for (const taint of taints) {
    if (!filter(taint)) continue;
    if (!taintTolerated(taint, tolerations)) return taint;
  }
  return undefined;
}

export const isNoScheduleOrNoExecute = (t: Taint): boolean => t.effect === 'NoSchedule' || t.effect === 'NoExecute';
