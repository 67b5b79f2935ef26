// NodePorts: a pod's host ports must be free on the node (same protocol and port on the same address,
// or on any address when either side binds 0.0.0.0).

import type { CycleState } from '../../framework/cycle-state.ts';
import type { FilterPlugin, PreFilterPlugin } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { skip, success, unschedulable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

export const NAME = 'NodePorts';
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;

  preFilter(_state: CycleState, pod: PodInfo): Status {
    return pod.hostPorts.length === 0 ? skip() : success();
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    for (const p of pod.hostPorts) if (node.usedPorts.conflicts(p)) return unschedulable(ERR_REASON);
    return success();
  }
}

export const factory = (): NodePorts => new NodePorts();
