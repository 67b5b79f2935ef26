// Which nodes a DaemonSet runs on (pkg/controller/daemon's NodeShouldRunDaemonPod and
// pkg/controller/daemon/util): the pod the DaemonSet would make for a node — its template with the
// DaemonSet's default tolerations — must fit the node's name, its node selector and required node
// affinity, and tolerate the node's NoSchedule and NoExecute taints. A pod already running stays while
// it tolerates the NoExecute taints. Pure; called by the controller's sync and the unit tests.

import type { Affinity, DaemonSet, Node, NodeSelectorRequirement, Pod, PodSpec, Toleration } from '../../api/types.ts';
import { podMatchesNodeSelectorAndAffinity } from '../../api/scheduling/node-affinity.ts';
import { findUntoleratedTaint } from '../../api/scheduling/taints.ts';

/**
 * AddOrUpdateDaemonPodTolerations: daemon pods survive node problems (not-ready and unreachable
 * NoExecute without tolerationSeconds, so the taint manager never evicts them) and land on nodes
 * under pressure or cordoned; host-network pods also on nodes whose network is not ready.
 */
export function daemonPodTolerations(spec: Pick<PodSpec, 'tolerations' | 'hostNetwork'>): Toleration[] {
  const out = [...(spec.tolerations ?? [])];
  const add = (key: string, effect: 'NoExecute' | 'NoSchedule') => {
    const t: Toleration = { key, operator: 'Exists', effect };
    // AddOrUpdateTolerationInPodSpec: a toleration with the same key, operator, value and effect is replaced.
    const i = out.findIndex((o) => o.key === key && (o.operator ?? 'Equal') === 'Exists' && (o.value ?? '') === '' && (o.effect ?? '') === effect);
    if (i >= 0) out[i] = t;
    else out.push(t);
  };
  add('node.kubernetes.io/not-ready', 'NoExecute');
  add('node.kubernetes.io/unreachable', 'NoExecute');
  add('node.kubernetes.io/disk-pressure', 'NoSchedule');
  add('node.kubernetes.io/memory-pressure', 'NoSchedule');
  add('node.kubernetes.io/pid-pressure', 'NoSchedule');
  add('node.kubernetes.io/unschedulable', 'NoSchedule');
  if (spec.hostNetwork) add('node.kubernetes.io/network-unavailable', 'NoSchedule');
  return out;
}

export interface NodeFit {
  /** A new daemon pod belongs on the node. */
  shouldRun: boolean;
  /** A daemon pod already there may stay (it tolerates the node's NoExecute taints). */
  shouldContinueRunning: boolean;
}

/** NodeShouldRunDaemonPod. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): NodeFit {
  const name = node.metadata?.name ?? '';
  const template = ds.spec?.template;
  const spec = template?.spec;
  if (spec?.nodeName && spec.nodeName !== name) return { shouldRun: false, shouldContinueRunning: false };
  const pod: Pod = { spec: { ...spec, containers: spec?.containers ?? [], nodeName: name } };
  if (!podMatchesNodeSelectorAndAffinity(pod, { name, labels: node.metadata?.labels ?? {} })) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonPodTolerations(spec ?? {});
  const taints = node.spec?.taints;
  if (findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')) {
    return { shouldRun: false, shouldContinueRunning: !findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute') };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

const nodeNameRequirement = (node: string): NodeSelectorRequirement => ({ key: 'metadata.name', operator: 'In', values: [node] });

/**
 * ReplaceDaemonSetPodNodeNameNodeAffinity: the pod's required node affinity becomes the one term
 * `metadata.name In [node]`, so the default scheduler binds it there (the controller already checked
 * the template's own affinity against the node). Returns a new Affinity; the input is not changed.
 */
export function nodeNameAffinity(affinity: Affinity | undefined, node: string): Affinity {
  const required = { nodeSelectorTerms: [{ matchFields: [nodeNameRequirement(node)] }] };
  return { ...affinity, nodeAffinity: { ...affinity?.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: required } };
}

/**
 * GetTargetNodeName: where a daemon pod is or will be: spec.nodeName once bound, else the node of
 * its `metadata.name In [node]` affinity; undefined for a pod that names none.
 */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const r of term.matchFields ?? []) {
      if (r.key === 'metadata.name' && r.operator === 'In') return r.values?.length === 1 ? r.values[0] : undefined;
    }
  }
  return undefined;
}
