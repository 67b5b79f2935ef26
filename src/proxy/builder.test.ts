import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointSlice, Service } from '../api/types.ts';
import { LABEL_SERVICE_PROXY_NAME } from '../api/network.ts';
import { buildModel, buildServicePart, firewallSources } from './builder.ts';
import { slice, svc } from './fixtures.ts';
import type { NodeFacts, ServicePart } from './model.ts';

const node: NodeFacts = { name: 'node-a', addresses: ['10.0.0.1'], podCIDR: '10.244.0.0/24' };
const W = 'default/web/tcp/http';
const ep = (ip: string, port = 8080): string => `endpoint-${W}__${ip}/${port}`;

function part(s: Service, slices: EndpointSlice[] = []): ServicePart {
  const p = buildServicePart(s, slices, node);
  assert.ok(p, 'service is proxied');
  return p;
}

function chains(p: ServicePart): Record<string, readonly string[]> {
  return Object.fromEntries(p.chains);
}

test('a ClusterIP with two ready endpoints: one service chain, a random cascade of DNATs, the local one a hairpin endpoint', () => {
  const p = part(svc('web', '10.43.0.10'), [slice('web', ['10.244.0.5', { ip: '10.244.1.6', node: 'node-b' }])]);
  assert.deepEqual(p.hairpin, ['10.244.0.5']);
  assert.deepEqual(chains(p), {
    [`service-${W}`]: [
      'numgen random mod 2 0 meta l4proto tcp dnat to 10.244.0.5:8080',
      'meta l4proto tcp dnat to 10.244.1.6:8080',
    ],
  });
  assert.deepEqual(p.elements, [
    { set: 'cluster-ips', key: '10.43.0.10', exclusive: true },
    { set: 'service-ips', key: '10.43.0.10 . tcp . 80', value: `goto service-${W}`, exclusive: true },
  ]);
  assert.equal(p.sets.size, 0);
});

test('the cascade picks each of N endpoints with probability 1/N', () => {
  const p = part(svc('web', '10.43.0.10'), [slice('web', [1, 2, 3, 4].map((i) => ({ ip: `10.244.1.${i}`, node: 'node-b' })))]);
  const rules = p.chains.get(`service-${W}`)!;
  assert.deepEqual(rules.map((r) => /^numgen random mod (\d) 0 /.exec(r)?.[1] ?? 'last'), ['4', '3', '2', 'last']);
  // P(i) = 1/(N-i) × Π_{j<i} (1 - 1/(N-j)) = 1/N
  let rest = 1;
  for (const k of [4, 3, 2, 1]) {
    assert.ok(Math.abs(rest / k - 1 / 4) < 1e-12);
    rest *= 1 - 1 / k;
  }
});

test('which endpoints receive traffic and what happens when none may', async (t) => {
  const cases: Array<{
    name: string;
    service: Service;
    endpoints: Parameters<typeof slice>[1];
    /** The ClusterIP's entry: [map, verdict]. */
    clusterIP: [string, string];
    /** Endpoint IPs the internal chain spreads over. */
    targets?: string[];
  }> = [
    { name: 'no endpoints: reject at once', service: svc('web', '10.43.0.10'), endpoints: [], clusterIP: ['no-endpoint-services', 'goto reject-chain'] },
    { name: 'not-ready endpoints are left out', service: svc('web', '10.43.0.10'), endpoints: ['10.244.0.5', { ip: '10.244.0.6', ready: false }], clusterIP: ['service-ips', `goto service-${W}`], targets: ['10.244.0.5'] },
    {
      name: 'none ready: serving terminating ones still take traffic',
      service: svc('web', '10.43.0.10'),
      endpoints: [{ ip: '10.244.0.5', ready: false, serving: true, terminating: true }, { ip: '10.244.0.6', ready: false, serving: false }],
      clusterIP: ['service-ips', `goto service-${W}`],
      targets: ['10.244.0.5'],
    },
    { name: 'only unready, not serving: reject', service: svc('web', '10.43.0.10'), endpoints: [{ ip: '10.244.0.6', ready: false, serving: false }], clusterIP: ['no-endpoint-services', 'goto reject-chain'] },
    {
      name: 'internalTrafficPolicy Local: only this node\'s endpoints',
      service: svc('web', '10.43.0.10', { internalTrafficPolicy: 'Local' }),
      endpoints: ['10.244.0.5', { ip: '10.244.1.6', node: 'node-b' }],
      clusterIP: ['service-ips', `goto local-${W}`],
      targets: ['10.244.0.5'],
    },
    {
      name: 'internalTrafficPolicy Local, endpoints only elsewhere: drop (not reject)',
      service: svc('web', '10.43.0.10', { internalTrafficPolicy: 'Local' }),
      endpoints: [{ ip: '10.244.1.6', node: 'node-b' }],
      clusterIP: ['no-endpoint-services', 'drop'],
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const p = part(c.service, [slice('web', c.endpoints)]);
      const e = p.elements.find((x) => x.key === '10.43.0.10 . tcp . 80');
      assert.deepEqual([e?.set, e?.value], c.clusterIP);
      const dnat = [...p.chains.values()].flat().map((r) => /dnat to ([\d.]+):/.exec(r)?.[1]).filter((x) => x !== undefined).sort();
      assert.deepEqual(dnat, c.targets ?? []);
    });
  }
});

test('NodePort with Cluster policy: a nodeports entry to an external chain that masquerades off-node sources', () => {
  const p = part(svc('web', '10.43.0.10', { type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }), [slice('web', ['10.244.0.5', { ip: '10.244.1.6', node: 'node-b' }])]);
  assert.deepEqual(p.chains.get(`external-${W}`), ['ip saddr != 10.244.0.0/24 jump mark-for-masquerade', `goto service-${W}`]);
  assert.deepEqual(p.elements.filter((e) => e.set === 'service-nodeports'), [{ set: 'service-nodeports', key: 'tcp . 30080', value: `goto external-${W}`, exclusive: true }]);
});

test('NodePort without endpoints: the nodeport is refused too', () => {
  const p = part(svc('web', '10.43.0.10', { type: 'NodePort', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }));
  assert.deepEqual(p.elements.filter((e) => e.set.startsWith('no-endpoint')).map((e) => [e.set, e.key, e.value]), [
    ['no-endpoint-services', '10.43.0.10 . tcp . 80', 'goto reject-chain'],
    ['no-endpoint-nodeports', 'tcp . 30080', 'goto reject-chain'],
  ]);
  assert.equal(p.chains.size, 0);
});

test('LoadBalancer: ingress IPs (not ipMode Proxy) and external IPs go to the external chain', () => {
  const s = svc('web', '10.43.0.10', { type: 'LoadBalancer', externalIPs: ['10.9.9.9'], ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] });
  s.status = { loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ipMode: 'Proxy' }, { hostname: 'lb.example' }] } };
  const p = part(s, [slice('web', ['10.244.0.5'])]);
  assert.deepEqual(p.elements.filter((e) => e.set === 'service-ips').map((e) => [e.key, e.value]), [
    ['10.43.0.10 . tcp . 80', `goto service-${W}`],
    ['10.9.9.9 . tcp . 80', `goto external-${W}`],
    ['10.0.0.1 . tcp . 80', `goto external-${W}`],
  ]);
});

test('loadBalancerSourceRanges: a firewall chain per port, reached from firewall-ips by each ingress IP (not NodePorts, not external IPs)', () => {
  const s = svc('web', '10.43.0.10', {
    type: 'LoadBalancer',
    externalIPs: ['10.9.9.9'],
    loadBalancerSourceRanges: [' 192.168.7.0/24', '172.16.0.0/12'],
    ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }],
  });
  s.status = { loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { ip: '10.0.0.7' }] } };
  // The rule is there with or without endpoints (kube-proxy checks the source before anything else).
  for (const slices of [[slice('web', ['10.244.0.5'])], []]) {
    const p = part(s, slices);
    assert.deepEqual(p.chains.get(`firewall-${W}`), ['ip saddr != { 192.168.7.0/24, 172.16.0.0/12 } drop']);
    assert.deepEqual(p.elements.filter((e) => e.set === 'firewall-ips').map((e) => [e.key, e.value]), [
      ['10.0.0.1 . tcp . 80', `goto firewall-${W}`],
      ['10.0.0.7 . tcp . 80', `goto firewall-${W}`],
    ]);
  }
  // No ingress address yet, or no ranges: no firewall.
  const pending = svc('web', '10.43.0.10', { type: 'LoadBalancer', loadBalancerSourceRanges: ['192.168.7.0/24'] });
  assert.equal(part(pending, []).chains.has(`firewall-${W}`), false);
  const open = svc('web', '10.43.0.10', { type: 'LoadBalancer' });
  open.status = s.status;
  assert.deepEqual(part(open, []).elements.filter((e) => e.set === 'firewall-ips'), []);
});

test('firewallSources: trimmed, host bits cleared, deduplicated, IPv4 only; the ingress IPs join when a range holds the node', async (t) => {
  const cases: Array<[string, string[], string | undefined]> = [
    ['one range: no set', ['192.168.7.0/24'], '192.168.7.0/24'],
    ['host bits cleared and duplicates dropped', ['192.168.7.9/24', '192.168.7.0/24 ', '10.1.0.0/16'], '{ 192.168.7.0/24, 10.1.0.0/16 }'],
    ['IPv6 ranges are another family\'s', ['2001:db8::/32'], undefined],
    ['IPv6 beside IPv4', ['2001:db8::/32', '10.1.0.0/16'], '10.1.0.0/16'],
    ['a range holding the node address allows the ingress IPs too', ['10.0.0.0/24'], '{ 10.0.0.0/24, 10.0.0.1, 10.0.0.7 }'],
    ['none', [], undefined],
  ];
  for (const [name, ranges, want] of cases) await t.test(name, () => assert.equal(firewallSources(ranges, ['10.0.0.1', '10.0.0.7'], node), want));
});

test('healthCheck: LoadBalancer with externalTrafficPolicy Local counts this node\'s ready endpoints (distinct ip:port over ports)', async (t) => {
  const ports = [{ name: 'http', port: 80, protocol: 'TCP' as const, nodePort: 30080 }, { name: 'alt', port: 81, protocol: 'TCP' as const, nodePort: 30081 }];
  const lb = (extra: Record<string, unknown> = {}): Service => {
    const s = svc('web', '10.43.0.10', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 32000, ports, ...extra });
    s.metadata!.uid = 'u-1';
    return s;
  };
  const eps = [
    '10.244.0.5',
    { ip: '10.244.0.6', ready: false },
    { ip: '10.244.0.7', ready: false, serving: true, terminating: true },
    { ip: '10.244.1.6', node: 'node-b' },
  ];
  const both = slice('web', eps, [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'alt', port: 8080, protocol: 'TCP' }]);
  const cases: Array<[string, Service, EndpointSlice[], ServicePart['healthCheck']]> = [
    ['one local ready endpoint behind two ports counts once', lb(), [both], { port: 32000, localEndpoints: 1, uid: 'u-1' }],
    ['no local ready endpoint: 0 (terminating ones do not count)', lb(), [slice('web', eps.slice(1), [{ name: 'http', port: 8080, protocol: 'TCP' }])], { port: 32000, localEndpoints: 0, uid: 'u-1' }],
    ['Cluster policy: none', lb({ externalTrafficPolicy: 'Cluster' }), [both], undefined],
    ['NodePort with Local policy: none', lb({ type: 'NodePort' }), [both], undefined],
  ];
  for (const [name, s, slices, want] of cases) await t.test(name, () => assert.deepEqual(part(s, slices).healthCheck, want));
});

test('externalTrafficPolicy Local: external traffic to local endpoints only, source kept; node and pods still reach all', () => {
  const spec = { type: 'NodePort' as const, externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] };
  const p = part(svc('web', '10.43.0.10', spec), [slice('web', ['10.244.0.5', { ip: '10.244.1.6', node: 'node-b' }])]);
  assert.deepEqual(p.chains.get(`external-${W}`), [
    `ip saddr 10.244.0.0/24 goto service-${W}`,
    'fib saddr type local jump mark-for-masquerade',
    `fib saddr type local goto service-${W}`,
    `goto local-${W}`,
  ]);
  assert.deepEqual(p.chains.get(`local-${W}`), ['meta l4proto tcp dnat to 10.244.0.5:8080']);
  assert.deepEqual(p.hairpin, ['10.244.0.5']);
  const elsewhere = part(svc('web', '10.43.0.10', spec), [slice('web', [{ ip: '10.244.1.6', node: 'node-b' }])]);
  assert.deepEqual(elsewhere.elements.find((e) => e.set === 'no-endpoint-nodeports'), { set: 'no-endpoint-nodeports', key: 'tcp . 30080', value: 'drop', exclusive: true });
  assert.equal(elsewhere.chains.has(`external-${W}`), false);
});

test('sessionAffinity ClientIP: a timed set per endpoint, looked up before the random spread and updated on the way', () => {
  const p = part(svc('web', '10.43.0.10', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }), [slice('web', ['10.244.0.5', '10.244.1.6'])]);
  const set = (ip: string): string => `affinity-60s-${W}__${ip}/8080`;
  assert.deepEqual(Object.fromEntries(p.sets), {
    [set('10.244.0.5')]: 'type ipv4_addr; flags dynamic,timeout; timeout 60s;',
    [set('10.244.1.6')]: 'type ipv4_addr; flags dynamic,timeout; timeout 60s;',
  });
  assert.deepEqual(p.chains.get(`service-${W}`), [
    `ip saddr @${set('10.244.0.5')} goto ${ep('10.244.0.5')}`,
    `ip saddr @${set('10.244.1.6')} goto ${ep('10.244.1.6')}`,
    `numgen random mod 2 0 goto ${ep('10.244.0.5')}`,
    `goto ${ep('10.244.1.6')}`,
  ]);
  assert.deepEqual(p.chains.get(ep('10.244.0.5')), ['ip saddr 10.244.0.5 jump mark-for-masquerade', `update @${set('10.244.0.5')} { ip saddr }`, 'meta l4proto tcp dnat to 10.244.0.5:8080']);
});

test('named ports match slice ports by name and protocol; UDP ports are recorded for conntrack cleanup', () => {
  const s = svc('dns', '10.43.0.10', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] });
  const p = part(s, [slice('dns', ['10.244.0.5'], [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5354, protocol: 'TCP' }], 'dns-x')]);
  assert.deepEqual(p.chains.get('service-default/dns/udp/dns')?.at(-1), 'meta l4proto udp dnat to 10.244.0.5:5353');
  assert.deepEqual(p.chains.get('service-default/dns/tcp/dns-tcp')?.at(-1), 'meta l4proto tcp dnat to 10.244.0.5:5354');
  assert.deepEqual(p.udp.get('default/dns/udp/dns'), { frontends: [{ ip: '10.43.0.10', port: 53 }], nodePort: undefined, endpoints: ['10.244.0.5'] });
});

test('services the proxy leaves alone', async (t) => {
  const cases: Array<[string, Service]> = [
    ['ExternalName', svc('x', '', { type: 'ExternalName', externalName: 'example.org' })],
    ['headless', svc('x', 'None')],
    ['another proxy\'s', { ...svc('x', '10.43.0.10'), metadata: { name: 'x', namespace: 'default', labels: { [LABEL_SERVICE_PROXY_NAME]: 'other' } } }],
  ];
  for (const [name, s] of cases) await t.test(name, () => assert.equal(buildServicePart(s, [], node), undefined));
});

test('buildModel joins slices to their Service by label and namespace', () => {
  const m = buildModel([svc('web', '10.43.0.10'), svc('web', '10.43.0.11', {}, 'other')], [slice('web', ['10.244.0.5']), slice('web', ['10.244.0.9'], undefined, 'web-x', 'other')], node);
  assert.deepEqual([...m.services.keys()], ['default/web', 'other/web']);
  assert.match(m.services.get('other/web')!.chains.get('service-other/web/tcp/http')!.at(-1)!, /dnat to 10\.244\.0\.9:8080/);
  assert.match(m.services.get('default/web')!.chains.get('service-default/web/tcp/http')!.at(-1)!, /dnat to 10\.244\.0\.5:8080/);
});

test('off-node traffic to a ClusterIP is marked for masquerade by one rule before the dispatch, not in each service chain', () => {
  const m = buildModel([svc('web', '10.43.0.10')], [slice('web', ['10.244.0.5'])], node);
  assert.deepEqual(m.chains.get('services')!.rules, [
    'ip daddr @cluster-ips ip saddr != 10.244.0.0/24 jump mark-for-masquerade',
    'ip daddr . meta l4proto . th dport vmap @service-ips',
    'fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports',
  ]);
  assert.ok(m.services.get('default/web')!.chains.get(`service-${W}`)!.every((r) => !r.includes('mark-for-masquerade')));
  // Without a pod CIDR nothing tells this node's pods from others: no such rule (as before).
  assert.equal(buildModel([], [], { name: 'node-a', addresses: [] }).chains.get('services')!.rules.length, 2);
});
