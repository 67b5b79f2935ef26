import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, Service } from '../../../api/types.ts';
import { servicePrinter } from './printer.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const created = '2026-01-01T00:00:00Z';

test('service rows: kubectl get svc -o wide columns and cells', () => {
  const cases: { what: string; spec: NonNullable<Service['spec']>; status?: Service['status']; want: unknown[] }[] = [
    {
      what: 'ClusterIP',
      spec: { type: 'ClusterIP', clusterIP: '10.43.0.20', clusterIPs: ['10.43.0.20'], ports: [{ port: 80, protocol: 'TCP' }], selector: { b: '2', a: '1' } },
      want: ['s', 'ClusterIP', '10.43.0.20', '<none>', '80/TCP', '10m', 'a=1,b=2'],
    },
    {
      what: 'NodePort with external IPs, several ports',
      spec: { type: 'NodePort', clusterIPs: ['10.43.5.6'], externalIPs: ['192.168.1.5', '192.168.1.6'], ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }, { port: 53, protocol: 'TCP', nodePort: 30053 }] },
      want: ['s', 'NodePort', '10.43.5.6', '192.168.1.5,192.168.1.6', '53:30053/UDP,53:30053/TCP', '10m', '<none>'],
    },
    { what: 'LoadBalancer pending', spec: { type: 'LoadBalancer', clusterIPs: ['10.43.5.7'], ports: [{ port: 443, protocol: 'TCP', nodePort: 31443 }] }, want: ['s', 'LoadBalancer', '10.43.5.7', '<pending>', '443:31443/TCP', '10m', '<none>'] },
    {
      what: 'LoadBalancer with ingress (sorted, deduplicated, hostnames when no IP) and external IPs after',
      spec: { type: 'LoadBalancer', clusterIPs: ['10.43.5.7'], externalIPs: ['1.2.3.4'], ports: [{ port: 443, protocol: 'TCP', nodePort: 31443 }] },
      status: { loadBalancer: { ingress: [{ ip: '192.168.9.2' }, { ip: '192.168.9.1' }, { ip: '192.168.9.2' }, { hostname: 'lb.example.com' }] } },
      want: ['s', 'LoadBalancer', '10.43.5.7', '192.168.9.1,192.168.9.2,lb.example.com,1.2.3.4', '443:31443/TCP', '10m', '<none>'],
    },
    { what: 'ExternalName', spec: { type: 'ExternalName', externalName: 'example.com' }, want: ['s', 'ExternalName', '<none>', 'example.com', '<none>', '10m', '<none>'] },
    { what: 'headless', spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'db' } }, want: ['s', 'ClusterIP', 'None', '<none>', '80/TCP', '10m', 'app=db'] },
  ];
  for (const c of cases) {
    const svc = { metadata: { name: 's', creationTimestamp: created }, spec: c.spec, status: c.status } as Service & KubeObject;
    assert.deepEqual(servicePrinter.print(svc, NOW).cells, c.want, c.what);
  }
  assert.deepEqual(servicePrinter.columns.map((c) => `${c.name}${c.priority ? '*' : ''}`), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector*']);
});
