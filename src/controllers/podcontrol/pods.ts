// What workload controllers read from a pod (kube-controller-manager's controller_utils and podutil):
// whether it is active, ready, available, and in which order surplus pods are deleted.
// Pure functions over the (trimmed) cached pods; callable from anywhere.

import { isPodReady, podReadySince } from '../../api/podready.ts';
import type { Pod } from '../../api/types.ts';

// Readiness and availability are pure pod facts the API server's eviction also reads: they live in src/api.
export { availableIn, isPodAvailable, isPodReady, podReadySince } from '../../api/podready.ts';

/** A pod that counts towards replicas: not finished and not being deleted. */
export function isPodActive(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !p.metadata?.deletionTimestamp;
}

export function isPodTerminating(p: Pod): boolean {
  return !!p.metadata?.deletionTimestamp;
}

function restarts(p: Pod): number {
  let n = 0;
  for (const s of p.status?.containerStatuses ?? []) n = Math.max(n, s.restartCount ?? 0);
  return n;
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function time(ts: string | undefined): number {
  const t = ts ? Date.parse(ts) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/**
 * The order in which surplus pods are deleted, first to go first (controller.ActivePodsWithRanks):
 * unscheduled before scheduled; Pending, then Unknown, then Running; not ready before ready; pods
 * sharing their node with more of their siblings first; ready for less time first; more restarts
 * first; newer first. `colocated` counts, per pod, the siblings on its node (the rank).
 */
export function deletionOrder(pods: readonly Pod[], colocated: (p: Pod) => number = () => 0): Pod[] {
  const keyed = pods.map((p) => ({
    p,
    assigned: p.spec?.nodeName ? 1 : 0,
    phase: phaseRank[p.status?.phase ?? 'Pending'] ?? 0,
    ready: isPodReady(p) ? 1 : 0,
    rank: colocated(p),
    readySince: podReadySince(p) ?? 0,
    restarts: restarts(p),
    created: time(p.metadata?.creationTimestamp),
  }));
  keyed.sort((a, b) =>
    a.assigned - b.assigned ||
    a.phase - b.phase ||
    a.ready - b.ready ||
    b.rank - a.rank ||
    // Among ready pods, the one ready for less time (later readySince) goes first.
    (a.ready && b.ready ? b.readySince - a.readySince : 0) ||
    b.restarts - a.restarts ||
    b.created - a.created,
  );
  return keyed.map((k) => k.p);
}

/** Per pod, how many pods of `pods` share its node (the co-location rank of deletionOrder). */
export function colocationRank(pods: readonly Pod[]): (p: Pod) => number {
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (n) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  }
  return (p) => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
}
