import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Node, Service } from '../../api/types.ts';
import { ingressEqual, ingressText, loadBalancerIngress, nodesWithReadyEndpoints, slicesOf, wantsLoadBalancer } from './ingress.ts';

function node(name: string, ip: string, o: { ready?: string; unschedulable?: boolean; labels?: Record<string, string>; external?: string } = {}): Node {
  const addresses = [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }];
  if (o.external) addresses.push({ type: 'ExternalIP', address: o.external });
  return {
    metadata: { name, labels: o.labels ?? {} },
    spec: o.unschedulable ? { unschedulable: true } : {},
    status: { conditions: [{ type: 'Ready', status: o.ready ?? 'True' }], addresses },
  };
}

function lb(o: { local?: boolean; cls?: string; type?: string; labels?: Record<string, string> } = {}): Service {
  return {
    metadata: { namespace: 'shop', name: 'web', labels: o.labels ?? {} },
    spec: { type: o.type ?? 'LoadBalancer', ...(o.cls ? { loadBalancerClass: o.cls } : {}), ...(o.local ? { externalTrafficPolicy: 'Local' } : {}), ports: [{ port: 80 }] },
  };
}

function slice(service: string, endpoints: { node: string; ready: boolean; kind?: string }[], namespace = 'shop'): EndpointSlice {
  return {
    addressType: 'IPv4',
    metadata: { namespace, name: `${service}-x`, labels: { 'kubernetes.io/service-name': service } },
    endpoints: endpoints.map((e, i) => ({ addresses: [`10.244.0.${i + 2}`], nodeName: e.node, conditions: { ready: e.ready }, targetRef: { kind: e.kind ?? 'Pod', name: `p${i}` } })),
  };
}

const N1 = node('n1', '192.0.2.11');
const N2 = node('n2', '192.0.2.2');
const N3 = node('n3', '192.0.2.3');

describe('wantsLoadBalancer', () => {
  const cases: [string, Service, boolean][] = [
    ['LoadBalancer', lb(), true],
    ['LoadBalancer of another class', lb({ cls: 'metallb.io/metallb' }), false],
    ['NodePort', lb({ type: 'NodePort' }), false],
  ];
  for (const [name, svc, want] of cases) it(name, () => assert.equal(wantsLoadBalancer(svc), want));
});

describe('loadBalancerIngress', () => {
  const cases: { name: string; svc: Service; nodes: Node[]; slices?: EndpointSlice[]; want: string[] }[] = [
    { name: 'every Ready schedulable node, sorted numerically', svc: lb(), nodes: [N1, N2, N3], want: ['192.0.2.2', '192.0.2.3', '192.0.2.11'] },
    { name: 'not Ready, Unknown and unschedulable nodes are left out', svc: lb(), nodes: [N1, node('n2', '192.0.2.2', { ready: 'False' }), node('n3', '192.0.2.3', { ready: 'Unknown' }), node('n4', '192.0.2.4', { unschedulable: true })], want: ['192.0.2.11'] },
    { name: 'exclude-from-external-load-balancers', svc: lb(), nodes: [N1, node('n2', '192.0.2.2', { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } })], want: ['192.0.2.11'] },
    {
      name: 'once a node carries enablelb, only enablelb=true nodes',
      svc: lb(),
      nodes: [N1, node('n2', '192.0.2.2', { labels: { 'svccontroller.k3s.cattle.io/enablelb': 'true' } }), node('n3', '192.0.2.3', { labels: { 'svccontroller.k3s.cattle.io/enablelb': 'false' } })],
      want: ['192.0.2.2'],
    },
    {
      name: 'an lbpool Service takes the nodes of its pool',
      svc: lb({ labels: { 'svccontroller.k3s.cattle.io/lbpool': 'edge' } }),
      nodes: [
        node('n1', '192.0.2.1', { labels: { 'svccontroller.k3s.cattle.io/enablelb': 'true' } }),
        node('n2', '192.0.2.2', { labels: { 'svccontroller.k3s.cattle.io/enablelb': 'true', 'svccontroller.k3s.cattle.io/lbpool': 'edge' } }),
      ],
      want: ['192.0.2.2'],
    },
    { name: 'ExternalIPs win when any qualifying node has one', svc: lb(), nodes: [N1, node('n2', '192.0.2.2', { external: '203.0.113.2' })], want: ['203.0.113.2'] },
    {
      name: 'Local: only nodes with a ready pod endpoint',
      svc: lb({ local: true }),
      nodes: [N1, N2, N3],
      slices: [slice('web', [{ node: 'n2', ready: true }, { node: 'n3', ready: false }, { node: 'n1', ready: true, kind: 'Node' }]), slice('other', [{ node: 'n1', ready: true }])],
      want: ['192.0.2.2'],
    },
    { name: 'Local without ready endpoints: none', svc: lb({ local: true }), nodes: [N1, N2], slices: [], want: [] },
    { name: 'no nodes: none (pending)', svc: lb(), nodes: [], want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = loadBalancerIngress(c.svc, c.nodes, slicesOf(c.svc, c.slices ?? []));
      assert.deepEqual(got, c.want.map((ip) => ({ ip, ipMode: 'VIP' })));
    });
  }

  it('reads slices of the Service only, in its namespace', () => {
    const all = [slice('web', [{ node: 'n1', ready: true }]), slice('web', [{ node: 'n2', ready: true }], 'other-ns')];
    assert.deepEqual([...nodesWithReadyEndpoints(slicesOf(lb(), all))], ['n1']);
  });
});

describe('ingressEqual and ingressText', () => {
  it('compares addresses in order, an unset ipMode as VIP', () => {
    const want = [{ ip: '192.0.2.1', ipMode: 'VIP' as const }];
    assert.equal(ingressEqual({ loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } }, want), true);
    assert.equal(ingressEqual({ loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'Proxy' }] } }, want), false);
    assert.equal(ingressEqual({ loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } }, want), false);
    assert.equal(ingressEqual(undefined, []), true);
    assert.equal(ingressEqual({ loadBalancer: {} }, want), false);
  });
  it("prints as Go's %v of a []string", () => {
    assert.equal(ingressText([]), '[]');
    assert.equal(ingressText([{ ip: '192.0.2.1' }, { hostname: 'lb.example' }]), '[192.0.2.1 lb.example]');
  });
});
