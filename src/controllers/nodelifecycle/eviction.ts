// Taint-based eviction: what to do with a pod on a node that has NoExecute taints.
//
// For each NoExecute taint the pod's first matching toleration decides (as core/v1 helpers'
// GetMatchingTolerations): no match → evict now; a match without tolerationSeconds → tolerated for
// ever; a match with tolerationSeconds → tolerated until the taint's timeAdded plus that many seconds
// (zero or negative: at once). The pod's deadline is the earliest over its taints. A taint without
// timeAdded (added by a user) counts from when the controller first saw it.
// Pure; `now` and the first-seen times are the caller's.

import type { Pod, Taint } from '../../api/types.ts';
import { toleratesTaint } from './taints.ts';

export type EvictionDecision =
  | { action: 'keep' }
  | { action: 'evict'; taint: Taint }
  | { action: 'wait'; at: number; taint: Taint };

export function evictionDecision(pod: Pod, taints: readonly Taint[] | undefined, now: number, seenAt: (t: Taint) => number): EvictionDecision {
  let deadline = Infinity;
  let deciding: Taint | undefined;
  for (const taint of taints ?? []) {
    if (taint.effect !== 'NoExecute') continue;
    const tol = (pod.spec?.tolerations ?? []).find((t) => toleratesTaint(t, taint));
    if (!tol) return { action: 'evict', taint };
    if (tol.tolerationSeconds === undefined || tol.tolerationSeconds === null) continue;
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : NaN;
    const start = Number.isFinite(added) ? added : seenAt(taint);
    const at = start + Math.max(0, tol.tolerationSeconds) * 1000;
    if (at < deadline) {
      deadline = at;
      deciding = taint;
    }
  }
  if (!deciding) return { action: 'keep' };
  if (deadline <= now) return { action: 'evict', taint: deciding };
  return { action: 'wait', at: deadline, taint: deciding };
}
