// Whether a pod fits a node, as both the scheduler's Filter plugins and the kubelet's admission decide
// it (Kubernetes' scheduler.AdmissionCheck reuses noderesources.Fits, nodeaffinity, nodename.Fits and
// nodeports.Fits for the kubelet): node resources, node name, host ports; node affinity is in
// ./node-affinity.ts and taints in ./taints.ts. Pure functions over the pod's and node's derived facts,
// so the scheduler passes its PodInfo/NodeInfo and the agent its own record of admitted pods.

import type { Node, Pod } from '../types.ts';
import { HostPortInfo, podHostPorts, type HostPort } from './host-ports.ts';
import type { NodeLabels } from './node-affinity.ts';
import { addResource, emptyResource, podRequests, resourceFromList, type Resource } from './resources.ts';

/** The checks' names: the scheduler's plugin names, which the kubelet reports as rejection reasons. */
export const NODE_AFFINITY = 'NodeAffinity';
export const NODE_NAME = 'NodeName';
export const NODE_PORTS = 'NodePorts';
export const NODE_RESOURCES_FIT = 'NodeResourcesFit';
export const TAINT_TOLERATION = 'TaintToleration';

/** The reasons a node is found unfit, as FailedScheduling events and kubelet rejections word them. */
export const ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";
export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

/** What the checks read of a pod (the scheduler's PodInfo is one). */
export interface FitPod {
  readonly pod: Pod;
  readonly requests: Resource;
  readonly hostPorts: readonly HostPort[];
}

/** What the checks read of a node with the pods it already holds (the scheduler's NodeInfo is one). */
export interface FitNode extends NodeLabels {
  readonly node: Node | undefined;
  readonly allocatable: Resource;
  /** The summed requests of the pods on the node. */
  readonly requested: Resource;
  readonly podCount: number;
  readonly usedPorts: HostPortInfo;
}

export function fitPod(pod: Pod): FitPod {
  return { pod, requests: podRequests(pod), hostPorts: podHostPorts(pod) };
}

/** A node and the pods on it, summed once (schedulerframework.NewNodeInfo(pods...) for the kubelet). */
export function fitNode(name: string, node: Node, pods: Iterable<FitPod>): FitNode {
  const requested = emptyResource();
  const usedPorts = new HostPortInfo();
  let podCount = 0;
  for (const p of pods) {
    addResource(requested, p.requests);
    for (const hp of p.hostPorts) usedPorts.add(hp);
    podCount++;
  }
  const allocatable = resourceFromList(node.status?.allocatable as Record<string, unknown> | undefined);
  return { name, node, labels: node.metadata?.labels ?? {}, allocatable, requested, podCount, usedPorts };
}

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** fitsRequest: every resource the node lacks for the pod, in Kubernetes' order. */
export function insufficientResources(pod: FitPod, node: FitNode): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = node.allocatable;
  const used = node.requested;
  if (node.podCount + 1 > alloc.allowedPodNumber) {
    out.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: node.podCount, capacity: alloc.allowedPodNumber });
  }
  const r = pod.requests;
  if (r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && r.scalar.size === 0) return out;
  if (r.milliCPU > 0 && r.milliCPU > alloc.milliCPU - used.milliCPU) {
    out.push({ resourceName: 'cpu', reason: 'Insufficient cpu', requested: r.milliCPU, used: used.milliCPU, capacity: alloc.milliCPU });
  }
  if (r.memory > 0 && r.memory > alloc.memory - used.memory) {
    out.push({ resourceName: 'memory', reason: 'Insufficient memory', requested: r.memory, used: used.memory, capacity: alloc.memory });
  }
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    out.push({ resourceName: 'ephemeral-storage', reason: 'Insufficient ephemeral-storage', requested: r.ephemeralStorage, used: used.ephemeralStorage, capacity: alloc.ephemeralStorage });
  }
  for (const [name, q] of r.scalar) {
    if (q === 0) continue;
    const a = alloc.scalar.get(name) ?? 0;
    const u = used.scalar.get(name) ?? 0;
    if (q > a - u) out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: q, used: u, capacity: a });
  }
  return out;
}

/** insufficientResources(...).length === 0 without building the list: the scheduler asks it for hundreds of nodes per pod. */
export function fitsResources(pod: FitPod, node: FitNode): boolean {
  const alloc = node.allocatable;
  const used = node.requested;
  const r = pod.requests;
  if (node.podCount + 1 > alloc.allowedPodNumber) return false;
  if (r.milliCPU > 0 && r.milliCPU > alloc.milliCPU - used.milliCPU) return false;
  if (r.memory > 0 && r.memory > alloc.memory - used.memory) return false;
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) return false;
  if (r.scalar.size > 0) {
    for (const [name, q] of r.scalar) {
      if (q > 0 && q > (alloc.scalar.get(name) ?? 0) - (used.scalar.get(name) ?? 0)) return false;
    }
  }
  return true;
}

/** nodename.Fits: a pod that names its node (spec.nodeName) fits only there. */
export function fitsNodeName(pod: Pod, node: NodeLabels): boolean {
  const want = pod.spec?.nodeName;
  return !want || want === node.name;
}

/** nodeports.Fits: none of the pod's host ports is taken on the node. */
export function fitsHostPorts(pod: FitPod, node: FitNode): boolean {
  for (const p of pod.hostPorts) if (node.usedPorts.conflicts(p)) return false;
  return true;
}
