// NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods tolerating the
// node.kubernetes.io/unschedulable:NoSchedule taint (DaemonSet pods do).

import type { CycleState } from '../../framework/cycle-state.ts';
import type { FilterPlugin } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { success, unresolvable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';
import { taintTolerated } from '../../../api/scheduling/taints.ts';

export const NAME = 'NodeUnschedulable';
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const ERR_REASON_UNKNOWN_CONDITION = 'node(s) had unknown conditions';
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

export class NodeUnschedulable implements FilterPlugin {
  readonly name = NAME;
  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (!node.node) return unresolvable(ERR_REASON_UNKNOWN_CONDITION);
    if (!node.node.spec?.unschedulable) return success();
    if (taintTolerated(UNSCHEDULABLE_TAINT, pod.pod.spec?.tolerations)) return success();
    return unresolvable(ERR_REASON_UNSCHEDULABLE);
  }
}

export const factory = (): NodeUnschedulable => new NodeUnschedulable();
