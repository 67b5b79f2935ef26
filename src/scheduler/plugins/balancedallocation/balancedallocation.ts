// NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory would be used in equal proportion
// after placing the pod (score = (1 - standard deviation of the fractions) * 100). Best-effort pods
// are not scored, so they do not all pile onto one node.

import type { CycleState } from '../../framework/cycle-state.ts';
import type { PreScorePlugin, ScorePlugin } from '../../framework/interfaces.ts';
import { MAX_NODE_SCORE } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { skip, success } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

export const NAME = 'NodeResourcesBalancedAllocation';

/** balancedResourceScorer over the resources with a non-zero allocatable. */
export function balancedScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let sum = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const f = Math.min(1, requested[i] / allocatable[i]);
    fractions.push(f);
    sum += f;
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs((fractions[0] - fractions[1]) / 2);
  } else if (fractions.length > 2) {
    const mean = sum / fractions.length;
    let sq = 0;
    for (const f of fractions) sq += (f - mean) * (f - mean);
    std = Math.sqrt(sq / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export class BalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;

  preScore(_state: CycleState, pod: PodInfo): Status {
    return pod.requests.milliCPU === 0 && pod.requests.memory === 0 ? skip() : success();
  }

  // Uses actual requests (useRequested), not the defaulted ones LeastAllocated uses.
  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const a = node.allocatable;
    if (a.milliCPU === 0 || a.memory === 0) {
      return balancedScore([node.requested.milliCPU + pod.requests.milliCPU, node.requested.memory + pod.requests.memory], [a.milliCPU, a.memory]);
    }
    // The usual two resources, without arrays: std of two fractions is half their distance.
    const fc = Math.min(1, (node.requested.milliCPU + pod.requests.milliCPU) / a.milliCPU);
    const fm = Math.min(1, (node.requested.memory + pod.requests.memory) / a.memory);
    return Math.trunc((1 - Math.abs((fc - fm) / 2)) * MAX_NODE_SCORE);
  }
}

export const factory = (): BalancedAllocation => new BalancedAllocation();
