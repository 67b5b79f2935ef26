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

/**
 * The per-node detail tinykube adds (annotation `scheduler.tinykube.io/unschedulable-reasons`): one line
 * per node, "<node>: <reasons>", sorted by node name, so `kubectl describe pod` shows each node's reason
 * on its own line. Beyond `limit` nodes the rest are summarised as a histogram, keeping the annotation
 * far below the 256 KiB limit on clusters of thousands of nodes.
 */
export function formatNodeReasons(statuses: ReadonlyMap<string, Status>, limit = 200): string {
  const names = [...statuses.keys()].sort(byteCompare);
  const lines: string[] = [];
  for (const name of names.slice(0, limit)) lines.push(`${name}: ${statuses.get(name)!.reasons.join(', ')}`);
  if (names.length > limit) {
    const rest = names.slice(limit).map((n) => statuses.get(n)!);
    lines.push(`(${names.length - limit} more nodes: ${reasonHistogram(rest).join(', ')})`);
  }
  return lines.join('\n');
}
