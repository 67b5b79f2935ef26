// NodeResourcesFit: the node's allocatable must cover what is already requested on it (assumed pods
// included) plus the pod's requests, for cpu, memory, ephemeral-storage, every extended resource the
// pod asks for, and the pod count. Scores with LeastAllocated: the emptier the node (cpu and memory,
// counted with Kubernetes' defaults for containers that request nothing), the better.

import type { CycleState } from '../../framework/cycle-state.ts';
import type { FilterPlugin, ScorePlugin } from '../../framework/interfaces.ts';
import { MAX_NODE_SCORE } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { success, unschedulable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

export const NAME = 'NodeResourcesFit';

export interface InsufficientResource {
  resourceName: string;
  reason: string;
  requested: number;
  used: number;
  capacity: number;
}

/** fitsRequest: every resource the node lacks for the pod, in Kubernetes' order. */
export function insufficientResources(pod: PodInfo, node: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = node.allocatable;
  const used = node.requested;
  if (node.pods.size + 1 > alloc.allowedPodNumber) {
    out.push({ resourceName: 'pods', reason: 'Too many pods', requested: 1, used: node.pods.size, capacity: alloc.allowedPodNumber });
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

/** The common case, without building the list: called for hundreds of nodes per pod. */
function fits(pod: PodInfo, node: NodeInfo): boolean {
  const alloc = node.allocatable;
  const used = node.requested;
  const r = pod.requests;
  if (node.pods.size + 1 > alloc.allowedPodNumber) return false;
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

/** leastRequestedScore: (capacity - requested) * 100 / capacity in integers, 0 when over capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

// Kubernetes computes the pod's requests in PreFilter; here they are part of PodInfo, computed once per
// pod rather than once per attempt, so this plugin needs no PreFilter.
export class NodeResourcesFit implements FilterPlugin, ScorePlugin {
  readonly name = NAME;

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (fits(pod, node)) return success();
    const missing = insufficientResources(pod, node);
    if (missing.length === 0) return success();
    return unschedulable(...missing.map((m) => m.reason));
  }

  /** LeastAllocated over cpu and memory, weight 1 each (the default resources). */
  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const alloc = node.allocatable;
    let total = 0;
    let weights = 0;
    if (alloc.milliCPU > 0) {
      total += leastRequestedScore(node.nonZeroRequested.milliCPU + pod.nonZeroRequests.milliCPU, alloc.milliCPU);
      weights++;
    }
    if (alloc.memory > 0) {
      total += leastRequestedScore(node.nonZeroRequested.memory + pod.nonZeroRequests.memory, alloc.memory);
      weights++;
    }
    return weights === 0 ? 0 : Math.trunc(total / weights);
  }
}

export const factory = (): NodeResourcesFit => new NodeResourcesFit();
