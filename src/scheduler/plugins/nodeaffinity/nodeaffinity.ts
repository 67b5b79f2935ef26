// NodeAffinity: spec.nodeSelector and required node affinity exclude nodes; preferred node affinity adds
// each matching term's weight to the node's score.

import type { CycleState } from '../../framework/cycle-state.ts';
import type { FilterPlugin, NormalizeScorePlugin, PreFilterPlugin, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.ts';
import { MAX_NODE_SCORE } from '../../framework/interfaces.ts';
import { ERR_REASON_NODE_AFFINITY, NODE_AFFINITY } from '../../../api/scheduling/fit.ts';
import { nodeSelectorTermMatches, podMatchesNodeSelectorAndAffinity } from '../../../api/scheduling/node-affinity.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { skip, success, unresolvable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';
import { defaultNormalizeScore } from '../normalize.ts';

export const NAME = NODE_AFFINITY;

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, NormalizeScorePlugin {
  readonly name = NAME;

  preFilter(_state: CycleState, pod: PodInfo): Status {
    const required = pod.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    if (!required && !pod.pod.spec?.nodeSelector) return skip();
    return success();
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    return podMatchesNodeSelectorAndAffinity(pod.pod, node) ? success() : unresolvable(ERR_REASON_NODE_AFFINITY);
  }

  preScore(_state: CycleState, pod: PodInfo): Status {
    const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    return preferred && preferred.length > 0 ? success() : skip();
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    let total = 0;
    for (const t of pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (t.weight !== 0 && nodeSelectorTermMatches(t.preference, node)) total += t.weight;
    }
    return total;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): Status {
    defaultNormalizeScore(MAX_NODE_SCORE, false, scores);
    return success();
  }
}

export const factory = (): NodeAffinity => new NodeAffinity();
