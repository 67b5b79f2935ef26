// A pod with everything the plugins derive from its spec computed once (framework.PodInfo): requests,
// host ports, parsed affinity terms. Built when a pod enters the queue or the cache; never mutated.

import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '../../api/types.ts';
import type { LabelSelectorValue, Labels } from '../../api/labels.ts';
import { fromLabelSelector, nothing } from '../../api/labels.ts';
import type { FitPod } from '../../api/scheduling/fit.ts';
import { podHostPorts, type HostPort } from '../../api/scheduling/host-ports.ts';
import { podNonZeroRequests, podRequests } from '../../api/scheduling/resources.ts';
import type { Resource } from '../../api/scheduling/resources.ts';

export interface AffinityTerm {
  readonly namespaces: ReadonlySet<string>;
  readonly selector: LabelSelectorValue;
  /** Nil namespaceSelector selects no namespace; `{}` selects all. */
  readonly namespaceSelector: LabelSelectorValue;
  readonly topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  readonly weight: number;
}

export interface PodInfo extends FitPod {
  readonly pod: Pod;
  /** namespace/name */
  readonly key: string;
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly priority: number;
  /** uid of the controller ownerReference (the ReplicaSet, StatefulSet... that made the pod), if any. */
  readonly ownerUid: string | undefined;
  readonly requests: Resource;
  readonly nonZeroRequests: Resource;
  readonly hostPorts: readonly HostPort[];
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  /** A selector the API server should have rejected; plugins treat the pod as unschedulable. */
  readonly parseError?: string;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Expected outcome of a bad selector in a term: the term selects nothing, and the error is kept. */
function term(pod: Pod, t: PodAffinityTerm, errors: string[]): AffinityTerm {
  let selector: LabelSelectorValue = nothing;
  let namespaceSelector: LabelSelectorValue = nothing;
  try {
    selector = fromLabelSelector(t.labelSelector);
    namespaceSelector = fromLabelSelector(t.namespaceSelector);
  } catch (err) {
    errors.push((err as Error).message);
  }
  const ns = new Set(t.namespaces ?? []);
  // getNamespacesFromPodAffinityTerm: neither namespaces nor a namespaceSelector means the pod's own namespace.
  if (ns.size === 0 && !t.namespaceSelector) ns.add(pod.metadata?.namespace ?? '');
  return { namespaces: ns, selector, namespaceSelector, topologyKey: t.topologyKey ?? '' };
}

function weighted(pod: Pod, ts: readonly WeightedPodAffinityTerm[] | undefined, errors: string[]): WeightedAffinityTerm[] {
  return (ts ?? []).map((w) => ({ ...term(pod, w.podAffinityTerm, errors), weight: w.weight }));
}

/**
 * `previous` (the same pod, an earlier version) lets an update skip re-deriving what comes from fields
 * Kubernetes makes immutable once a pod exists (resources, ports, affinity, priority): a bound pod's
 * MODIFIED event then costs no quantity parsing.
 */
export function newPodInfo(pod: Pod, previous?: PodInfo): PodInfo {
  if (previous && previous.uid !== '' && previous.uid === pod.metadata?.uid) {
    return {
      ...previous,
      pod,
      labels: pod.metadata?.labels ?? {},
      ownerUid: pod.metadata?.ownerReferences?.find((o) => o.controller)?.uid,
    };
  }
  const errors: string[] = [];
  const a = pod.spec?.affinity;
  const info: PodInfo = {
    pod,
    key: podKey(pod),
    uid: pod.metadata?.uid ?? '',
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    labels: pod.metadata?.labels ?? {},
    priority: pod.spec?.priority ?? 0,
    ownerUid: pod.metadata?.ownerReferences?.find((o) => o.controller)?.uid,
    requests: podRequests(pod),
    nonZeroRequests: podNonZeroRequests(pod),
    hostPorts: podHostPorts(pod),
    requiredAffinityTerms: (a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => term(pod, t, errors)),
    requiredAntiAffinityTerms: (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => term(pod, t, errors)),
    preferredAffinityTerms: weighted(pod, a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution, errors),
    preferredAntiAffinityTerms: weighted(pod, a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution, errors),
  };
  return errors.length ? { ...info, parseError: errors.join('; ') } : info;
}

/** AffinityTerm.Matches: the pod is in one of the term's namespaces and its labels match. */
export function termMatches(t: AffinityTerm, pod: PodInfo, nsLabels: Labels): boolean {
  if (!t.namespaces.has(pod.namespace) && !t.namespaceSelector.matches(nsLabels)) return false;
  return t.selector.matches(pod.labels);
}

export function hasAffinity(p: PodInfo): boolean {
  return p.requiredAffinityTerms.length + p.requiredAntiAffinityTerms.length + p.preferredAffinityTerms.length + p.preferredAntiAffinityTerms.length > 0;
}

export function isTerminating(p: PodInfo): boolean {
  return Boolean(p.pod.metadata?.deletionTimestamp);
}
