// The Service and EndpointSlice informers of a node, shared by its proxy and its cluster DNS (one list
// and one watch of each kind, one cache). Objects are trimmed as they arrive to the fields the two
// read (client-go's SetTransform; kube-proxy and CoreDNS each keep small structs of their own): at
// 10,000 Services of 10 endpoints the API's objects took ~52 MB of heap in the proxy's caches alone.
// The caller starts and stops them.
//
// kube-proxy's informers select `!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless`
// (PROXY_LABEL_SELECTOR); the DNS needs headless Services and other proxies' too, so the shared
// informers select nothing and the proxier leaves those objects alone itself (proxied, proxiedSlice).

import type { EndpointConditions, EndpointSlice, Service, ServicePort, SliceEndpoint } from '../api/types.ts';
import { LABEL_HEADLESS, LABEL_SERVICE_NAME, LABEL_SERVICE_PROXY_NAME } from '../api/network.ts';
import type { Clock } from '../util/clock.ts';
import type { ApiClient, HasMetadata } from '../client/client.ts';
import { Informer, listWatch, transformListWatch } from '../client/informer.ts';
import type { ListerWatcher } from '../client/informer.ts';
import type { ResourceRef } from '../client/resources.ts';

// Local refs: the typed refs of src/client/resources.ts arrive with the kinds themselves.
const SERVICES: ResourceRef = { apiVersion: 'v1', resource: 'services' };
const ENDPOINT_SLICES: ResourceRef = { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices' };

/**
 * Objects a list page asks for. client-go's reflector pages by 500; at 10,000 Services a page of 500
 * EndpointSlices (~2.5 MB of objects) outlived the 2 MB young generation the agent runs with, so each
 * page's objects were promoted before they died and left the old generation fragmented: with the
 * informers alone, RSS +54 MiB over a heap of +16 MiB after the first lists; with pages of 50, +19 MiB
 * (the agent's V8 flags, bench/services-memory.ts's objects). The cost: 200 list requests per kind at
 * 10,000 Services (the API server reads each page from its key, not from the start), at agent start
 * and on a re-list.
 */
export const PAGE_SIZE = 50;

export const PROXY_LABEL_SELECTOR = `!${LABEL_SERVICE_PROXY_NAME},!${LABEL_HEADLESS}`;

export interface ServiceInformers {
  readonly services: Informer<Service & HasMetadata>;
  readonly slices: Informer<EndpointSlice & HasMetadata>;
}

export interface ServiceSources {
  readonly services: ListerWatcher<Service & HasMetadata>;
  readonly slices: ListerWatcher<EndpointSlice & HasMetadata>;
}

/** The API's Services and EndpointSlices, every namespace. */
export function apiServiceSources(client: ApiClient): ServiceSources {
  return {
    services: listWatch<Service & HasMetadata>(client, SERVICES),
    slices: listWatch<EndpointSlice & HasMetadata>(client, ENDPOINT_SLICES),
  };
}

/** Informers over `sources` keeping trimmed objects (trimService, trimSlice). */
export function serviceInformers(sources: ServiceSources, clock?: Clock, onError?: (err: unknown) => void): ServiceInformers {
  return {
    services: new Informer(transformListWatch(sources.services, trimService), { clock, onError, pageSize: PAGE_SIZE }),
    slices: new Informer(transformListWatch(sources.slices, trimSlice), { clock, onError, pageSize: PAGE_SIZE }),
  };
}

const PROXY_LABELS = [LABEL_SERVICE_PROXY_NAME, LABEL_HEADLESS] as const;

interface TrimmedPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: ServicePort['protocol'];
  readonly nodePort?: number;
}

// Port lists repeat across Services and slices (most name one `http` TCP port): one frozen list for
// each distinct one rather than an object and an array per object. Lists with a node port are
// unique to their Service and are kept as they are.
const PORT_LISTS = new Map<string, readonly TrimmedPort[]>();
const MAX_PORT_LISTS = 10_000;
function portList(ports: readonly TrimmedPort[]): TrimmedPort[] {
  if (ports.some((p) => p.nodePort !== undefined)) return ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, nodePort: p.nodePort }));
  const key = ports.map((p) => `${p.name ?? ''}/${p.port}/${p.protocol ?? ''}`).join(',');
  let out = PORT_LISTS.get(key);
  if (!out) {
    const list = ports.map((p) => Object.freeze({ name: p.name, port: p.port, protocol: p.protocol }));
    // Bounded: past it, lists are simply kept unshared.
    if (PORT_LISTS.size >= MAX_PORT_LISTS) return list;
    out = Object.freeze(list);
    PORT_LISTS.set(key, out);
  }
  // The API types' arrays are mutable; readers of the informers' objects never change them (frozen: a
  // writer would throw rather than change every Service sharing the list).
  return out as TrimmedPort[];
}

/** The labels the proxy and DNS read (which proxy, headless, which Service), or undefined when none is set. */
function keptLabels(labels: Readonly<Record<string, string>> | undefined, keys: readonly string[]): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const k of keys) {
    const v = labels?.[k];
    if (v !== undefined) (out ??= {})[k] = v;
  }
  return out;
}

/** What the node keeps of a Service: what the proxy's builder, its health ports and the DNS read. */
export function trimService(s: Service & HasMetadata): Service & HasMetadata {
  const spec = s.spec ?? {};
  const ingress = s.status?.loadBalancer?.ingress;
  return {
    metadata: { name: s.metadata?.name, namespace: s.metadata?.namespace, uid: s.metadata?.uid, resourceVersion: s.metadata?.resourceVersion, labels: keptLabels(s.metadata?.labels, PROXY_LABELS) },
    spec: {
      type: spec.type,
      clusterIP: spec.clusterIP,
      externalIPs: spec.externalIPs,
      externalName: spec.externalName,
      ports: spec.ports && portList(spec.ports),
      sessionAffinity: spec.sessionAffinity,
      sessionAffinityConfig: spec.sessionAffinityConfig,
      externalTrafficPolicy: spec.externalTrafficPolicy,
      internalTrafficPolicy: spec.internalTrafficPolicy,
      loadBalancerSourceRanges: spec.loadBalancerSourceRanges,
      healthCheckNodePort: spec.healthCheckNodePort,
      publishNotReadyAddresses: spec.publishNotReadyAddresses,
    },
    status: ingress?.length ? { loadBalancer: { ingress: ingress.map((i) => ({ ip: i.ip, ipMode: i.ipMode })) } } : undefined,
  };
}

// The conditions and node names of 100,000 endpoints take a handful of values: one frozen object for
// each pair (readers only read them).
const attrs = new Map<string, EndpointAttrs>();
interface EndpointAttrs {
  readonly conditions: EndpointConditions | undefined;
  readonly nodeName: string | undefined;
}
function sharedAttrs(c: EndpointConditions | undefined, nodeName: string | undefined): EndpointAttrs {
  const key = `${c ? `${c.ready}/${c.serving}/${c.terminating}` : '-'}|${nodeName ?? ''}`;
  let out = attrs.get(key);
  if (!out) {
    // Bounded: past it, pairs are simply made anew (a cluster has far fewer nodes).
    if (attrs.size > 100_000) attrs.clear();
    const conditions = c ? Object.freeze({ ready: c.ready ?? undefined, serving: c.serving ?? undefined, terminating: c.terminating ?? undefined }) : undefined;
    out = Object.freeze({ conditions, nodeName });
    attrs.set(key, out);
  }
  return out;
}

/**
 * A trimmed EndpointSlice: metadata, address type and ports as the API has them; the endpoints kept as
 * their addresses and a shared (conditions, node) pair each, and made into objects when read. An
 * endpoint object with its address array took ~140 bytes: 20 MB for 10,000 slices of 10, against
 * ~8 MB so. The proxy reads them when it builds a Service's rules, the DNS when it indexes the slice.
 */
class TrimmedSlice {
  readonly metadata: EndpointSlice['metadata'];
  readonly addressType: EndpointSlice['addressType'];
  readonly ports: EndpointSlice['ports'];
  /** Each endpoint's address (or addresses, when it has several). */
  readonly #addresses: ReadonlyArray<string | readonly string[]>;
  readonly #attrs: readonly EndpointAttrs[];
  /** Hostnames by endpoint, when any has one. */
  readonly #hostnames: ReadonlyArray<string | undefined> | undefined;

  constructor(s: EndpointSlice & HasMetadata) {
    this.metadata = { name: s.metadata?.name, namespace: s.metadata?.namespace, resourceVersion: s.metadata?.resourceVersion, labels: keptLabels(s.metadata?.labels, [LABEL_SERVICE_NAME, ...PROXY_LABELS]) };
    this.addressType = s.addressType;
    this.ports = s.ports && (portList(s.ports.map((p) => ({ name: p.name ?? undefined, port: p.port ?? 0, protocol: p.protocol }))) as EndpointSlice['ports']);
    const eps = s.endpoints ?? [];
    this.#addresses = eps.map((e) => (e.addresses?.length === 1 ? e.addresses[0] : (e.addresses ?? [])));
    this.#attrs = eps.map((e) => sharedAttrs(e.conditions, e.nodeName));
    this.#hostnames = eps.some((e) => e.hostname !== undefined) ? eps.map((e) => e.hostname) : undefined;
  }

  get endpoints(): SliceEndpoint[] {
    return this.#addresses.map((a, i) => {
      const out: SliceEndpoint = { addresses: typeof a === 'string' ? [a] : [...a] };
      const { conditions, nodeName } = this.#attrs[i];
      if (conditions) out.conditions = conditions;
      if (nodeName !== undefined) out.nodeName = nodeName;
      const hostname = this.#hostnames?.[i];
      if (hostname !== undefined) out.hostname = hostname;
      return out;
    });
  }
}

/** What the node keeps of an EndpointSlice: addresses, readiness, node, hostname and ports (see TrimmedSlice). */
export function trimSlice(s: EndpointSlice & HasMetadata): EndpointSlice & HasMetadata {
  return new TrimmedSlice(s);
}
