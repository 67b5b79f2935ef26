// What the pod garbage collector removes, as Kubernetes' PodGC decides it. Pure: the controller passes
// the cached pods and nodes and does the deleting.
//  - terminated: when more than `threshold` pods are Succeeded/Failed, the oldest (by creation) above
//    the threshold;
//  - orphaned: pods bound to a node that has been missing for the quarantine period (the caller checks
//    the node is really gone with a GET before deleting: a node may register after its pods are bound);
//  - unscheduled terminating: pods being deleted that were never bound (no agent will confirm them);
//  - out of service: pods being deleted on a node that is not Ready and carries the
//    `node.kubernetes.io/out-of-service` taint (the administrator says it is not coming back).

import type { Node, Pod } from '../../api/types.ts';

export const TAINT_OUT_OF_SERVICE = 'node.kubernetes.io/out-of-service';

export type GcReason = 'terminated' | 'orphaned' | 'unscheduledTerminating' | 'outOfService';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  reason: GcReason;
  /** The pod is not terminal yet: its status should say Failed before it goes. */
  setFailed: boolean;
}

export function isTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

function refOf(pod: Pod, reason: GcReason): PodRef {
  return { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', reason, setFailed: !isTerminated(pod) };
}

/** The oldest terminated pods above `threshold` (0 disables). Ties broken by namespace/name for stability. */
export function terminatedOverThreshold(pods: readonly Pod[], threshold: number): PodRef[] {
  if (threshold <= 0) return [];
  const done = pods.filter(isTerminated);
  if (done.length <= threshold) return [];
  const created = (p: Pod): number => Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
  done.sort((a, b) => created(a) - created(b) || `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`));
  return done.slice(0, done.length - threshold).map((p) => refOf(p, 'terminated'));
}

/** Names of nodes pods are bound to that are not in `nodes`. */
export function missingNodes(pods: readonly Pod[], hasNode: (name: string) => boolean): Set<string> {
  const out = new Set<string>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (n && !hasNode(n)) out.add(n);
  }
  return out;
}

export function unscheduledTerminating(pods: readonly Pod[]): PodRef[] {
  return pods.filter((p) => p.metadata?.deletionTimestamp && !p.spec?.nodeName).map((p) => refOf(p, 'unscheduledTerminating'));
}

export function outOfServiceTerminating(pods: readonly Pod[], node: Node): PodRef[] {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const oos = (node.spec?.taints ?? []).some((t) => t.key === TAINT_OUT_OF_SERVICE);
  if (ready || !oos) return [];
  return pods.filter((p) => p.metadata?.deletionTimestamp).map((p) => refOf(p, 'outOfService'));
}
