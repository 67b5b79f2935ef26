import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldErrorMessage } from '../../../api/field.ts';
import { defaultService } from '../../../api/defaults/service.ts';
import type { Service } from '../../../api/types.ts';
import { validateService, validateServiceStatusUpdate, validateServiceUpdate } from '../../../api/validation/services.ts';
import { dropTypeDependentFields, initIPFamilies, normalizeClusterIPs } from './strategy.ts';

type Spec = NonNullable<Service['spec']>;

/** What the API server does to a new Service before allocating: defaults, then the strategy's preparation. */
function prepared(spec: Spec, name = 'web'): Service {
  const svc: Service = { metadata: { name, namespace: 'default', resourceVersion: '5' }, spec: structuredClone(spec) };
  defaultService(svc);
  normalizeClusterIPs(svc.spec!, undefined);
  initIPFamilies(svc.spec!, undefined);
  return svc;
}

const rendered = (errs: ReturnType<typeof validateService>) => errs.map((e) => `${e.field}: ${fieldErrorMessage(e)}`);
const web: Spec = { selector: { app: 'web' }, ports: [{ port: 80 }] };

test('defaults: SetDefaults_Service and the IP family fields of a single-stack IPv4 cluster', () => {
  const cases: { what: string; spec: Spec; want: Spec }[] = [
    {
      what: 'a plain ClusterIP Service',
      spec: web,
      want: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], sessionAffinity: 'None', type: 'ClusterIP', internalTrafficPolicy: 'Cluster', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] },
    },
    {
      what: 'ClientIP affinity gets its three hours; NodePort its external policy',
      spec: { ...web, type: 'NodePort', sessionAffinity: 'ClientIP', ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }] },
      want: {
        selector: { app: 'web' }, type: 'NodePort', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }], externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'],
      },
    },
    {
      what: 'LoadBalancer allocates node ports unless told not to',
      spec: { ...web, type: 'LoadBalancer' },
      want: {
        selector: { app: 'web' }, type: 'LoadBalancer', sessionAffinity: 'None', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
        externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true, ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'],
      },
    },
    {
      what: 'ExternalName gets no policies and no families',
      spec: { type: 'ExternalName', externalName: 'example.com' },
      want: { type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' },
    },
    {
      what: 'headless with a selector: single stack',
      spec: { ...web, clusterIP: 'None' },
      want: { ...web, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], clusterIP: 'None', clusterIPs: ['None'], sessionAffinity: 'None', type: 'ClusterIP', internalTrafficPolicy: 'Cluster', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] },
    },
    {
      what: 'headless without a selector: RequireDualStack, both families, as Kubernetes gives them even on a single-stack cluster',
      spec: { clusterIP: 'None' },
      want: { clusterIP: 'None', clusterIPs: ['None'], sessionAffinity: 'None', type: 'ClusterIP', internalTrafficPolicy: 'Cluster', ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] },
    },
    {
      what: 'sessionAffinityConfig goes with None',
      spec: { ...web, sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } } },
      want: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], sessionAffinity: 'None', type: 'ClusterIP', internalTrafficPolicy: 'Cluster', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] },
    },
  ];
  for (const c of cases) {
    const svc = prepared(c.spec);
    assert.deepEqual(svc.spec, c.want, c.what);
    assert.deepEqual(validateService(svc), [], c.what);
  }
});

test('create: kube-apiserver messages for bad Services', () => {
  const cases: { what: string; spec: Spec; want: string[] }[] = [
    { what: 'no ports', spec: { selector: { app: 'web' } }, want: ['spec.ports: Required value'] },
    {
      what: 'repeated port name',
      spec: { ...web, ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] },
      want: ['spec.ports[1].name: Duplicate value: "http"'],
    },
    {
      what: 'several ports need names',
      spec: { ...web, ports: [{ port: 80 }, { name: 'b', port: 81 }] },
      want: ['spec.ports[0].name: Required value'],
    },
    {
      what: 'unsupported protocol',
      spec: { ...web, ports: [{ port: 80, protocol: 'HTTP' }] },
      want: ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
    },
    {
      what: 'same port and protocol twice',
      spec: { ...web, ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] },
      want: ['spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'],
    },
    { what: 'port out of range', spec: { ...web, ports: [{ port: 70000 }] }, want: ['spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive', 'spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive'] },
    { what: 'node port on a ClusterIP Service', spec: { ...web, ports: [{ port: 80, nodePort: 30080 }] }, want: ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"] },
    { what: 'headless NodePort', spec: { ...web, type: 'NodePort', clusterIP: 'None' }, want: ["spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services"] },
    { what: 'bad clusterIP', spec: { ...web, clusterIP: '10.43.0.300' }, want: ['spec.clusterIPs[0]: Invalid value: "10.43.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'] },
    { what: 'clusterIP and clusterIPs disagree', spec: { ...web, clusterIP: '10.43.0.5', clusterIPs: ['10.43.0.6'] }, want: ['spec.clusterIPs: Invalid value: []string{"10.43.0.6"}: first value must match `clusterIP`'] },
    { what: 'ExternalName without a name', spec: { type: 'ExternalName' }, want: ['spec.externalName: Required value'] },
    { what: 'ExternalName with a clusterIP', spec: { type: 'ExternalName', externalName: 'example.com', clusterIP: '10.43.0.5' }, want: ['spec.clusterIPs: Forbidden: may not be set for ExternalName services'] },
    { what: 'ClientIP timeout out of range', spec: { ...web, sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }, want: ['spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400'] },
    { what: 'external policy on a ClusterIP Service', spec: { ...web, externalTrafficPolicy: 'Local' }, want: ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services'] },
    { what: 'unknown type', spec: { ...web, type: 'Magic' }, want: ['spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'] },
    { what: 'health check port without Local', spec: { ...web, type: 'LoadBalancer', healthCheckNodePort: 30100 }, want: ["spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"] },
    // Single-stack IPv4: kube-apiserver's own messages on a cluster configured so.
    { what: 'RequireDualStack', spec: { ...web, ipFamilyPolicy: 'RequireDualStack' }, want: ['spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services'] },
    { what: 'an IPv6 family', spec: { ...web, ipFamilies: ['IPv6'] }, want: ['spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster'] },
    { what: 'an IPv6 address', spec: { ...web, clusterIP: 'fd00::1' }, want: ['spec.clusterIPs[0]: Invalid value: []string{"fd00::1"}: IPv6 is not configured on this cluster'] },
    { what: 'bad service name', spec: web, want: [] },
  ];
  for (const c of cases) assert.deepEqual(rendered(validateService(prepared(c.spec))), c.want, c.what);
  assert.deepEqual(rendered(validateService(prepared(web, '1web'))), [
    'metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\',  or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')',
  ]);
  // Kubernetes accepts a selector on an ExternalName Service (and ignores it).
  assert.deepEqual(validateService(prepared({ type: 'ExternalName', externalName: 'db.example.com', selector: { app: 'db' } })), []);
  // PreferDualStack is allowed and stays single-stack here.
  assert.deepEqual(prepared({ ...web, ipFamilyPolicy: 'PreferDualStack' }).spec!.ipFamilies, ['IPv4']);
});

/** An update as the store runs it: defaults, the strategy's preparation, then validation. */
function updated(old: Service, change: (spec: Spec) => void): Service {
  const svc = structuredClone(old);
  change(svc.spec!);
  defaultService(svc);
  normalizeClusterIPs(svc.spec!, old.spec);
  dropTypeDependentFields(svc, old);
  initIPFamilies(svc.spec!, old.spec);
  return svc;
}

test('update: clusterIP may not change; type changes drop what the old type needed', () => {
  const old = prepared({ ...web, clusterIP: '10.43.0.5', type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
  const moved = updated(old, (s) => (s.clusterIP = '10.43.0.6'));
  assert.deepEqual(moved.spec!.clusterIPs, ['10.43.0.6'], 'a changed clusterIP speaks for clusterIPs');
  assert.deepEqual(rendered(validateServiceUpdate(moved, old)), ['spec.clusterIPs[0]: Invalid value: []string{"10.43.0.6"}: may not change once set']);

  const toClusterIP = updated(old, (s) => (s.type = 'ClusterIP'));
  assert.equal(toClusterIP.spec!.ports![0].nodePort, undefined);
  assert.equal(toClusterIP.spec!.externalTrafficPolicy, undefined);
  assert.deepEqual(validateServiceUpdate(toClusterIP, old), []);

  const toExternal = updated(old, (s) => {
    s.type = 'ExternalName';
    s.externalName = 'example.com';
  });
  assert.equal(toExternal.spec!.clusterIP, undefined);
  assert.equal(toExternal.spec!.ipFamilies, undefined);
  assert.equal(toExternal.spec!.ipFamilyPolicy, undefined);
  assert.deepEqual(validateServiceUpdate(toExternal, old), []);

  // A patch from an old client that leaves clusterIPs out keeps them.
  const patched = updated(old, (s) => delete s.clusterIPs);
  assert.deepEqual(patched.spec!.clusterIPs, ['10.43.0.5']);

  const lb = prepared({ ...web, clusterIP: '10.43.0.7', type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30100 });
  assert.deepEqual(rendered(validateServiceUpdate(updated(lb, (s) => (s.healthCheckNodePort = 30101)), lb)), ['spec.healthCheckNodePort: Forbidden: field is immutable']);
});

test('status: load balancer ingress addresses and their mode', () => {
  const lb = prepared({ ...web, type: 'LoadBalancer' });
  const cases: { what: string; ingress: NonNullable<NonNullable<Service['status']>['loadBalancer']>['ingress']; want: string[] }[] = [
    { what: 'an address', ingress: [{ ip: '192.168.5.10', ipMode: 'VIP' }], want: [] },
    { what: 'a bad address', ingress: [{ ip: 'x', ipMode: 'VIP' }], want: ['status.loadBalancer.ingress[0].ip: Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'] },
    { what: 'mode without address', ingress: [{ hostname: 'lb.example.com', ipMode: 'VIP' }], want: ['status.loadBalancer.ingress[0].ipMode: Forbidden: may not be specified when `ip` is not set'] },
    { what: 'an address as hostname', ingress: [{ hostname: '10.0.0.1' }], want: ['status.loadBalancer.ingress[0].hostname: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'] },
  ];
  for (const c of cases) {
    const next = structuredClone(lb);
    next.status = { loadBalancer: { ingress: c.ingress } };
    assert.deepEqual(rendered(validateServiceStatusUpdate(next, lb)), c.want, c.what);
  }
});
