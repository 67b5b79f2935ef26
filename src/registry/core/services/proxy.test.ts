import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints, KubeObject, Pod, Service } from '../../../api/types.ts';
import type { ProxyLookup } from '../../kind.ts';
import { serviceProxyTarget } from './proxy.ts';

const svc: Service = { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443, targetPort: 8443 }] } };
const podAt = (name: string, ip: string): Pod => ({ metadata: { name, namespace: 'default' }, status: { podIP: ip, podIPs: [{ ip }] } });
const addr = (name: string, ip: string) => ({ ip, targetRef: { kind: 'Pod', namespace: 'default', name } });
const eps: Endpoints = {
  metadata: { name: 'web', namespace: 'default' },
  subsets: [
    { notReadyAddresses: [addr('c', '10.244.0.9')], ports: [{ name: 'http', port: 8080 }] },
    { addresses: [addr('a', '10.244.0.3'), addr('b', '10.244.0.4')], ports: [{ name: 'http', port: 8080 }, { name: 'https', port: 8443 }] },
  ],
};

function lookup(objects: Record<string, KubeObject>): ProxyLookup {
  return { get: async (resource, _group, ns, name) => objects[`${resource}/${ns}/${name}`] };
}
const world = lookup({ 'endpoints/default/web': eps, 'pods/default/a': podAt('a', '10.244.0.3'), 'pods/default/b': podAt('b', '10.244.0.4') });

describe('services/proxy location (kube-apiserver Service ResourceLocation)', () => {
  const cases: Array<[string, { scheme: string; port: string }, number, ProxyLookup, object]> = [
    ['web:80 → a ready address on the port named http', { scheme: '', port: '80' }, 0, world, { to: 'address', scheme: 'http', host: '10.244.0.3', port: '8080' }],
    ['web:http, another random pick', { scheme: '', port: 'http' }, 0.99, world, { to: 'address', scheme: 'http', host: '10.244.0.4', port: '8080' }],
    ['https:web:443', { scheme: 'https', port: '443' }, 0, world, { to: 'address', scheme: 'https', host: '10.244.0.3', port: '8443' }],
    ['a port number the Service does not have', { scheme: '', port: '81' }, 0, world, { unavailable: 'no service port 81 found for service "web"' }],
    ['no port: the unnamed port, which this Service has not', { scheme: '', port: '' }, 0, world, { unavailable: 'no endpoints available for service "web"' }],
    ['no Endpoints object', { scheme: '', port: '80' }, 0, lookup({}), { notFound: { resource: 'endpoints', name: 'web' } }],
    ['no subsets', { scheme: '', port: '80' }, 0, lookup({ 'endpoints/default/web': { ...eps, subsets: undefined } }), { unavailable: 'no endpoints available for service "web"' }],
    ['a pod that is gone is skipped', { scheme: '', port: '80' }, 0, lookup({ 'endpoints/default/web': eps, 'pods/default/b': podAt('b', '10.244.0.4') }), { to: 'address', scheme: 'http', host: '10.244.0.4', port: '8080' }],
    ['an address without a pod is skipped', { scheme: '', port: '80' }, 0, lookup({ 'endpoints/default/web': { ...eps, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'http', port: 8080 }] }] } }), { unavailable: 'no endpoints available for service "web:80"' }],
    ['a pod whose IP changed is skipped; none left', { scheme: '', port: '80' }, 0, lookup({ 'endpoints/default/web': eps, 'pods/default/a': podAt('a', '10.244.1.1') }), { unavailable: 'no endpoints available for service "web:80"' }],
  ];
  for (const [name, want, r, lk, expected] of cases) it(name, async () => assert.deepEqual(await serviceProxyTarget(() => r).location(svc, want, lk), expected));
});
