// The taints the node lifecycle controller owns and when a node should carry them, as Kubernetes'
// node lifecycle controller sets them:
//  - NoExecute, for taint-based eviction: `not-ready` while Ready=False, `unreachable` while
//    Ready=Unknown (the controller itself sets Unknown when the node stops reporting);
//  - NoSchedule, so the scheduler keeps new pods away ("taint nodes by condition"): the same two, plus
//    memory/disk/pid pressure and network-unavailable while those conditions are True, and
//    `unschedulable` while spec.unschedulable (kubectl cordon).
// Taints anyone else put on the node are never touched. Pure functions.

import type { Node, Taint, Toleration } from '../../api/types.ts';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

const conditionTaints: Array<{ condition: string; status: string; key: string }> = [
  { condition: 'Ready', status: 'False', key: TAINT_NOT_READY },
  { condition: 'Ready', status: 'Unknown', key: TAINT_UNREACHABLE },
  { condition: 'MemoryPressure', status: 'True', key: 'node.kubernetes.io/memory-pressure' },
  { condition: 'DiskPressure', status: 'True', key: 'node.kubernetes.io/disk-pressure' },
  { condition: 'PIDPressure', status: 'True', key: 'node.kubernetes.io/pid-pressure' },
  { condition: 'NetworkUnavailable', status: 'True', key: 'node.kubernetes.io/network-unavailable' },
];

const managed = new Set<string>([
  `${TAINT_NOT_READY}:NoExecute`,
  `${TAINT_UNREACHABLE}:NoExecute`,
  `${TAINT_UNSCHEDULABLE}:NoSchedule`,
  ...conditionTaints.map((c) => `${c.key}:NoSchedule`),
]);

const id = (t: { key: string; effect: string }): string => `${t.key}:${t.effect}`;

/** The controller-owned taints `node` should carry now (without timeAdded). */
export function desiredTaints(node: Node): Taint[] {
  const out: Taint[] = [];
  const conds = node.status?.conditions ?? [];
  const ready = conds.find((c) => c.type === 'Ready')?.status;
  if (ready === 'False') out.push({ key: TAINT_NOT_READY, effect: 'NoExecute' });
  if (ready === 'Unknown') out.push({ key: TAINT_UNREACHABLE, effect: 'NoExecute' });
  for (const ct of conditionTaints) {
    if (conds.some((c) => c.type === ct.condition && c.status === ct.status)) out.push({ key: ct.key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return out;
}

/**
 * The node's taint list with the controller-owned ones brought in line with `desired`: owned taints no
 * longer wanted are removed, missing ones appended (NoExecute ones stamped with `nowRfc3339` as
 * timeAdded as Kubernetes' node lifecycle controller does; taint-based eviction does not count from it,
 * see ./eviction.ts), others kept as they are.
 * Undefined when nothing changes.
 */
export function reconcileTaints(current: readonly Taint[] | undefined, desired: readonly Taint[], nowRfc3339: string): Taint[] | undefined {
  const want = new Set(desired.map(id));
  const next: Taint[] = [];
  let changed = false;
  for (const t of current ?? []) {
    if (managed.has(id(t)) && !want.has(id(t))) {
      changed = true;
      continue;
    }
    next.push(t);
  }
  for (const t of desired) {
    if (next.some((x) => id(x) === id(t))) continue;
    next.push(t.effect === 'NoExecute' ? { ...t, timeAdded: nowRfc3339 } : { ...t });
    changed = true;
  }
  return changed ? next : undefined;
}

/** core/v1 Toleration.ToleratesTaint: empty key with Exists matches all; empty effect matches all. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator || 'Equal';
  if (op === 'Exists') return true;
  if (op === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return false;
}
