// Small builders of Services and EndpointSlices for the proxy's tests and bench/services-proxy.ts.

import type { EndpointSlice, Service, ServicePort, ServiceSpec } from '../api/types.ts';
import { ENDPOINTSLICE_CONTROLLER, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../api/network.ts';

export function svc(name: string, clusterIP: string, spec: Partial<ServiceSpec> = {}, ns = 'default'): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, resourceVersion: '1' },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], ...spec },
  };
}

export interface EndpointSpec {
  readonly ip: string;
  readonly node?: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

/** One slice of `service`, with the given endpoints and ports (default `http` 8080/TCP). */
export function slice(service: string, endpoints: readonly (string | EndpointSpec)[], ports: ServicePort[] = [{ name: 'http', port: 8080, protocol: 'TCP' }], name = `${service}-abc`, ns = 'default'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, resourceVersion: '1', labels: { [LABEL_SERVICE_NAME]: service, [LABEL_MANAGED_BY]: ENDPOINTSLICE_CONTROLLER } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    endpoints: endpoints.map((e) => {
      const ep = typeof e === 'string' ? { ip: e } : e;
      return {
        addresses: [ep.ip],
        nodeName: ep.node ?? 'node-a',
        conditions: { ready: ep.ready ?? true, serving: ep.serving ?? ep.ready ?? true, terminating: ep.terminating ?? false },
      };
    }),
  };
}
