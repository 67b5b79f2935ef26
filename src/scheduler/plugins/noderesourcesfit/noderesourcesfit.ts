// NodeResourcesFit: the node's allocatable must cover what is already requested on it (assumed pods
// included) plus the pod's requests, for cpu, memory, ephemeral-storage, every extended resource the
// pod asks for, and the pod count. Scores with LeastAllocated: the emptier the node (cpu and memory,
// counted with Kubernetes' defaults for containers that request nothing), the better.

import { fitsResources, insufficientResources, NODE_RESOURCES_FIT } from '../../../api/scheduling/fit.ts';
import type { CycleState } from '../../framework/cycle-state.ts';
import type { FilterPlugin, ScorePlugin } from '../../framework/interfaces.ts';
import { MAX_NODE_SCORE } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { success, unschedulable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

export const NAME = NODE_RESOURCES_FIT;

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
    if (fitsResources(pod, node)) return success();
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
