// What the Endpoints controller writes for one Service (Kubernetes' pkg/controller/endpoint and
// pkg/api/v1/endpoints RepackSubsets): one subset per set of addresses sharing the same ports, ready
// addresses in `addresses` and the others in `notReadyAddresses`, truncated to 1000 addresses with the
// over-capacity annotation. Pure.

import { semanticDeepEqual } from '../../api/equality.ts';
import { LABEL_HEADLESS, parseIPv4 } from '../../api/network.ts';
import type { EndpointAddress, EndpointPort, Endpoints, EndpointSubset, Pod, Service } from '../../api/types.ts';
import { isPodReady } from '../podcontrol/pods.ts';
import { findPort, isServiceIPSet, LAST_CHANGE_TRIGGER_TIME, podIPv4, rfc3339Nano, shouldPodBeInEndpoints, shouldSetHostname } from '../endpointslice/util.ts';

/** The Endpoints API's capacity: more addresses are truncated (maxCapacity). */
export const MAX_ENDPOINTS_CAPACITY = 1000;
export const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';

interface Entry {
  addr: EndpointAddress;
  port: EndpointPort | undefined;
  ready: boolean;
}

/** The addresses and ports of the selected pods, one entry per pod and Service port (addEndpointSubset). */
function entries(svc: Service, pods: readonly Pod[]): Entry[] {
  const out: Entry[] = [];
  const tolerate = svc.spec?.publishNotReadyAddresses === true;
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerate)) continue;
    const ip = podIPv4(pod);
    if (!ip) continue;
    const addr: EndpointAddress = { ip, nodeName: pod.spec?.nodeName ?? '', targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid } };
    if (shouldSetHostname(pod, svc)) addr.hostname = pod.spec!.hostname;
    const ready = tolerate || isPodReady(pod);
    const ports = svc.spec?.ports ?? [];
    // Headless Services may have no ports; their addresses are listed without.
    if (ports.length === 0) {
      if (svc.spec?.clusterIP === 'None') out.push({ addr, port: undefined, ready });
      continue;
    }
    for (const sp of ports) {
      const n = findPort(pod, sp);
      if (n === undefined) continue;
      const port: EndpointPort = { name: sp.name ?? '', port: n, protocol: sp.protocol ?? 'TCP' };
      if (sp.appProtocol != null) port.appProtocol = sp.appProtocol;
      out.push({ addr, port, ready });
    }
  }
  return out;
}

function ipNumber(ip: string): number {
  return parseIPv4(ip) ?? 0;
}

/** LessEndpointAddress: by IP, then by the pod's uid. */
function compareAddress(a: EndpointAddress, b: EndpointAddress): number {
  return ipNumber(a.ip) - ipNumber(b.ip) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
}

function portKey(p: EndpointPort | undefined): string {
  return p ? JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol ?? null]) : '';
}

/**
 * RepackSubsets: addresses grouped by the exact set of ports they offer (an address ready on one port
 * and not on another lands in two subsets). Kubernetes then orders subsets and ports by a hash of
 * their contents; here subsets go by their first address and ports by name, which is as stable.
 */
export function repackSubsets(list: readonly Entry[]): EndpointSubset[] {
  const addrs = new Map<string, EndpointAddress>();
  const portToAddrs = new Map<string, { port: EndpointPort | undefined; ready: Map<string, boolean> }>();
  for (const e of list) {
    const k = `${e.addr.ip}/${e.addr.targetRef?.uid ?? ''}`;
    if (!addrs.has(k)) addrs.set(k, e.addr);
    const pk = portKey(e.port);
    let m = portToAddrs.get(pk);
    if (!m) portToAddrs.set(pk, (m = { port: e.port, ready: new Map() }));
    if (m.ready.get(k) !== true) m.ready.set(k, e.ready);
  }
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of portToAddrs.values()) {
    const key = JSON.stringify([...ready.entries()].sort());
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ready, ports: [] }));
    if (port) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [k, r] of g.ready) (r ? ready : notReady).push(addrs.get(k)!);
    const ss: EndpointSubset = {};
    if (ready.length) ss.addresses = ready.sort(compareAddress);
    if (notReady.length) ss.notReadyAddresses = notReady.sort(compareAddress);
    if (g.ports.length) ss.ports = g.ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || (a.port ?? 0) - (b.port ?? 0));
    out.push(ss);
  }
  const first = (ss: EndpointSubset) => (ss.addresses ?? ss.notReadyAddresses ?? [])[0];
  return out.sort((a, b) => {
    const fa = first(a);
    const fb = first(b);
    return (fa && fb ? compareAddress(fa, fb) : 0) || portKey(a.ports?.[0]).localeCompare(portKey(b.ports?.[0]));
  });
}

/** truncateEndpoints: over 1000 addresses, not-ready ones go first, then ready ones, in proportion per subset. */
export function truncateSubsets(subsets: EndpointSubset[]): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const ss of subsets) {
    totalReady += ss.addresses?.length ?? 0;
    totalNotReady += ss.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= MAX_ENDPOINTS_CAPACITY) return false;
  const truncateReady = totalReady > MAX_ENDPOINTS_CAPACITY;
  const max = truncateReady ? MAX_ENDPOINTS_CAPACITY : MAX_ENDPOINTS_CAPACITY - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = max;
  for (const ss of subsets) {
    const inSubset = (truncateReady ? ss.addresses?.length : ss.notReadyAddresses?.length) ?? 0;
    const toBeAdded = Math.min(Math.ceil((inSubset / numTotal) * max), canBeAdded);
    if (truncateReady) {
      ss.addresses = (ss.addresses ?? []).slice(0, toBeAdded);
      delete ss.notReadyAddresses;
      canBeAdded -= ss.addresses.length;
    } else {
      ss.notReadyAddresses = (ss.notReadyAddresses ?? []).slice(0, toBeAdded);
      canBeAdded -= ss.notReadyAddresses.length;
    }
  }
  return true;
}

function countAddresses(subsets: readonly EndpointSubset[] | undefined): number {
  return (subsets ?? []).reduce((n, ss) => n + (ss.addresses?.length ?? 0) + (ss.notReadyAddresses?.length ?? 0), 0);
}

/** Subsets compared without the pods' resourceVersions (endpointSubsetsEqualIgnoreResourceVersion). */
function subsetsEqual(a: readonly EndpointSubset[] | undefined, b: readonly EndpointSubset[] | undefined): boolean {
  const strip = (s: readonly EndpointSubset[] | undefined) =>
    JSON.parse(JSON.stringify(s ?? []), (k, v) => (k === 'resourceVersion' ? undefined : v)) as unknown;
  return semanticDeepEqual(strip(a), strip(b));
}

/** The Endpoints object a Service's pods call for, or undefined when the current one is already it. */
export function desiredEndpoints(svc: Service, pods: readonly Pod[], current: Endpoints | undefined, triggerTime: number | undefined): Endpoints | undefined {
  const subsets = repackSubsets(entries(svc, pods));
  const svcLabels = svc.metadata?.labels ?? {};
  if (current?.metadata?.resourceVersion) {
    const { [LABEL_HEADLESS]: _h, ...compareLabels } = current.metadata.labels ?? {};
    const capacityOk = countAddresses(current.subsets) <= MAX_ENDPOINTS_CAPACITY && !(OVER_CAPACITY in (current.metadata.annotations ?? {}));
    if (subsetsEqual(current.subsets, subsets) && semanticDeepEqual(compareLabels, svcLabels) && capacityOk) return undefined;
  }
  const next: Endpoints = current?.metadata?.resourceVersion
    ? structuredClone(current)
    : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata?.name, namespace: svc.metadata?.namespace } };
  next.subsets = subsets;
  const annotations = { ...(next.metadata!.annotations ?? {}) };
  if (triggerTime !== undefined) annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(triggerTime);
  else delete annotations[LAST_CHANGE_TRIGGER_TIME];
  if (truncateSubsets(subsets)) annotations[OVER_CAPACITY] = 'truncated';
  else delete annotations[OVER_CAPACITY];
  // Go omits an empty list.
  if (subsets.length === 0) delete next.subsets;
  if (Object.keys(annotations).length) next.metadata!.annotations = annotations;
  else delete next.metadata!.annotations;
  const labels: Record<string, string> = { ...svcLabels };
  if (!isServiceIPSet(svc)) labels[LABEL_HEADLESS] = '';
  else delete labels[LABEL_HEADLESS];
  if (Object.keys(labels).length) next.metadata!.labels = labels;
  else delete next.metadata!.labels;
  return next;
}
