import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../api/types.ts';
import { envVarName, fromServices, serviceEnvVars } from './envvars.ts';

type Port = NonNullable<NonNullable<Service['spec']>['ports']>[number];

function svc(namespace: string, name: string, clusterIP: string | undefined, ports: Port[], type?: string): Service {
  return { metadata: { namespace, name }, spec: { ...(clusterIP !== undefined ? { clusterIP } : {}), ports, ...(type ? { type } : {}) } };
}

const kubernetes = svc('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
const redis = svc('shop', 'redis-primary', '10.0.0.11', [{ port: 6379 }]);

const KUBERNETES_VARS: [string, string][] = [
  ['KUBERNETES_SERVICE_HOST', '10.43.0.1'],
  ['KUBERNETES_SERVICE_PORT', '443'],
  ['KUBERNETES_SERVICE_PORT_HTTPS', '443'],
  ['KUBERNETES_PORT', 'tcp://10.43.0.1:443'],
  ['KUBERNETES_PORT_443_TCP', 'tcp://10.43.0.1:443'],
  ['KUBERNETES_PORT_443_TCP_PROTO', 'tcp'],
  ['KUBERNETES_PORT_443_TCP_PORT', '443'],
  ['KUBERNETES_PORT_443_TCP_ADDR', '10.43.0.1'],
];

const REDIS_VARS: [string, string][] = [
  ['REDIS_PRIMARY_SERVICE_HOST', '10.0.0.11'],
  ['REDIS_PRIMARY_SERVICE_PORT', '6379'],
  ['REDIS_PRIMARY_PORT', 'tcp://10.0.0.11:6379'],
  ['REDIS_PRIMARY_PORT_6379_TCP', 'tcp://10.0.0.11:6379'],
  ['REDIS_PRIMARY_PORT_6379_TCP_PROTO', 'tcp'],
  ['REDIS_PRIMARY_PORT_6379_TCP_PORT', '6379'],
  ['REDIS_PRIMARY_PORT_6379_TCP_ADDR', '10.0.0.11'],
];

describe('envVarName', () => {
  for (const [input, want] of [['redis-primary', 'REDIS_PRIMARY'], ['web', 'WEB'], ['a.b-c', 'A_B_C'], ['3d-view', '_3D_VIEW']]) {
    it(`${input} → ${want}`, () => assert.equal(envVarName(input), want));
  }
});

describe('fromServices', () => {
  const cases: { name: string; services: Service[]; want: [string, string][] }[] = [
    { name: 'one unnamed TCP port', services: [redis], want: REDIS_VARS },
    { name: 'a named port', services: [kubernetes], want: KUBERNETES_VARS },
    {
      name: 'several ports: the first is the service port and the _PORT URL, each named one gets _SERVICE_PORT_<NAME>, UDP in lower and upper case',
      services: [svc('shop', 'dns', '10.43.0.10', [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'metrics', port: 9153 }])],
      want: [
        ['DNS_SERVICE_HOST', '10.43.0.10'],
        ['DNS_SERVICE_PORT', '53'],
        ['DNS_SERVICE_PORT_DNS', '53'],
        ['DNS_SERVICE_PORT_DNS_TCP', '53'],
        ['DNS_SERVICE_PORT_METRICS', '9153'],
        ['DNS_PORT', 'udp://10.43.0.10:53'],
        ['DNS_PORT_53_UDP', 'udp://10.43.0.10:53'],
        ['DNS_PORT_53_UDP_PROTO', 'udp'],
        ['DNS_PORT_53_UDP_PORT', '53'],
        ['DNS_PORT_53_UDP_ADDR', '10.43.0.10'],
        ['DNS_PORT_53_TCP', 'tcp://10.43.0.10:53'],
        ['DNS_PORT_53_TCP_PROTO', 'tcp'],
        ['DNS_PORT_53_TCP_PORT', '53'],
        ['DNS_PORT_53_TCP_ADDR', '10.43.0.10'],
        ['DNS_PORT_9153_TCP', 'tcp://10.43.0.10:9153'],
        ['DNS_PORT_9153_TCP_PROTO', 'tcp'],
        ['DNS_PORT_9153_TCP_PORT', '9153'],
        ['DNS_PORT_9153_TCP_ADDR', '10.43.0.10'],
      ],
    },
    {
      name: 'headless, ExternalName and not yet allocated services give nothing',
      services: [
        svc('shop', 'headless', 'None', [{ port: 80 }]),
        { metadata: { namespace: 'shop', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } },
        svc('shop', 'pending', undefined, [{ port: 80 }]),
        svc('shop', 'empty', '', [{ port: 80 }]),
      ],
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(fromServices(c.services).map((e) => [e.name, e.value]), c.want));
  }
});

describe('serviceEnvVars', () => {
  const other = svc('other', 'cache', '10.0.0.12', [{ port: 11211 }]);
  const ownKubernetes = svc('shop', 'kubernetes', '10.0.0.99', [{ port: 8443 }]);
  const cases: { name: string; services: Service[]; namespace: string; links: boolean; want: [string, string][] }[] = [
    { name: 'the namespace services and default/kubernetes, by name; other namespaces are not seen', services: [redis, other, kubernetes], namespace: 'shop', links: true, want: [...KUBERNETES_VARS, ...REDIS_VARS] },
    { name: 'enableServiceLinks false: only default/kubernetes', services: [redis, kubernetes], namespace: 'shop', links: false, want: KUBERNETES_VARS },
    { name: 'a pod of the default namespace without links still sees kubernetes', services: [kubernetes, svc('default', 'web', '10.43.5.5', [{ port: 80 }])], namespace: 'default', links: false, want: KUBERNETES_VARS },
    {
      name: 'a kubernetes Service of the pod namespace takes the place of the default one, whatever the listing order',
      services: [kubernetes, ownKubernetes],
      namespace: 'shop',
      links: true,
      want: fromServices([ownKubernetes]).map((e) => [e.name, e.value]),
    },
    { name: 'same, listed the other way round', services: [ownKubernetes, kubernetes], namespace: 'shop', links: true, want: fromServices([ownKubernetes]).map((e) => [e.name, e.value]) },
    { name: 'no services listed yet: nothing', services: [], namespace: 'shop', links: true, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual([...serviceEnvVars(c.services, c.namespace, c.links)], c.want));
  }
});
