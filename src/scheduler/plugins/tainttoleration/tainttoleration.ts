// TaintToleration: NoSchedule/NoExecute taints the pod does not tolerate exclude the node; untolerated
// PreferNoSchedule taints lower its score (fewer is better).

import type { CycleState } from '../../framework/cycle-state.ts';
import { stateKey } from '../../framework/cycle-state.ts';
import type { FilterPlugin, NormalizeScorePlugin, PreScorePlugin, ScorePlugin } from '../../framework/interfaces.ts';
import { MAX_NODE_SCORE } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { success, unresolvable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';
import { TAINT_TOLERATION } from '../../../api/scheduling/fit.ts';
import { findUntoleratedTaint, isNoScheduleOrNoExecute, taintTolerated } from '../../../api/scheduling/taints.ts';
import type { Toleration } from '../../../api/types.ts';
import { defaultNormalizeScore } from '../normalize.ts';

export const NAME = TAINT_TOLERATION;
const preferKey = stateKey<readonly Toleration[]>(`${NAME}/prefer-tolerations`);

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, NormalizeScorePlugin {
  readonly name = NAME;

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const taints = node.node?.spec?.taints;
    if (!taints || taints.length === 0) return success();
    const t = findUntoleratedTaint(taints, pod.pod.spec?.tolerations, isNoScheduleOrNoExecute);
    if (!t) return success();
    return unresolvable(`node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`);
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    // Only tolerations that can apply to PreferNoSchedule taints matter for scoring.
    const ts = (pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(preferKey, ts);
    return success();
  }

  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const taints = node.node?.spec?.taints;
    if (!taints || taints.length === 0) return 0;
    const tols = state.read(preferKey) ?? [];
    let n = 0;
    for (const t of taints) if (t.effect === 'PreferNoSchedule' && !taintTolerated(t, tols)) n++;
    return n;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, _nodes: readonly NodeInfo[], scores: Float64Array): Status {
    defaultNormalizeScore(MAX_NODE_SCORE, true, scores);
    return success();
  }
}

export const factory = (): TaintToleration => new TaintToleration();
