// NodeName: a pod that names its node (spec.nodeName) fits only there.

import type { CycleState } from '../../framework/cycle-state.ts';
import type { FilterPlugin } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { success, unresolvable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

export const NAME = 'NodeName';
export const ERR_REASON = "node(s) didn't match the requested node name";

export class NodeName implements FilterPlugin {
  readonly name = NAME;
  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const want = pod.pod.spec?.nodeName;
    if (!want || want === node.name) return success();
    return unresolvable(ERR_REASON);
  }
}

export const factory = (): NodeName => new NodeName();
