// The texts a failed attempt produces: the FailedScheduling message kubectl users know (FitError.Error()
// in Kubernetes 1.32, byte for byte) and tinykube's per-node detail, which Kubernetes only logs.

import type { Status } from './status.ts';

/** ErrNoNodesAvailable: the cluster has no node at all. */
export const NO_NODES_MESSAGE = 'no nodes available to schedule pods';

export interface FitError {
  numAllNodes: number;
  /** Status of every node that was evaluated and rejected (every node, when the attempt failed at Filter). */
  nodeStatuses: ReadonlyMap<string, Status>;
  /** Set when a PreFilter plugin rejected the pod: every node then carries that status. */
  preFilterMsg?: string;
  /** The PostFilter (preemption) outcome, e.g. "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling." */
  postFilterMsg?: string;
}

/** Counts each reason over the nodes, prints "<count> <reason>" sorted as strings (as Go's sort.Strings). */
export function reasonHistogram(statuses: Iterable<Status>): string[] {
  const counts = new Map<string, number>();
  for (const s of statuses) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const out = [...counts].map(([r, n]) => `${n} ${r}`);
  return out.sort(byteCompare);
}

/** "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}. preemption: ..." */
export function fitErrorMessage(f: FitError): string {
  let msg = `0/${f.numAllNodes} nodes are available:`;
  if (f.preFilterMsg) {
    msg += ` ${f.preFilterMsg}.`;
  } else {
    const hist = reasonHistogram(f.nodeStatuses.values());
    if (hist.length > 0) msg += ` ${hist.join(', ')}.`;
  }
  if (f.postFilterMsg) msg += ` ${f.postFilterMsg}`;
  return msg;
}

/**
 * Go's sort.Strings order (bytewise UTF-8). UTF-16 code-unit order agrees with it except between
 * astral characters and U+E000..U+FFFF, which node names and reasons never contain.
 */
export function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Kubernetes' note limit (events.k8s.io/v1 validation): the FailedScheduling message with its detail stays within it. */
export const EVENT_MESSAGE_LIMIT = 1024;

/**
 * The FailedScheduling event message tinykube writes: Kubernetes' message unchanged on the first line, then
 * the per-node detail Kubernetes only logs, one "<node>: <reasons>" line per node sorted by name, so
 * `kubectl describe pod` shows why each node was rejected. The lines are indented: describe prints them
 * flush left otherwise, where they read like sections of its own. The pod object itself carries only what
 * kube-scheduler writes (the PodScheduled condition with Kubernetes' message). Nodes that do not fit in
 * `limit` bytes are counted on a last line; their reasons are already in the histogram of the first line.
 */
export function failedSchedulingEventMessage(message: string, statuses: ReadonlyMap<string, Status> | undefined, limit = EVENT_MESSAGE_LIMIT): string {
  if (!statuses || statuses.size === 0) return message;
  const names = [...statuses.keys()].sort(byteCompare);
  const bytes = (s: string): number => Buffer.byteLength(s);
  let out = message;
  let i = 0;
  for (; i < names.length; i++) {
    const line = `\n    ${names[i]}: ${statuses.get(names[i])!.reasons.join(', ')}`;
    const rest = names.length - i - 1;
    // Room is kept for the "(N more nodes)" line unless this is the last node.
    const tail = rest > 0 ? bytes(`\n    (${rest} more nodes)`) : 0;
    if (bytes(out) + bytes(line) + tail > limit) break;
    out += line;
  }
  if (i < names.length) out += `\n    (${names.length - i} more nodes)`;
  return out;
}
