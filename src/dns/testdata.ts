// A fixture of Services and EndpointSlices covering every record shape the DNS answers, for the
// record and server tests. Test-only.
import type { EndpointSlice, Service, SliceEndpoint } from '../api/types.ts';
import { LABEL_SERVICE_NAME } from '../api/network.ts';

export function service(ns: string, name: string, spec: NonNullable<Service['spec']>): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec };
}

export function slice(ns: string, name: string, svc: string, endpoints: SliceEndpoint[], ports: NonNullable<EndpointSlice['ports']> = []): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { [LABEL_SERVICE_NAME]: svc } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

export const fixtureServices: Service[] = [
  service('default', 'web', { type: 'ClusterIP', clusterIP: '10.43.0.5', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
  service('default', 'plain', { type: 'ClusterIP', clusterIP: '10.43.0.6', ports: [{ port: 8080 }] }),
  service('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
  service('default', 'pub', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'http', port: 80 }] }),
  service('default', 'empty', { clusterIP: 'None' }),
  service('default', 'ext', { type: 'ExternalName', externalName: 'www.example.com' }),
  service('default', 'alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }),
  service('default', 'loop', { type: 'ExternalName', externalName: 'loop.default.svc.cluster.local' }),
  service('default', 'pending', { type: 'ClusterIP' }),
  service('kube-system', 'kube-dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }),
];

export const fixtureSlices: EndpointSlice[] = [
  slice('default', 'web-1', 'web', [{ addresses: ['10.244.0.20'], conditions: { ready: true } }], [{ name: 'http', port: 8080, protocol: 'TCP' }]),
  slice(
    'default',
    'db-abc',
    'db',
    [
      { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.1.6'], hostname: 'db-1', conditions: { ready: true } },
      { addresses: ['10.244.1.7'], conditions: { ready: true } },
      { addresses: ['10.244.1.8'], hostname: 'db-3', conditions: { ready: false } },
    ],
    [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  ),
  // A second slice of the same Service repeating an endpoint (as during the controller's moves), and one
  // without conditions (ready when unset).
  slice('default', 'db-def', 'db', [{ addresses: ['10.244.1.7'], conditions: { ready: true } }, { addresses: ['10.244.2.9'] }], [{ name: 'pg', port: 5432, protocol: 'TCP' }]),
  slice('default', 'pub-1', 'pub', [{ addresses: ['10.244.3.3'], hostname: 'p-0', conditions: { ready: false } }], [{ name: 'http', port: 8000, protocol: 'TCP' }]),
];
