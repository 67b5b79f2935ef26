// NodePorts: a pod's host ports must be free on the node (same protocol and port on the same address,
// or on any address when either side binds 0.0.0.0).

import { ERR_REASON_NODE_PORTS, fitsHostPorts, NODE_PORTS } from '../../../api/scheduling/fit.ts';
import type { CycleState } from '../../framework/cycle-state.ts';
import type { FilterPlugin, PreFilterPlugin } from '../../framework/interfaces.ts';
import type { NodeInfo } from '../../framework/node-info.ts';
import type { PodInfo } from '../../framework/pod-info.ts';
import { skip, success, unschedulable } from '../../framework/status.ts';
import type { Status } from '../../framework/status.ts';

export const NAME = NODE_PORTS;

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = NAME;

  preFilter(_state: CycleState, pod: PodInfo): Status {
    return pod.hostPorts.length === 0 ? skip() : success();
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    return fitsHostPorts(pod, node) ? success() : unschedulable(ERR_REASON_NODE_PORTS);
  }
}

export const factory = (): NodePorts => new NodePorts();
