// Taint-based eviction: when a pod on a node with NoExecute taints must go.
//
// As Kubernetes' taint eviction controller (pkg/controller/tainteviction):
//  - each NoExecute taint is matched by the pod's first toleration that tolerates it
//    (v1helper.GetMatchingTolerations); a taint nothing tolerates means eviction at once;
//  - over the matching tolerations, the smallest tolerationSeconds decides (getMinTolerationTime):
//    zero or negative means at once, none set means tolerated for ever;
//  - the period starts when the controller first sees the pod under taints it tolerates only for a
//    while, not at the taint's timeAdded: a pod bound to a node tainted an hour ago gets its full
//    tolerationSeconds, and a pod already there when the taint appears starts counting when the taint
//    is seen. Kubernetes keeps that start (the timed work's CreatedAt) while the taints change, and
//    drops it when the taints go, when the pod becomes tolerated for ever, or when the pod goes.
//  - Nothing survives a restart: Kubernetes' queue lives in memory, so periods start afresh.
//
// One difference, on purpose: while a period runs, Kubernetes keeps the fire time it first computed
// even if a new taint brings a shorter toleration (its check compares CreatedAt with now and always
// keeps the old work). Here the deadline is the start plus the minimum of the tolerations that match
// now, which is what that code evidently means to do (it carries CreatedAt over for this), so a pod
// never outstays the shortest toleration it holds.
//
// EvictionSchedule holds that per-pod state; it decides, the controller acts (events, API writes).
// Called from the controller's workers and informer handlers, all on the one JS thread.

import type { Pod, Taint } from '../../api/types.ts';
import { toleratesTaint } from './taints.ts';

/** What a pod's tolerations make of a node's NoExecute taints. */
export type TolerationVerdict =
  | { kind: 'untainted' }
  | { kind: 'forever' }
  | { kind: 'untolerated'; taint: Taint }
  | { kind: 'timed'; ms: number };

export function tolerationVerdict(pod: Pod, taints: readonly Taint[] | undefined): TolerationVerdict {
  const noExecute = (taints ?? []).filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return { kind: 'untainted' };
  let min = Infinity;
  for (const taint of noExecute) {
    const tol = (pod.spec?.tolerations ?? []).find((t) => toleratesTaint(t, taint));
    if (!tol) return { kind: 'untolerated', taint };
    if (tol.tolerationSeconds === undefined || tol.tolerationSeconds === null) continue;
    min = Math.min(min, Math.max(0, tol.tolerationSeconds));
  }
  return min === Infinity ? { kind: 'forever' } : { kind: 'timed', ms: min * 1000 };
}

/**
 * - keep: nothing to do; `cancelled` when a scheduled deletion was dropped (Kubernetes then emits
 *   "Cancelling deletion of Pod ns/name").
 * - evict: delete the pod now; `cancelled` as for keep (an untolerated taint replaces a running period,
 *   and Kubernetes emits the cancel event before marking the pod).
 * - wait: look again at `at`.
 */
export type EvictionDecision =
  | { action: 'keep'; cancelled: boolean }
  | { action: 'evict'; cancelled: boolean }
  | { action: 'wait'; at: number };

interface Entry {
  node: string;
  /** When the controller first saw the pod on `node` under taints it tolerates only for a while. */
  since: number;
  /** Deleted already: nothing more to do until the pod goes (Kubernetes keeps a nil worker for it). */
  done: boolean;
}

export class EvictionSchedule {
  readonly #byUid = new Map<string, Entry>();

  /** Decides for `pod` on `node` carrying `taints`, at `now`; records or drops the pod's start. */
  decide(pod: Pod, node: string, taints: readonly Taint[] | undefined, now: number): EvictionDecision {
    const uid = pod.metadata?.uid ?? '';
    let entry = this.#byUid.get(uid);
    if (entry && entry.node !== node) {
      this.#byUid.delete(uid);
      entry = undefined;
    }
    const verdict = tolerationVerdict(pod, taints);
    if (verdict.kind === 'untainted' || verdict.kind === 'forever') {
      if (!entry) return { action: 'keep', cancelled: false };
      this.#byUid.delete(uid);
      return { action: 'keep', cancelled: !entry.done };
    }
    if (entry?.done) return { action: 'keep', cancelled: false };
    if (verdict.kind === 'untolerated') {
      this.#byUid.delete(uid);
      return { action: 'evict', cancelled: entry !== undefined };
    }
    if (!entry) {
      entry = { node, since: now, done: false };
      this.#byUid.set(uid, entry);
    }
    const at = entry.since + verdict.ms;
    return at <= now ? { action: 'evict', cancelled: false } : { action: 'wait', at };
  }

  /** Records that the pod was deleted, so later passes before it disappears do not evict it again. */
  evicted(pod: Pod, node: string, now: number): void {
    const uid = pod.metadata?.uid ?? '';
    const entry = this.#byUid.get(uid);
    this.#byUid.set(uid, { node, since: entry?.since ?? now, done: true });
  }

  /** Drops a pod that is gone; true when a deletion was still scheduled (the cancel event is due). */
  forget(uid: string): boolean {
    const entry = this.#byUid.get(uid);
    this.#byUid.delete(uid);
    return entry !== undefined && !entry.done;
  }

  /** The start of the pod's period, if one runs (for tests and diagnostics). */
  since(uid: string): number | undefined {
    const entry = this.#byUid.get(uid);
    return entry && !entry.done ? entry.since : undefined;
  }

  clear(): void {
    this.#byUid.clear();
  }
}
