// Resource amounts as the scheduler and the kubelet's admission count them (framework.Resource): cpu
// in millicores, everything else in whole units, rounded up, exactly as Quantity.MilliValue()/Value()
// do. Pod requests are computed as k8s.io/component-helpers/resource.PodRequests does: the sum of app
// containers (plus restartable "sidecar" init containers), the max with each init container's use
// while it runs, plus pod overhead.

import type { Container, Pod } from '../types.ts';
import { tryParseQuantity } from '../quantity.ts';

export interface Resource {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Node allocatable "pods"; unused for pod requests. */
  allowedPodNumber: number;
  /** Extended resources (nvidia.com/gpu), hugepages-*, attachable-volumes-*, prefixed native resources. */
  scalar: Map<string, number>;
}

export function emptyResource(): Resource {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, allowedPodNumber: 0, scalar: new Map() };
}

export function cloneResource(r: Resource): Resource {
  return { ...r, scalar: new Map(r.scalar) };
}

/** Kubernetes' defaults for containers without a cpu/memory request, used to spread best-effort pods (schedutil.DefaultMilliCPURequest/DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** schedutil.IsScalarResourceName: extended, hugepages, attachable volumes and prefixed native names. */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  if (!name.includes('/')) return false;
  // A name with a domain is either a prefixed native resource (kubernetes.io/...) or an extended one;
  // "requests.*" names are quota names, never node resources.
  return !name.startsWith('requests.');
}

/** Extended resources are those whose name has a domain outside kubernetes.io (v1helper.IsExtendedResourceName). */
export function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/') || name.startsWith('requests.')) return false;
  const domain = name.slice(0, name.indexOf('/'));
  return domain !== 'kubernetes.io' && !domain.endsWith('.kubernetes.io');
}

/** A ResourceList (name → quantity text) as exact nano-unit totals; unparseable values count as zero (validation rejects them). */
type NanoList = Map<string, bigint>;

function nanosOf(list: Record<string, unknown> | undefined): NanoList {
  const out: NanoList = new Map();
  if (!list) return out;
  for (const [k, v] of Object.entries(list)) {
    const q = tryParseQuantity(v);
    out.set(k, q ? q.nanos : 0n);
  }
  return out;
}

function addInto(dst: NanoList, src: NanoList): void {
  for (const [k, v] of src) dst.set(k, (dst.get(k) ?? 0n) + v);
}

function maxInto(dst: NanoList, src: NanoList): void {
  for (const [k, v] of src) {
    const cur = dst.get(k);
    if (cur === undefined || v > cur) dst.set(k, v);
  }
}

// The apiserver defaults a missing request to the limit (SetDefaults_Container); a scheduler that may meet
// pods the API server did not default (ours, or pods created before defaulting) applies the same rule.
function containerRequests(c: Container, nonMissing: NanoList | undefined): NanoList {
  const reqs = nanosOf(c.resources?.requests as Record<string, unknown> | undefined);
  const limits = nanosOf(c.resources?.limits as Record<string, unknown> | undefined);
  for (const [k, v] of limits) if (!reqs.has(k)) reqs.set(k, v);
  if (nonMissing) for (const [k, v] of nonMissing) if (!reqs.has(k)) reqs.set(k, v);
  return reqs;
}

/**
 * resource.PodRequests: max(sum(app containers) + sum(sidecars), each init container's use while it runs)
 * + overhead. An init container's use is its own requests plus the sidecars started before it; a sidecar
 * (restartPolicy Always) keeps running, so its requests also add to the app containers' sum.
 * `nonMissing` fills absent cpu/memory requests per container (for scoring, as Kubernetes does).
 */
export function podRequestNanos(pod: Pod, nonMissing?: NanoList): NanoList {
  const reqs: NanoList = new Map();
  for (const c of pod.spec?.containers ?? []) addInto(reqs, containerRequests(c, nonMissing));
  const sidecars: NanoList = new Map();
  const initMax: NanoList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c, nonMissing);
    if (c.restartPolicy === 'Always') {
      addInto(reqs, r);
      addInto(sidecars, r);
      maxInto(initMax, sidecars);
    } else {
      const use: NanoList = new Map();
      addInto(use, r);
      addInto(use, sidecars);
      maxInto(initMax, use);
    }
  }
  maxInto(reqs, initMax);
  if (pod.spec?.overhead) addInto(reqs, nanosOf(pod.spec.overhead as Record<string, unknown>));
  return reqs;
}

function ceilDiv(n: bigint, d: bigint): number {
  const q = n / d;
  return Number(n % d !== 0n && n > 0n ? q + 1n : q);
}

/** framework.Resource.Add of a ResourceList in nano-units. */
export function toResource(list: NanoList): Resource {
  const r = emptyResource();
  for (const [name, nanos] of list) {
    switch (name) {
      case 'cpu':
        r.milliCPU += ceilDiv(nanos, 1_000_000n);
        break;
      case 'memory':
        r.memory += ceilDiv(nanos, 1_000_000_000n);
        break;
      case 'ephemeral-storage':
        r.ephemeralStorage += ceilDiv(nanos, 1_000_000_000n);
        break;
      case 'pods':
        r.allowedPodNumber += ceilDiv(nanos, 1_000_000_000n);
        break;
      default:
        if (isScalarResourceName(name)) r.scalar.set(name, (r.scalar.get(name) ?? 0) + ceilDiv(nanos, 1_000_000_000n));
    }
  }
  return r;
}

/** A node's allocatable (or any ResourceList) as a Resource. */
export function resourceFromList(list: Record<string, unknown> | undefined): Resource {
  return toResource(nanosOf(list));
}

export function podRequests(pod: Pod): Resource {
  return toResource(podRequestNanos(pod));
}

const NON_MISSING: NanoList = new Map([
  ['cpu', BigInt(DEFAULT_MILLI_CPU_REQUEST) * 1_000_000n],
  ['memory', BigInt(DEFAULT_MEMORY_REQUEST) * 1_000_000_000n],
]);

/** Requests with cpu/memory defaulted per container (NodeInfo.NonZeroRequested, LeastAllocated scoring). */
export function podNonZeroRequests(pod: Pod): Resource {
  return toResource(podRequestNanos(pod, NON_MISSING));
}

export function addResource(dst: Resource, src: Resource, sign: 1 | -1 = 1): void {
  dst.milliCPU += sign * src.milliCPU;
  dst.memory += sign * src.memory;
  dst.ephemeralStorage += sign * src.ephemeralStorage;
  for (const [k, v] of src.scalar) dst.scalar.set(k, (dst.scalar.get(k) ?? 0) + sign * v);
}
