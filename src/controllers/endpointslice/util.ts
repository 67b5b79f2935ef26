// What the EndpointSlice and Endpoints controllers share about a Service and its pods (Kubernetes'
// staging/src/k8s.io/endpointslice/util and pkg/api/v1/pod FindPort): which Services select a pod,
// whether a pod belongs in the endpoints at all, the number a Service port reaches on a pod, the
// hostname rule, and the last-change trigger time. Pure, except TriggerTimeTracker's memory.

import { parseIPv4 } from '../../api/network.ts';
import type { Pod, Service, ServicePort } from '../../api/types.ts';

/** The annotation Kubernetes puts on Endpoints and EndpointSlices: when the change they carry began. */
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

/** A Service the endpoint controllers keep: one with a selector, and not of type ExternalName. */
export function managesEndpoints(svc: Service): boolean {
  return svc.spec?.type !== 'ExternalName' && svc.spec?.selector != null;
}

/** A Service selects a pod when its (equality) selector is a subset of the pod's labels; an empty selector selects nothing. */
export function selects(svc: Service, pod: Pod): boolean {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return false;
  if ((svc.metadata?.namespace ?? '') !== (pod.metadata?.namespace ?? '')) return false;
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(sel).every(([k, v]) => labels[k] === v);
}

/** helper.IsServiceIPSet: a ClusterIP other than None (headless Services have none). */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

/**
 * ShouldPodBeInEndpoints: a pod with an IP that is not terminal for its restart policy; a terminating
 * pod only when asked to include terminating ones.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  const phase = pod.status?.phase;
  if (pod.spec?.restartPolicy === 'Never') return phase !== 'Failed' && phase !== 'Succeeded';
  if (pod.spec?.restartPolicy === 'OnFailure') return phase !== 'Succeeded';
  return true;
}

/** The pod's IPv4 address (tinykube's pod network is IPv4 single-stack), or undefined. */
export function podIPv4(pod: Pod): string | undefined {
  const ips = pod.status?.podIPs?.map((p) => p.ip ?? '') ?? [];
  if (pod.status?.podIP) ips.unshift(pod.status.podIP);
  return ips.find((ip) => parseIPv4(ip) !== undefined);
}

/**
 * podutil.FindPort: a numeric targetPort is itself (none: the Service port, as the Service defaults
 * it); a named one is the pod's container port of that name and the Service port's protocol, among
 * its containers and its restartable (sidecar) init containers. undefined when the pod has none.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** ShouldSetHostname: a pod whose hostname is set and whose subdomain is the Service's name, in its namespace. */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return !!pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace;
}

/** When the pod's last change that matters began: its Ready condition's transition (getPodTriggerTime). */
function podTriggerTime(pod: Pod): number | undefined {
  const t = pod.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The TriggerTimeTracker of both controllers: the last-change trigger time of a sync is the earliest
 * trigger time among the pods (and the Service) that changed since the previous sync of that Service;
 * undefined when none did. One per controller; called from its sync only.
 */
export class TriggerTimeTracker {
  readonly #state = new Map<string, { pods: Map<string, number>; service: number | undefined }>();

  compute(key: string, svc: Service, pods: readonly Pod[]): number | undefined {
    const prev = this.#state.get(key);
    const next = { pods: new Map<string, number>(), service: undefined as number | undefined };
    let min: number | undefined;
    const consider = (t: number | undefined) => {
      if (t !== undefined && (min === undefined || t < min)) min = t;
    };
    for (const pod of pods) {
      const t = podTriggerTime(pod);
      if (t === undefined) continue;
      const name = pod.metadata?.name ?? '';
      next.pods.set(name, t);
      if (!prev || prev.pods.get(name) !== t) consider(t);
    }
    const created = svc.metadata?.creationTimestamp ? Date.parse(svc.metadata.creationTimestamp) : NaN;
    next.service = Number.isNaN(created) ? undefined : created;
    if (!prev || prev.service !== next.service) consider(next.service);
    this.#state.set(key, next);
    return min;
  }

  delete(key: string): void {
    this.#state.delete(key);
  }
}

/** time.RFC3339Nano of a UTC instant, as the annotation carries it (no trailing zeros in the fraction). */
export function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z');
}

/** Namespace/name key of an object (the work queue's). */
export function keyOf(ns: string | undefined, name: string | undefined): string {
  return `${ns ?? ''}/${name ?? ''}`;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}
