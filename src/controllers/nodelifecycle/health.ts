// Node health as the node lifecycle controller judges it: when did we last hear from the node?
//
// A node is heard from when its Lease's renewTime changes or its Ready condition's lastHeartbeatTime
// changes. The time recorded is the controller's own clock at observation, not the timestamps the
// agent wrote (Kubernetes does the same: the agent's clock may be skewed). A node seen for the first
// time counts as just heard from, unless it has never posted a Ready condition, in which case its
// creation time is used, so a node that never reported goes Unknown one grace period after creation.
//
// Owned by one controller; called from its single worker. Pure apart from the injected `now`.

import type { Lease, Node, NodeCondition } from '../../api/types.ts';

interface Seen {
  probeAt: number;
  heartbeat: string | undefined;
  renewTime: string | undefined;
}

export class NodeHealthTracker {
  readonly #seen = new Map<string, Seen>();

  /** Records what `node` and its `lease` say now; returns the time the node was last heard from. */
  observe(node: Node, lease: Lease | undefined, now: number): number {
    const name = node.metadata?.name ?? '';
    const heartbeat = readyCondition(node)?.lastHeartbeatTime;
    const renewTime = lease?.spec?.renewTime;
    const prev = this.#seen.get(name);
    if (!prev) {
      const created = Date.parse(node.metadata?.creationTimestamp ?? '');
      const probeAt = readyCondition(node) === undefined && renewTime === undefined && Number.isFinite(created) ? Math.min(created, now) : now;
      this.#seen.set(name, { probeAt, heartbeat, renewTime });
      return probeAt;
    }
    if (heartbeat !== prev.heartbeat || (renewTime !== undefined && renewTime !== prev.renewTime)) {
      prev.probeAt = now;
      prev.heartbeat = heartbeat;
      prev.renewTime = renewTime;
    }
    return prev.probeAt;
  }

  forget(name: string): void {
    this.#seen.delete(name);
  }

  has(name: string): boolean {
    return this.#seen.has(name);
  }
}

export function readyCondition(node: Node): NodeCondition | undefined {
  return node.status?.conditions?.find((c) => c.type === 'Ready');
}

/** The conditions the agent owns; all of them go Unknown when it stops reporting. */
export const AGENT_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export const REASON_UNKNOWN = 'NodeStatusUnknown';
export const MESSAGE_UNKNOWN = 'Kubelet stopped posting node status.';
export const REASON_NEVER_UPDATED = 'NodeStatusNeverUpdated';
export const MESSAGE_NEVER_UPDATED = 'Kubelet never posted node status.';

/**
 * The node's conditions with every agent-owned one Unknown (missing ones added as never updated),
 * or undefined when they all already are. Heartbeat times are kept: only the agent moves them.
 */
export function conditionsUnknown(node: Node, nowRfc3339: string): NodeCondition[] | undefined {
  const conds = (node.status?.conditions ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of AGENT_CONDITIONS) {
    const c = conds.find((x) => x.type === type);
    if (!c) {
      conds.push({
        type,
        status: 'Unknown',
        reason: REASON_NEVER_UPDATED,
        message: MESSAGE_NEVER_UPDATED,
        lastHeartbeatTime: node.metadata?.creationTimestamp,
        lastTransitionTime: nowRfc3339,
      });
      changed = true;
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = REASON_UNKNOWN;
      c.message = MESSAGE_UNKNOWN;
      c.lastTransitionTime = nowRfc3339;
      changed = true;
    }
  }
  return changed ? conds : undefined;
}
