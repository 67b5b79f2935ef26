// Whether a pod is Ready, since when, and whether it has been Ready for minReadySeconds (podutil's
// IsPodReady and IsPodAvailable): read by the workload controllers, the disruption controller and the
// API server's eviction. Pure.

import type { Pod } from './types.ts';

function readyCondition(p: Pod) {
  return p.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isPodReady(p: Pod): boolean {
  return readyCondition(p)?.status === 'True';
}

/** When the pod last became Ready (epoch ms), or undefined when it is not Ready. */
export function podReadySince(p: Pod): number | undefined {
  const c = readyCondition(p);
  if (c?.status !== 'True') return undefined;
  const t = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** Ready for at least minReadySeconds at `now` (podutil.IsPodAvailable). */
export function isPodAvailable(p: Pod, minReadySeconds: number, now: number): boolean {
  const since = podReadySince(p);
  if (since === undefined) return false;
  if (minReadySeconds <= 0) return true;
  return since + minReadySeconds * 1000 <= now;
}

/**
 * When a Ready pod that is not yet available becomes so (ms from now), or undefined: controllers
 * requeue then, since no pod event marks the moment (kube's "requeue after minReadySeconds").
 */
export function availableIn(p: Pod, minReadySeconds: number, now: number): number | undefined {
  const since = podReadySince(p);
  if (since === undefined || minReadySeconds <= 0) return undefined;
  const at = since + minReadySeconds * 1000;
  return at > now ? at - now : undefined;
}

