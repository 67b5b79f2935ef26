// Which endpoints of a service port receive traffic, as kube-proxy's CategorizeEndpoints decides:
// ready endpoints; when none is ready, the serving-and-terminating ones (so connections drain to pods
// that are shutting down gracefully rather than being refused); for Local policies, only this node's,
// with the same fallback among them.

import type { EndpointSlice, Service, ServicePort } from '../api/types.ts';
import { LABEL_HEADLESS, LABEL_SERVICE_NAME, LABEL_SERVICE_PROXY_NAME } from '../api/network.ts';

export interface Endpoint {
  readonly ip: string;
  readonly port: number;
  readonly local: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

/** The endpoints of one service port, from every slice of the service, deduplicated by ip:port. */
export function endpointsForPort(slices: readonly EndpointSlice[], port: ServicePort, nodeName: string): Endpoint[] {
  const name = port.name ?? '';
  const protocol = port.protocol ?? 'TCP';
  const byAddr = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === name && (p.protocol ?? 'TCP') === protocol);
    if (sp?.port === undefined || sp.port === null) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!ip) continue;
      // The discovery API: a nil ready means ready (unknown), a nil serving follows ready, a nil terminating is false.
      const ready = ep.conditions?.ready ?? true;
      const serving = ep.conditions?.serving ?? ready;
      const terminating = ep.conditions?.terminating ?? false;
      const key = `${ip}:${sp.port}`;
      if (byAddr.has(key)) continue;
      byAddr.set(key, { ip, port: sp.port, local: ep.nodeName === nodeName, ready, serving, terminating });
    }
  }
  return [...byAddr.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

export interface Categorized {
  /** Targets for Cluster policy traffic. */
  readonly cluster: readonly Endpoint[];
  /** Targets for Local policy traffic (this node's). */
  readonly local: readonly Endpoint[];
  /** Some endpoint anywhere could take traffic: "none here" is then a drop, not a reject. */
  readonly hasAny: boolean;
}

export function categorize(eps: readonly Endpoint[]): Categorized {
  const usable = (pick: (e: Endpoint) => boolean): Endpoint[] => {
    const ready = eps.filter((e) => pick(e) && e.ready);
    return ready.length > 0 ? ready : eps.filter((e) => pick(e) && e.serving && e.terminating);
  };
  const cluster = usable(() => true);
  const local = usable((e) => e.local);
  return { cluster, local, hasAny: cluster.length > 0 };
}

/** Services the proxy leaves alone: another proxy's (service-proxy-name), headless, ExternalName, without a ClusterIP. */
export function proxied(svc: Service): boolean {
  const labels = svc.metadata?.labels ?? {};
  if (LABEL_SERVICE_PROXY_NAME in labels || LABEL_HEADLESS in labels) return false;
  if (svc.spec?.type === 'ExternalName') return false;
  const ip = svc.spec?.clusterIP;
  return !!ip && ip !== 'None';
}

/** Slices the proxy reads (kube-proxy's informer selector excludes headless and other proxies' slices). */
export function proxiedSlice(slice: EndpointSlice): boolean {
  const labels = slice.metadata?.labels ?? {};
  return !!labels[LABEL_SERVICE_NAME] && !(LABEL_SERVICE_PROXY_NAME in labels) && !(LABEL_HEADLESS in labels);
}
