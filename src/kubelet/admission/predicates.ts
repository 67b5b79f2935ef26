// The kubelet's admission predicates (pkg/kubelet/lifecycle/predicate.go): before a new pod runs, the
// node judges it against the pods it already admitted, because a pod bound by spec.nodeName never met
// the scheduler. The checks are the scheduler's own fit checks (scheduler.AdmissionCheck: resources,
// node affinity/selector, node name, host ports), shared with it through src/api/scheduling, plus the
// NoExecute taints, after the OS checks the kubelet makes first; only the first failure becomes the
// verdict, with the kubelet's reason and message.
// Pure: the caller sums up the admitted pods (./admitter.ts).
import {
  ERR_REASON_NODE_AFFINITY,
  ERR_REASON_NODE_NAME,
  ERR_REASON_NODE_PORTS,
  fitsHostPorts,
  fitsNodeName,
  insufficientResources,
  NODE_AFFINITY,
  NODE_NAME,
  NODE_PORTS,
  TAINT_TOLERATION,
  type FitNode,
  type FitPod,
} from '../../api/scheduling/fit.ts';
import { podMatchesNodeSelectorAndAffinity } from '../../api/scheduling/node-affinity.ts';
import { isExtendedResourceName } from '../../api/scheduling/resources.ts';
import { findUntoleratedTaint } from '../../api/scheduling/taints.ts';
import type { Node, PodStatus } from '../../api/types.ts';

/** The admit handler's verdict (lifecycle.PodAdmitResult). */
export type AdmitResult = { admit: true } | Rejection;

export interface Rejection {
  admit: false;
  /** One word, the pod's status.reason and the event's reason: OutOfcpu, NodePorts, NodeAffinity... */
  reason: string;
  /** The event's message; the pod's status.message is "Pod was rejected: " + this. */
  message: string;
}

export const ADMITTED: AdmitResult = Object.freeze({ admit: true });

/** tainttoleration.ErrReasonNotMatch: the kubelet names no taint, unlike the scheduler's Filter. */
export const ERR_REASON_TAINTS = "node(s) had taints that the pod didn't tolerate";

/** The OS this node runs (runtime.GOOS of the kubelet). */
const NODE_OS = 'linux';

// scheduler.AdmissionCheck's order after the resources: node affinity, node name, host ports.
const CHECKS: ReadonlyArray<{ name: string; reason: string; fits(pod: FitPod, node: FitNode): boolean }> = [
  { name: NODE_AFFINITY, reason: ERR_REASON_NODE_AFFINITY, fits: (pod, node) => podMatchesNodeSelectorAndAffinity(pod.pod, node) },
  { name: NODE_NAME, reason: ERR_REASON_NODE_NAME, fits: (pod, node) => fitsNodeName(pod.pod, node) },
  { name: NODE_PORTS, reason: ERR_REASON_NODE_PORTS, fits: fitsHostPorts },
];

function reject(reason: string, message: string): Rejection {
  return { admit: false, reason, message };
}

/** lifecycle.InsufficientResourceError's reason: OutOfcpu, OutOfmemory, OutOfpods, OutOfnvidia.com/gpu. */
export function outOfReason(resourceName: string): string {
  return `OutOf${resourceName}`;
}

/**
 * removeMissingExtendedResources: an extended resource the node does not advertise at all is not
 * counted (cluster-level resources are not the node's to check).
 */
function withoutMissingExtendedResources(pod: FitPod, node: FitNode): FitPod {
  const scalar = pod.requests.scalar;
  if (scalar.size === 0) return pod;
  let kept: Map<string, number> | undefined;
  for (const name of scalar.keys()) {
    if (!isExtendedResourceName(name) || node.allocatable.scalar.has(name)) continue;
    kept ??= new Map(scalar);
    kept.delete(name);
  }
  return kept ? { ...pod, requests: { ...pod.requests, scalar: kept } } : pod;
}

/**
 * Every failure of the kubelet's generalFilter for one new pod on `node`, which holds the pods admitted
 * so far (not the pod itself), in the kubelet's order. Empty when the pod fits.
 */
export function generalFilter(pod: FitPod, node: FitNode): Rejection[] {
  const p = pod.pod;
  // rejectPodAdmissionBasedOnOSSelector / OSField: checks preemption could not help come first and alone.
  const osLabel = p.metadata?.labels?.['kubernetes.io/os'];
  if (osLabel !== undefined && osLabel !== NODE_OS) {
    return [reject('PodOSSelectorNodeLabelDoesNotMatch', "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label")];
  }
  const os = p.spec?.os?.name;
  if (os !== undefined && os !== NODE_OS) return [reject('PodOSNotSupported', "Failed to admit pod as the OS field doesn't match node OS")];

  const out: Rejection[] = [];
  for (const m of insufficientResources(withoutMissingExtendedResources(pod, node), node)) {
    out.push(reject(outOfReason(m.resourceName), `Node didn't have enough resource: ${m.resourceName}, requested: ${m.requested}, used: ${m.used}, capacity: ${m.capacity}`));
  }
  for (const c of CHECKS) if (!c.fits(pod, node)) out.push(predicateFailure(c.name, c.reason));
  // Only NoExecute taints concern the kubelet: NoSchedule ones were the scheduler's business.
  if (findUntoleratedTaint(node.node?.spec?.taints, p.spec?.tolerations, (t) => t.effect === 'NoExecute')) {
    out.push(predicateFailure(TAINT_TOLERATION, ERR_REASON_TAINTS));
  }
  return out;
}

/** The predicate admit handler's verdict: the first failure, if any. */
export function admitPod(pod: FitPod, node: FitNode): AdmitResult {
  return generalFilter(pod, node)[0] ?? ADMITTED;
}

/** lifecycle.PredicateFailureError: the predicate's name is the reason. */
function predicateFailure(name: string, desc: string): Rejection {
  return reject(name, `Predicate ${name} failed: ${desc}`);
}

/** Whether the node's labels are all that failed the pod (the kubelet then re-reads the Node and tries again). */
export function onlyNodeAffinity(failures: readonly Rejection[]): boolean {
  return failures.length > 0 && failures.every((f) => f.reason === NODE_AFFINITY);
}

/** The status the kubelet's rejectPod writes: Failed, with the reason and the prefixed message. */
export function rejectedStatus(r: Rejection, qosClass: string, startTime: string): PodStatus {
  return { phase: 'Failed', reason: r.reason, message: `Pod was rejected: ${r.message}`, qosClass, startTime };
}

/** A Node for the checks when none was read yet (the kubelet's initial node): labels and allocatable only. */
export function standInNode(name: string, labels: Record<string, string>, allocatable: Record<string, string>): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: {}, status: { allocatable, capacity: allocatable } };
}
