// The Service and EndpointSlice informers of a node, shared by its proxy and its cluster DNS (one list
// and one watch of each kind, one cache). Objects are trimmed as they arrive to the fields the two
// read (client-go's SetTransform; kube-proxy and CoreDNS each keep small structs of their own): at
// 10,000 Services of 10 endpoints the API's objects took ~52 MB of heap in the proxy's caches alone.
// The caller starts and stops them.
//
// kube-proxy's informers select `!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless`
// (PROXY_LABEL_SELECTOR); the DNS needs headless Services and other proxies' too, so the shared
// informers select nothing and the proxier leaves those objects alone itself (proxied, proxiedSlice).

import type { EndpointConditions, EndpointSlice, Service, SliceEndpoint } from '../api/types.ts';
import { LABEL_HEADLESS, LABEL_SERVICE_NAME, LABEL_SERVICE_PROXY_NAME } from '../api/network.ts';
import type { Clock } from '../util/clock.ts';
import type { ApiClient, HasMetadata } from '../client/client.ts';
import { Informer, listWatch, transformListWatch } from '../client/informer.ts';
import type { ListerWatcher } from '../client/informer.ts';
import type { ResourceRef } from '../client/resources.ts';

// Local refs: the typed refs of src/client/resources.ts arrive with the kinds themselves.
const SERVICES: ResourceRef = { apiVersion: 'v1', resource: 'services' };
const ENDPOINT_SLICES: ResourceRef = { apiVersion: 'discovery.k8s.io/v1', resource: 'endpointslices' };

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
    services: new Informer(transformListWatch(sources.services, trimService), { clock, onError }),
    slices: new Informer(transformListWatch(sources.slices, trimSlice), { clock, onError }),
  };
}

const PROXY_LABELS = [LABEL_SERVICE_PROXY_NAME, LABEL_HEADLESS] as const;

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
      ports: spec.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol, nodePort: p.nodePort })),
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

// The conditions of 100,000 endpoints take a handful of values: one frozen object for each (readers
// only read them), and the node names a few strings.
const conditions = new Map<string, EndpointConditions>();
function sharedConditions(c: EndpointConditions | undefined): EndpointConditions | undefined {
  if (!c) return undefined;
  const key = `${c.ready}/${c.serving}/${c.terminating}`;
  let out = conditions.get(key);
  if (!out) {
    out = Object.freeze({ ready: c.ready ?? undefined, serving: c.serving ?? undefined, terminating: c.terminating ?? undefined });
    conditions.set(key, out);
  }
  return out;
}
const nodeNames = new Map<string, string>();
function sharedNodeName(n: string | undefined): string | undefined {
  if (n === undefined) return undefined;
  let out = nodeNames.get(n);
  if (out === undefined) {
    if (nodeNames.size > 10_000) nodeNames.clear(); // bounded: a name seen again is simply stored anew
    nodeNames.set(n, n);
    out = n;
  }
  return out;
}

/** What the node keeps of an EndpointSlice: addresses, readiness, node, hostname and ports. */
export function trimSlice(s: EndpointSlice & HasMetadata): EndpointSlice & HasMetadata {
  return {
    metadata: { name: s.metadata?.name, namespace: s.metadata?.namespace, resourceVersion: s.metadata?.resourceVersion, labels: keptLabels(s.metadata?.labels, [LABEL_SERVICE_NAME, ...PROXY_LABELS]) },
    addressType: s.addressType,
    endpoints: (s.endpoints ?? []).map((e): SliceEndpoint => {
      const out: SliceEndpoint = { addresses: e.addresses };
      const c = sharedConditions(e.conditions);
      if (c) out.conditions = c;
      if (e.nodeName !== undefined) out.nodeName = sharedNodeName(e.nodeName);
      if (e.hostname !== undefined) out.hostname = e.hostname;
      return out;
    }),
    ports: s.ports?.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
  };
}
