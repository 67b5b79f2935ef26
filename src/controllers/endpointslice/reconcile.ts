// What the EndpointSlice controller writes for one Service (the reconciler of Kubernetes'
// staging/src/k8s.io/endpointslice, IPv4 only): the desired endpoints of the selected pods, grouped
// by the ports they expose (a named targetPort may be a different number on each pod, so pods land in
// different slices), packed into at most `maxEndpointsPerSlice` per slice while touching as few
// existing slices as possible, and the slices to create, update and delete. Pure.

import { ENDPOINTSLICE_CONTROLLER, LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../api/network.ts';
import { semanticDeepEqual } from '../../api/equality.ts';
import type { EndpointSlice, Node, OwnerReference, Pod, Service, SliceEndpoint, SliceEndpointPort } from '../../api/types.ts';
import { nameIsDNSSubdomain } from '../../api/validation/names.ts';
import { isPodReady } from '../podcontrol/pods.ts';
import { findPort, isServiceIPSet, LAST_CHANGE_TRIGGER_TIME, podIPv4, rfc3339Nano, shouldPodBeInEndpoints, shouldSetHostname } from './util.ts';

/** kube-controller-manager's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
const ZONE_LABEL = 'topology.kubernetes.io/zone';
const ADDRESS_TYPE = 'IPv4';

export interface ReconcileInput {
  service: Service;
  /** The pods the Service selects (from the cache). */
  pods: readonly Pod[];
  /** A node by name, undefined when it does not exist. */
  node: (name: string) => Node | undefined;
  /** The slices of this Service the controller manages (labels service-name and managed-by). */
  existing: readonly EndpointSlice[];
  maxEndpointsPerSlice?: number;
  /** The last-change trigger time (epoch ms) for the annotation; undefined clears it. */
  triggerTime?: number;
}

export interface ReconcilePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Pods left out for a reason worth a retry (their node is missing), as kube reports them. */
  errors: string[];
}

/** getEndpointPorts: one port per Service port the pod has a number for, sorted (the port map's key order). */
function endpointPorts(svc: Service, pod: Pod): SliceEndpointPort[] {
  const out: SliceEndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const n = findPort(pod, sp);
    if (n === undefined) continue;
    const p: SliceEndpointPort = { name: sp.name ?? '', protocol: sp.protocol ?? 'TCP', port: n };
    if (sp.appProtocol != null) (p as { appProtocol?: string }).appProtocol = sp.appProtocol;
    out.push(p);
  }
  return sortPorts(out);
}

function sortPorts(ports: readonly SliceEndpointPort[]): SliceEndpointPort[] {
  const k = (p: SliceEndpointPort) => `${p.name ?? ''}\u0000${p.protocol ?? ''}\u0000${String(p.port ?? '').padStart(5, '0')}\u0000${p.appProtocol ?? ''}`;
  return [...ports].sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}

/** NewPortMapKey: the same set of ports in any order is one key. */
function portMapKey(ports: readonly SliceEndpointPort[] | undefined): string {
  return JSON.stringify(sortPorts(ports ?? []).map((p) => [p.name ?? '', p.protocol ?? 'TCP', p.port ?? null, p.appProtocol ?? null]));
}

/** The endpoint's identity (hashEndpoint): its addresses, hostname and pod; what else changes is an update of it. */
function endpointKey(e: SliceEndpoint): string {
  return JSON.stringify([[...(e.addresses ?? [])].sort(), e.hostname ?? '', e.targetRef?.namespace ?? '', e.targetRef?.name ?? '']);
}

/** podToEndpoint: ready only when serving and not terminating (always, with publishNotReadyAddresses). */
function podToEndpoint(pod: Pod, node: Node | undefined, svc: Service, ip: string): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata?.deletionTimestamp;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: SliceEndpoint = { addresses: [ip], conditions: { ready, serving, terminating } };
  if (shouldSetHostname(pod, svc)) ep.hostname = pod.spec!.hostname;
  ep.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata?.labels?.[ZONE_LABEL];
  if (zone) ep.zone = zone;
  return ep;
}

function isReservedLabel(k: string): boolean {
  return k === LABEL_SERVICE_NAME || k === LABEL_MANAGED_BY || k === LABEL_HEADLESS;
}

/** setEndpointSliceLabels: the Service's own labels, then service-name, managed-by and (headless) the headless label. */
export function sliceLabels(svc: Service): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) if (!isReservedLabel(k)) out[k] = v;
  if (!isServiceIPSet(svc)) out[LABEL_HEADLESS] = '';
  out[LABEL_SERVICE_NAME] = svc.metadata?.name ?? '';
  out[LABEL_MANAGED_BY] = ENDPOINTSLICE_CONTROLLER;
  return out;
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ak = Object.keys(a ?? {});
  return ak.length === Object.keys(b ?? {}).length && ak.every((k) => b?.[k] === a?.[k]);
}

export function ownerRefFor(svc: Service): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata?.name ?? '', uid: svc.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata?.ownerReferences ?? []).some((o) => o.uid === svc.metadata?.uid && o.kind === 'Service' && o.apiVersion === 'v1');
}

/** getEndpointSlicePrefix: `<service>-`, or `endpointslice-` when that is no valid generateName. */
function slicePrefix(name: string): string {
  const prefix = `${name}-`;
  return nameIsDNSSubdomain(prefix, true).length ? 'endpointslice-' : prefix;
}

function newSlice(svc: Service, ports: SliceEndpointPort[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { generateName: slicePrefix(svc.metadata?.name ?? ''), namespace: svc.metadata?.namespace, labels: sliceLabels(svc), ownerReferences: [ownerRefFor(svc)] },
    addressType: ADDRESS_TYPE,
    endpoints: [],
    ports,
  };
}

function clone<T>(x: T): T {
  return structuredClone(x);
}

/** Ordered set of desired endpoints by identity (kube's EndpointSet; popped in pod order here, not at random). */
class EndpointSet {
  readonly #m = new Map<string, SliceEndpoint>();
  add(e: SliceEndpoint): void {
    this.#m.set(endpointKey(e), e);
  }
  get(e: SliceEndpoint): SliceEndpoint | undefined {
    return this.#m.get(endpointKey(e));
  }
  delete(e: SliceEndpoint): void {
    this.#m.delete(endpointKey(e));
  }
  get size(): number {
    return this.#m.size;
  }
  pop(): SliceEndpoint {
    const [k, v] = this.#m.entries().next().value as [string, SliceEndpoint];
    this.#m.delete(k);
    return v;
  }
}

/** getSliceToFill: the unchanged slice the remaining endpoints fill most closely, if any fits them all. */
function sliceToFill(slices: EndpointSlice[], n: number, max: number): EndpointSlice | undefined {
  let best: EndpointSlice | undefined;
  let bestDiff = max;
  for (const s of slices) {
    const diff = max - (n + (s.endpoints?.length ?? 0));
    if (diff >= 0 && diff < bestDiff) {
      bestDiff = diff;
      best = s;
      if (diff === 0) break;
    }
  }
  return best;
}

/** reconcileByPortMapping: one group of slices that share their ports. */
function reconcilePortMapping(svc: Service, existing: readonly EndpointSlice[], desired: EndpointSet, ports: SliceEndpointPort[], max: number): { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] } {
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();
  const labels = sliceLabels(svc);

  // 1. Keep the desired endpoints existing slices already hold (updated where they changed).
  for (const slice of existing) {
    const name = slice.metadata!.name!;
    byName.set(name, slice);
    const kept: SliceEndpoint[] = [];
    let changed = false;
    for (const ep of slice.endpoints ?? []) {
      const want = desired.get(ep);
      if (!want) continue;
      kept.push(want);
      if (!semanticDeepEqual(want, ep)) changed = true;
      desired.delete(ep);
    }
    const labelsChanged = !sameMap(slice.metadata?.labels, labels);
    if (changed || kept.length !== (slice.endpoints?.length ?? 0)) {
      if (kept.length === 0) toDelete.add(name);
      else {
        const copy = clone(slice);
        copy.endpoints = kept;
        copy.metadata!.labels = labels;
        byName.set(name, copy);
        toUpdate.add(name);
      }
    } else if (labelsChanged) {
      const copy = clone(slice);
      copy.metadata!.labels = labels;
      byName.set(name, copy);
      toUpdate.add(name);
    } else unchanged.add(name);
  }

  // 2. Fill the slices being updated anyway, fullest first.
  if (desired.size > 0 && toUpdate.size > 0) {
    const slices = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
    for (const s of slices) while (desired.size > 0 && s.endpoints!.length < max) s.endpoints!.push(desired.pop());
  }

  // 3. The rest goes into one unchanged slice that fits it all, or into new slices.
  const create: EndpointSlice[] = [];
  while (desired.size > 0) {
    let fill: EndpointSlice | undefined;
    if (desired.size < max && unchanged.size > 0) {
      const found = sliceToFill([...unchanged].map((n) => byName.get(n)!), desired.size, max);
      if (found) {
        fill = clone(found);
        byName.set(fill.metadata!.name!, fill);
      }
    }
    fill ??= newSlice(svc, ports);
    fill.endpoints ??= [];
    while (desired.size > 0 && fill.endpoints.length < max) fill.endpoints.push(desired.pop());
    if (fill.metadata?.name) {
      toUpdate.add(fill.metadata.name);
      unchanged.delete(fill.metadata.name);
    } else create.push(fill);
  }
  return { create, update: [...toUpdate].map((n) => byName.get(n)!), delete: [...toDelete].map((n) => byName.get(n)!) };
}

/** The placeholder slice a Service without endpoints has (no ports, no endpoints), compared as kube does: namespace and labels. */
function isPlaceholderOf(slice: EndpointSlice, svc: Service): boolean {
  return (slice.endpoints?.length ?? 0) === 0 && (slice.ports?.length ?? 0) === 0 && slice.addressType === ADDRESS_TYPE &&
    slice.metadata?.namespace === svc.metadata?.namespace && sameMap(slice.metadata?.labels, sliceLabels(svc)) && ownedBy(slice, svc);
}

function setTriggerTime(slice: EndpointSlice, t: number | undefined): void {
  const meta = slice.metadata!;
  const ann = { ...(meta.annotations ?? {}) };
  if (t !== undefined) ann[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(t);
  else delete ann[LAST_CHANGE_TRIGGER_TIME];
  if (Object.keys(ann).length) meta.annotations = ann;
  else delete meta.annotations;
}

/** Reconcile + finalize: the writes that make the Service's slices what its pods say. */
export function reconcileSlices(input: ReconcileInput): ReconcilePlan {
  const { service: svc } = input;
  const max = input.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const errors: string[] = [];
  let toDelete: EndpointSlice[] = [];
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const s of input.existing) {
    // Other address types (an IPv6 or FQDN slice) and slices of an earlier Service of the same name go.
    if (s.addressType !== ADDRESS_TYPE || !ownedBy(s, svc)) {
      toDelete.push(s);
      continue;
    }
    const k = portMapKey(s.ports);
    existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), s]);
  }

  const desiredByPorts = new Map<string, { ports: SliceEndpointPort[]; set: EndpointSet }>();
  for (const pod of input.pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const nodeName = pod.spec?.nodeName ?? '';
    const node = input.node(nodeName);
    if (!node && svc.spec?.publishNotReadyAddresses !== true) {
      errors.push(`skipping Pod ${pod.metadata?.name} for Service ${svc.metadata?.namespace}/${svc.metadata?.name}: Node ${nodeName} Not Found`);
      continue;
    }
    const ip = podIPv4(pod);
    if (!ip) continue;
    const ports = endpointPorts(svc, pod);
    const k = portMapKey(ports);
    let d = desiredByPorts.get(k);
    if (!d) desiredByPorts.set(k, (d = { ports, set: new EndpointSet() }));
    d.set.add(podToEndpoint(pod, node, svc, ip));
  }

  let create: EndpointSlice[] = [];
  const update: EndpointSlice[] = [];
  for (const [k, d] of desiredByPorts) {
    const r = reconcilePortMapping(svc, existingByPorts.get(k) ?? [], d.set, d.ports, max);
    create.push(...r.create);
    update.push(...r.update);
    toDelete.push(...r.delete);
  }
  // Port groups nobody wants any more lose their slices.
  for (const [k, slices] of existingByPorts) if (!desiredByPorts.has(k)) toDelete.push(...slices);

  // A Service with no endpoints keeps one placeholder slice (no ports, no endpoints).
  if (input.existing.length === toDelete.length && create.length === 0) {
    if (toDelete.length === 1 && isPlaceholderOf(toDelete[0]!, svc)) toDelete = [];
    else create.push(newSlice(svc, []));
  }

  // finalize: a create reuses a slice that would be deleted (same type, same owner) by updating it.
  for (let i = 0; i < toDelete.length && create.length > 0;) {
    const gone = toDelete[i]!;
    const slice = create[create.length - 1]!;
    if (gone.addressType === slice.addressType && ownedBy(gone, svc)) {
      slice.metadata = { ...slice.metadata, name: gone.metadata?.name, resourceVersion: gone.metadata?.resourceVersion };
      create.pop();
      update.push(slice);
      toDelete.splice(i, 1);
    } else i++;
  }
  // A Service being deleted gets no new slices (the garbage collector is removing them).
  if (svc.metadata?.deletionTimestamp) create = [];
  for (const s of [...create, ...update]) setTriggerTime(s, input.triggerTime);
  return { create, update, delete: toDelete, errors };
}
