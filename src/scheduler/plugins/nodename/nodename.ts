// NodeName: a pod that names its node (spec.nodeName) fits only there.

import { ERR_REASON_NODE_NAME, fitsNodeName, NODE_NAME } from '../../../api/scheduling/fit.ts';
import type { CycleState } from '../../framework/cycle-state.ts';
import type { FilterPlugin } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { success, unresolvable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

export const NAME = NODE_NAME;

export class NodeName implements FilterPlugin {
  readonly name = NAME;
  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    return fitsNodeName(pod.pod, node) ? success() : unresolvable(ERR_REASON_NODE_NAME);
  }
}

export const factory = (): NodeName => new NodeName();
